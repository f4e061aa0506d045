"""Fashion-MNIST read straight from its IDX files into tensors (no torchvision, no PIL).

The four files are found by the data rule (paths.py); the parsed bytes are kept in memory,
so loading twice in one process costs nothing, and every caller gets tensors of its own."""

from __future__ import annotations

import functools
import gzip
import os
from collections.abc import Iterable
from pathlib import Path

import torch

from . import _checks
from .data import TensorBatches
from .paths import DATASETS, dataset_file, locate

_LABELS = ["t-shirt", "trouser", "pullover", "dress", "coat",
           "sandal", "shirt", "sneaker", "bag", "ankle boot"]
_IMAGE_MAGIC, _LABEL_MAGIC = 2051, 2049


def get_fashion_mnist_labels(labels: Iterable[int] | torch.Tensor) -> list[str]:
    """Text names of Fashion-MNIST numeric labels."""
    return [_LABELS[int(i)] for i in labels]


def _read_idx(path: Path, magic: int, ndim: int) -> torch.Tensor:
    """Read an IDX file (big-endian header: magic, then ndim sizes) as a uint8 tensor."""
    opener = gzip.open if path.name.endswith(".gz") else open
    try:
        with opener(path, "rb") as f:
            raw = f.read()
    except (OSError, EOFError) as exc:
        raise ValueError(f"{path} is corrupted or truncated ({exc}). Delete it and run "
                         f"`python -m d2lutils data fetch` (or reinstall dataset-fashion-mnist)."
                         ) from exc
    header = 4 * (1 + ndim)
    got_magic = int.from_bytes(raw[:4], "big") if len(raw) >= 4 else None
    if got_magic != magic:
        raise ValueError(f"{path} should be an IDX file with magic number {magic}, but got "
                         f"{got_magic}. It is not a Fashion-MNIST file of this kind; delete it "
                         f"and run `python -m d2lutils data fetch`.")
    sizes = [int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    expected = header + int(torch.tensor(sizes).prod())
    if len(raw) != expected:
        raise ValueError(f"{path} should hold {expected} bytes for shape {tuple(sizes)}, but has "
                         f"{len(raw)}: it is truncated or corrupted. Delete it and run "
                         f"`python -m d2lutils data fetch`.")
    data = torch.frombuffer(bytearray(raw[header:]), dtype=torch.uint8)
    return data.reshape(sizes)


@functools.lru_cache(maxsize=4)
def _load_split(folder: Path, is_train: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """(images uint8 (n, 28, 28), labels int64 (n,)) of one split."""
    files = [fname for fname, _, _ in DATASETS["fashion-mnist"].files()]
    img_name, lbl_name = (files[0], files[1]) if is_train else (files[2], files[3])
    images = _read_idx(dataset_file(folder, img_name), _IMAGE_MAGIC, 3)
    labels = _read_idx(dataset_file(folder, lbl_name), _LABEL_MAGIC, 1)
    if len(images) != len(labels):
        raise ValueError(f"{folder}: {len(images)} images but {len(labels)} labels; the files "
                         f"come from different datasets. Run `python -m d2lutils data verify`.")
    return images, labels.long()


def load_fashion_mnist(is_train: bool = True, resize: int | tuple[int, int] | None = None,
                       data_dir: str | os.PathLike | None = None
                       ) -> tuple[torch.Tensor, torch.Tensor]:
    """One split as new tensors: X float32 in [0, 1] of shape (n, 1, 28, 28) (or resized),
    y int64.  Editing them never changes what a later call returns.

    resize here makes the whole resized split at once (60,000 images at 224 x 224 are
    12 GB): for large sizes use load_data_fashion_mnist, which resizes batch by batch."""
    size = _resize_to(resize)
    images, labels = _load_split(locate("fashion-mnist", data_dir), bool(is_train))
    return _to_float((images.unsqueeze(1),), size)[0], labels.clone()


def _to_float(batch: tuple[torch.Tensor, ...], size: tuple[int, int] | None
              ) -> tuple[torch.Tensor, ...]:
    """(uint8 images (n, 1, 28, 28), *rest) -> float images in [0, 1], resized if asked."""
    X = batch[0].float().div_(255)
    if size is not None:
        X = torch.nn.functional.interpolate(X, size=size, mode="bilinear", antialias=True,
                                            align_corners=False)
    return (X, *batch[1:])


def _resize_to(resize: object) -> tuple[int, int] | None:
    """(height, width) for resize=None, an int side length, or a (height, width) pair."""
    if resize is None:
        return None
    fix = "Pass an image side length such as resize=64, or a pair such as resize=(64, 48)."
    if isinstance(resize, (tuple, list)):
        if len(resize) != 2:
            _checks.fail(ValueError, "resize", "an int or a (height, width) pair", resize, fix)
        return (_checks.positive_int("resize", resize[0], fix),
                _checks.positive_int("resize", resize[1], fix))
    side = _checks.positive_int("resize", resize, fix)
    return side, side


def load_data_fashion_mnist(batch_size: int, resize: int | tuple[int, int] | None = None,
                            data_dir: str | os.PathLike | None = None
                            ) -> tuple[TensorBatches, TensorBatches]:
    """Return (train_iter, test_iter) over Fashion-MNIST, the training set reshuffled
    every epoch.  Batches come from memory: X (B, 1, 28, 28) float32, y (B,) int64.

    With resize, the images are kept as bytes and each batch is resized as it is read (as
    the book's torchvision pipeline does), so resize=224 needs ~50 MB, not 12 GB."""
    _checks.positive_int("batch_size", batch_size)
    size = _resize_to(resize)  # a bad resize fails before any file is read
    if size is None:
        train = TensorBatches(load_fashion_mnist(True, None, data_dir), batch_size, shuffle=True)
        test = TensorBatches(load_fashion_mnist(False, None, data_dir), batch_size)
        return train, test
    folder = locate("fashion-mnist", data_dir)
    iters = []
    for is_train in (True, False):
        images, labels = _load_split(folder, is_train)
        iters.append(TensorBatches((images.unsqueeze(1), labels.clone()), batch_size,
                                   shuffle=is_train, transform=functools.partial(
                                       _to_float, size=size)))
    return iters[0], iters[1]
