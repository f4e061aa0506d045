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

sys.path.insert(0, str(REPO / "benchmarks"))
from chapter_models import rnn_scratch_parts  # noqa: E402


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


def test_difference_empty_token_list_raises():
    assert len(book.Vocab([[]])) == 1  # the book: a vocabulary of just <unk>
    with pytest.raises(ValueError, match="tokens should hold at least one token"):
        ours.Vocab([[]])


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
