"""Chapter 3 training: the from-scratch pieces (linreg, squared_loss, sgd) and the
train_ch3 loop, which returns what it measured so notebooks can assert on it."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import torch
from torch import nn

from . import _checks
from .animator import Animator, in_notebook
from .devices import net_device, to_device
from .fashion_mnist import get_fashion_mnist_labels
from .metrics import (
    Timer,
    check_batch,
    check_classes,
    count_correct,
    evaluate_accuracy,
    in_eval_mode,
)
from .plotting import show_images


def linreg(X: torch.Tensor, w: torch.Tensor, b: torch.Tensor | float) -> torch.Tensor:
    """The linear regression model Xw + b."""
    return torch.matmul(X, w) + b


def squared_loss(y_hat: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Squared loss per example, (y_hat - y)² / 2, with y reshaped like y_hat."""
    return (y_hat - y.reshape(y_hat.shape)) ** 2 / 2


def sgd(params: Iterable[torch.Tensor], lr: float, batch_size: int) -> None:
    """Update params in place by one minibatch SGD step, then zero their gradients.

    Divides by batch_size because the book's scratch losses are summed over the batch."""
    batch_size = _checks.positive_int(
        "batch_size", batch_size, "Pass the number of examples the summed loss covered, "
        "e.g. sgd(params, lr, X.shape[0]), or 1 for a loss that is already a mean.")
    pairs = []
    for i, param in enumerate(params):  # check all first: never update only some
        if param.grad is None:
            raise ValueError(f"params[{i}] should have a gradient, but got params[{i}].grad="
                             f"None. Create it with requires_grad=True and call backward() on "
                             f"the loss before sgd().")
        pairs.append((param, param.grad))
    with torch.no_grad():
        for param, grad in pairs:
            param -= lr * grad / batch_size
            grad.zero_()


@dataclass
class History:
    """Per-epoch measurements returned by train_ch3.

    Its repr names the fields only (a bare train_ch3(...) at the end of a notebook cell
    shows it, and measured numbers differ from machine to machine); print(history) shows
    the last epoch's values."""

    train_loss: list[float] = field(default_factory=list)
    train_acc: list[float] = field(default_factory=list)
    test_acc: list[float] = field(default_factory=list)
    examples_per_sec: list[float] = field(default_factory=list)

    def __repr__(self) -> str:
        return (f"History(epochs={len(self.train_loss)}: train_loss, train_acc, test_acc, "
                f"examples_per_sec)")

    def __str__(self) -> str:
        if not self.train_loss:
            return "History(epochs=0)"
        return (f"epoch {len(self.train_loss)}: train loss {self.train_loss[-1]:.3f}, "
                f"train acc {self.train_acc[-1]:.3f}, test acc {self.test_acc[-1]:.3f}")

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(repr(self))


def _epoch_sums(net: nn.Module | Callable, train_iter: Iterable, loss: Callable,
                updater: torch.optim.Optimizer | Callable[[int], None]
                ) -> tuple[float, float, int]:
    """Train net for one epoch: (summed loss, correct predictions, examples).

    Sums stay on the net's device; one transfer to the host at the end."""
    if isinstance(net, nn.Module):
        net.train()
    device = net_device(net)
    loss_sum: torch.Tensor | float = 0.0
    correct: torch.Tensor | int = 0
    count = 0
    for X, y in train_iter:
        X = to_device(X, device)
        y_hat = net(X)
        check_batch(y_hat, y, "net(X)")
        if count == 0:
            check_classes(y_hat, y)  # a clear error, not "Target 9 is out of bounds"
        y = to_device(y, y_hat.device)
        l = loss(y_hat, y)
        n = y.numel()
        if isinstance(updater, torch.optim.Optimizer):
            updater.zero_grad()
            l.mean().backward()  # optimizers expect the mean gradient
            updater.step()
        else:
            # sgd(params, lr, batch_size) divides by batch_size: it wants the summed loss
            (l.sum() if l.dim() > 0 else l * n).backward()
            updater(X.shape[0])
        with torch.no_grad():
            # a mean loss covers n examples
            loss_sum = loss_sum + (l.sum() if l.dim() > 0 else l * n)
            correct = correct + count_correct(y_hat, y)
        count += n
    if count == 0:
        raise ValueError("train_iter should yield at least one minibatch, but got none. Pass "
                         "a non-empty loader, e.g. the train_iter of load_data_fashion_mnist.")
    # one transfer to the host for the pair
    sums = torch.stack([torch.as_tensor(loss_sum).float(), torch.as_tensor(correct).float()])
    total_loss, total_correct = sums.tolist()
    return total_loss, total_correct, count


def train_epoch_ch3(net: nn.Module | Callable, train_iter: Iterable, loss: Callable,
                    updater: torch.optim.Optimizer | Callable[[int], None]
                    ) -> tuple[float, float]:
    """Train net for one epoch; return (average loss, training accuracy).

    updater is a torch.optim.Optimizer, or a function updater(batch_size) for the
    from-scratch sgd.  loss may use reduction='none' (per-example) or 'mean'."""
    loss_sum, correct, count = _epoch_sums(net, train_iter, loss, updater)
    return loss_sum / count, correct / count


def check_reiterable(name: str, data: Iterable, num_epochs: int) -> None:
    """An iterator (a generator such as d2l.data_iter(...)) is used up after one pass."""
    if num_epochs > 1 and iter(data) is data:
        _checks.fail(TypeError, name, "re-iterable (one pass per epoch)",
                     type(data).__name__,
                     f"A generator is used up after the first epoch. Pass a loader or a list "
                     f"of batches (e.g. {name}=list(d2l.data_iter(...)) or "
                     f"d2l.load_array(...)), or train one epoch per call.")


def _progress(epoch: int, num_epochs: int, **metrics: float) -> None:
    parts = ", ".join(f"{k.replace('_', ' ')} {v:.3f}" for k, v in metrics.items())
    print(f"epoch {epoch}/{num_epochs}: {parts}", flush=True)


def train_ch3(net: nn.Module | Callable, train_iter: Iterable, test_iter: Iterable,
              loss: Callable, num_epochs: int,
              updater: torch.optim.Optimizer | Callable[[int], None]) -> History:
    """Train and evaluate net for num_epochs; plot live in Jupyter, print a line per epoch
    elsewhere.  Returns a History of per-epoch loss, train/test accuracy and speed; the
    net is left in eval mode, as the book's is."""
    _checks.positive_int("num_epochs", num_epochs)
    check_reiterable("train_iter", train_iter, num_epochs)
    check_reiterable("test_iter", test_iter, num_epochs)
    animator = Animator(xlabel="epoch", xlim=[1, num_epochs], ylim=[0.3, 0.9],
                        legend=["train loss", "train acc", "test acc"])
    history = History()
    timer = Timer()
    for epoch in range(num_epochs):
        timer.start()
        loss_sum, correct, count = _epoch_sums(net, train_iter, loss, updater)
        seconds = timer.stop()
        train_loss, train_acc = loss_sum / count, correct / count
        test_acc = evaluate_accuracy(net, test_iter)
        history.train_loss.append(train_loss)
        history.train_acc.append(train_acc)
        history.test_acc.append(test_acc)
        history.examples_per_sec.append(count / seconds)  # the examples this epoch saw
        if animator.is_live:
            animator.add(epoch + 1, (train_loss, train_acc, test_acc))
        else:
            _progress(epoch + 1, num_epochs, loss=train_loss, train_acc=train_acc,
                      test_acc=test_acc)
    return history


class Predictions(NamedTuple):
    """The (true, predicted) label names predict_ch3 showed; unpacks as a pair.  Its repr
    is short and the same on every machine (a bare call displays it under the figure)."""

    trues: list[str]
    preds: list[str]

    def __repr__(self) -> str:
        return f"Predictions(n={len(self.trues)}: trues, preds)"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(repr(self))


def predict_ch3(net: nn.Module | Callable, test_iter: Iterable, n: int = 6) -> Predictions:
    """Show the first n test images with their true and predicted labels; return them.

    The net predicts in eval mode (no dropout), and its mode is restored afterwards."""
    n = _checks.positive_int("n", n, "Pass how many images to show, e.g. n=6.")
    X, y = next(iter(test_iter))
    restore = in_eval_mode(net)
    try:
        with torch.no_grad():
            y_hat = net(to_device(X, net_device(net)))
    finally:
        restore()
    preds = get_fashion_mnist_labels(y_hat.argmax(dim=1)[:n].tolist())
    trues = get_fashion_mnist_labels(y[:n].tolist())
    titles = [true + "\n" + pred for true, pred in zip(trues, preds)]
    n = min(n, len(trues))
    show_images(X[0:n].reshape((n, X.shape[-2], X.shape[-1])), 1, n, titles=titles)
    if in_notebook():
        from .plotting import get_plt

        get_plt().show()
    return Predictions(trues, preds)
