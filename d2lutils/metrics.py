"""Counting what training measures: Accumulator, Timer, accuracy, evaluate_accuracy/loss."""

from __future__ import annotations

import time

import numpy as np
import torch


class Accumulator:
    """Running sums of n quantities, e.g. (total loss, correct predictions, examples)."""

    def __init__(self, n: int):
        self.data = [0.0] * n

    def add(self, *args) -> None:
        if len(args) != len(self.data):
            raise ValueError(f"add() should get {len(self.data)} values (one per sum), but got "
                             f"{len(args)}. Pass as many values as Accumulator({len(self.data)}).")
        self.data = [a + float(b) for a, b in zip(self.data, args)]

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


def accuracy(y_hat: torch.Tensor, y: torch.Tensor) -> float:
    """Number of correct predictions (a float, as in the book; divide by len(y) for a rate).

    y_hat holds class scores (n, q) or predicted labels (n,); y holds labels (n,)."""
    if len(y_hat) != len(y):
        raise ValueError(f"y_hat and y should describe the same examples, but got "
                         f"y_hat.shape={tuple(y_hat.shape)} and y.shape={tuple(y.shape)}. "
                         f"Pass the predictions for exactly the batch whose labels are y.")
    with torch.no_grad():
        if y_hat.dim() > 1 and y_hat.shape[1] > 1:
            y_hat = y_hat.argmax(dim=1)
        cmp = y_hat.reshape(y.shape).type(y.dtype) == y
        return float(cmp.sum())


def _eval_mode(net):
    """Put an nn.Module in eval mode and return a function that restores its mode."""
    if not isinstance(net, torch.nn.Module):
        return lambda: None
    was_training = net.training
    net.eval()
    return lambda: net.train(was_training)


def evaluate_accuracy(net, data_iter) -> float:
    """Accuracy of net over a dataset, in eval mode and without building a graph."""
    restore = _eval_mode(net)
    correct, total = 0.0, 0
    with torch.no_grad():
        for X, y in data_iter:
            correct += accuracy(net(X), y)
            total += y.numel()
    restore()
    return correct / total


def evaluate_loss(net, data_iter, loss) -> float:
    """Average loss of net over a dataset (loss with reduction='none' or 'mean')."""
    restore = _eval_mode(net)
    total, count = 0.0, 0
    with torch.no_grad():
        for X, y in data_iter:
            out = net(X)
            if out.shape != y.shape and out.numel() == y.numel():
                y = y.reshape(out.shape)  # regression: (n,) labels against (n, 1) outputs
            l = loss(out, y)
            total += float(l.sum()) if l.dim() > 0 else float(l) * y.numel()
            count += y.numel()
    restore()
    return total / count
