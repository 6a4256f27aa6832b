"""Exercise checks for 12_googlenet.ipynb: the multiply-adds of an Inception block, an Inception
block whose 5x5 path is factorized into two 3x3 convolutions, and the widths of stacked blocks
whose pooling path has no 1x1 convolution."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import nn

from ._core import ExerciseFailed, call, exercise, require, value, whole_number  # noqa: F401

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


def _support_radius(changed: torch.Tensor, centre: int) -> int:
    """Largest Chebyshev distance from (centre, centre) of a True entry of a (H, W) mask."""
    rows, cols = torch.nonzero(changed, as_tuple=True)
    if rows.numel() == 0:
        return -1
    return int(torch.maximum((rows - centre).abs(), (cols - centre).abs()).max())


_PATHS = ("path 1 (1x1)", "path 2 (1x1, 3x3)", "path 3 (1x1, 3x3, 3x3)", "path 4 (pool, 1x1)")
_RADII = (0, 1, 2, 1)  # how far from a pixel its influence reaches in each path's output


@exercise("12.2 Inception block with two 3x3 convolutions")
def check_inception_factorized(InceptionFactorized: type) -> str:
    """Check `InceptionFactorized(in_channels, c1, c2, c3, c4)`: the Inception block with path 3
    made of a 1x1 convolution to c3[0] and two 3x3 convolutions to c3[1], every convolution
    followed by a ReLU, the four paths concatenated in order at the input's height and width
    (12_googlenet)."""
    config = (6, 4, (3, 5), (2, 6), 3)
    c_in, c1, c2, c3, c4 = config
    widths = (c1, c2[1], c3[1], c4)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(12)
        block = call(InceptionFactorized, *config)
    require(isinstance(block, nn.Module),
            f"InceptionFactorized{config} built a {type(block).__name__}: write a class that "
            f"subclasses nn.Module")
    require(type(block).forward is not nn.Module.forward,
            "InceptionFactorized has no forward method: define forward(self, x)")
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

    # Which output positions does one input pixel reach? With positive weights, zero biases and a
    # positive input, every ReLU passes everything and a larger pixel raises every output in its
    # receptive field, so each path's slice must reach exactly its radius: 0, 1, 2 and 1.
    probe = block.double()
    with torch.no_grad():
        for m in probe.modules():
            if isinstance(m, nn.Conv2d):
                m.weight.copy_(0.1 + torch.rand(m.weight.shape, generator=gen, dtype=torch.float64))
                if m.bias is not None:
                    m.bias.zero_()
        X = torch.rand(1, c_in, 11, 11, generator=gen, dtype=torch.float64)
        bumped = X.clone()
        bumped[:, :, 5, 5] += 3.0
        changed = (probe(bumped) - probe(X)).abs()[0] > 1e-9
    start = 0
    for name, width, radius in zip(_PATHS, widths, _RADII):
        reach = _support_radius(changed[start:start + width].any(dim=0), 5)
        if reach != radius:
            seen = (f"a {2 * reach + 1}x{2 * reach + 1} window" if reach >= 0 else
                    "no input pixel at all (they do not change when the input does)")
            raise ExerciseFailed(
                f"output channels {start}..{start + width - 1} should be {name}, whose output at a "
                f"position depends on a {2 * radius + 1}x{2 * radius + 1} input window, but they "
                f"depend on {seen}: "
                + ("two stacked 3x3 convolutions see 5x5" if name.startswith("path 3") else
                   "concatenate the paths in the order path1, path2, path3, path4"))
        start += width
    return ("parameters, output shape on 7x9, 5x5 and 1x1 inputs, and each path's receptive field "
            "(1x1, 3x3, 5x5, 3x3) in the right channel slice")


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
        got = call(stacked_out_channels, in_channels, list(configs))
        require(isinstance(got, (list, tuple)),
                f"stacked_out_channels({in_channels}, ...) returned a {type(got).__name__}: return "
                f"a list with one channel count per block")
        got = [whole_number(g, f"stacked_out_channels({in_channels}, ...)") for g in got]
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
