"""Examples per second for one training epoch of Fashion-MNIST iteration: d2lutils'
in-memory batches versus torch.utils.data over the same tensors, both ways torch offers:
a DataLoader that gathers example by example and collates (what the book's loaders do),
and torch's own batched path, a BatchSampler whose index lists go straight to
TensorDataset.__getitems__ (one gather per batch, no per-example Python).

    OMP_NUM_THREADS=2 .venv/bin/python benchmarks/bench_data.py [--repeats 5] [--batch-size 256]
                                                                 [--threads N]

Both loaders shuffle and yield (X, y) with X of shape (B, 1, 28, 28); only iteration is
timed (the IDX files are read once, before timing).  Each figure is the median of
--repeats epochs after one warm-up epoch; the loaders take turns epoch by epoch."""

from __future__ import annotations

import argparse
import statistics
import time

import torch
from torch.utils.data import BatchSampler, DataLoader, RandomSampler, TensorDataset

from d2lutils.data import TensorBatches
from d2lutils.fashion_mnist import load_fashion_mnist


def time_epoch(loader) -> tuple[float, int]:
    """Seconds for one pass over loader, and how many examples it yielded."""
    start = time.perf_counter()
    n = 0
    for _, y in loader:  # X is built too: both loaders gather it per batch
        n += len(y)
    return time.perf_counter() - start, n


def measure(loaders: dict, repeats: int) -> dict[str, tuple[float, int]]:
    """Median seconds per epoch and examples per epoch of each loader.  Epochs of the
    loaders take turns, so a busy machine slows them alike."""
    for loader in loaders.values():
        time_epoch(loader)  # warm-up: first-touch allocations, lazy imports
    runs = {name: [] for name in loaders}
    for _ in range(repeats):
        for name, loader in loaders.items():
            runs[name].append(time_epoch(loader))
    return {name: (statistics.median(t for t, _ in r), r[0][1]) for name, r in runs.items()}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="timed epochs per loader")
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--threads", type=int, default=None,
                        help="torch.set_num_threads (default: $OMP_NUM_THREADS or all cores)")
    args = parser.parse_args(argv)
    if args.threads is not None:
        torch.set_num_threads(args.threads)

    X, y = load_fashion_mnist(is_train=True)  # (60000, 1, 28, 28) float32, (60000,) int64
    dataset = TensorDataset(X, y)
    batched = BatchSampler(RandomSampler(dataset), args.batch_size, drop_last=False)
    loaders = {
        "d2lutils (TensorBatches)": TensorBatches((X, y), args.batch_size, shuffle=True),
        "DataLoader, batched": DataLoader(dataset, sampler=batched, batch_size=None),
        "DataLoader, per example": DataLoader(dataset, batch_size=args.batch_size,
                                              shuffle=True, num_workers=0),
    }
    results = measure(loaders, args.repeats)

    baseline = results["DataLoader, batched"][0]
    print(f"Fashion-MNIST train, {len(y)} examples, batch_size={args.batch_size}, shuffled; "
          f"median of {args.repeats} epochs; torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads")
    print(f"{'loader':26} {'s/epoch':>9} {'examples/s':>12} {'vs batched':>10}")
    for name, (seconds, n) in results.items():
        print(f"{name:26} {seconds:9.4f} {n / seconds:12,.0f} {baseline / seconds:9.1f}x")


if __name__ == "__main__":
    main()
