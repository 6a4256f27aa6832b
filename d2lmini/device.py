"""Devices and seeds: where tensors live and how runs are made repeatable."""

from __future__ import annotations

import random

import torch


def try_gpu(i: int = 0) -> torch.device:
    """CUDA device `i` if there is one, else Apple's MPS, else the CPU (08_lenet)."""
    if torch.cuda.is_available() and i < torch.cuda.device_count():
        return torch.device(f"cuda:{i}")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def get_device(device: torch.device | str | None = None) -> torch.device:
    """Turn a `torch.device`, a string such as "cuda:0", or None (= `try_gpu()`) into a device
    (08_lenet)."""
    if device is None:
        return try_gpu()
    if isinstance(device, torch.device):
        return device
    if isinstance(device, str):
        try:
            return torch.device(device)
        except RuntimeError as err:
            raise ValueError(f"device={device!r} is not a device name: {err}") from None
    raise TypeError(f"device must be a torch.device, a string or None, not {type(device).__name__}")


def set_seed(seed: int) -> None:
    """Seed python's `random`, NumPy and torch (CPU and every GPU) at once (01_linear_regression)."""
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(f"seed must be an int, not {type(seed).__name__}")
    random.seed(seed)
    try:
        import numpy as np
    except ImportError:  # numpy is optional for d2lmini itself
        pass
    else:
        np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
