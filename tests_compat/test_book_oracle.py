"""The book's own d2l 0.17.6 as the test oracle: identical inputs to d2l.torch and
d2lutils, identical results (floats to tolerance).

Runs inside peer/venv (built by benchmarks/peer_env.sh) through `make test-compat`; it is
not in the default pytest collection.  Where d2lutils differs on purpose, a test named
test_difference_* states the difference and checks both sides of it."""

from __future__ import annotations

import contextlib
import io
import os
import random
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PEER = Path(os.environ.get("PEER", REPO / "peer"))
book = pytest.importorskip(
    "d2l.torch",
    reason=os.environ.get("D2L_PEER_STATUS", "the book's d2l is not installed in this Python: "
                          "run `make test-compat`, which builds peer/ and runs these tests there"))

import torch  # noqa: E402
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from torch import nn  # noqa: E402

import d2lutils as ours  # noqa: E402

sys.path.insert(0, str(REPO / "tests"))
from _book_code import data_iter as book_data_iter  # noqa: E402
from _book_code import rnn_scratch_parts  # noqa: E402


@pytest.fixture(autouse=True)
def book_cwd(monkeypatch):
    """The book reads its data from "../data" relative to the working folder."""
    monkeypatch.chdir(PEER / "run")


def _quiet(fn, *args):
    """Call fn and return (result, what it printed)."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        result = fn(*args)
    return result, out.getvalue()


# ---------------------------------------------------------------- text


def test_read_time_machine_and_tokenize():
    lines = book.read_time_machine()
    assert ours.read_time_machine() == lines
    for token in ("word", "char"):
        assert ours.tokenize(lines, token) == book.tokenize(lines, token)


@pytest.mark.parametrize("min_freq, reserved", [(0, None), (3, ["<pad>", "<bos>"]), (50, [])])
def test_vocab_on_the_book(min_freq, reserved):
    tokens = book.tokenize(book.read_time_machine())
    mine = ours.Vocab(tokens, min_freq, reserved)
    theirs = book.Vocab(tokens, min_freq, reserved)
    assert mine.idx_to_token == theirs.idx_to_token
    assert mine.token_to_idx == theirs.token_to_idx
    assert mine.token_freqs == theirs.token_freqs and mine.unk == theirs.unk == 0
    probe = ["the", "time", "zzzz", "<pad>", "traveller"]
    assert mine[probe] == theirs[probe] and mine["zzzz"] == theirs["zzzz"]
    assert mine.to_tokens(list(range(len(mine)))) == theirs.to_tokens(list(range(len(theirs))))


@settings(max_examples=40, deadline=None)
@given(st.lists(st.lists(st.sampled_from(["a", "b", "c", "dd", "e"]), max_size=8),
                min_size=1, max_size=5).filter(lambda t: any(t)), st.integers(0, 3))
def test_vocab_property(tokens, min_freq):
    mine, theirs = ours.Vocab(tokens, min_freq), book.Vocab(tokens, min_freq)
    assert mine.idx_to_token == theirs.idx_to_token and mine.token_freqs == theirs.token_freqs
    assert mine[tokens] == theirs[tokens]


@pytest.mark.parametrize("max_tokens", [-1, 10000])
def test_load_corpus_time_machine(max_tokens):
    corpus, vocab = ours.load_corpus_time_machine(max_tokens)
    book_corpus, book_vocab = book.load_corpus_time_machine(max_tokens)
    assert corpus == book_corpus and vocab.idx_to_token == book_vocab.idx_to_token


# ---------------------------------------------------------------- sequences


def _all_batches(fn, corpus, batch_size, num_steps, seed):
    random.seed(seed)
    return [(X.clone(), Y.clone()) for X, Y in fn(corpus, batch_size, num_steps)]


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 4), st.integers(1, 6), st.integers(0, 60), st.integers(0, 10**6))
def test_seq_data_iters_same_batches_under_the_same_seed(batch_size, num_steps, extra, seed):
    corpus = list(range(batch_size * num_steps + num_steps + 1 + extra))
    for name in ("seq_data_iter_random", "seq_data_iter_sequential"):
        mine = _all_batches(getattr(ours, name), corpus, batch_size, num_steps, seed)
        theirs = _all_batches(getattr(book, name), corpus, batch_size, num_steps, seed)
        assert len(mine) == len(theirs) > 0
        for (X, Y), (bX, bY) in zip(mine, theirs):
            assert torch.equal(X, bX) and torch.equal(Y, bY)


@pytest.mark.parametrize("use_random_iter", [False, True])
def test_load_data_time_machine_epochs(use_random_iter):
    mine, vocab = ours.load_data_time_machine(32, 35, use_random_iter)
    theirs, book_vocab = book.load_data_time_machine(32, 35, use_random_iter)
    assert vocab.idx_to_token == book_vocab.idx_to_token
    for seed in (0, 1):  # each iteration is a new epoch with a new random offset
        random.seed(seed)
        a = list(mine)
        random.seed(seed)
        b = list(theirs)
        assert len(a) == len(b) and all(torch.equal(x, y) for (x, _), (y, _) in zip(a, b))


# ---------------------------------------------------------------- chapter 3 pieces


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 30), st.integers(2, 10), st.integers(0, 10**6))
def test_accuracy(n, q, seed):
    gen = torch.Generator().manual_seed(seed)
    y_hat, y = torch.randn(n, q, generator=gen), torch.randint(0, q, (n,), generator=gen)
    assert ours.accuracy(y_hat, y) == book.accuracy(y_hat, y)
    labels = torch.randint(0, q, (n,), generator=gen)
    assert ours.accuracy(labels, y) == book.accuracy(labels, y)


def test_accumulator():
    mine, theirs = ours.Accumulator(3), book.Accumulator(3)
    for args in [(1, 2.5, torch.tensor(3.0)), (0.1, 0, torch.tensor(7))]:
        mine.add(*args)
        theirs.add(*args)
    assert mine.data == theirs.data and mine[1] == theirs[1]
    mine.reset()
    theirs.reset()
    assert mine.data == theirs.data


def test_linreg_squared_loss_sgd():
    torch.manual_seed(0)
    features, labels = book.synthetic_data(torch.tensor([2, -3.4]), 4.2, 100)
    params = []
    for impl in (ours, book):
        w = torch.normal(0, 0.01, size=(2, 1), generator=torch.Generator().manual_seed(1))
        w.requires_grad_(True)
        b = torch.zeros(1, requires_grad=True)
        for i in range(0, 100, 10):
            X, y = features[i: i + 10], labels[i: i + 10]
            impl.squared_loss(impl.linreg(X, w, b), y).sum().backward()
            impl.sgd([w, b], 0.03, 10)
        params.append((w.detach(), b.detach()))
    torch.testing.assert_close(params[0], params[1])
    X, y = features[:5], labels[:5]
    w, b = params[0]
    assert torch.equal(ours.linreg(X, w, b), book.linreg(X, w, b))
    assert torch.equal(ours.squared_loss(X[:, :1], y), book.squared_loss(X[:, :1], y))


def test_data_hub_entries_and_download_of_the_books_files():
    import pandas as pd

    for name in ("time_machine", "kaggle_house_train", "kaggle_house_test"):
        assert ours.DATA_HUB[name] == book.DATA_HUB[name]
        # the book finds its copy in ../data; ours by the data rule: the same bytes
        mine, theirs = Path(ours.download(name)), Path(book.download(name))
        assert mine.read_bytes() == theirs.read_bytes()
    frame = pd.read_csv(ours.download("kaggle_house_train"))
    assert frame.shape == (1460, 81)


def test_fashion_mnist_loaders_yield_the_books_batches():
    # the book: torchvision + ToTensor + DataLoader; ours: IDX files read into tensors
    mine_train, mine_test = ours.load_data_fashion_mnist(256)
    theirs_train, theirs_test = book.load_data_fashion_mnist(256)
    assert (len(mine_train), len(mine_test)) == (len(theirs_train), len(theirs_test))
    for (X, y), (Xb, yb) in zip(mine_test, theirs_test):  # the test set is not shuffled
        assert X.dtype == Xb.dtype and y.dtype == yb.dtype
        assert torch.equal(X, Xb) and torch.equal(y, yb)


def test_devices_as_the_book():
    # chapter 5.6: on this machine (CPU only, or with GPUs) both name the same devices
    assert ours.try_gpu() == book.try_gpu() and ours.try_gpu(7) == book.try_gpu(7)
    assert ours.try_all_gpus() == book.try_all_gpus()


def test_evaluate_loss():
    torch.manual_seed(0)
    net = nn.Linear(3, 1)
    X, y = torch.randn(20, 3), torch.randn(20, 1)
    batches = [(X[i: i + 5], y[i: i + 5]) for i in range(0, 20, 5)]
    loss = nn.MSELoss(reduction="none")
    with torch.no_grad():  # the book's evaluate_loss builds a graph (and torch warns)
        expected = book.evaluate_loss(net, batches, loss)
    assert ours.evaluate_loss(net, batches, loss) == pytest.approx(expected, rel=1e-6)


@pytest.fixture(scope="module")
def fashion_batches():
    """The same minibatches for both packages: a 3,000-image training subset."""
    X, y = ours.load_fashion_mnist(True)
    Xt, yt = ours.load_fashion_mnist(False)
    torch.manual_seed(0)
    order = torch.randperm(len(X))[:3000]
    train = [(X[order[i: i + 256]], y[order[i: i + 256]]) for i in range(0, 3000, 256)]
    test = [(Xt[i: i + 500], yt[i: i + 500]) for i in range(0, 1000, 500)]
    return train, test


def _concise(seed=0, hidden=False):
    torch.manual_seed(seed)
    layers = [nn.Linear(784, 64), nn.ReLU(), nn.Linear(64, 10)] if hidden else [nn.Linear(784, 10)]
    net = nn.Sequential(nn.Flatten(), *layers)
    for m in net:
        if isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, std=0.01)
    return net


@pytest.mark.parametrize("hidden", [False, True])
def test_train_epoch_ch3_and_train_ch3_concise(fashion_batches, hidden):
    train, test = fashion_batches
    loss = nn.CrossEntropyLoss(reduction="none")
    mine, theirs = _concise(hidden=hidden), _concise(hidden=hidden)
    opt_mine = torch.optim.SGD(mine.parameters(), lr=0.1)
    opt_theirs = torch.optim.SGD(theirs.parameters(), lr=0.1)
    for _ in range(3):
        a = ours.train_epoch_ch3(mine, train, loss, opt_mine)
        b = book.train_epoch_ch3(theirs, train, loss, opt_theirs)
        assert a == pytest.approx(b, rel=1e-5)
        assert ours.evaluate_accuracy(mine, test) == book.evaluate_accuracy(theirs, test)
    # the whole loop: same final weights, and History holds what the book's Animator drew
    history, _ = _quiet(ours.train_ch3, mine, train, test, loss, 2, opt_mine)
    with contextlib.suppress(AssertionError):  # the book's train_ch3 asserts on its results
        _quiet(book.train_ch3, theirs, train, test, loss, 2, opt_theirs)
    for p, q in zip(mine.parameters(), theirs.parameters()):
        torch.testing.assert_close(p, q, rtol=1e-4, atol=1e-6)
    assert history.test_acc[-1] == book.evaluate_accuracy(theirs, test)


def test_train_epoch_ch3_scratch_updater(fashion_batches):
    train, _ = fashion_batches
    results = []
    for impl in (ours, book):
        torch.manual_seed(0)
        W = torch.normal(0, 0.01, size=(784, 10), requires_grad=True)
        b = torch.zeros(10, requires_grad=True)

        def net(X, W=W, b=b):
            O = torch.exp(X.reshape((-1, 784)) @ W + b)
            return O / O.sum(1, keepdim=True)

        def cross_entropy(y_hat, y):
            return -torch.log(y_hat[range(len(y_hat)), y])

        def updater(batch_size, W=W, b=b, impl=impl):
            impl.sgd([W, b], 0.1, batch_size)

        metrics = [impl.train_epoch_ch3(net, train, cross_entropy, updater) for _ in range(2)]
        results.append((metrics, W.detach(), b.detach()))
    (m1, W1, b1), (m2, W2, b2) = results
    assert [x for m in m1 for x in m] == pytest.approx([x for m in m2 for x in m], rel=1e-5)
    torch.testing.assert_close((W1, b1), (W2, b2), rtol=1e-4, atol=1e-6)


# ---------------------------------------------------------------- chapter 8


def _scratch_pair(vocab_size, num_hiddens=32):
    nets = []
    for impl in (ours, book):
        torch.manual_seed(0)
        nets.append(impl.RNNModelScratch(vocab_size, num_hiddens, torch.device("cpu"),
                                         *rnn_scratch_parts()))
    return nets


def test_grad_clipping():
    mine, theirs = _scratch_pair(28)
    for a, b in zip(mine.params, theirs.params):
        a.grad = torch.randn_like(a) * 3
        b.grad = a.grad.clone()
    norm = ours.grad_clipping(mine, 1)
    assert book.grad_clipping(theirs, 1) is None  # difference: the book returns nothing
    assert float(norm) > 1
    for a, b in zip(mine.params, theirs.params):
        torch.testing.assert_close(a.grad, b.grad)


def test_predict_ch8_same_weights():
    vocab = book.load_corpus_time_machine()[1]
    mine, theirs = _scratch_pair(len(vocab))
    for prefix in ("time traveller ", "t"):
        assert ours.predict_ch8(prefix, 30, mine, vocab, "cpu") == \
            book.predict_ch8(prefix, 30, theirs, vocab, "cpu")


def test_train_ch8_scratch_same_perplexity_and_predictions():
    train_iter, vocab = book.load_data_time_machine(32, 35, max_tokens=3000)
    mine, theirs = _scratch_pair(len(vocab))
    random.seed(0)
    history, out_mine = _quiet(ours.train_ch8, mine, train_iter, vocab, 1, 10, "cpu")
    random.seed(0)
    _, out_book = _quiet(book.train_ch8, theirs, train_iter, vocab, 1, 10, "cpu")
    for a, b in zip(mine.params, theirs.params):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)
    # same summary line (up to the speed) and the same two predictions
    mine_lines, book_lines = out_mine.splitlines(), out_book.splitlines()
    assert mine_lines[-3].split(",")[0] == book_lines[-3].split(",")[0]
    assert mine_lines[-2:] == book_lines[-2:]
    assert f"perplexity {history.perplexity[-1]:.1f}" == book_lines[-3].split(",")[0]


@pytest.mark.parametrize("use_random_iter", [False, True])
def test_train_epoch_ch8_concise(use_random_iter):
    train_iter, vocab = book.load_data_time_machine(32, 35, use_random_iter, max_tokens=3000)
    nets = []
    for impl in (ours, book):
        torch.manual_seed(0)
        nets.append(impl.RNNModel(nn.GRU(len(vocab), 32), len(vocab)))
    mine, theirs = nets
    opts = [torch.optim.SGD(net.parameters(), lr=1) for net in nets]
    loss = nn.CrossEntropyLoss()
    for seed in range(3):
        random.seed(seed)
        ppl, _ = ours.train_epoch_ch8(mine, train_iter, loss, opts[0], "cpu", use_random_iter)
        random.seed(seed)
        book_ppl, _ = book.train_epoch_ch8(theirs, train_iter, loss, opts[1], "cpu",
                                           use_random_iter)
        assert ppl == pytest.approx(book_ppl, rel=1e-5)
    for p, q in zip(mine.parameters(), theirs.parameters()):
        torch.testing.assert_close(p, q, rtol=1e-4, atol=1e-5)


# ---------------------------------------------------------------- differences on purpose


def test_difference_tokenize_unknown_token_raises_instead_of_printing():
    result, printed = _quiet(book.tokenize, ["a b"], "chars")
    assert result is None and printed.startswith("ERROR: unknown token type")
    with pytest.raises(ValueError, match="token should be one of 'word', 'char'"):
        ours.tokenize(["a b"], "chars")


def test_difference_too_small_corpus_raises_instead_of_yielding_nothing():
    assert list(book.seq_data_iter_sequential(list(range(30)), 4, 10)) == []
    with pytest.raises(ValueError, match=r"batch_size \* num_steps should leave room"):
        list(ours.seq_data_iter_sequential(list(range(30)), 4, 10))


def test_difference_accuracy_mismatched_batch_names_the_shapes():
    y_hat, y = torch.randn(4, 3), torch.tensor([0, 1, 2])
    with pytest.raises(RuntimeError):  # the book: torch's broadcasting error
        book.accuracy(y_hat, y)
    with pytest.raises(ValueError, match=r"y_hat\.shape=\(4, 3\) for labels of shape \(3,\)"):
        ours.accuracy(y_hat, y)


def test_vocab_without_tokens_is_unk_only_in_both():
    for tokens in (None, [], [[]]):
        assert ours.Vocab(tokens).idx_to_token == book.Vocab(tokens).idx_to_token == ["<unk>"]


def test_difference_train_ch3_returns_history_and_mean_loss_is_per_example(fashion_batches):
    """The book returns None; with a reduction='mean' loss its reported loss is the batch
    mean divided again by the batch size.  d2lutils reports the per-example mean either way."""
    train, test = fashion_batches
    loss_mean = nn.CrossEntropyLoss()
    mine, theirs = _concise(), _concise()
    a = ours.train_epoch_ch3(mine, train, loss_mean, torch.optim.SGD(mine.parameters(), 0.1))
    b = book.train_epoch_ch3(theirs, train, loss_mean, torch.optim.SGD(theirs.parameters(), 0.1))
    assert a[1] == pytest.approx(b[1])  # same training accuracy
    assert b[0] < a[0] / 100  # the book's loss figure is ~256x too small
    history, _ = _quiet(ours.train_ch3, mine, train, test, loss_mean, 1,
                        torch.optim.SGD(mine.parameters(), 0.1))
    assert isinstance(history, ours.History) and len(history.train_loss) == 1


def test_difference_bare_calls_display_short_machine_independent_values(fashion_batches):
    """The book's train_ch3/predict_ch3 return None; ours return what they measured, whose
    repr (what a notebook shows under a bare call) names fields, never measured numbers."""
    import matplotlib

    matplotlib.use("Agg")
    train, test = fashion_batches
    loss = nn.CrossEntropyLoss(reduction="none")
    mine, theirs = _concise(), _concise()
    history, _ = _quiet(ours.train_ch3, mine, train, test, loss, 1,
                        torch.optim.SGD(mine.parameters(), 0.1))
    with contextlib.suppress(AssertionError):
        assert _quiet(book.train_ch3, theirs, train, test, loss, 1,
                      torch.optim.SGD(theirs.parameters(), 0.1))[0] is None
    assert repr(history) == ("History(epochs=1: train_loss, train_acc, test_acc, "
                             "examples_per_sec)")
    assert book.predict_ch3(theirs, test) is None
    predictions = ours.predict_ch3(mine, test)
    assert repr(predictions) == "Predictions(n=6: trues, preds)"
    assert predictions.trues == book.get_fashion_mnist_labels(test[0][1][:6])


def test_difference_predict_ch3_predicts_in_eval_mode_and_restores_it(fashion_batches):
    """The book predicts in whatever mode the net is in: noisy with dropout in train mode."""
    import matplotlib

    matplotlib.use("Agg")
    _, test = fashion_batches
    torch.manual_seed(0)
    net = nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Dropout(0.9),
                        nn.Linear(256, 10))
    net.train()
    ours_runs = {tuple(ours.predict_ch3(net, test, n=6).preds) for _ in range(4)}
    assert len(ours_runs) == 1 and net.training
    net.eval()
    with torch.no_grad():
        expected = book.get_fashion_mnist_labels(net(test[0][0][:6]).argmax(1))
    assert list(ours_runs.pop()) == expected


def test_difference_evaluate_loss_is_per_example_and_in_eval_mode():
    """The book averages per-batch values of the loss (a 'mean' loss with a short last batch
    weighs that batch too much) and evaluates in the net's current mode."""
    torch.manual_seed(0)
    net = nn.Linear(3, 1)
    X, y = torch.randn(21, 3), torch.randn(21, 1)
    batches = [(X[i: i + 5], y[i: i + 5]) for i in range(0, 21, 5)]  # the last has 1 example
    with torch.no_grad():
        per_example = float(((net(X) - y) ** 2).mean())
        theirs = book.evaluate_loss(net, batches, nn.MSELoss())
    assert ours.evaluate_loss(net, batches, nn.MSELoss()) == pytest.approx(per_example, rel=1e-6)
    assert theirs != pytest.approx(per_example, rel=1e-3)
    dropout = nn.Sequential(nn.Linear(3, 1), nn.Dropout(0.5))
    dropout.train()
    assert len({ours.evaluate_loss(dropout, batches, nn.MSELoss()) for _ in range(3)}) == 1


def test_difference_train_ch8_prints_progress_lines_outside_jupyter():
    """Outside Jupyter the book draws figures nobody sees and prints a prediction every 10
    epochs; ours prints the epoch, the perplexity and that prediction on one line."""
    train_iter, vocab = book.load_data_time_machine(32, 35, max_tokens=3000)
    mine, theirs = _scratch_pair(len(vocab))
    random.seed(0)
    _, out_mine = _quiet(ours.train_ch8, mine, train_iter, vocab, 1, 10, "cpu")
    random.seed(0)
    _, out_book = _quiet(book.train_ch8, theirs, train_iter, vocab, 1, 10, "cpu")
    line = next(x for x in out_mine.splitlines() if x.startswith("epoch 10/10: perplexity "))
    book_prediction = next(x for x in out_book.splitlines() if x.startswith("time traveller"))
    assert line.endswith(": " + book_prediction)


def test_difference_data_iter_checks_its_arguments_when_called():
    X, y = torch.zeros(10, 2), torch.zeros(10)
    random.seed(0)
    book_batches = [b.tolist() for _, b in book_data_iter(4, X, torch.arange(10))]
    random.seed(0)
    assert [b.tolist() for _, b in ours.data_iter(4, X, torch.arange(10))] == book_batches
    batches = book_data_iter(0, X, y)  # the book: a generator that fails later
    with pytest.raises(ValueError):
        next(batches)
    with pytest.raises(ValueError, match="batch_size should be a positive integer"):
        ours.data_iter(0, X, y)
