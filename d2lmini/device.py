"""Devices and seeds: where tensors live and how runs are made repeatable."""

from __future__ import annotations

import random

import torch

from . import validate


def try_gpu(i: int = 0) -> torch.device:
    """CUDA device `i` if there is one, else Apple's MPS, else the CPU (06_convolutions)."""
    validate.non_negative_int("i", i)
    if torch.cuda.is_available() and i < torch.cuda.device_count():
        return torch.device(f"cuda:{i}")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def _count(device_type: str) -> int | None:
    """How many devices of an accelerator type this machine has; None for a type torch cannot
    count (the CPU, meta, ...), which is taken as available."""
    if device_type == "cpu":
        return None
    backend = getattr(torch, device_type, None)
    counter = getattr(backend, "device_count", None)
    return counter() if callable(counter) else None


def get_device(device: torch.device | str | None = None) -> torch.device:
    """Turn a `torch.device`, a string such as "cuda:0", or None (= `try_gpu()`) into a device
    (06_convolutions).

    A device this machine does not have ("cuda" without a GPU, "cuda:3" with one GPU, "mps" off
    a Mac) is refused here, before a training loop starts, with what `try_gpu()` would pick."""
    if device is None:
        return try_gpu()
    if isinstance(device, str):
        try:
            device = torch.device(device)
        except RuntimeError:
            validate.fail("device", "a device name such as 'cpu', 'cuda', 'cuda:0' or 'mps'",
                          device)
    elif not isinstance(device, torch.device):
        validate.fail("device", "a torch.device, a string such as 'cuda:0', or None", device,
                      hint=f"for GPU number {device} write d2l.try_gpu({device})"
                      if isinstance(device, int) and not isinstance(device, bool) else "",
                      error=TypeError)
    count = _count(device.type)
    if count is not None and (device.index or 0) >= count:
        have = (f"no {device.type.upper()} device is available" if count == 0 else
                f"this machine has {count} {device.type.upper()} device(s), "
                f"{device.type}:0 to {device.type}:{count - 1}")
        validate.fail("device", "a device this machine has", str(device),
                      hint=f"{have}; d2l.try_gpu() would pick {try_gpu()}")
    return device


def set_seed(seed: int) -> None:
    """Seed python's `random`, NumPy and torch (CPU and every GPU) at once (01_linear_regression).
    `seed` is an int in [0, 2**64), the range torch accepts."""
    seed = validate.non_negative_int("seed", seed)
    if seed >= 2**64:
        validate.fail("seed", "an int below 2**64", seed)
    random.seed(seed)
    try:
        import numpy as np
    except ImportError:  # numpy is optional for d2lmini itself
        pass
    else:
        np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
