"""Chapter 3 training: the from-scratch pieces (linreg, squared_loss, sgd) and the
train_ch3 loop, which returns what it measured so notebooks can assert on it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import torch

from . import _checks
from .animator import Animator, in_notebook
from .fashion_mnist import get_fashion_mnist_labels
from .metrics import Timer, accuracy, evaluate_accuracy
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
    with torch.no_grad():
        for param in params:
            param -= lr * param.grad / batch_size
            param.grad.zero_()


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


def _check_output(y_hat: torch.Tensor, y: torch.Tensor) -> None:
    if y_hat.dim() == 0 or len(y_hat) != len(y):
        raise ValueError(
            f"net(X) should give one row of class scores per example, but got output shape "
            f"{tuple(y_hat.shape)} for labels of shape {tuple(y.shape)}. Check that the net "
            f"flattens images and that its last layer has one output per class.")


def train_epoch_ch3(net, train_iter, loss, updater) -> tuple[float, float]:
    """Train net for one epoch; return (average loss, training accuracy).

    updater is a torch.optim.Optimizer, or a function updater(batch_size) for the
    from-scratch sgd.  loss may use reduction='none' (per-example) or 'mean'."""
    if isinstance(net, torch.nn.Module):
        net.train()
    is_optimizer = isinstance(updater, torch.optim.Optimizer)
    total_loss, correct, count = 0.0, 0.0, 0
    for X, y in train_iter:
        y_hat = net(X)
        _check_output(y_hat, y)
        l = loss(y_hat, y)
        n = y.numel()
        # l_sum is the summed loss whatever the loss's reduction
        l_sum = l.sum() if l.dim() > 0 else l * n
        if is_optimizer:
            updater.zero_grad()
            (l_sum / n).backward()  # optimizers expect the mean gradient
            updater.step()
        else:
            l_sum.backward()  # sgd(params, lr, batch_size) divides by batch_size
            updater(X.shape[0])
        total_loss += float(l_sum.detach())
        correct += accuracy(y_hat.detach(), y)
        count += n
    return total_loss / count, correct / count


def _progress(epoch: int, num_epochs: int, **metrics: float) -> None:
    parts = ", ".join(f"{k.replace('_', ' ')} {v:.3f}" for k, v in metrics.items())
    print(f"epoch {epoch}/{num_epochs}: {parts}", flush=True)


def train_ch3(net, train_iter, test_iter, loss, num_epochs: int, updater) -> History:
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


def predict_ch3(net, test_iter, n: int = 6):
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
