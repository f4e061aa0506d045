"""Device helpers with the book's names: use CUDA when it is there, else the CPU.

Apple-silicon GPUs (MPS) are not picked automatically, as in the book; see the README
for how to opt in with torch.device('mps') and what does not work there yet."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn


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


def net_device(net: nn.Module | Callable) -> torch.device | None:
    """The device net's parameters live on (None for a function with no parameters), so the
    training helpers can move each minibatch there."""
    if isinstance(net, nn.Module):
        for tensor in (*net.parameters(), *net.buffers()):
            return tensor.device
        return None
    params = getattr(net, "params", None)  # RNNModelScratch and other from-scratch models
    if params:
        return params[0].device
    return None


def to_device(tensor: torch.Tensor, device: torch.device | None) -> torch.Tensor:
    """tensor on device (unchanged when device is None or already right)."""
    if device is None or tensor.device == device:
        return tensor
    return tensor.to(device)
