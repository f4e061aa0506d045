"""Chapter 3 training: the from-scratch pieces (linreg, squared_loss, sgd) and the
train_ch3 loop, which returns what it measured so notebooks can assert on it."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import torch
from torch import nn

from . import _checks
from .animator import Animator, in_notebook
from .fashion_mnist import get_fashion_mnist_labels
from .metrics import Timer, _check_batch, _count_correct, _predicted_labels, evaluate_accuracy
from .plotting import show_images


def linreg(X: torch.Tensor, w: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """The linear regression model Xw + b."""
    return torch.matmul(X, w) + b


def squared_loss(y_hat: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Squared loss per example, (y_hat - y)² / 2, with y reshaped like y_hat."""
    return (y_hat - y.reshape(y_hat.shape)) ** 2 / 2


def sgd(params: Iterable[torch.Tensor], lr: float, batch_size: int) -> None:
    """Update params in place by one minibatch SGD step, then zero their gradients.

    Divides by batch_size because the book's scratch losses are summed over the batch."""
    params = list(params)
    grads = [p.grad for p in params]
    if any(g is None for g in grads):
        i = next(i for i, g in enumerate(grads) if g is None)
        raise ValueError(f"params[{i}] should have a gradient, but got params[{i}].grad=None. "
                         f"Create it with requires_grad=True and call backward() on the loss "
                         f"before sgd().")
    with torch.no_grad():
        # param -= lr * grad / batch_size for all params in one fused call
        torch._foreach_add_(params, grads, alpha=-lr / batch_size)
        torch._foreach_zero_(grads)


@dataclass
class History:
    """Per-epoch measurements returned by train_ch3."""

    train_loss: list[float] = field(default_factory=list)
    train_acc: list[float] = field(default_factory=list)
    test_acc: list[float] = field(default_factory=list)
    examples_per_sec: list[float] = field(default_factory=list)

    def __repr__(self) -> str:
        if not self.train_loss:
            return "History(epochs=0)"
        return (f"History(epochs={len(self.train_loss)}, train_loss={self.train_loss[-1]:.3f}, "
                f"train_acc={self.train_acc[-1]:.3f}, test_acc={self.test_acc[-1]:.3f})")


def train_epoch_ch3(net: nn.Module | Callable, train_iter: Iterable, loss: Callable,
                    updater: torch.optim.Optimizer | Callable[[int], None]) -> tuple[float, float]:
    """Train net for one epoch; return (average loss, training accuracy).

    updater is a torch.optim.Optimizer, or a function updater(batch_size) for the
    from-scratch sgd.  loss may use reduction='none' (per-example) or 'mean'."""
    if isinstance(net, torch.nn.Module):
        net.train()
    is_optimizer = isinstance(updater, torch.optim.Optimizer)
    # Per-batch metrics stay tensors (no float() per batch); summed once after the epoch
    losses, preds, labels, counts = [], [], [], []
    for X, y in train_iter:
        y_hat = net(X)
        _check_batch(y_hat, y, "net(X)")
        l = loss(y_hat, y)
        n = y.numel()
        if is_optimizer:
            updater.zero_grad()
            l.mean().backward()  # optimizers expect the mean gradient
            updater.step()
        else:
            # sgd(params, lr, batch_size) divides by batch_size: it wants the summed loss
            (l.sum() if l.dim() > 0 else l * n).backward()
            updater(X.shape[0])
        losses.append(l.detach())
        preds.append(_predicted_labels(y_hat.detach(), y))
        labels.append(y)
        counts.append(n)
    count = sum(counts)
    if count == 0:
        raise ValueError("train_iter should yield at least one minibatch, but got none. Pass "
                         "a non-empty loader, e.g. the train_iter of load_data_fashion_mnist.")
    return _summed_loss(losses, counts) / count, _count_correct(preds, labels) / count


def _summed_loss(losses: list[torch.Tensor], counts: list[int]) -> float:
    """Total loss over an epoch from per-batch losses: per-example (reduction='none') are
    added up; batch means (reduction='mean') are weighted by their batch sizes."""
    if losses[0].dim() == 0:
        weights = torch.tensor(counts, dtype=torch.float64)
        return float((torch.stack(losses).double() * weights).sum())
    return float(torch.cat([l.reshape(-1) for l in losses]).sum(dtype=torch.float64))


def _progress(epoch: int, num_epochs: int, **metrics: float) -> None:
    parts = ", ".join(f"{k.replace('_', ' ')} {v:.3f}" for k, v in metrics.items())
    print(f"epoch {epoch}/{num_epochs}: {parts}", flush=True)


def train_ch3(net: nn.Module | Callable, train_iter: Iterable, test_iter: Iterable,
              loss: Callable, num_epochs: int,
              updater: torch.optim.Optimizer | Callable[[int], None]) -> History:
    """Train and evaluate net for num_epochs; plot live in Jupyter, print a line per epoch
    elsewhere.  Returns a History of per-epoch loss, train/test accuracy and speed."""
    _checks.positive_int("num_epochs", num_epochs)
    animator = Animator(xlabel="epoch", xlim=[1, num_epochs], ylim=[0.3, 0.9],
                        legend=["train loss", "train acc", "test acc"])
    history = History()
    timer = Timer()
    for epoch in range(num_epochs):
        timer.start()
        train_loss, train_acc = train_epoch_ch3(net, train_iter, loss, updater)
        seconds = timer.stop()
        test_acc = evaluate_accuracy(net, test_iter)
        history.train_loss.append(train_loss)
        history.train_acc.append(train_acc)
        history.test_acc.append(test_acc)
        history.examples_per_sec.append(_num_examples(train_iter) / seconds)
        if animator.is_live:
            animator.add(epoch + 1, (train_loss, train_acc, test_acc))
        else:
            _progress(epoch + 1, num_epochs, loss=train_loss, train_acc=train_acc,
                      test_acc=test_acc)
    return history


def _num_examples(data_iter) -> int:
    if hasattr(data_iter, "num_examples"):
        return data_iter.num_examples
    return len(getattr(data_iter, "dataset", ())) or 1


def predict_ch3(net: nn.Module | Callable, test_iter: Iterable,
                n: int = 6) -> tuple[list[str], list[str]]:
    """Show the first n test images with their true and predicted labels; return the
    (true, predicted) label names."""
    X, y = next(iter(test_iter))
    with torch.no_grad():
        preds = get_fashion_mnist_labels(net(X).argmax(dim=1))
    trues = get_fashion_mnist_labels(y)
    titles = [true + "\n" + pred for true, pred in zip(trues, preds)]
    show_images(X[0:n].reshape((n, X.shape[-2], X.shape[-1])), 1, n, titles=titles[0:n])
    if in_notebook():
        from .plotting import get_plt

        get_plt().show()
    return trues[:n], preds[:n]
