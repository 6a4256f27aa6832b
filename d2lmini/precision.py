"""The arithmetic of the training loops: which float format a device computes fast, and the
channels-last layout (taught in 09_alexnet).

bfloat16 keeps float32's 8 exponent bits (the same exponent range: its largest finite value is
about 3.39e38, just below float32's 3.40e38) and keeps 8 significant bits of float32's 24, about
2.4 decimal digits. float16 has 5 exponent bits (largest finite value 65504, smallest normal
6.1e-5) and 11 significant bits: small gradients underflow to 0 in it, so training in float16
scales the loss up before the backward pass and the gradients back down before the step
(`torch.amp.GradScaler`, which also lowers the scale whenever a gradient overflows, skipping that
step). Under `torch.autocast` the convolutions and matrix products take the 16-bit inputs and
accumulate in float32; the weights, the optimizer's state and the losses stay float32.
`channels_last` stores an image batch as (N, H, W, C) in memory, the order in which the CPU and
GPU convolution kernels read it, so they skip a reordering of every activation.

What "auto" (the default) runs a conv net with, by device:
- a CUDA GPU of compute capability 8.0 or higher (A100, RTX 30/40, H100: native bf16): bf16
  autocast, channels-last;
- a CUDA GPU of compute capability 7.x (V100, T4: fp16 tensor cores, bf16 only emulated): fp16
  autocast with a GradScaler, channels-last;
- a CPU with AVX512-BF16 or AMX-BF16: bf16 autocast, channels-last;
- anything else (older GPUs, CPUs without native bf16): float32, channels-last.
Dense nets run in plain float32 under "auto". `precision="fp32"` means plain float32 in the
default layout, the reference; "bf16" and "fp16" force those paths on any CPU or CUDA device
(emulated, so slower, where the hardware lacks them). `D2LMINI_PRECISION` overrides "auto" for
every call that does not pass `precision=` itself. A net whose forward fails in the channels-last
layout (a `.view` of its activations) falls back to the default layout for that run
(`Precision.default_layout`, decided by the loops on the first batch).
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import os
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from . import validate

ENV_VAR = "D2LMINI_PRECISION"
CHOICES = ("auto", "bf16", "fp16", "fp32")


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


def _cuda_card(device: torch.device) -> tuple[str, tuple[int, int]]:
    """The GPU's name and compute capability, as torch.cuda reports them."""
    return torch.cuda.get_device_name(device), tuple(torch.cuda.get_device_capability(device))


def _cuda_bf16(device: torch.device) -> bool:
    """Native bf16 arithmetic: compute capability 8.0 or higher, and torch agreeing without
    counting emulation (its plain `is_bf16_supported()` also says yes on a T4, where bf16 is
    emulated)."""
    _, (major, _minor) = _cuda_card(device)
    try:  # asks about the current GPU, the one the loops train on unless told otherwise
        supported = torch.cuda.is_bf16_supported(including_emulation=False)
    except TypeError:  # torch before 2.4 has no such argument: the capability decides
        supported = True
    return major >= 8 and supported


def bf16_native(device: torch.device) -> bool:
    """Whether `device` computes bfloat16 in hardware: a CUDA GPU of compute capability 8.0 or
    higher, or a CPU with the AVX512-BF16 or AMX-BF16 instructions (09_alexnet)."""
    if device.type == "cuda":
        return _cuda_bf16(device)
    if device.type == "cpu":
        return bool({"avx512_bf16", "amx_bf16"} & _cpu_flags())
    return False


def device_name(device: torch.device) -> str:
    """The device as the "training on ..." line names it: a GPU with its model name."""
    if device.type == "cuda":
        return f"{device} ({_cuda_card(device)[0]})"
    return str(device)


@dataclass(frozen=True)
class Precision:
    """How a training loop computes: `name` "bf16" or "fp16" (autocast) or "fp32", whether a
    conv net's weights and batches are channels-last, and `why` this path was chosen, said in the
    "training on ..." line (09_alexnet)."""

    name: str
    device: torch.device
    channels_last: bool = False
    why: str = ""

    @property
    def fast(self) -> bool:
        """Whether this differs from plain fp32 in the default layout."""
        return self.name != "fp32" or self.channels_last

    def describe(self) -> str:
        why = f": {self.why}" if self.why else ""
        layout = ", channels_last" if self.channels_last else ""
        if self.name == "bf16":
            return f"bf16 autocast{layout}{why}; precision='fp32' turns the fast path off"
        if self.name == "fp16":
            return (f"fp16 autocast with a GradScaler{layout}{why}; precision='fp32' turns the "
                    "fast path off")
        if self.channels_last:
            return f"fp32, channels_last{why}; precision='fp32' turns channels_last off"
        return f"fp32{why}"

    def default_layout(self) -> Precision:
        """The same arithmetic in the default memory layout: what a run falls back to when the
        net's forward fails on channels-last activations."""
        return dataclasses.replace(self, channels_last=False)

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
        if self.name == "fp32":
            return contextlib.nullcontext()
        dtype = torch.bfloat16 if self.name == "bf16" else torch.float16
        return torch.autocast(self.device.type, dtype=dtype)

    def grad_scaler(self) -> torch.amp.GradScaler | None:
        """A fresh loss scaler for one run on the fp16 path; None on the others."""
        return torch.amp.GradScaler(self.device.type) if self.name == "fp16" else None


def is_conv_net(net: object) -> bool:
    """Whether `net` is an nn.Module with at least one 2-D convolution (09_alexnet)."""
    return isinstance(net, nn.Module) and any(isinstance(m, nn.Conv2d) for m in net.modules())


def _auto(device: torch.device) -> tuple[str, str]:
    """The arithmetic "auto" picks for a conv net on `device`, and why."""
    if device.type == "cuda":
        name, (major, minor) = _cuda_card(device)
        capability = f"compute capability {major}.{minor}"
        if bf16_native(device):
            return "bf16", f"{name} computes bf16 natively ({capability})"
        if major == 7:
            return "fp16", f"{name} has fp16 tensor cores but no native bf16 ({capability})"
        return "fp32", f"{name} has neither native bf16 nor fp16 tensor cores ({capability})"
    if bf16_native(device):
        return "bf16", "this CPU computes bf16 natively (AVX512-BF16 or AMX)"
    return "fp32", "no native bf16 found on this CPU"


def choose(precision: str | None, device: torch.device, net: object = None) -> Precision:
    """The precision a loop runs `net` with: `precision` ("auto", "bf16", "fp16" or "fp32"; None
    reads `$D2LMINI_PRECISION`, then "auto"). "auto" picks by device for a conv net (see this
    module's docstring) and plain fp32 for other nets: the small dense models of chapters 02-05
    gain nothing, and their from-scratch softmax is checked against exact float32 results. Every
    conv net on a CPU or CUDA GPU is channels-last except under "fp32", plain float32 in the
    default layout (09_alexnet)."""
    if precision is None:
        source = ENV_VAR
        precision = os.environ.get(ENV_VAR, "auto").strip().lower() or "auto"
    else:
        source = "precision"
        if not isinstance(precision, str):
            validate.fail("precision", f"one of {', '.join(map(repr, CHOICES))}", precision,
                          error=TypeError)
    name = validate.one_of(source, precision, CHOICES)
    conv = is_conv_net(net) and device.type in ("cpu", "cuda")
    if name == "fp32":
        return Precision("fp32", device)
    if name == "auto":
        if not conv:
            return Precision("fp32", device)
        name, why = _auto(device)
        return Precision(name, device, channels_last=True, why=why)
    if device.type not in ("cpu", "cuda"):
        validate.fail(source, f"'fp32' on {device.type}", name,
                      hint=f"{name} autocast is used on CPUs and CUDA GPUs only")
    native = bf16_native(device) if name == "bf16" else (
        device.type == "cuda" and _cuda_card(device)[1][0] >= 7)
    asked = f"asked for with precision={name!r}" if source == "precision" else f"{ENV_VAR}={name}"
    why = asked if native else f"{asked}; emulated on this {device.type.upper()}, so slower"
    return Precision(name, device, channels_last=conv, why=why)
