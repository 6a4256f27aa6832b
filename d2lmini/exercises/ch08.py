"""Exercise checks for 08_lenet.ipynb."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from ._core import ExerciseFailed, call, close, exercise, require, value, whole_number  # noqa: F401

__all__: list[str] = ["check_lenet_flat_features", "check_lenet_num_params", "check_lenet_macs"]


def _encoder(n_pad: int, c1: int = 6, c2: int = 16) -> nn.Sequential:
    """LeNet's convolutional encoder as the chapter builds it, first convolution padded by n_pad."""
    return nn.Sequential(nn.Conv2d(1, c1, 5, padding=n_pad), nn.Sigmoid(), nn.AvgPool2d(2, 2),
                         nn.Conv2d(c1, c2, 5), nn.Sigmoid(), nn.AvgPool2d(2, 2), nn.Flatten())


def _lenet(c1: int, c2: int) -> nn.Sequential:
    """The chapter's LeNet for 28x28 images with c1 and c2 convolution channels."""
    return nn.Sequential(_encoder(2, c1, c2), nn.Linear(c2 * 5 * 5, 120), nn.Sigmoid(),
                         nn.Linear(120, 84), nn.Sigmoid(), nn.Linear(84, 10))


def _flat(n: int, p: int, conv: Callable[[int, int, int], int] = lambda n, k, p: n + 2 * p - k + 1,
          pool: Callable[[int], int] = lambda n: n // 2) -> int:
    """16 * side^2 after conv(5, p), pool, conv(5), pool, with swappable size rules."""
    side = pool(conv(pool(conv(n, 5, p)), 5, 0))
    return 16 * side * side


# (n, padding): the original 32 + 0, the chapter's 28 + 2, and sizes where a pooling drops a row
_FLAT_CASES = [(32, 0), (28, 2), (28, 0), (30, 0), (29, 2), (36, 0), (31, 1)]


@exercise("08.1 LeNet flat features")
def check_lenet_flat_features(lenet_flat_features: Callable[[int, int], int]) -> str:
    """Check `lenet_flat_features(n, padding)`: how many numbers LeNet's encoder hands to the
    first dense layer for an n x n image when the first convolution is padded by `padding`,
    against the encoder itself (08_lenet)."""
    for n, p in _FLAT_CASES:
        with torch.no_grad():
            want = _encoder(p)(torch.zeros(1, 1, n, n)).shape[1]
        what = f"lenet_flat_features(n={n}, padding={p})"
        try:
            got = whole_number(call(lenet_flat_features, n, p), what)
        except ExerciseFailed as err:
            raise ExerciseFailed(f"{err} (expected {want}): a size that does not divide evenly is "
                                 "rounded down, so use // rather than /") from None
        if got == want:
            continue
        case = f"{what} returned {got!r}, expected {want}"
        if got * 16 == want:
            hint = "that is one channel's side * side: the encoder ends with 16 channels"
        elif 16 * got * got == want:
            hint = "you returned the side length: the dense layer gets 16 * side * side numbers"
        elif got == _flat(n, 0):
            hint = "you left out the padding: the first convolution sees n + 2 * padding rows"
        elif got == _flat(n, p, conv=lambda n, k, p: n + 2 * p - k):
            hint = "off by one: a k-wide window fits n + 2p - k + 1 times, not n + 2p - k"
        elif got == _flat(n, p, pool=lambda n: -(-n // 2)):
            hint = "a 2x2 pooling with stride 2 drops an odd last row: round down, n // 2"
        elif got == _flat(n, p, pool=lambda n: n / 2):
            hint = ("a 2x2 pooling with stride 2 drops an odd last row: round down with //, not "
                    "divide with /")
        else:
            hint = ("apply floor((n + 2p - k) / s) + 1 four times (conv 5 padded, pool 2, conv 5, "
                    "pool 2), then multiply the 16 channels by side * side")
        raise ExerciseFailed(f"{case}: {hint}")
    return f"{len(_FLAT_CASES)} input sizes and paddings against the encoder itself"


_PARAM_CASES = [(6, 16), (12, 32), (1, 1), (3, 8)]


@exercise("08.2 LeNet parameter count")
def check_lenet_num_params(lenet_num_params: Callable[[int, int], int]) -> str:
    """Check `lenet_num_params(c1, c2)`: the parameter count of the chapter's LeNet (28x28 input,
    dense layers of 120, 84 and 10 units) with c1 and c2 convolution channels, against the net
    itself (08_lenet)."""
    for c1, c2 in _PARAM_CASES:
        want = sum(p.numel() for p in _lenet(c1, c2).parameters())
        got = whole_number(call(lenet_num_params, c1, c2), f"lenet_num_params(c1={c1}, c2={c2})")
        if got == want:
            continue
        dense = 120 * (25 * c2 + 1) + 84 * 121 + 10 * 85
        no_bias = 25 * c1 + 25 * c1 * c2 + 25 * c2 * 120 + 120 * 84 + 84 * 10
        case = f"lenet_num_params(c1={c1}, c2={c2}) returned {got!r}, expected {want}"
        if got == no_bias:
            hint = "you left out the biases: one per output channel or unit"
        elif got == c1 * 26 + c2 * 26 + dense:
            hint = ("the second convolution has a 5x5 kernel for EACH of its c1 input channels: "
                    "c2 * (c1 * 25 + 1) parameters")
        elif got == c1 * 26 + c2 * (25 * c1 + 1) + 120 * (c2 + 1) + 84 * 121 + 10 * 85:
            hint = ("the first dense layer reads all c2 * 5 * 5 numbers of the flattened maps, "
                    "not one per channel")
        elif got == want - (84 * 121 + 10 * 85) or got == want - 10 * 85:
            hint = "count all three dense layers (120, 84 and 10 units)"
        else:
            hint = "a convolution has c_o (c_i k^2 + 1) parameters, a dense layer d_o (d_i + 1)"
        raise ExerciseFailed(f"{case}: {hint}")
    return f"{len(_PARAM_CASES)} channel widths against the built nets"


_MAC_CASES = [(6, 16), (12, 32), (1, 1)]


def _measured_macs(net: nn.Sequential, X: torch.Tensor) -> int:
    """Multiply-adds of every Conv2d and Linear in `net` on input X, read off each layer's weight
    shape and actual output size with forward hooks."""
    total = 0

    def count(layer: nn.Module, inputs: tuple, output: torch.Tensor) -> None:
        nonlocal total
        positions = output.shape[2] * output.shape[3] if isinstance(layer, nn.Conv2d) else 1
        total += layer.weight.numel() * positions  # each weight: one multiply-add per position

    hooks = [m.register_forward_hook(count) for m in net.modules()
             if isinstance(m, (nn.Conv2d, nn.Linear))]
    try:
        with torch.no_grad():
            net(X)
    finally:
        for hook in hooks:
            hook.remove()
    return total


@exercise("08.3 LeNet multiply-adds")
def check_lenet_macs(lenet_macs: Callable[[int, int], int]) -> str:
    """Check `lenet_macs(c1, c2)`: multiply-adds of the convolution and dense layers of the
    chapter's LeNet for one 28x28 image, against a count taken while the net runs (08_lenet)."""
    for c1, c2 in _MAC_CASES:
        want = _measured_macs(_lenet(c1, c2), torch.zeros(1, 1, 28, 28))
        got = whole_number(call(lenet_macs, c1, c2), f"lenet_macs(c1={c1}, c2={c2})")
        if got == want:
            continue
        dense = 25 * c2 * 120 + 120 * 84 + 84 * 10
        case = f"lenet_macs(c1={c1}, c2={c2}) returned {got!r}, expected {want}"
        if got == sum(p.numel() for p in _lenet(c1, c2).parameters()):
            hint = ("that is the parameter count: a convolution's kernel is applied at every "
                    "output position, so multiply its weights by h_out * w_out")
        elif got in (c1 * 25 * 28 * 28 + c2 * c1 * 25 * 14 * 14 + dense,
                     c1 * 25 * 28 * 28 + c2 * c1 * 25 * 28 * 28 + dense):
            hint = ("the second convolution's output is 10x10 (its input is 14x14, unpadded): "
                    "count output positions, not input pixels")
        elif got == c1 * 25 * 28 * 28 + c2 * 25 * 10 * 10 + dense:
            hint = ("each output of the second convolution sums over all c1 input channels: "
                    "c_i * c_o * k^2 * h_out * w_out")
        elif got == c1 * 25 * 28 * 28 + c2 * c1 * 25 * 10 * 10:
            hint = "add the dense layers too: d_in * d_out multiply-adds each"
        else:
            hint = ("a convolution costs c_i * c_o * k^2 * h_out * w_out multiply-adds, a dense "
                    "layer d_in * d_out; biases, activations and pooling are not counted")
        raise ExerciseFailed(f"{case}: {hint}")
    return f"{len(_MAC_CASES)} channel widths against a count taken while the net runs"
