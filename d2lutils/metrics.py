"""Counting what training measures: Accumulator, Timer, accuracy, evaluate_accuracy/loss.

The loops keep per-batch results as tensors on the net's device and add them up there; one
number crosses to the host per pass.  A Python float per batch would cost a conversion
(and, on a GPU, a wait for the device) for every minibatch."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

import numpy as np
import torch
from torch import nn

from .devices import net_device, to_device


def _to_float(value: torch.Tensor | float) -> float:
    """float(value), detaching tensors first (torch warns on tensors that require grad)."""
    if isinstance(value, torch.Tensor):
        value = value.detach()
    return float(value)


class Accumulator:
    """Running sums of n quantities, e.g. (total loss, correct predictions, examples)."""

    def __init__(self, n: int):
        self.data = [0.0] * n

    def add(self, *args: torch.Tensor | float) -> None:
        if len(args) != len(self.data):
            raise ValueError(f"add() should get {len(self.data)} values (one per sum), but got "
                             f"{len(args)}. Pass as many values as Accumulator({len(self.data)}).")
        self.data = [a + _to_float(b) for a, b in zip(self.data, args)]

    def reset(self) -> None:
        self.data = [0.0] * len(self.data)

    def __getitem__(self, idx: int) -> float:
        return self.data[idx]

    def __repr__(self) -> str:
        return f"Accumulator({self.data})"


class Timer:
    """Record several running times: start(), stop() -> seconds, then avg(), sum(), cumsum()."""

    def __init__(self) -> None:
        self.times: list[float] = []
        self.start()

    def start(self) -> None:
        self.tik = time.perf_counter()

    def stop(self) -> float:
        self.times.append(time.perf_counter() - self.tik)
        return self.times[-1]

    def avg(self) -> float:
        return sum(self.times) / len(self.times)

    def sum(self) -> float:
        return sum(self.times)

    def cumsum(self) -> list[float]:
        return np.array(self.times).cumsum().tolist()

    def __repr__(self) -> str:
        return f"Timer(laps={len(self.times)})"


def check_batch(y_hat: torch.Tensor, y: torch.Tensor, name: str = "y_hat") -> None:
    """y_hat should hold one row per label in y (the most common mistake: a missing flatten)."""
    if y_hat.dim() == 0 or y_hat.shape[0] != y.shape[0]:
        raise ValueError(
            f"{name} should hold one row of class scores (or one label) per example, but got "
            f"{name}.shape={tuple(y_hat.shape)} for labels of shape {tuple(y.shape)}. Check "
            f"that the net reshapes each image to one row (reshape((-1, 784)) or nn.Flatten()) "
            f"and that predictions and labels come from the same minibatch.")


def check_classes(y_hat: torch.Tensor, y: torch.Tensor, name: str = "net(X)") -> None:
    """Class scores y_hat (n, q) need q > every label in y: a net with too few outputs
    otherwise fails deep inside the loss ("Target 9 is out of bounds").  Call it with y
    still on the CPU (as loaders yield it), so that it costs no device transfer."""
    if y_hat.dim() != 2 or y_hat.shape[1] < 2 or y.is_floating_point() or y.numel() == 0:
        return
    low, high = int(y.min()), int(y.max())
    if low < 0 or high >= y_hat.shape[1]:
        raise ValueError(
            f"{name} should have one output per class, {high + 1} or more for labels in "
            f"[{low}, {high}], but got {name}.shape[1]={y_hat.shape[1]}. Make the last layer "
            f"as wide as the number of classes (e.g. nn.Linear(256, 10) for Fashion-MNIST), "
            f"and labels 0..q-1.")


def _predicted_labels(y_hat: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Labels from class scores (n, q) by argmax, or y_hat itself if it already holds labels."""
    if y_hat.dim() > 1 and y_hat.shape[1] > 1:
        return y_hat.argmax(dim=1)
    return y_hat.reshape(y.shape)


def count_correct(y_hat: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Correct predictions in a batch, as a tensor on y_hat's device (no host transfer)."""
    return (_predicted_labels(y_hat, y).type(y.dtype) == y).sum()


def accuracy(y_hat: torch.Tensor, y: torch.Tensor) -> float:
    """Number of correct predictions (a float, as in the book; divide by len(y) for a rate).

    y_hat holds class scores (n, q) or predicted labels (n,); y holds labels (n,)."""
    check_batch(y_hat, y)
    with torch.no_grad():
        return float(count_correct(y_hat, y))


def in_eval_mode(net: nn.Module | Callable) -> Callable[[], None]:
    """Put an nn.Module in eval mode (no dropout); return a function restoring its mode."""
    if not isinstance(net, nn.Module):
        return lambda: None
    was_training = net.training

    def restore() -> None:
        net.train(was_training)

    net.eval()
    return restore


def _check_not_empty(total: int, name: str) -> None:
    if total == 0:
        raise ValueError(f"{name} should yield at least one minibatch, but got none. Pass a "
                         f"non-empty loader, e.g. the test_iter of load_data_fashion_mnist.")


def evaluate_accuracy(net: nn.Module | Callable, data_iter: Iterable) -> float:
    """Accuracy of net over a dataset, without building a graph.

    An nn.Module is put in eval mode and left there, as in the book (train_epoch_ch3
    switches back to train mode).  Batches move to the net's device; the count of correct
    predictions stays there and crosses to the host once."""
    if isinstance(net, nn.Module):
        net.eval()
    device = net_device(net)
    correct: torch.Tensor | int = 0
    total = 0
    with torch.no_grad():
        for X, y in data_iter:
            y_hat = net(to_device(X, device))
            check_batch(y_hat, y, "net(X)")
            if total == 0:
                check_classes(y_hat, y)
            correct = correct + count_correct(y_hat, to_device(y, y_hat.device))
            total += y.numel()
    _check_not_empty(total, "data_iter")
    return float(correct) / total


def evaluate_loss(net: nn.Module | Callable, data_iter: Iterable, loss: Callable) -> float:
    """Average loss of net over a dataset, per example (loss with reduction 'none' or
    'mean'), in eval mode; the net's mode is restored afterwards."""
    restore = in_eval_mode(net)
    device = net_device(net)
    total: torch.Tensor | float = 0.0
    count = 0
    try:
        with torch.no_grad():
            for X, y in data_iter:
                out = net(to_device(X, device))
                y = to_device(y, out.device)
                if out.shape != y.shape and out.numel() == y.numel():
                    y = y.reshape(out.shape)  # regression: (n,) labels against (n, 1) outputs
                l = loss(out, y)
                total = total + (l.sum() if l.dim() > 0 else l * y.numel())
                count += y.numel()
    finally:
        restore()
    _check_not_empty(count, "data_iter")
    return float(total) / count
