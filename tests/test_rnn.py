"""rnn.py: clipping against torch, prediction warm-up, state handling, and training."""

import math
import random
import warnings

import pytest
import torch
from _book_code import rnn_scratch_parts  # the book's 8.5 functions
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

import d2lutils as d2l


def _scratch(vocab_size=5, num_hiddens=4, seed=0):
    torch.manual_seed(seed)
    return d2l.RNNModelScratch(vocab_size, num_hiddens, "cpu", *rnn_scratch_parts())


@settings(max_examples=60, deadline=None)
@given(st.floats(0.01, 10.0), st.floats(0.01, 100.0), st.integers(0, 2**31 - 1))
def test_grad_clipping_matches_clip_grad_norm(theta, scale, seed):
    gen = torch.Generator().manual_seed(seed)
    net, ref = nn.Linear(3, 2), nn.Linear(3, 2)
    for p, q in zip(net.parameters(), ref.parameters()):
        p.grad = torch.randn(p.shape, generator=gen) * scale
        q.grad = p.grad.clone()
    norm = d2l.grad_clipping(net, theta)
    ref_norm = nn.utils.clip_grad_norm_(ref.parameters(), theta)
    torch.testing.assert_close(norm, ref_norm)  # the norm before clipping
    for p, q in zip(net.parameters(), ref.parameters()):
        torch.testing.assert_close(p.grad, q.grad, rtol=1e-5, atol=1e-6)
    after = torch.sqrt(sum((p.grad ** 2).sum() for p in net.parameters()))
    assert float(after) <= theta * (1 + 1e-5)


def test_grad_clipping_leaves_small_gradients_and_scratch_params():
    net = _scratch()
    for p in net.params:
        p.grad = torch.full_like(p, 1e-3)
    before = [p.grad.clone() for p in net.params]
    norm = d2l.grad_clipping(net, 1)
    assert float(norm) < 1 and all(torch.equal(p.grad, b) for p, b in zip(net.params, before))


def test_grad_clipping_bad_theta_and_missing_gradients():
    net = nn.Linear(2, 2)
    with pytest.raises(ValueError, match=r"theta should be a positive number, but got theta=0"):
        d2l.grad_clipping(net, 0)
    with pytest.raises(ValueError, match=r"theta=-1\.0"):
        d2l.grad_clipping(net, -1.0)
    with pytest.raises(ValueError, match="net's parameters should have gradients, but got none"):
        d2l.grad_clipping(net, 1)


class _Recorder:
    """Wraps a net and records the inputs and states it is called with."""

    def __init__(self, net):
        self.net, self.inputs, self.states = net, [], []

    def __call__(self, X, state):
        self.inputs.append(X.clone())
        self.states.append(state)
        return self.net(X, state)

    def begin_state(self, batch_size, device):
        return self.net.begin_state(batch_size=batch_size, device=device)

    @property
    def params(self):
        return self.net.params


def test_predict_ch8_warm_up_feeds_the_prefix():
    vocab = d2l.Vocab([list("abcd")])
    net = _Recorder(_scratch(len(vocab)))
    out = d2l.predict_ch8("dcba", 3, net, vocab, "cpu")
    fed = [int(x) for x in net.inputs]
    # warm-up feeds d, c, b; then a and each prediction are fed back in
    assert fed[:4] == vocab[list("dcba")]
    assert out.startswith("dcba") and len(out) == 7
    assert fed[4:] == vocab[list(out[4:6])]


def test_predict_ch8_empty_prefix_is_a_clear_error():
    with pytest.raises(ValueError, match="prefix should hold at least one character, but got "
                                         "prefix=''"):
        d2l.predict_ch8("", 3, _scratch(), d2l.Vocab([list("ab")]), "cpu")


def _batches(use_random_iter, seed=0):
    random.seed(seed)
    corpus = [i % 5 for i in range(200)]
    fn = d2l.seq_data_iter_random if use_random_iter else d2l.seq_data_iter_sequential
    return list(fn(corpus, 3, 4))


def test_sequential_state_is_carried_over_and_detached():
    net = _Recorder(_scratch())
    d2l.train_epoch_ch8(net, _batches(False), nn.CrossEntropyLoss(),
                        lambda batch_size: d2l.sgd(net.params, 0.1, batch_size), "cpu", False)
    states = [s[0] for s in net.states]
    assert torch.count_nonzero(states[0]) == 0  # first batch: a fresh state
    assert all(torch.count_nonzero(s) > 0 for s in states[1:])  # then carried over...
    assert all(s.grad_fn is None for s in states)  # ...but cut from the previous graph


def test_random_sampling_starts_a_fresh_state_every_batch():
    net = _Recorder(_scratch())
    d2l.train_epoch_ch8(net, _batches(True), nn.CrossEntropyLoss(),
                        lambda batch_size: d2l.sgd(net.params, 0.1, batch_size), "cpu", True)
    assert len(net.states) > 1 and all(torch.count_nonzero(s[0]) == 0 for s in net.states)


@pytest.mark.parametrize("layer", [nn.RNN, nn.GRU, nn.LSTM])
def test_rnn_model_shapes_and_begin_state(layer):
    net = d2l.RNNModel(layer(6, 8), vocab_size=6)
    state = net.begin_state("cpu", batch_size=3)
    if layer is nn.LSTM:
        assert isinstance(state, tuple) and state[0].shape == (1, 3, 8)
    else:
        assert state.shape == (1, 3, 8)
    y_hat, _ = net(torch.randint(0, 6, (3, 4)), state)
    assert y_hat.shape == (4 * 3, 6)  # (num_steps * batch_size, vocab_size), time-major


def test_epoch_perplexity_matches_a_hand_loop():
    batches = _batches(False)
    net, ref = d2l.RNNModel(nn.GRU(5, 4), 5), d2l.RNNModel(nn.GRU(5, 4), 5)
    ref.load_state_dict(net.state_dict())
    ppl, speed = d2l.train_epoch_ch8(net, batches, nn.CrossEntropyLoss(),
                                     torch.optim.SGD(net.parameters(), lr=1), "cpu", False)
    opt, state, total = torch.optim.SGD(ref.parameters(), lr=1), None, 0.0
    for X, Y in batches:
        state = ref.begin_state("cpu", X.shape[0]) if state is None else state.detach()
        y_hat, state = ref(X, state)
        l = nn.functional.cross_entropy(y_hat, Y.T.reshape(-1))
        opt.zero_grad()
        l.backward()
        nn.utils.clip_grad_norm_(ref.parameters(), 1)
        opt.step()
        total += l.item() * Y.numel()
    assert ppl == pytest.approx(torch.tensor(total / (len(batches) * 12)).exp().item(), rel=1e-5)
    assert speed > 0
    for p, q in zip(net.parameters(), ref.parameters()):
        torch.testing.assert_close(p, q)


@pytest.mark.needs_data("time-machine")
def test_train_ch8_lowers_perplexity_on_the_time_machine(capsys):
    random.seed(0)
    torch.manual_seed(0)
    train_iter, vocab = d2l.load_data_time_machine(32, 35)
    net = d2l.RNNModel(nn.RNN(len(vocab), 64), vocab_size=len(vocab))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        history = d2l.train_ch8(net, train_iter, vocab, 1, 12, "cpu")
    assert isinstance(history, d2l.RNNHistory) and len(history.perplexity) == 12
    assert history.perplexity[-1] < 0.8 * history.perplexity[0]
    assert min(history.tokens_per_sec) > 0
    out = capsys.readouterr().out.splitlines()
    assert out[-3].startswith("perplexity ") and out[-3].endswith("tokens/sec on cpu")
    assert out[-2].startswith("time traveller") and out[-1].startswith("traveller")
    assert repr(history) == "RNNHistory(epochs=12: perplexity, tokens_per_sec)"
    assert str(history).startswith("epoch 12: perplexity ")
    assert not net.training  # left in eval mode


@pytest.mark.needs_data("time-machine")
def test_train_ch8_rejects_bad_arguments():
    train_iter, vocab = d2l.load_data_time_machine(32, 35)
    net = d2l.RNNModel(nn.RNN(len(vocab), 8), vocab_size=len(vocab))
    with pytest.raises(ValueError, match=r"num_epochs should be a positive integer, but got "
                                         r"num_epochs=0"):
        d2l.train_ch8(net, train_iter, vocab, 1, 0, "cpu")
    with pytest.raises(ValueError, match=r"lr should be a positive number, but got lr=0"):
        d2l.train_ch8(net, train_iter, vocab, 0, 5, "cpu")


def _recorded_lrs(monkeypatch, net, **kwargs):
    """The learning rate and updater train_ch8 hands to each epoch (no real training)."""
    seen = []

    def fake_epoch(net, train_iter, loss, updater, device, use_random_iter):
        is_optimizer = isinstance(updater, torch.optim.Optimizer)
        seen.append((updater.param_groups[0]["lr"] if is_optimizer else updater.lr, updater))
        return 2.0, 1.0

    monkeypatch.setattr(d2l.rnn, "train_epoch_ch8", fake_epoch)
    monkeypatch.setattr(d2l.rnn, "predict_ch8", lambda *args: "")
    vocab = d2l.Vocab(list("abcde"))
    d2l.train_ch8(net, [], vocab, device="cpu", **kwargs)
    return [lr for lr, _ in seen], seen[0][1]


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
@pytest.mark.parametrize("scratch", [True, False])
def test_train_ch8_decays_lr_geometrically_to_final_lr(monkeypatch, capsys, optimizer, scratch):
    net = _scratch() if scratch else d2l.RNNModel(nn.RNN(5, 4), 5)
    lrs, updater = _recorded_lrs(monkeypatch, net, lr=0.01, num_epochs=5,
                                 optimizer=optimizer, final_lr=0.0001)
    assert lrs == pytest.approx([0.01, 0.001 * 10 ** 0.5, 0.001, 0.0001 * 10 ** 0.5, 0.0001])
    if optimizer == "adam":
        assert isinstance(updater, torch.optim.Adam)
        assert updater.param_groups[0]["params"] == list(d2l.rnn._params(net))
    else:  # the book's updaters: d2l.sgd for a scratch net, torch.optim.SGD for a Module
        assert isinstance(updater, torch.optim.SGD) != scratch


def test_train_ch8_keeps_lr_constant_by_default(monkeypatch, capsys):
    lrs, updater = _recorded_lrs(monkeypatch, _scratch(), lr=1, num_epochs=3)
    assert lrs == [1.0, 1.0, 1.0] and not isinstance(updater, torch.optim.Optimizer)


@pytest.mark.needs_data("time-machine")
def test_train_ch8_with_adam_lowers_perplexity(capsys):
    random.seed(0)
    torch.manual_seed(0)
    train_iter, vocab = d2l.load_data_time_machine(32, 35)
    net = d2l.RNNModelScratch(len(vocab), 32, "cpu", *rnn_scratch_parts())
    history = d2l.train_ch8(net, train_iter, vocab, 0.01, 8, "cpu", optimizer="adam",
                            final_lr=0.001)
    assert history.perplexity[-1] < 0.7 * history.perplexity[0]


@pytest.mark.needs_data("time-machine")
def test_train_ch8_rejects_bad_optimizer_settings():
    train_iter, vocab = d2l.load_data_time_machine(32, 35)
    net = d2l.RNNModel(nn.RNN(len(vocab), 8), vocab_size=len(vocab))
    with pytest.raises(ValueError, match=r"optimizer should be one of 'sgd', 'adam', but got "
                                         r"optimizer='adamw'"):
        d2l.train_ch8(net, train_iter, vocab, 1, 5, "cpu", optimizer="adamw")
    with pytest.raises(ValueError, match=r"final_lr should be a positive number, but got "
                                         r"final_lr=0\. Pass the learning rate of the last"):
        d2l.train_ch8(net, train_iter, vocab, 1, 5, "cpu", final_lr=0)


def _tiny_text(seed=0):
    vocab = d2l.Vocab(list("the time traveller "))
    corpus = vocab[list("the time traveller " * 40)]
    torch.manual_seed(seed)
    return corpus, vocab


def test_predict_ch8_samples_with_a_temperature_and_keeps_greedy_by_default():
    _corpus, vocab = _tiny_text()
    net = d2l.RNNModel(nn.RNN(len(vocab), 16), len(vocab))
    greedy = d2l.predict_ch8("the ", 30, net, vocab, "cpu")
    assert greedy == d2l.predict_ch8("the ", 30, net, vocab, "cpu", temperature=None)
    torch.manual_seed(1)
    hot = d2l.predict_ch8("the ", 30, net, vocab, "cpu", temperature=2.0)
    torch.manual_seed(1)
    assert d2l.predict_ch8("the ", 30, net, vocab, "cpu", temperature=2.0) == hot  # seeded
    # a high temperature spreads the choices: more distinct characters than greedy picks
    assert len(set(hot[4:])) > len(set(greedy[4:]))
    # a very low temperature is greedy
    assert d2l.predict_ch8("the ", 30, net, vocab, "cpu", temperature=1e-4) == greedy
    for bad in (0, -1.0):
        with pytest.raises(ValueError, match=rf"temperature should be a positive number, but "
                                             rf"got temperature={bad}"):
            d2l.predict_ch8("the ", 3, net, vocab, "cpu", temperature=bad)
    with pytest.raises(ValueError, match=r"num_preds should be a whole number >= 0"):
        d2l.predict_ch8("the ", -1, net, vocab, "cpu")


def test_predict_ch8_runs_in_eval_mode_and_restores_it():
    _corpus, vocab = _tiny_text()
    net = d2l.RNNModel(nn.RNN(len(vocab), 16, num_layers=2, dropout=0.9), len(vocab))
    net.train()
    first = d2l.predict_ch8("the ", 20, net, vocab, "cpu")
    assert net.training  # restored
    assert all(d2l.predict_ch8("the ", 20, net, vocab, "cpu") == first for _ in range(3))


def test_evaluate_perplexity_of_a_uniform_and_a_perfect_model():
    corpus, vocab = _tiny_text()
    data = list(d2l.seq_data_iter_sequential(corpus, 2, 5))

    class Constant(nn.Module):
        def __init__(self, scores):
            super().__init__()
            self.scores = scores
            self.lin = nn.Linear(1, 1)  # a parameter, so the net has a mode and a device

        def forward(self, X, state):
            return self.scores(X), state

        def begin_state(self, device, batch_size=1):
            return torch.zeros(1)

    uniform = Constant(lambda X: torch.zeros(X.numel(), len(vocab)))
    assert d2l.evaluate_perplexity(uniform, data, "cpu") == pytest.approx(len(vocab), rel=1e-4)
    # a model that puts probability 0.5 on every right token: perplexity 2
    targets = iter([Y for _, Y in data])

    def half(X):
        target = next(targets).T.reshape(-1)
        scores = torch.full((target.numel(), len(vocab)), -math.inf)
        scores[range(target.numel()), target] = 0.0
        scores[range(target.numel()), (target + 1) % len(vocab)] = 0.0
        return scores
    assert d2l.evaluate_perplexity(Constant(half), data, "cpu") == pytest.approx(2.0, rel=1e-4)
    with pytest.raises(ValueError, match="data_iter should yield at least one minibatch"):
        d2l.evaluate_perplexity(uniform, [], "cpu")


def test_train_ch8_reports_held_out_perplexity(capsys):
    corpus, vocab = _tiny_text()
    train = list(d2l.seq_data_iter_sequential(corpus[:400], 2, 5))
    held_out = list(d2l.seq_data_iter_sequential(corpus[400:], 2, 5))
    net = d2l.RNNModel(nn.RNN(len(vocab), 16), len(vocab))
    history = d2l.train_ch8(net, train, vocab, 0.01, 12, "cpu", optimizer="adam",
                            valid_iter=held_out)
    assert history.valid_epochs == [10, 12] and len(history.valid_perplexity) == 2
    assert history.valid_perplexity[-1] == pytest.approx(
        d2l.evaluate_perplexity(net, held_out, "cpu"))
    assert repr(history) == ("RNNHistory(epochs=12: perplexity, tokens_per_sec, "
                             "valid_perplexity)")
    assert "held-out perplexity" in str(history)
    out = capsys.readouterr().out
    assert "epoch 10/12: perplexity " in out and ", held-out " in out


def test_a_one_shot_iterator_is_refused_for_several_epochs():
    corpus, vocab = _tiny_text()
    net = d2l.RNNModel(nn.RNN(len(vocab), 4), len(vocab))
    with pytest.raises(TypeError, match=r"train_iter should be re-iterable \(one pass per "
                                        r"epoch\), but got train_iter='generator'"):
        d2l.train_ch8(net, d2l.seq_data_iter_sequential(corpus, 2, 5), vocab, 1, 2, "cpu")


def test_rnn_model_scratch_prints_without_an_address():
    net = _scratch()
    assert repr(net) == "RNNModelScratch(vocab_size=5, num_hiddens=4, forward_fn=rnn)"


@pytest.mark.parametrize("kind", ["list", "generator", "seq_data_iter", "DataLoader"])
def test_tokens_per_sec_counts_the_tokens_seen(two_second_epochs, kind):
    torch.manual_seed(0)
    X, Y = torch.randint(0, 5, (12, 6)), torch.randint(0, 5, (12, 6))
    batches = [(X[i:i + 4], Y[i:i + 4]) for i in range(0, 12, 4)]
    corpus = torch.randint(0, 5, (75,)).tolist()
    make = {"list": lambda: batches,
            "generator": lambda: (b for b in batches),
            "seq_data_iter": lambda: d2l.seq_data_iter_sequential(corpus, 4, 6),
            "DataLoader": lambda: torch.utils.data.DataLoader(
                torch.utils.data.TensorDataset(X, Y), batch_size=4)}[kind]
    random.seed(0)
    tokens = sum(Y.numel() for _, Y in make())  # what one epoch sees
    net = d2l.RNNModel(nn.RNN(5, 4), vocab_size=5)
    random.seed(0)
    _, speed = d2l.train_epoch_ch8(net, make(), nn.CrossEntropyLoss(),
                                   torch.optim.SGD(net.parameters(), lr=0.1), "cpu", False)
    assert tokens > 0 and speed == tokens / 2.0
