"""Device helpers with the book's names: use CUDA when it is there, else the CPU.

Apple-silicon GPUs (MPS) are not picked automatically, as in the book; see the README
for how to opt in with torch.device('mps') and what does not work there yet."""

from __future__ import annotations

import torch


def cpu() -> torch.device:
    """The CPU device."""
    return torch.device("cpu")


def gpu(i: int = 0) -> torch.device:
    """The i-th CUDA device (it need not exist; use try_gpu to fall back to the CPU)."""
    return torch.device(f"cuda:{i}")


def num_gpus() -> int:
    """How many CUDA devices this machine has."""
    return torch.cuda.device_count()


def try_gpu(i: int = 0) -> torch.device:
    """Return gpu(i) if it exists, else cpu(), so the same notebook runs everywhere."""
    if num_gpus() >= i + 1:
        return gpu(i)
    return cpu()


def try_all_gpus() -> list[torch.device]:
    """Return every CUDA device, or [cpu()] if there is none."""
    devices = [gpu(i) for i in range(num_gpus())]
    return devices if devices else [cpu()]
