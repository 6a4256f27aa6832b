"""Layers and operations the CNN chapters build from."""

from __future__ import annotations

import itertools
import math
from typing import Any

import torch
from torch import nn

from . import validate


class FlattenLayer(nn.Module):
    """Reshape (N, ...) to (N, -1), keeping the batch axis (03_mlp)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        validate.tensor("FlattenLayer input x", x)
        if x.ndim == 0:
            validate.fail("FlattenLayer input x", "a tensor with a batch axis (at least 1-D)", x)
        return x.reshape(len(x), math.prod(x.shape[1:]))


class GlobalAvgPool2d(nn.Module):
    """Average every channel over its whole map: (N, C, H, W) -> (N, C, 1, 1) (11_nin)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        validate.tensor("GlobalAvgPool2d input x", x, floating=True)
        if x.ndim != 4:
            validate.fail("GlobalAvgPool2d input x", "a 4-D tensor (N, C, H, W)", x)
        return x.mean(dim=(2, 3), keepdim=True)


def corr2d(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    """2-D cross-correlation of a matrix X with a kernel K, written out as loops over the output
    (06_convolutions).

    Integer and boolean inputs are computed and returned in float32, as the classic helper returns
    them (exact for sums below 2**24, and uint8 images do not wrap around at 256); floating inputs
    keep their common dtype."""
    validate.tensor("X", X, ndim=2)
    validate.tensor("K", K, ndim=2)
    h, w = K.shape
    if h == 0 or w == 0:
        validate.fail("K", "a kernel with at least one row and one column", K)
    if h > X.shape[0] or w > X.shape[1]:
        validate.fail("K", f"no larger than X {tuple(X.shape)}", K)
    if K.device != X.device:
        validate.fail("K", f"on X's device {X.device}", K, hint=f"K is on {K.device}")
    dtype = torch.result_type(X, K)
    if not (dtype.is_floating_point or dtype.is_complex):
        dtype = torch.float32
    X, K = X.to(dtype), K.to(dtype)
    Y = torch.zeros(X.shape[0] - h + 1, X.shape[1] - w + 1, dtype=dtype, device=X.device)
    for i in range(Y.shape[0]):
        for j in range(Y.shape[1]):
            Y[i, j] = (X[i:i + h, j:j + w] * K).sum()
    return Y


def _first_tensor(output: Any) -> tuple[torch.Tensor | None, int]:
    """The first tensor in a module's output (a tensor, or tuples, lists and dicts of them) and
    how many tensors the output holds."""
    if isinstance(output, torch.Tensor):
        return output, 1
    if isinstance(output, dict):
        output = list(output.values())
    if not isinstance(output, (tuple, list)):
        return None, 0
    found = [_first_tensor(item) for item in output]
    first = next((tensor for tensor, _ in found if tensor is not None), None)
    return first, sum(count for _, count in found)


def layer_shapes(net: nn.Module, X: torch.Tensor, verbose: bool = True
                 ) -> list[tuple[str, tuple[int, ...]]]:
    """Run X through `net` once and return (and print) the name and output shape of each
    top-level child, in the order they are called: the shape walk of every CNN chapter
    (06_convolutions).

    The children are watched with forward hooks, so any net works, not only an nn.Sequential
    whose children chain: for a Sequential the walk is its layers in order, for another net
    (torchvision's resnet18, a residual block) its top-level modules as its forward calls them, a
    module called twice listed twice, one never called not listed. A net without children
    reports its own output as `net:<its class>`. When a child returns several tensors, its entry
    is the shape of the first. Names read `<child name>:<class>`, e.g. `0:Conv2d`.

    The walk runs in eval mode without gradients, so a probe input neither updates batch-norm
    statistics nor needs more than one example; every module's mode is restored afterwards. If
    the net fails on X, the error gets a note naming the child that raised and its input shape."""
    validate.module("net", net)
    validate.tensor("X", X)
    if type(net).forward is nn.Module.forward:
        validate.fail("net", "a module with a forward method", net, error=TypeError,
                      hint="an nn.ModuleList or nn.ModuleDict only holds modules; wrap them "
                           "in nn.Sequential(...) or walk one of them")
    first = next(itertools.chain(net.parameters(), net.buffers()), None)
    if first is not None and X.is_floating_point() and first.is_floating_point() and (
            X.dtype != first.dtype or X.device != first.device):
        where = f"X is on {X.device}; " if X.device != first.device else ""
        validate.fail("X", f"a {first.dtype} tensor on {first.device}, like net's parameters", X,
                      error=TypeError, hint=f"{where}convert it with X.to('{first.device}', {first.dtype})")

    watched = list(net.named_children()) or [("net", net)]
    shapes: list[tuple[str, tuple[int, ...]]] = []
    running: list[str] = []  # the watched module being called and its input shape
    called: set[str] = set()

    def before(name):
        def hook(module, inputs):
            tensor, _ = _first_tensor(inputs)
            running.append(f"{name} on an input of shape "
                           f"{tuple(tensor.shape) if tensor is not None else '(no tensor)'}")
        return hook

    def after(name):
        def hook(module, inputs, output):
            running.pop()
            called.add(name)
            tensor, count = _first_tensor(output)
            if tensor is None:
                if verbose:
                    print(f"{name:<24} returned no tensor")
                return
            shapes.append((name, tuple(tensor.shape)))
            if verbose:
                note = f" (the first of {count} tensors)" if count > 1 else ""
                print(f"{name:<24} output shape {shapes[-1][1]}{note}")
        return hook

    modes = {module: module.training for module in net.modules()}
    handles = []
    for child_name, child in watched:
        name = f"{child_name}:{type(child).__name__}"
        handles.append(child.register_forward_pre_hook(before(name)))
        handles.append(child.register_forward_hook(after(name)))
    net.eval()
    try:
        with torch.no_grad():
            net(X)
    except Exception as err:
        where = (f"in {running[-1]}" if running else
                 f"in net's own forward, after {shapes[-1][0]}" if shapes else
                 "in net's own forward, before any child ran")
        note = f"layer_shapes: the net failed on X of shape {tuple(X.shape)}, {where}"
        if hasattr(err, "add_note"):  # Python >= 3.11
            err.add_note(note)
        else:
            print(note)
        raise
    finally:
        for handle in handles:
            handle.remove()
        for module, training in modes.items():
            module.training = training
    if verbose:
        skipped = [child_name for child_name, child in watched
                   if f"{child_name}:{type(child).__name__}" not in called]
        if skipped and len(watched) > 1:
            print(f"(not called by net's forward on X: {', '.join(skipped)})")
    return shapes


def num_params(net: nn.Module) -> int:
    """The number of parameters (weights and biases) of a module (06_convolutions)."""
    validate.module("net", net)
    params = list(net.parameters())
    if any(isinstance(p, nn.parameter.UninitializedParameter) for p in params):
        validate.fail("net", "a module whose parameters all have a shape", net,
                      hint="lazy layers (nn.LazyLinear, nn.LazyConv2d) get theirs on the first "
                           "forward pass: run net(X) once, then count")
    return sum(p.numel() for p in params)
