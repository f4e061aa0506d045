"""Counting what training measures: Accumulator, Timer, accuracy, evaluate_accuracy/loss.

The loops keep per-batch results as tensors and add them up once per pass: a Python
float per batch costs a conversion (and, on a GPU, a sync) for every minibatch."""

from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np
import torch


def _to_float(value) -> float:
    """float(value), detaching tensors first (torch warns on tensors that require grad)."""
    if isinstance(value, torch.Tensor):
        value = value.detach()
    return float(value)


class Accumulator:
    """Running sums of n quantities, e.g. (total loss, correct predictions, examples)."""

    def __init__(self, n: int):
        self.data = [0.0] * n

    def add(self, *args) -> None:
        if len(args) != len(self.data):
            raise ValueError(f"add() should get {len(self.data)} values (one per sum), but got "
                             f"{len(args)}. Pass as many values as Accumulator({len(self.data)}).")
        self.data = [a + _to_float(b) for a, b in zip(self.data, args)]

    def reset(self) -> None:
        self.data = [0.0] * len(self.data)

    def __getitem__(self, idx):
        return self.data[idx]

    def __repr__(self) -> str:
        return f"Accumulator({self.data})"


class Timer:
    """Record several running times: start(), stop() -> seconds, then avg(), sum(), cumsum()."""

    def __init__(self):
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


def _check_batch(y_hat: torch.Tensor, y: torch.Tensor, name: str = "y_hat") -> None:
    """y_hat should hold one row per label in y (the most common mistake: a missing flatten)."""
    if y_hat.dim() == 0 or y_hat.shape[0] != y.shape[0]:
        raise ValueError(
            f"{name} should hold one row of class scores (or one label) per example, but got "
            f"{name}.shape={tuple(y_hat.shape)} for labels of shape {tuple(y.shape)}. Check "
            f"that the net reshapes each image to one row (reshape((-1, 784)) or nn.Flatten()) "
            f"and that predictions and labels come from the same minibatch.")


def _predicted_labels(y_hat: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Labels from class scores (n, q) by argmax, or y_hat itself if it already holds labels."""
    if y_hat.dim() > 1 and y_hat.shape[1] > 1:
        return y_hat.argmax(dim=1)
    return y_hat.reshape(y.shape)


def accuracy(y_hat: torch.Tensor, y: torch.Tensor) -> float:
    """Number of correct predictions (a float, as in the book; divide by len(y) for a rate).

    y_hat holds class scores (n, q) or predicted labels (n,); y holds labels (n,)."""
    _check_batch(y_hat, y)
    with torch.no_grad():
        cmp = _predicted_labels(y_hat, y).type(y.dtype) == y
        return float(cmp.sum())


def _count_correct(preds: Sequence[torch.Tensor], labels: Sequence[torch.Tensor]) -> float:
    """Correct predictions over a whole pass: one comparison and one sum instead of one each
    per minibatch."""
    if not preds:
        return 0.0
    y = torch.cat([t.reshape(-1) for t in labels])
    return float((torch.cat([t.reshape(-1) for t in preds]).type(y.dtype) == y).sum())


def _eval_mode(net):
    """Put an nn.Module in eval mode and return a function that restores its mode."""
    if not isinstance(net, torch.nn.Module):
        return lambda: None
    was_training = net.training
    net.eval()
    return lambda: net.train(was_training)


def _check_not_empty(total: int, name: str) -> None:
    if total == 0:
        raise ValueError(f"{name} should yield at least one minibatch, but got none. Pass a "
                         f"non-empty loader, e.g. the test_iter of load_data_fashion_mnist.")


def evaluate_accuracy(net, data_iter) -> float:
    """Accuracy of net over a dataset, in eval mode and without building a graph."""
    restore = _eval_mode(net)
    preds, labels, total = [], [], 0
    try:
        with torch.no_grad():
            for X, y in data_iter:
                y_hat = net(X)
                _check_batch(y_hat, y, "net(X)")
                preds.append(_predicted_labels(y_hat, y))
                labels.append(y)
                total += y.numel()
    finally:
        restore()
    _check_not_empty(total, "data_iter")
    return _count_correct(preds, labels) / total


def evaluate_loss(net, data_iter, loss) -> float:
    """Average loss of net over a dataset (loss with reduction='none' or 'mean')."""
    restore = _eval_mode(net)
    total, count = 0.0, 0
    try:
        with torch.no_grad():
            for X, y in data_iter:
                out = net(X)
                if out.shape != y.shape and out.numel() == y.numel():
                    y = y.reshape(out.shape)  # regression: (n,) labels against (n, 1) outputs
                l = loss(out, y)
                total += float(l.sum()) if l.dim() > 0 else float(l) * y.numel()
                count += y.numel()
    finally:
        restore()
    _check_not_empty(count, "data_iter")
    return total / count
