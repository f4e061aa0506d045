"""Chapter 8 RNN helpers: model wrappers, gradient clipping, training and prediction."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import torch
from torch import nn
from torch.nn import functional as F

from . import _checks
from .animator import Animator
from .metrics import Timer
from .text import Vocab
from .training import _summed_loss, sgd


class RNNModelScratch:
    """An RNN built from the functions a notebook writes: get_params, init_state, forward_fn."""

    def __init__(self, vocab_size, num_hiddens, device, get_params, init_state, forward_fn):
        self.vocab_size, self.num_hiddens = vocab_size, num_hiddens
        self.params = get_params(vocab_size, num_hiddens, device)
        self.init_state, self.forward_fn = init_state, forward_fn

    def __call__(self, X, state):
        # X: (batch_size, num_steps) indices -> (num_steps, batch_size, vocab_size) one-hot
        X = F.one_hot(X.T, self.vocab_size).type(torch.float32)
        return self.forward_fn(X, state, self.params)

    def begin_state(self, batch_size, device):
        return self.init_state(batch_size, self.num_hiddens, device)


class RNNModel(nn.Module):
    """Wrap an nn.RNN/GRU/LSTM layer with one-hot inputs and a linear output layer."""

    def __init__(self, rnn_layer, vocab_size, **kwargs):
        super().__init__(**kwargs)
        self.rnn = rnn_layer
        self.vocab_size = vocab_size
        self.num_hiddens = self.rnn.hidden_size
        self.num_directions = 2 if self.rnn.bidirectional else 1
        self.linear = nn.Linear(self.num_hiddens * self.num_directions, self.vocab_size)

    def forward(self, inputs, state):
        X = F.one_hot(inputs.T.long(), self.vocab_size).to(torch.float32)
        Y, state = self.rnn(X, state)
        # Y: (num_steps, batch_size, hiddens) -> (num_steps * batch_size, vocab_size)
        output = self.linear(Y.reshape((-1, Y.shape[-1])))
        return output, state

    def begin_state(self, device, batch_size=1):
        shape = (self.num_directions * self.rnn.num_layers, batch_size, self.num_hiddens)
        if isinstance(self.rnn, nn.LSTM):
            return (torch.zeros(shape, device=device), torch.zeros(shape, device=device))
        return torch.zeros(shape, device=device)


def _params(net) -> list[torch.Tensor]:
    if isinstance(net, nn.Module):
        return [p for p in net.parameters() if p.requires_grad]
    return list(net.params)


def grad_clipping(net: nn.Module | RNNModelScratch, theta: float) -> torch.Tensor:
    """Rescale all gradients so their global L2 norm is at most theta; return the norm
    before clipping (so a notebook can print it).

    One global norm, not one per parameter: clipping keeps the gradient's direction."""
    theta = _checks.positive_number("theta", theta, "Pass a clipping radius such as theta=1.")
    grads = [p.grad for p in _params(net) if p.grad is not None]
    if not grads:
        raise ValueError("net's parameters should have gradients, but got none (every "
                         "p.grad is None). Call l.backward() before grad_clipping(net, theta).")
    # sqrt(sum of squares over all gradients) = the L2 norm of the per-tensor L2 norms
    norm = torch.linalg.vector_norm(torch.stack(torch._foreach_norm(grads)))
    total = float(norm)
    if total > theta:
        torch._foreach_mul_(grads, theta / total)
    return norm


def predict_ch8(prefix: str, num_preds: int, net: nn.Module | RNNModelScratch, vocab: Vocab,
                device: torch.device | str) -> str:
    """Continue prefix by num_preds characters.  The prefix is first fed through the net
    (warm-up) so the hidden state carries it; then each prediction is fed back in."""
    if not prefix:
        raise ValueError("prefix should hold at least one character, but got prefix=''. "
                         "Pass the start of a sentence, e.g. 'time traveller '.")
    state = net.begin_state(batch_size=1, device=device)
    outputs = [vocab[prefix[0]]]

    def get_input():
        return torch.tensor([outputs[-1]], device=device).reshape((1, 1))

    with torch.no_grad():
        for y in prefix[1:]:  # warm-up: update the state, ignore the outputs
            _, state = net(get_input(), state)
            outputs.append(vocab[y])
        for _ in range(num_preds):  # predict num_preds steps
            y, state = net(get_input(), state)
            outputs.append(int(y.argmax(dim=1).reshape(1)))
    return "".join([vocab.idx_to_token[i] for i in outputs])


def _detach_state(state):
    """Cut the graph behind the carried-over state (truncated backpropagation)."""
    if isinstance(state, (tuple, list)):
        for s in state:
            s.detach_()
    else:
        state.detach_()


def train_epoch_ch8(net: nn.Module | RNNModelScratch, train_iter: Iterable, loss: Callable,
                    updater: torch.optim.Optimizer | Callable[..., None],
                    device: torch.device | str, use_random_iter: bool) -> tuple[float, float]:
    """Train net for one epoch; return (perplexity, tokens per second).

    Random sampling: batches are unrelated, so the state is re-initialised for each.
    Sequential partitioning: batch t+1 continues batch t, so the state is carried over
    but detached, else backward() would run through every earlier batch of the epoch."""
    state, timer = None, Timer()
    is_optimizer = isinstance(updater, torch.optim.Optimizer)
    losses, counts = [], []  # per-batch mean losses, summed once after the epoch
    for X, Y in train_iter:
        if state is None or use_random_iter:
            state = net.begin_state(batch_size=X.shape[0], device=device)
        else:
            _detach_state(state)
        y = Y.T.reshape(-1)  # time-major, like the net's output rows
        X, y = X.to(device), y.to(device)
        y_hat, state = net(X, state)
        l = loss(y_hat, y.long()).mean()
        if is_optimizer:
            updater.zero_grad()
        l.backward()
        grad_clipping(net, 1)
        if is_optimizer:
            updater.step()
        else:
            updater(batch_size=1)  # the loss is already a mean
        losses.append(l.detach())
        counts.append(y.numel())
    num_tokens = sum(counts)
    if num_tokens == 0:
        raise ValueError("train_iter should yield at least one minibatch, but got none. Use "
                         "a smaller batch_size or num_steps, or a larger max_tokens.")
    return math.exp(_summed_loss(losses, counts) / num_tokens), num_tokens / timer.stop()


@dataclass
class RNNHistory:
    """Per-epoch perplexity and speed returned by train_ch8."""

    perplexity: list[float] = field(default_factory=list)
    tokens_per_sec: list[float] = field(default_factory=list)

    def __repr__(self) -> str:
        last = f", perplexity={self.perplexity[-1]:.1f}" if self.perplexity else ""
        return f"RNNHistory(epochs={len(self.perplexity)}{last})"


def _updater(net: nn.Module | RNNModelScratch, optimizer: str, lr: float):
    """The book's SGD (d2l.sgd for a scratch net) or Adam, over the net's parameters."""
    if optimizer == "adam":
        return torch.optim.Adam(_params(net), lr)
    if isinstance(net, nn.Module):
        return torch.optim.SGD(net.parameters(), lr)

    def updater(batch_size):
        sgd(net.params, updater.lr, batch_size)
    updater.lr = lr
    return updater


def _set_lr(updater, lr: float) -> None:
    if isinstance(updater, torch.optim.Optimizer):
        for group in updater.param_groups:
            group["lr"] = lr
    else:
        updater.lr = lr


def train_ch8(net: nn.Module | RNNModelScratch, train_iter: Iterable, vocab: Vocab, lr: float,
              num_epochs: int, device: torch.device | str, use_random_iter: bool = False, *,
              optimizer: str = "sgd", final_lr: float | None = None) -> RNNHistory:
    """Train a character-level language model; plot perplexity every 10 epochs (live in
    Jupyter, a progress line elsewhere), print the book's summary, return an RNNHistory.

    The defaults are the book's (SGD at a constant lr).  optimizer="adam" with final_lr
    (the learning rate decays geometrically from lr to final_lr over the epochs) is the
    CPU-friendly choice of notebooks 8.5 and 8.6: the book's perplexity in a third of the
    epochs, with half the hidden units."""
    num_epochs = _checks.positive_int("num_epochs", num_epochs)
    lr = _checks.positive_number("lr", lr)
    _checks.one_of("optimizer", optimizer, ("sgd", "adam"))
    if final_lr is not None:
        final_lr = _checks.positive_number(
            "final_lr", final_lr, "Pass the learning rate of the last epoch, e.g. "
            "final_lr=lr / 20, or final_lr=None for a constant learning rate.")
    loss = nn.CrossEntropyLoss()
    animator = Animator(xlabel="epoch", ylabel="perplexity", legend=["train"],
                        xlim=[10, num_epochs])
    updater = _updater(net, optimizer, lr)
    history = RNNHistory()
    for epoch in range(num_epochs):
        if final_lr is not None:  # lr at epoch 0, final_lr at the last epoch
            _set_lr(updater, lr * (final_lr / lr) ** (epoch / max(num_epochs - 1, 1)))
        ppl, speed = train_epoch_ch8(net, train_iter, loss, updater, device, use_random_iter)
        history.perplexity.append(ppl)
        history.tokens_per_sec.append(speed)
        if (epoch + 1) % 10 == 0 or epoch + 1 == num_epochs:
            if animator.is_live:
                animator.add(epoch + 1, [ppl])
            else:
                print(f"epoch {epoch + 1}/{num_epochs}: perplexity {ppl:.2f}", flush=True)
    print(f"perplexity {ppl:.1f}, {speed:.1f} tokens/sec on {device}")
    print(predict_ch8("time traveller", 50, net, vocab, device))
    print(predict_ch8("traveller", 50, net, vocab, device))
    return history
