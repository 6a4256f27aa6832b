"""Exercise checks for 06_convolutions.ipynb."""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from ._core import ExerciseFailed, call, close, entries, exercise, matches, require, whole_number

__all__: list[str] = ["check_conv_transpose_output_size", "check_corr2d_padded",
                      "check_input_window"]

# (n, k, p, s) cases: stride 1 with and without padding, strides that tile exactly, overlap or
# leave gaps, and padding that trims the border of the output
_TRANSPOSE_CASES = [(5, 3, 0, 1), (5, 3, 1, 1), (4, 2, 0, 2), (4, 3, 1, 2), (3, 4, 1, 2),
                    (7, 5, 2, 3), (1, 3, 0, 2), (6, 1, 0, 3)]


def _transpose_hint(got: object, n: int, k: int, p: int, s: int) -> str:
    """Name the usual slip behind a wrong transposed-convolution size, when `got` matches one."""
    if got == (n + 2 * p - k) // s + 1:
        return ("that is the output size of the forward convolution with this kernel, padding "
                "and stride, floor((n + 2p - k) / s) + 1; the transposed convolution runs that "
                "map backwards: its output is the size m from which the forward convolution "
                "makes n, so solve n = (m + 2p - k) / s + 1 for m")
    if got == (n - 1) * s + k:
        return ("padding p in a transposed convolution removes p rows at each border of the "
                "output (it undoes the padding of the convolution it inverts): subtract 2p")
    if got == (n - 1) * s + k + 2 * p:
        return ("padding works the other way round here: it is the padding of the forward "
                "convolution, so the transposed one crops 2p rows instead of adding them")
    if got == n * s - 2 * p:
        return ("n * s is only the size of the upsampled grid: the last of the n windows starts "
                "at (n - 1) * s and still reaches k - 1 rows further")
    if got == (n - 1) * s - 2 * p + k - 1:
        return "off by one: the last window covers rows (n - 1) * s ... (n - 1) * s + k - 1"
    return ("each of the n inputs spreads a k-row window, the windows start s rows apart, and "
            "p rows are cut from each border; solve the convolution formula for the input size")


@exercise("06.1 transposed convolution output size")
def check_conv_transpose_output_size(conv_transpose_output_size: Callable[[int, int, int, int], int]
                                     ) -> str:
    """Check `conv_transpose_output_size(n, k, p, s)`, the output length of
    `nn.ConvTranspose2d(..., kernel_size=k, padding=p, stride=s)` over an axis of length n,
    against the layer itself (06_convolutions)."""
    for n, k, p, s in _TRANSPOSE_CASES:
        layer = nn.ConvTranspose2d(1, 1, k, stride=s, padding=p, bias=False)
        with torch.no_grad():
            want = layer(torch.zeros(1, 1, n, n)).shape[-1]
        case = f"conv_transpose_output_size(n={n}, k={k}, p={p}, s={s})"
        got = whole_number(call(conv_transpose_output_size, n, k, p, s), case)
        if got != want:
            raise ExerciseFailed(f"{case} returned {got!r}, but nn.ConvTranspose2d gives {want}: "
                                 f"{_transpose_hint(got, n, k, p, s)}")
    return f"{len(_TRANSPOSE_CASES)} cases against nn.ConvTranspose2d"


# (height, width, kernel height, kernel width, padding, stride); in the last three a kernel of
# kh != kw gives output sides that change when kh and kw are mixed up (in (6, 7, 3, 2, 1, 2) the
# stride's floor hides it)
_CORR_CASES = [(5, 5, 3, 3, 0, 1), (5, 5, 3, 3, 1, 1), (6, 7, 3, 2, 1, 2),
               (7, 8, 3, 3, 2, 3), (4, 5, 2, 2, 0, 2), (6, 7, 2, 4, 1, 1), (7, 5, 4, 2, 0, 1),
               (8, 9, 1, 3, 1, 2)]


@exercise("06.2 corr2d with padding and stride")
def check_corr2d_padded(corr2d_padded: Callable[[torch.Tensor, torch.Tensor, int, int], torch.Tensor]
                        ) -> str:
    """Check `corr2d_padded(X, K, padding, stride)`, 2-D cross-correlation of a matrix with zero
    padding on every border and a stride, against `F.conv2d` (06_convolutions)."""
    gen = torch.Generator().manual_seed(6)
    for h, w, kh, kw, p, s in _CORR_CASES:
        X = torch.randn(h, w, generator=gen)
        K = torch.randn(kh, kw, generator=gen)
        want = F.conv2d(X[None, None], K[None, None], padding=p, stride=s)[0, 0]
        case = f"X of shape {(h, w)}, K of shape {(kh, kw)}, padding={p}, stride={s}"
        square = ("check that the output height and the window's rows use kh = K.shape[0], "
                  "the output width and the window's columns kw = K.shape[1]")
        try:
            got = call(corr2d_padded, X.clone(), K.clone(), p, s)
        except ExerciseFailed as err:
            if kh != kw:
                raise ExerciseFailed(f"for {case}, a kernel that is not square: {err}; "
                                     f"{square}") from None
            raise
        side = lambda n, k: (n + 2 * p - k) // s + 1  # noqa: E731
        if isinstance(got, torch.Tensor) and tuple(got.shape) != tuple(want.shape) and tuple(
                got.shape) in {
                (side(h, kw), side(w, kw)), (side(h, kh), side(w, kh)), (side(h, kw), side(w, kh))}:
            raise ExerciseFailed(f"for {case} the output has shape {tuple(got.shape)}, expected "
                                 f"{tuple(want.shape)}: the kernel is not square; {square}")
        if isinstance(got, torch.Tensor) and tuple(got.shape) != tuple(want.shape):
            raise ExerciseFailed(
                f"for {case} the output should have shape {tuple(want.shape)}, got "
                f"{tuple(got.shape)}: along each axis floor((n + 2p - k) / s) + 1; pad p zeros "
                f"on all four borders and move the window s pixels at a time")
        if matches(got, F.conv2d(X[None, None], K.flip(0, 1)[None, None], padding=p,
                                 stride=s)[0, 0]):
            raise ExerciseFailed(f"for {case} you computed a true convolution (the kernel "
                                 "flipped); the layer computes cross-correlation: do not flip K")
        close(got, want, f"for {case} the values differ from F.conv2d: the window at output "
                         f"(i, j) starts at row i*s, column j*s of the input padded with "
                         f"p zeros on every border (top, bottom, left and right)")
    return f"{len(_CORR_CASES)} cases against F.conv2d, with padding and strides 1 to 3"


# stacks of (kernel, stride, padding) layers, and the output unit asked about
_WINDOW_CASES = [([(3, 1, 0)], 0), ([(3, 1, 1)], 0), ([(3, 2, 1)], 2),
                 ([(3, 1, 0), (3, 1, 0), (3, 1, 0)], 4),
                 ([(5, 1, 2), (2, 2, 0), (5, 1, 0), (2, 2, 0)], 0),
                 ([(5, 1, 2), (2, 2, 0), (5, 1, 0), (2, 2, 0)], 1),
                 ([(3, 2, 1), (3, 2, 1), (3, 1, 1)], 3)]


def _window(layers: list[tuple[int, int, int]], i: int, pad: bool = True, stride: bool = True,
            reach: bool = True) -> tuple[int, int]:
    """Rows [first, last] of the input that unit i after `layers` depends on; the switches turn
    off one ingredient each, to recognise the usual slips."""
    first, last = i, i
    for k, s, p in reversed(layers):
        s = s if stride else 1
        first = first * s - (p if pad else 0)
        last = last * s - (p if pad else 0) + (k - 1 if reach else 0)
    return first, last


def _row(row: object, case: str) -> int:
    """One row number of the learner's pair, as an int; feedback when it is not a whole number."""
    try:
        return whole_number(row, case)
    except ExerciseFailed:
        raise ExerciseFailed(f"{case} gave the row {row!r}: rows are numbered by whole numbers "
                             "(-1, 0, 1, ...)") from None


@exercise("06.3 input window of a unit")
def check_input_window(input_window: Callable[[list[tuple[int, int, int]], int], tuple[int, int]]
                       ) -> str:
    """Check `input_window(layers, i)`: the first and last input row that unit i of the last of a
    stack of (kernel, stride, padding) layers depends on, padding rows counted as -1, -2, ...
    at the top (06_convolutions)."""
    for layers, i in _WINDOW_CASES:
        want = _window(layers, i)
        what = f"input_window({layers}, {i})"
        got = call(input_window, [tuple(layer) for layer in layers], i)
        pair = entries(got.flatten() if isinstance(got, torch.Tensor) else got, what,
                       "a pair (first, last)")
        require(len(pair) == 2, f"{what} returned {len(pair)} entries: return a pair (first, last)")
        got = tuple(_row(row, what) for row in pair)
        if got == want:
            continue
        if got == _window(layers, i, pad=False):
            hint = ("you ignored the padding: a layer with padding p starts its window p rows "
                    "before its own row 0, so subtract p at every layer")
        elif got == _window(layers, i, stride=False):
            hint = ("you ignored the strides: unit j of a stride-s layer starts its window at "
                    "row j * s of the layer below")
        elif got == _window(layers, i, reach=False):
            hint = "the window of a unit is k rows long: its last row is k - 1 below its first"
        elif got[1] - got[0] == want[1] - want[0]:
            hint = ("the size is right (the receptive field) but the window is shifted: map "
                    "first and last down one layer at a time, first -> first * s - p")
        else:
            hint = ("go down one layer at a time from [i, i]: first -> first * s - p, "
                    "last -> last * s - p + k - 1")
        raise ExerciseFailed(f"input_window({layers}, {i}) returned {got}, expected {want}: {hint}")
    return f"{len(_WINDOW_CASES)} stacks, with padding, strides and units away from the corner"
