"""Minibatches from tensors: the book's data_iter / load_array / synthetic_data, and
TensorBatches, the in-memory loader behind load_data_fashion_mnist."""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterator, Sequence

import torch

from . import _checks


def synthetic_data(w: torch.Tensor | Sequence[float], b: float, num_examples: int
                   ) -> tuple[torch.Tensor, torch.Tensor]:
    """Generate y = Xw + b + noise (noise ~ N(0, 0.01²)), the chapter-3 regression data."""
    _checks.positive_int("num_examples", num_examples)
    w = torch.as_tensor(w, dtype=torch.float32)
    X = torch.normal(0, 1, (num_examples, len(w)))
    y = torch.matmul(X, w) + b
    y += torch.normal(0, 0.01, y.shape)
    return X, y.reshape((-1, 1))


def data_iter(batch_size: int, features: torch.Tensor, labels: torch.Tensor
              ) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """Shuffled minibatches (features, labels); the last one may be short.

    Returns a generator, as the book's: it is used up after one pass, so call data_iter
    again for every epoch.  The arguments are checked here, not at the first batch."""
    _checks.positive_int("batch_size", batch_size)
    _checks.same_length(("features", "labels"), features, labels)
    return _shuffled_batches(batch_size, features, labels)


def _shuffled_batches(batch_size: int, features: torch.Tensor, labels: torch.Tensor
                      ) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    num_examples = len(features)
    indices = list(range(num_examples))
    random.shuffle(indices)  # examples are read in random order
    for i in range(0, num_examples, batch_size):
        batch_indices = torch.tensor(indices[i: min(i + batch_size, num_examples)])
        yield features[batch_indices], labels[batch_indices]


def load_array(data_arrays: Sequence[torch.Tensor], batch_size: int, is_train: bool = True
               ) -> torch.utils.data.DataLoader:
    """A torch DataLoader over tensors, shuffled when is_train (the concise chapter-3 way)."""
    from torch.utils import data

    _checks.positive_int("batch_size", batch_size)
    for i, t in enumerate(data_arrays[1:], start=1):
        _checks.same_length(("data_arrays[0]", f"data_arrays[{i}]"), data_arrays[0], t)
    dataset = data.TensorDataset(*data_arrays)
    return data.DataLoader(dataset, batch_size, shuffle=is_train)


def get_dataloader_workers() -> int:
    """The book's loader worker count.  Our loaders batch from memory, so 0: worker
    processes only add start-up time (and crash notebooks on Windows and macOS)."""
    return 0


_NUMPY_DTYPES = {torch.float16, torch.float32, torch.float64, torch.uint8, torch.int8,
                 torch.int16, torch.int32, torch.int64, torch.bool}


def _take_rows(t: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
    """t[idx] as a new tensor.  CPU tensors go through NumPy's single-threaded gather:
    torch's multi-threaded index_select ran 10x slower on a busy 2-core machine."""
    if t.device.type == "cpu" and t.dtype in _NUMPY_DTYPES and not t.requires_grad:
        return torch.from_numpy(t.numpy().take(idx.numpy(), axis=0))
    return t.index_select(0, idx.to(t.device))


class TensorBatches:
    """Minibatches sliced from tensors held in memory; reshuffled on every iteration.

    Iterating it is one epoch; len() is the number of minibatches.  No worker processes,
    no per-example Python: each batch is one gather of rows per tensor.  Every batch is a
    new tensor, shuffled or not: editing one in place never changes the data or a later
    epoch.  transform, if given, maps each batch tuple to the one yielded (e.g. resizing
    images batch by batch instead of all at once)."""

    def __init__(self, tensors: Sequence[torch.Tensor], batch_size: int, shuffle: bool = False,
                 transform: Callable[[tuple[torch.Tensor, ...]], tuple[torch.Tensor, ...]]
                 | None = None):
        self.batch_size = _checks.positive_int("batch_size", batch_size)
        for i, t in enumerate(tensors[1:], start=1):
            _checks.same_length(("tensors[0]", f"tensors[{i}]"), tensors[0], t)
        self.tensors = tuple(tensors)
        self.shuffle = shuffle
        self.transform = transform

    @property
    def num_examples(self) -> int:
        return len(self.tensors[0])

    def __len__(self) -> int:
        return math.ceil(self.num_examples / self.batch_size)

    def __iter__(self) -> Iterator[tuple[torch.Tensor, ...]]:
        n, b = self.num_examples, self.batch_size
        # torch's generator: torch.manual_seed fixes the order
        order = torch.randperm(n) if self.shuffle else None
        for i in range(0, n, b):
            if order is None:  # a copy, as the gathered rows below are
                batch = tuple(t[i: i + b].clone() for t in self.tensors)
            else:
                batch = tuple(_take_rows(t, order[i: i + b]) for t in self.tensors)
            yield self.transform(batch) if self.transform is not None else batch

    def __repr__(self) -> str:
        return (f"TensorBatches(num_examples={self.num_examples}, batch_size={self.batch_size}, "
                f"shuffle={self.shuffle})")
