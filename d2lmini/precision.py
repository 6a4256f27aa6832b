"""The fast path of the training loops: bfloat16 autocast and channels-last images, where the
hardware computes bfloat16 natively (taught in 09_alexnet).

bfloat16 keeps float32's 8 exponent bits (the same range, so nothing overflows that would not
overflow in float32) and drops 16 of its 23 mantissa bits (about 3 significant digits instead of
7). Under `torch.autocast` the convolutions and matrix products take bf16 inputs and accumulate in
float32; the weights, the optimizer's state and losses stay float32. `channels_last` stores an
image batch as (N, H, W, C) in memory, the order in which the CPU and GPU convolution kernels read
it, so they skip a reordering of every activation.

Only hardware that computes bf16 natively gains from bf16: CPUs with AVX512-BF16 or AMX, and CUDA
GPUs that support bf16. Elsewhere bf16 is emulated and slower than float32, so the loops train
conv nets in float32 there, still channels-last (`benchmarks/fast_path.py` measures both).
`precision="fp32"` means plain float32 in the default layout, the reference. `D2LMINI_PRECISION` (`fp32` or `bf16`) overrides the choice for every call that
does not pass `precision=` itself, for instance to test the bf16 path on any machine.
"""

from __future__ import annotations

import contextlib
import functools
import os
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from . import validate

ENV_VAR = "D2LMINI_PRECISION"
CHOICES = ("auto", "bf16", "fp32")


@functools.lru_cache(maxsize=None)
def _cpu_flags() -> frozenset[str]:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:  # not Linux: no flags to read, so no claim of native bf16
        return frozenset()
    for line in text.splitlines():
        if line.startswith("flags"):
            return frozenset(line.split(":", 1)[1].split())
    return frozenset()


def bf16_native(device: torch.device) -> bool:
    """Whether `device` computes bfloat16 in hardware: a CUDA GPU that supports it, or a CPU with
    the AVX512-BF16 or AMX-BF16 instructions (09_alexnet)."""
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    if device.type == "cpu":
        return bool({"avx512_bf16", "amx_bf16"} & _cpu_flags())
    return False


@dataclass(frozen=True)
class Precision:
    """How a training loop computes: `name` "bf16" (autocast) or "fp32", and whether a conv
    net's weights and batches are channels-last (09_alexnet)."""

    name: str
    device: torch.device
    channels_last: bool = False

    @property
    def fast(self) -> bool:
        """Whether this differs from plain fp32 in the default layout."""
        return self.name == "bf16" or self.channels_last

    def describe(self) -> str:
        if self.name == "bf16":
            return "bf16 autocast, channels_last (the fast path; precision='fp32' turns it off)"
        if self.channels_last:
            return (f"fp32, channels_last (no native bf16 found on this "
                    f"{self.device.type.upper()}; precision='fp32' turns channels_last off)")
        return "fp32"

    def prepare(self, net: nn.Module) -> nn.Module:
        """A conv net's 4-D weights go channels-last when this path is; contiguous otherwise."""
        if is_conv_net(net):
            fmt = torch.channels_last if self.channels_last else torch.contiguous_format
            net = net.to(memory_format=fmt)
        return net

    def batch(self, X: torch.Tensor) -> torch.Tensor:
        if self.channels_last and X.ndim == 4:
            return X.contiguous(memory_format=torch.channels_last)
        return X

    def autocast(self) -> contextlib.AbstractContextManager:
        if self.name != "bf16":
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=torch.bfloat16)


def is_conv_net(net: object) -> bool:
    """Whether `net` is an nn.Module with at least one 2-D convolution (09_alexnet)."""
    return isinstance(net, nn.Module) and any(isinstance(m, nn.Conv2d) for m in net.modules())


def choose(precision: str | None, device: torch.device, net: object = None) -> Precision:
    """The precision a loop runs `net` with: `precision` ("auto", "bf16" or "fp32"; None reads
    `$D2LMINI_PRECISION`, then "auto"), where "auto" is bf16 exactly when `net` is a conv net and
    `device` computes bf16 natively, and channels-last for every conv net on a CPU or CUDA GPU;
    "fp32" is plain float32 in the default layout. The small dense models of chapters 02-05 stay
    in plain fp32 under "auto": their steps are too small to gain, and their from-scratch softmax
    is checked against exact float32 results (09_alexnet)."""
    if precision is None:
        precision = os.environ.get(ENV_VAR, "auto").strip().lower() or "auto"
        name = validate.one_of(ENV_VAR, precision, CHOICES)
    else:
        if not isinstance(precision, str):
            validate.fail("precision", f"one of {', '.join(map(repr, CHOICES))}", precision,
                          error=TypeError)
        name = validate.one_of("precision", precision, CHOICES)
    conv = is_conv_net(net) and device.type in ("cpu", "cuda")
    if name == "fp32":
        return Precision("fp32", device)
    if name == "auto":
        name = "bf16" if bf16_native(device) and conv else "fp32"
    if name == "bf16" and device.type not in ("cpu", "cuda"):
        validate.fail("precision", f"'fp32' on {device.type}", "bf16",
                      hint="bf16 autocast is used on CPUs and CUDA GPUs only")
    return Precision(name, device, channels_last=conv)
