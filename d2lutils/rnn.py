"""Chapter 8 RNN helpers: model wrappers, gradient clipping, training, prediction and
perplexity on held-out text."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, cast

import torch
from torch import nn
from torch.nn import functional as F

from . import _checks
from .animator import Animator
from .metrics import Timer, in_eval_mode
from .text import Vocab
from .training import check_reiterable, sgd

State = torch.Tensor | tuple[torch.Tensor, ...]


class RNNModelScratch:
    """An RNN built from the functions a notebook writes: get_params, init_state, forward_fn."""

    def __init__(self, vocab_size: int, num_hiddens: int, device: torch.device | str,
                 get_params: Callable, init_state: Callable, forward_fn: Callable):
        self.vocab_size, self.num_hiddens = vocab_size, num_hiddens
        self.params = get_params(vocab_size, num_hiddens, device)
        self.init_state, self.forward_fn = init_state, forward_fn

    def __call__(self, X: torch.Tensor, state: State) -> tuple[torch.Tensor, State]:
        # X: (batch_size, num_steps) indices -> (num_steps, batch_size, vocab_size) one-hot
        X = F.one_hot(X.T, self.vocab_size).type(torch.float32)
        return self.forward_fn(X, state, self.params)

    def begin_state(self, batch_size: int, device: torch.device | str) -> State:
        return self.init_state(batch_size, self.num_hiddens, device)

    def __repr__(self) -> str:
        name = getattr(self.forward_fn, "__name__", "forward_fn")
        return (f"RNNModelScratch(vocab_size={self.vocab_size}, num_hiddens={self.num_hiddens}"
                f", forward_fn={name})")


class RNNModel(nn.Module):
    """Wrap an nn.RNN/GRU/LSTM layer with one-hot inputs and a linear output layer."""

    def __init__(self, rnn_layer: nn.RNNBase, vocab_size: int, **kwargs: Any):
        super().__init__(**kwargs)
        self.rnn = rnn_layer
        self.vocab_size = vocab_size
        self.num_hiddens = self.rnn.hidden_size
        self.num_directions = 2 if self.rnn.bidirectional else 1
        self.linear = nn.Linear(self.num_hiddens * self.num_directions, self.vocab_size)

    def forward(self, inputs: torch.Tensor, state: State) -> tuple[torch.Tensor, State]:
        X = F.one_hot(inputs.T.long(), self.vocab_size).to(torch.float32)
        Y, state = self.rnn(X, state)
        # Y: (num_steps, batch_size, hiddens) -> (num_steps * batch_size, vocab_size)
        output = self.linear(Y.reshape((-1, Y.shape[-1])))
        return output, state

    def begin_state(self, device: torch.device | str, batch_size: int = 1) -> State:
        shape = (self.num_directions * self.rnn.num_layers, batch_size, self.num_hiddens)
        if isinstance(self.rnn, nn.LSTM):
            return (torch.zeros(shape, device=device), torch.zeros(shape, device=device))
        return torch.zeros(shape, device=device)


def _params(net: nn.Module | RNNModelScratch) -> list[torch.Tensor]:
    if isinstance(net, nn.Module):
        return [p for p in net.parameters() if p.requires_grad]
    return list(net.params)


def grad_clipping(net: nn.Module | RNNModelScratch, theta: float) -> torch.Tensor:
    """Rescale all gradients so their global L2 norm is at most theta; return the norm
    before clipping (a tensor, so a notebook can print it).

    One global norm, not one per parameter: clipping keeps the gradient's direction.  The
    scale is computed on the device (no `if norm > theta` that waits for it)."""
    theta = _checks.positive_number("theta", theta, "Pass a clipping radius such as theta=1.")
    grads = [p.grad for p in _params(net) if p.grad is not None]
    if not grads:
        raise ValueError("net's parameters should have gradients, but got none (every "
                         "p.grad is None). Call l.backward() before grad_clipping(net, theta).")
    norm = torch.sqrt(torch.stack([torch.sum(g ** 2) for g in grads]).sum())
    scale = (theta / norm).clamp(max=1.0)  # 1 when the norm is within theta already
    for g in grads:
        g.mul_(scale)
    return norm


def _begin_state(net: nn.Module | RNNModelScratch, batch_size: int,
                 device: torch.device | str) -> State:
    """net.begin_state: by keyword, since the book's two models order its arguments
    differently (RNNModelScratch: batch_size, device; RNNModel: device, batch_size)."""
    begin = cast(Callable[..., State], net.begin_state)
    return begin(batch_size=batch_size, device=device)


def predict_ch8(prefix: str, num_preds: int, net: nn.Module | RNNModelScratch, vocab: Vocab,
                device: torch.device | str, *, temperature: float | None = None) -> str:
    """Continue prefix by num_preds characters.  The prefix is first fed through the net
    (warm-up) so the hidden state carries it; then each prediction is fed back in.

    By default the most likely character is taken (greedy, as in the book); with a
    temperature T, each character is sampled from softmax(scores / T) with torch's random
    generator (torch.manual_seed makes it repeatable): T < 1 sharpens, T > 1 flattens."""
    if not prefix:
        raise ValueError("prefix should hold at least one character, but got prefix=''. "
                         "Pass the start of a sentence, e.g. 'time traveller '.")
    if isinstance(num_preds, bool) or not isinstance(num_preds, int) or num_preds < 0:
        _checks.fail(ValueError, "num_preds", "a whole number >= 0", num_preds,
                     "Pass how many characters to add, e.g. num_preds=50.")
    if temperature is not None:
        temperature = _checks.positive_number(
            "temperature", temperature, "Pass e.g. temperature=1.0, or None for greedy.")
    restore = in_eval_mode(net)
    state = _begin_state(net, 1, device)
    outputs = [vocab[prefix[0]]]

    def get_input() -> torch.Tensor:
        return torch.tensor([outputs[-1]], device=device).reshape((1, 1))

    try:
        with torch.no_grad():
            for char in prefix[1:]:  # warm-up: update the state, ignore the outputs
                _, state = net(get_input(), state)
                outputs.append(vocab[char])
            for _ in range(num_preds):  # predict num_preds steps
                scores, state = net(get_input(), state)
                if temperature is None:
                    outputs.append(int(scores.argmax(dim=1).reshape(1)))
                else:
                    probs = F.softmax(scores.reshape(-1).float() / temperature, dim=0)
                    outputs.append(int(torch.multinomial(probs, 1)))
    finally:
        restore()
    return "".join([vocab.idx_to_token[i] for i in outputs])


def _detach_state(state: State) -> None:
    """Cut the graph behind the carried-over state (truncated backpropagation)."""
    if isinstance(state, (tuple, list)):
        for s in state:
            s.detach_()
    else:
        state.detach_()


def _no_batches() -> ValueError:
    return ValueError("train_iter should yield at least one minibatch, but got none. Use a "
                      "smaller batch_size or num_steps, or a larger max_tokens.")


def train_epoch_ch8(net: nn.Module | RNNModelScratch, train_iter: Iterable, loss: Callable,
                    updater: torch.optim.Optimizer | Callable[..., None],
                    device: torch.device | str, use_random_iter: bool) -> tuple[float, float]:
    """Train net for one epoch; return (perplexity, tokens per second).

    Random sampling: batches are unrelated, so the state is re-initialised for each.
    Sequential partitioning: batch t+1 continues batch t, so the state is carried over
    but detached, else backward() would run through every earlier batch of the epoch."""
    if isinstance(net, nn.Module):
        net.train()
    state: State | None = None
    timer = Timer()
    loss_sum: torch.Tensor | float = 0.0  # summed on the device, read once after the epoch
    num_tokens = 0
    for X, Y in train_iter:
        if state is None or use_random_iter:
            state = _begin_state(net, X.shape[0], device)
        else:
            _detach_state(state)
        y = Y.T.reshape(-1)  # time-major, like the net's output rows
        X, y = X.to(device), y.to(device)
        y_hat, state = net(X, state)
        l = loss(y_hat, y.long()).mean()
        if isinstance(updater, torch.optim.Optimizer):
            updater.zero_grad()
            l.backward()
            grad_clipping(net, 1)
            updater.step()
        else:
            l.backward()
            grad_clipping(net, 1)
            updater(batch_size=1)  # the loss is already a mean
        loss_sum = loss_sum + l.detach() * y.numel()
        num_tokens += y.numel()
    if num_tokens == 0:
        raise _no_batches()
    return math.exp(float(loss_sum) / num_tokens), num_tokens / timer.stop()


def evaluate_perplexity(net: nn.Module | RNNModelScratch, data_iter: Iterable,
                        device: torch.device | str, use_random_iter: bool = False) -> float:
    """Perplexity of net on data_iter (e.g. held-out text), without building a graph.

    The state is handled as in training: fresh per batch for random sampling, carried over
    for sequential partitioning.  An nn.Module runs in eval mode; its mode is restored."""
    restore = in_eval_mode(net)
    state: State | None = None
    loss_sum: torch.Tensor | float = 0.0
    num_tokens = 0
    try:
        with torch.no_grad():
            for X, Y in data_iter:
                if state is None or use_random_iter:
                    state = _begin_state(net, X.shape[0], device)
                y = Y.T.reshape(-1).to(device)
                y_hat, state = net(X.to(device), state)
                loss_sum = loss_sum + F.cross_entropy(y_hat, y.long(), reduction="sum")
                num_tokens += y.numel()
    finally:
        restore()
    if num_tokens == 0:
        raise ValueError("data_iter should yield at least one minibatch, but got none. Use "
                         "a smaller batch_size or num_steps, or more held-out text.")
    return math.exp(float(loss_sum) / num_tokens)


@dataclass
class RNNHistory:
    """Per-epoch perplexity and speed returned by train_ch8, plus held-out perplexity at the
    epochs it was measured (valid_epochs) when train_ch8 got a valid_iter.

    Its repr names the fields only (numbers differ between machines); print() shows the
    last values."""

    perplexity: list[float] = field(default_factory=list)
    tokens_per_sec: list[float] = field(default_factory=list)
    valid_perplexity: list[float] = field(default_factory=list)
    valid_epochs: list[int] = field(default_factory=list)

    def __repr__(self) -> str:
        held_out = ", valid_perplexity" if self.valid_perplexity else ""
        return f"RNNHistory(epochs={len(self.perplexity)}: perplexity, tokens_per_sec{held_out})"

    def __str__(self) -> str:
        if not self.perplexity:
            return "RNNHistory(epochs=0)"
        text = f"epoch {len(self.perplexity)}: perplexity {self.perplexity[-1]:.2f}"
        if self.valid_perplexity:
            text += (f", held-out perplexity {self.valid_perplexity[-1]:.2f} "
                     f"(epoch {self.valid_epochs[-1]})")
        return text

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(repr(self))


def _updater(net: nn.Module | RNNModelScratch, optimizer: str, lr: float
             ) -> torch.optim.Optimizer | Callable[..., None]:
    """The book's SGD (d2l.sgd for a scratch net) or Adam, over the net's parameters."""
    if optimizer == "adam":
        return torch.optim.Adam(_params(net), lr)
    if isinstance(net, nn.Module):
        return torch.optim.SGD(net.parameters(), lr)
    return _ScratchSGD(net.params, lr)


class _ScratchSGD:
    """The book's updater for a from-scratch net, d2l.sgd(params, lr, batch_size), with a
    learning rate that train_ch8 can change between epochs."""

    def __init__(self, params: list[torch.Tensor], lr: float):
        self.params, self.lr = params, lr

    def __call__(self, batch_size: int) -> None:
        sgd(self.params, self.lr, batch_size)


def _set_lr(updater: torch.optim.Optimizer | Callable[..., None], lr: float) -> None:
    if isinstance(updater, torch.optim.Optimizer):
        for group in updater.param_groups:
            group["lr"] = lr
    elif isinstance(updater, _ScratchSGD):
        updater.lr = lr


def train_ch8(net: nn.Module | RNNModelScratch, train_iter: Iterable, vocab: Vocab, lr: float,
              num_epochs: int, device: torch.device | str, use_random_iter: bool = False, *,
              optimizer: str = "sgd", final_lr: float | None = None,
              valid_iter: Iterable | None = None) -> RNNHistory:
    """Train a character-level language model; plot perplexity every 10 epochs (live in
    Jupyter, a progress line with a prediction elsewhere), print the book's summary, and
    return an RNNHistory.  The net is left in eval mode.

    The defaults are the book's (SGD at a constant lr).  Course options, keyword-only:
    optimizer="adam" with final_lr (the learning rate decays geometrically from lr to
    final_lr over the epochs) is the CPU-friendly setting of notebooks 8.5 and 8.6;
    valid_iter (held-out text, e.g. load_data_time_machine(..., start=10000)) adds its
    perplexity every 10 epochs, so memorising the training text shows."""
    num_epochs = _checks.positive_int("num_epochs", num_epochs)
    lr = _checks.positive_number("lr", lr)
    _checks.one_of("optimizer", optimizer, ("sgd", "adam"))
    if final_lr is not None:
        final_lr = _checks.positive_number(
            "final_lr", final_lr, "Pass the learning rate of the last epoch, e.g. "
            "final_lr=lr / 20, or final_lr=None for a constant learning rate.")
    check_reiterable("train_iter", train_iter, num_epochs)
    if valid_iter is not None:
        check_reiterable("valid_iter", valid_iter, 2)
    loss = nn.CrossEntropyLoss()
    legend = ["train"] if valid_iter is None else ["train", "held-out"]
    animator = Animator(xlabel="epoch", ylabel="perplexity", legend=legend,
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
            points = [ppl]
            if valid_iter is not None:
                valid = evaluate_perplexity(net, valid_iter, device, use_random_iter)
                history.valid_perplexity.append(valid)
                history.valid_epochs.append(epoch + 1)
                points.append(valid)
            if animator.is_live:
                animator.add(epoch + 1, points)
            else:
                held_out = f", held-out {points[1]:.2f}" if len(points) > 1 else ""
                print(f"epoch {epoch + 1}/{num_epochs}: perplexity {ppl:.2f}{held_out}: "
                      f"{predict_ch8('time traveller', 50, net, vocab, device)}", flush=True)
    if isinstance(net, nn.Module):
        net.eval()
    print(f"perplexity {ppl:.1f}, {speed:.1f} tokens/sec on {device}")
    print(predict_ch8("time traveller", 50, net, vocab, device))
    print(predict_ch8("traveller", 50, net, vocab, device))
    return history
