"""Exercise checks for 11_nin.ipynb."""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

from ._core import ExerciseFailed, call, close, exercise, matches, number, require, value  # noqa: F401

__all__: list[str] = ["check_global_avg_pool", "check_conv1x1_by_matmul", "check_nin_min_side"]


@exercise("11.1 global average pooling by hand")
def check_global_avg_pool(global_avg_pool: Callable[[torch.Tensor], torch.Tensor]) -> str:
    """Check `global_avg_pool(X)`: (N, C, H, W) -> (N, C, 1, 1), each channel's mean over its
    H x W positions (11_nin)."""
    g = torch.Generator().manual_seed(11)
    for shape in [(2, 3, 4, 5), (1, 10, 5, 5), (3, 2, 1, 7), (2, 4, 6, 1)]:
        X = torch.randn(shape, generator=g) + torch.arange(shape[1]).reshape(1, -1, 1, 1)
        want = X.mean(dim=(2, 3), keepdim=True)
        got = call(global_avg_pool, X.clone())
        require(isinstance(got, torch.Tensor),
                f"return a tensor, got {type(got).__name__} for an input of shape {shape}")
        n, c = shape[:2]
        if got.shape == (n, c):
            raise ExerciseFailed(
                f"for an input of shape {shape} you return shape {tuple(got.shape)}: right means, "
                f"but the pooled maps keep their 1 x 1 sides, ({n}, {c}, 1, 1); use keepdim=True")
        if got.numel() == 1 or got.shape in ((n, 1, 1, 1), (n,)):
            raise ExerciseFailed(
                f"for an input of shape {shape} you return shape {tuple(got.shape)}: you averaged "
                "over the channels too; average over height and width only (dims 2 and 3), one "
                "number per example and channel")
        if got.shape == (n, 1, shape[2], shape[3]) or (n != 1 and got.shape == (1, c, 1, 1)):
            raise ExerciseFailed(
                f"for an input of shape {shape} you return shape {tuple(got.shape)}: you averaged "
                "over the wrong dims; the positions are dims 2 and 3 (height and width)")
        close(got, want, f"for an input of shape {shape} your values are not the per-channel "
              "means over the H x W positions" + (
                  ": sum over the positions and divide by H * W, not by H or W alone"
                  if matches(got, want * shape[3]) or matches(got, want * shape[2]) else ""))
    return "four shapes, thin maps (1 x 7, 6 x 1) included"


@exercise("11.2 a 1 x 1 convolution as a matrix product")
def check_conv1x1_by_matmul(conv1x1: Callable[..., torch.Tensor]) -> str:
    """Check `conv1x1(X, weight, bias)`: what nn.Conv2d with a 1 x 1 kernel computes, as one
    matrix product over all pixels; weight has shape (c_out, c_in, 1, 1) (11_nin)."""
    g = torch.Generator().manual_seed(12)
    for n, c_in, c_out, h, w in [(1, 4, 4, 3, 3), (2, 3, 4, 5, 6), (3, 2, 5, 1, 4)]:
        X = torch.randn(n, c_in, h, w, generator=g)
        weight = torch.randn(c_out, c_in, 1, 1, generator=g)
        bias = torch.randn(c_out, generator=g)
        want = F.conv2d(X, weight, bias)
        case = f"X of shape {(n, c_in, h, w)}, weight {(c_out, c_in, 1, 1)}"
        got = call(conv1x1, X.clone(), weight.clone(), bias.clone())
        require(isinstance(got, torch.Tensor), f"return a tensor, got {type(got).__name__}")
        require(tuple(got.shape) == tuple(want.shape),
                f"for {case} expected shape {tuple(want.shape)}, got {tuple(got.shape)}: the "
                "channels come back to dim 1, (N, c_out, H, W)")
        if matches(got, want - bias.reshape(1, -1, 1, 1)):
            raise ExerciseFailed(f"for {case} the bias is missing: add one b_o per output channel")
        if c_in == c_out and matches(got, F.conv2d(X, weight.transpose(0, 1), bias)):
            raise ExerciseFailed(f"for {case} you used the transposed weight: output channel o is "
                                 "sum_i W[o, i] x_i, so multiply the pixel vectors by W^T")
        close(got, want, f"for {case} your values differ from nn.Conv2d's: move the channels "
              "last (permute), so that each row of the (N*H*W, c_in) matrix is one pixel's "
              "channel vector, multiply by W^T, add the bias, and move the channels back")
    return "equal to nn.Conv2d with a 1 x 1 kernel on three shapes"


def _nin_last_side(side: int) -> int:
    """The side of the maps NiN's last block produces for a `side` x `side` input (0: a window
    no longer fits). Windows: 11/4 conv, 3/2 pool, padded 5 x 5, pool, padded 3 x 3, pool,
    padded 3 x 3; the 1 x 1 convolutions keep the side."""
    for k, s, p in [(11, 4, 0), (3, 2, 0), (5, 1, 2), (3, 2, 0), (3, 1, 1), (3, 2, 0), (3, 1, 1)]:
        if side + 2 * p < k:
            return 0
        side = (side + 2 * p - k) // s + 1
    return side


@exercise("11.3 smallest input side of NiN")
def check_nin_min_side(answer: int) -> str:
    """Check the smallest input side for which the notebook's `nin()` runs (11_nin)."""
    side = number(value(answer), "your answer (a number of pixels)")
    require(side.is_integer(), f"a side is a whole number of pixels; got {side:g}")
    side = int(side)
    smallest = next(n for n in range(1, 400) if _nin_last_side(n) >= 1)
    last = _nin_last_side(side)
    require(last >= 1,
            f"with side {side} a window no longer fits: apply n_out = floor((n + 2p - k) / s) + 1 "
            "layer by layer; the three 3 x 3 max-pools (no padding) each need at least 3 pixels")
    require(side == smallest,
            f"side {side} works (the last block gives {last} x {last} maps, which global average "
            "pooling turns into scores) but a smaller side does too: there is no dense layer "
            "that fixes the size, so go down until some window no longer fits")
    return (f"from {smallest} pixels up NiN accepts every side (AlexNet, with its dense head, "
            "accepts only 193 to 224)")
