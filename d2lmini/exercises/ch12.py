"""Exercise checks for 12_googlenet.ipynb: the multiply-adds of an Inception block, an Inception
block whose 5x5 path is factorized into two 3x3 convolutions, and the widths of stacked blocks
whose pooling path has no 1x1 convolution."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from ._core import (ExerciseFailed, call, entries, exercise, matches, require, value,  # noqa: F401
                    whole_number)

__all__: list[str] = ["check_inception_macs", "check_inception_factorized",
                      "check_stacked_pool_channels"]

Pair = tuple[int, int]


# ---------------------------------------------------------------------------------------------
# 12.1 multiply-adds of an Inception block

def _macs(c_in: int, c1: int, c2: Pair, c3: Pair, c4: int, h: int, w: int, *, k2: int = 9,
          k3: int = 25, reduce: bool = True, reduce_cost: bool = True, pool_conv: bool = True
          ) -> int:
    """Multiply-adds of the Inception block's convolutions; the keyword switches build the
    typical wrong counts (no reductions, reductions for free, no pool-path conv, k for k^2)."""
    r2, r3 = (c2[0], c3[0]) if reduce else (c_in, c_in)
    per_position = c_in * c1 + k2 * r2 * c2[1] + k3 * r3 * c3[1]
    if reduce and reduce_cost:
        per_position += c_in * c2[0] + c_in * c3[0]
    if pool_conv:
        per_position += c_in * c4
    return h * w * per_position


# (c_in, c1, c2, c3, c4, h, w): GoogLeNet's first block at 12x12 (as in the notebook), a small
# block on a non-square input (catches h*h), a block of stage 4, and a 1x1 input
_MAC_CASES = [(192, 64, (96, 128), (16, 32), 32, 12, 12), (8, 3, (4, 5), (2, 7), 1, 7, 9),
              (480, 192, (96, 208), (16, 48), 64, 6, 6), (3, 1, (2, 1), (2, 1), 1, 1, 1)]


def _mac_hint(got: int, case: tuple) -> str:
    c_in, c1, c2, c3, c4, h, w = case
    wrong = [
        (_macs(*case, reduce=False),
         "without the 1x1 reductions' effect: the 3x3 and 5x5 convolutions read the c2[0] and "
         "c3[0] channels the reductions output, not all c_in input channels"),
        (_macs(*case, reduce_cost=False),
         "the 1x1 reductions are convolutions too: add h*w*c_in*c2[0] and h*w*c_in*c3[0]"),
        (_macs(*case, pool_conv=False),
         "the fourth path's 1x1 convolution after the pooling costs h*w*c_in*c4 (the pooling "
         "itself is not counted)"),
        (_macs(*case, k2=3, k3=5),
         "a k x k kernel has k^2 weights per input channel: 9 for 3x3, 25 for 5x5"),
        (_macs(c_in, c1, c2, c3, c4, 1, 1),
         "that is the count for one output position: multiply by the h*w positions"),
        (_macs(c_in, c1, c2, c3, c4, h, h), "the output has h*w positions (h rows, w columns)"),
        (_macs(c_in, c1, c2, c3, c4, w, w), "the output has h*w positions (h rows, w columns)"),
    ]
    for count, hint in wrong:
        if got == count and count != _macs(*case):
            return hint
    return ("add, over the six convolutions, h*w*c_out*c_in*k^2: path 1 (1x1), path 2 (1x1 to "
            "c2[0], 3x3 to c2[1]), path 3 (1x1 to c3[0], 5x5 to c3[1]), path 4 (1x1 to c4)")


@exercise("12.1 Inception multiply-adds")
def check_inception_macs(inception_macs: Callable[..., int]) -> str:
    """Check `inception_macs(c_in, c1, c2, c3, c4, h, w)`: the multiply-adds of an Inception
    block's six convolutions on an h x w input, biases, ReLUs and pooling not counted
    (12_googlenet)."""
    for case in _MAC_CASES:
        want = _macs(*case)
        got = whole_number(call(inception_macs, *case), f"inception_macs{case}")
        if got != want:
            raise ExerciseFailed(f"inception_macs{case} returned {got:,}, expected {want:,}: "
                                 f"{_mac_hint(got, case)}")
    first = _MAC_CASES[0]
    with_r, without_r = _macs(*first), _macs(*first, reduce=False)
    return (f"{len(_MAC_CASES)} blocks, one on a non-square input; the first block at 12x12: "
            f"{with_r:,} multiply-adds with the reductions, {without_r:,} without "
            f"({without_r / with_r:.1f}x)")


# ---------------------------------------------------------------------------------------------
# 12.2 Inception block with the 5x5 path factorized into two 3x3 convolutions

def _factorized_params(c_in: int, c1: int, c2: Pair, c3: Pair, c4: int) -> int:
    def conv(a: int, b: int, k: int) -> int:
        return b * (a * k * k + 1)
    return (conv(c_in, c1, 1) + conv(c_in, c2[0], 1) + conv(c2[0], c2[1], 3)
            + conv(c_in, c3[0], 1) + conv(c3[0], c3[1], 3) + conv(c3[1], c3[1], 3)
            + conv(c_in, c4, 1))


def _params_hint(got: int, c_in: int, c1: int, c2: Pair, c3: Pair, c4: int) -> str:
    want = _factorized_params(c_in, c1, c2, c3, c4)
    kept_5x5 = want - c3[1] * (9 * c3[0] + 1) - c3[1] * (9 * c3[1] + 1) + c3[1] * (25 * c3[0] + 1)
    narrow_middle = (want - c3[1] * (9 * c3[0] + 1) - c3[1] * (9 * c3[1] + 1)
                     + c3[0] * (9 * c3[0] + 1) + c3[1] * (9 * c3[0] + 1))
    biases = c1 + c2[0] + c2[1] + c3[0] + 2 * c3[1] + c4
    if got == kept_5x5:
        return "path 3 still has one 5x5 convolution: replace it by two 3x3 convolutions"
    if got == narrow_middle:
        return ("the first 3x3 convolution of path 3 should output c3[1] channels, and the second "
                "c3[1] as well (1x1 to c3[0], 3x3 to c3[1], 3x3 to c3[1])")
    if got == want - biases:
        return "keep the convolutions' biases (the default bias=True), as in the chapter's Inception"
    return (f"expected {want:,} parameters: 1x1 to c1; 1x1 to c2[0], 3x3 to c2[1]; 1x1 to c3[0], "
            f"3x3 to c3[1], 3x3 to c3[1]; 3x3 max pooling, 1x1 to c4")


# (name, which path, kernel size, padding) of the block's seven convolutions, in path order
_CONVS = (("p1", 1, 0), ("p2a", 1, 0), ("p2b", 3, 1), ("p3a", 1, 0), ("p3b", 3, 1),
          ("p3c", 3, 1), ("p4", 1, 0))
_PATHS = ("path 1 (1x1)", "path 2 (1x1, 3x3)", "path 3 (1x1, 3x3, 3x3)", "path 4 (pool, 1x1)")


def _conv_shapes(c_in: int, c1: int, c2: Pair, c3: Pair, c4: int) -> dict[str, tuple]:
    """The weight shape of each of the block's convolutions."""
    return {"p1": (c1, c_in, 1, 1), "p2a": (c2[0], c_in, 1, 1), "p2b": (c2[1], c2[0], 3, 3),
            "p3a": (c3[0], c_in, 1, 1), "p3b": (c3[1], c3[0], 3, 3), "p3c": (c3[1], c3[1], 3, 3),
            "p4": (c4, c_in, 1, 1)}


def _paths(x: torch.Tensor, params: dict[str, tuple[torch.Tensor, torch.Tensor]], *,
           relu_2a: bool = True, relu_3a: bool = True, relu_3b: bool = True, pool: str = "max",
           relu_before_pool: bool = False, conv_before_pool: bool = False) -> list[torch.Tensor]:
    """The four paths' outputs with the given weights; the keywords build the typical slips."""
    def conv(t: torch.Tensor, name: str) -> torch.Tensor:
        padding = dict((n, p) for n, _, p in _CONVS)[name]
        return F.conv2d(t, *params[name], padding=padding)

    def maybe_relu(t: torch.Tensor, on: bool) -> torch.Tensor:
        return torch.relu(t) if on else t

    def pooled(t: torch.Tensor) -> torch.Tensor:
        t = torch.relu(t) if relu_before_pool else t
        if pool == "max":
            return F.max_pool2d(t, 3, stride=1, padding=1)
        return F.avg_pool2d(t, 3, stride=1, padding=1, count_include_pad=(pool == "avg"))

    p1 = torch.relu(conv(x, "p1"))
    p2 = torch.relu(conv(maybe_relu(conv(x, "p2a"), relu_2a), "p2b"))
    h = maybe_relu(conv(maybe_relu(conv(x, "p3a"), relu_3a), "p3b"), relu_3b)
    p3 = torch.relu(conv(h, "p3c"))
    p4 = pooled(torch.relu(conv(x, "p4"))) if conv_before_pool else torch.relu(conv(pooled(x), "p4"))
    return [p1, p2, p3, p4]


# per path: (variant keywords, hint) for the slips the check recognizes
_PATH_SLIPS = {
    1: [({"relu_2a": False}, "path 2 needs a ReLU between its 1x1 and its 3x3 convolution: every "
                             "convolution of the block is followed by a ReLU")],
    2: [({"relu_3a": False}, "path 3 needs a ReLU after its 1x1 convolution too: every "
                             "convolution of the block is followed by a ReLU"),
        ({"relu_3b": False}, "path 3 needs a ReLU between its two 3x3 convolutions: every "
                             "convolution of the block is followed by a ReLU"),
        ({"relu_3a": False, "relu_3b": False},
         "path 3 needs a ReLU after each of its convolutions, not only after the last")],
    3: [({"pool": "avg"}, "path 4 starts with a 3x3 max pooling (nn.MaxPool2d(3, stride=1, "
                          "padding=1)), not an average pooling"),
        ({"pool": "avg_no_pad"}, "path 4 starts with a 3x3 max pooling (nn.MaxPool2d(3, stride=1, "
                                 "padding=1)), not an average pooling"),
        ({"relu_before_pool": True}, "path 4 is the max pooling, then the 1x1 convolution, then "
                                     "the ReLU: there is no ReLU before the pooling"),
        ({"conv_before_pool": True}, "path 4 pools first and then applies the 1x1 convolution "
                                     "and its ReLU")],
}

# every convolution's weight has a shape of its own, so the check can tell which is which
_FACTORIZED = (6, 4, (3, 5), (2, 7), 6)


@exercise("12.2 Inception block with two 3x3 convolutions")
def check_inception_factorized(InceptionFactorized: type) -> str:
    """Check `InceptionFactorized(in_channels, c1, c2, c3, c4)`: the Inception block with path 3
    made of a 1x1 convolution to c3[0] and two 3x3 convolutions to c3[1], every convolution
    followed by a ReLU, path 4 a 3x3 max pooling then a 1x1 convolution, the four paths
    concatenated in order at the input's height and width (12_googlenet)."""
    config = _FACTORIZED
    c_in, c1, c2, c3, c4 = config
    widths = (c1, c2[1], c3[1], c4)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(12)
        block = call(InceptionFactorized, *config)
    require(isinstance(block, nn.Module),
            f"InceptionFactorized{config} built a {type(block).__name__}: write a class that "
            f"subclasses nn.Module")
    require(type(block).forward is not nn.Module.forward,
            "InceptionFactorized has no forward method: define a method named exactly "
            "forward(self, x)")
    got = sum(p.numel() for p in block.parameters())
    require(got == _factorized_params(*config),
            f"InceptionFactorized{config} has {got:,} parameters: {_params_hint(got, *config)}")

    gen = torch.Generator().manual_seed(12)
    for h, w in ((7, 9), (5, 5), (1, 1)):
        X = torch.randn(2, c_in, h, w, generator=gen)
        try:
            Y = call(block, X)
        except ExerciseFailed as err:
            if "Sizes of tensors must match" in str(err):
                raise ExerciseFailed(
                    f"the paths' outputs have different heights or widths on a {h}x{w} input, so "
                    f"they cannot be concatenated: every 3x3 convolution and the 3x3 max pooling "
                    f"need padding=1 (and stride 1)") from None
            raise
        want = (2, sum(widths), h, w)
        require(isinstance(Y, torch.Tensor) and tuple(Y.shape) == want,
                f"on a (2, {c_in}, {h}, {w}) input the block returned "
                f"{tuple(Y.shape) if isinstance(Y, torch.Tensor) else type(Y).__name__}, expected "
                f"{want}: concatenate the four paths along dim=1 and pad so each keeps h and w")
        require(bool((Y >= 0).all()),
                "the block's output has negative values: every convolution, the last of each path "
                "included, is followed by a ReLU")

    # Give the learner's convolutions known weights (each is recognized by its weight's shape)
    # and compare with the reference. Weights, biases and input are signed, so every ReLU
    # matters, and a max pooling differs from an average.
    shapes = _conv_shapes(*config)
    by_shape = {shape: name for name, shape in shapes.items()}
    convs = [m for m in block.modules() if isinstance(m, nn.Conv2d)]
    found = sorted(tuple(m.weight.shape) for m in convs)
    require(found == sorted(shapes.values()),
            f"InceptionFactorized{config} should hold seven nn.Conv2d layers with weights of shapes "
            f"{sorted(shapes.values())}, but holds {found}: build each convolution of the four "
            f"paths as its own nn.Conv2d")
    params = {name: (torch.randn(shape, generator=gen, dtype=torch.float64) * 0.5,
                     torch.randn(shape[0], generator=gen, dtype=torch.float64) * 0.5)
              for name, shape in shapes.items()}
    probe = block.double()
    with torch.no_grad():
        for m in convs:
            weight, bias = params[by_shape[tuple(m.weight.shape)]]
            require(m.bias is not None, "keep the convolutions' biases (the default bias=True)")
            m.weight.copy_(weight)
            m.bias.copy_(bias)
        X = torch.randn(2, c_in, 7, 9, generator=gen, dtype=torch.float64)
        Y = call(probe, X)
        paths = _paths(X, params)
        if matches(Y, torch.cat(paths, dim=1), atol=1e-9, rtol=1e-7):
            return ("parameters, output shape on 7x9, 5x5 and 1x1 inputs, and the reference's "
                    "output once given the same signed weights and inputs (so every ReLU, the max "
                    "pooling and the order of the paths count)")
        for order in itertools.permutations(range(4)):
            if matches(Y, torch.cat([paths[i] for i in order], dim=1), atol=1e-9, rtol=1e-7):
                got_order = ", ".join(f"path {i + 1}" for i in order)
                raise ExerciseFailed(f"your block concatenates {got_order}: concatenate the paths "
                                     f"in the order path 1, path 2, path 3, path 4")
        start = 0
        for i, (name, width) in enumerate(zip(_PATHS, widths)):
            mine = Y[:, start:start + width]
            start += width
            if matches(mine, paths[i], atol=1e-9, rtol=1e-7):
                continue
            for slip, hint in _PATH_SLIPS.get(i, []):
                if matches(mine, _paths(X, params, **slip)[i], atol=1e-9, rtol=1e-7):
                    raise ExerciseFailed(f"output channels {start - width}..{start - 1}, {name}: "
                                         f"{hint}")
            raise ExerciseFailed(
                f"output channels {start - width}..{start - 1} should be {name} but compute "
                f"something else: path 1 is 1x1 conv, ReLU; path 2 1x1 conv, ReLU, 3x3 conv, ReLU; "
                f"path 3 1x1 conv, ReLU, 3x3 conv, ReLU, 3x3 conv, ReLU; path 4 3x3 max pooling, "
                f"1x1 conv, ReLU")
    raise ExerciseFailed("the block's output differs from the reference's")  # pragma: no cover


# ---------------------------------------------------------------------------------------------
# 12.3 stacked blocks whose pooling path has no 1x1 convolution

def _stacked(in_channels: int, configs: Sequence, *, pool: bool = True, chain: bool = True,
             reduced: bool = False) -> list[int]:
    widths, channels = [], in_channels
    for c1, c2, c3 in configs:
        out = c1 + (c2[0] if reduced else c2[1]) + (c3[0] if reduced else c3[1])
        out += (channels if chain else in_channels) if pool else 0
        widths.append(out)
        channels = out
    return widths


# (in_channels, [(c1, c2, c3), ...]): GoogLeNet's stage 3 and 4 widths without pool projections
_STACK_CASES = [
    (192, [(64, (96, 128), (16, 32)), (128, (128, 192), (32, 96))]),
    (480, [(192, (96, 208), (16, 48)), (160, (112, 224), (24, 64)), (128, (128, 256), (24, 64))]),
    (8, [(3, (4, 5), (2, 7))]),
    (16, []),
]


@exercise("12.3 stacked blocks without the pool projection")
def check_stacked_pool_channels(stacked_out_channels: Callable[[int, Sequence], Sequence[int]]
                                ) -> str:
    """Check `stacked_out_channels(in_channels, configs)`: the output channels of Inception
    blocks stacked in a row, each reading the previous one's output, when the pooling path is a
    3x3 max pooling without its 1x1 convolution; `configs` holds (c1, c2, c3) triples
    (12_googlenet)."""
    for in_channels, configs in _STACK_CASES:
        want = _stacked(in_channels, configs)
        what = f"stacked_out_channels({in_channels}, ...)"
        got = entries(call(stacked_out_channels, in_channels, list(configs)), what,
                      "a list with one channel count per block")
        got = [whole_number(g, what) for g in got]
        if got == want:
            continue
        case = f"stacked_out_channels({in_channels}, {configs}) returned {got}, expected {want}"
        if len(got) != len(want):
            hint = "return one channel count per block (an empty list for no blocks)"
        elif got == _stacked(in_channels, configs, pool=False):
            hint = ("the pooling path is missing: max pooling works channel by channel, so "
                    "without a 1x1 convolution after it, it outputs every channel it reads")
        elif got == _stacked(in_channels, configs, chain=False):
            hint = ("each block's pooling path passes through the channels of the block's own "
                    "input, which is the previous block's output, not the first input")
        elif got == _stacked(in_channels, configs, reduced=True):
            hint = ("c2[1] and c3[1] are what the 3x3 and 5x5 convolutions output; c2[0] and "
                    "c3[0] are only the widths of the 1x1 reductions")
        else:
            hint = "each block outputs c1 + c2[1] + c3[1] plus the channels its pooling passes on"
        raise ExerciseFailed(f"{case}: {hint}")
    grown = _stacked(*_STACK_CASES[1])
    return (f"{len(_STACK_CASES)} stacks; without projections stage 4's first three blocks "
            f"would output {grown} channels: the width keeps growing, and the 1x1 convolution "
            f"after the pooling is what lets GoogLeNet choose it")
