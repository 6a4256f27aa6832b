"""Exercise checks for 13_resnet.ipynb: a residual block that picks its own shortcut, the
parameter count of a bottleneck block, and the feature-map sides of ResNet-18."""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from ._core import (ExerciseFailed, call, entries, exercise, matches, require, value,  # noqa: F401
                    whole_number)

__all__: list[str] = ["check_residual_block", "check_bottleneck_params", "check_resnet18_sides"]


# ---------------------------------------------------------------------------------------------
# 13.1 a residual block that chooses its shortcut

class _Reference(nn.Module):
    """The chapter's basic block with the shortcut chosen from the shapes; `variant` builds the
    typical wrong forward passes on the same layers."""

    def __init__(self, in_channels: int, out_channels: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1 or in_channels != out_channels:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False),
                nn.BatchNorm2d(out_channels))
        self.variant = "right"

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s = self.shortcut(x)
        if self.variant == "stride on conv2":
            h = torch.relu(self.bn1(F.conv2d(x, self.conv1.weight, padding=1)))
            return torch.relu(self.bn2(F.conv2d(h, self.conv2.weight, stride=self.conv1.stride,
                                                padding=1)) + s)
        h = torch.relu(self.bn1(self.conv1(x)))
        if self.variant == "add before bn2":
            return torch.relu(self.bn2(self.conv2(h) + s))
        g = self.bn2(self.conv2(h))
        if self.variant == "relu before add":
            return torch.relu(g) + s
        if self.variant == "no final relu":
            return g + s
        if self.variant == "relu twice":
            return torch.relu(torch.relu(g) + s)
        return torch.relu(g + s)


_BLOCK_HINTS = {
    "stride on conv2": ("the stride sits on the second 3x3 convolution: the shapes come out "
                        "the same, but the block must shrink the map in its first convolution, "
                        "conv1 = nn.Conv2d(in_channels, out_channels, 3, stride=stride, "
                        "padding=1), and keep it in conv2 (stride 1)"),
    "add before bn2": ("you add the shortcut before the second batch norm: the branch is "
                       "bn2(conv2(...)) and the sum shortcut(x) + branch goes into the last ReLU"),
    "relu before add": ("the last ReLU comes after the addition, relu(shortcut(x) + g(x)), not "
                        "relu(g(x)) + shortcut(x)"),
    "no final relu": "the block ends with a ReLU applied to shortcut(x) + g(x)",
    "relu twice": ("the branch g(x) ends with bn2, without a ReLU; the only ReLU after it follows "
                   "the addition"),
}

# (in_channels, out_channels, stride, needs a projection)
_BLOCK_CASES = [(4, 4, 1, False), (4, 8, 1, True), (4, 4, 2, True), (3, 6, 2, True)]


def _param_hint(got: int, name: str, c_in: int, c_out: int, stride: int, projected: bool
                ) -> str:
    convs = 9 * c_in * c_out + 9 * c_out * c_out
    bns = 4 * c_out
    projection = c_in * c_out + 2 * c_out
    want = convs + bns + (projection if projected else 0)
    shape = f"{name}({c_in}, {c_out}, stride={stride})"
    if projected and got == want - projection:
        reason = "changes the number of channels" if c_in != c_out else "halves height and width"
        return (f"{shape} has no projection shortcut, but it {reason}: x cannot be added to g(x) "
                f"unless the shortcut is a 1x1 convolution with stride {stride} followed by "
                f"batch norm")
    if not projected and got == want + projection:
        return f"{shape} keeps the shape, so its shortcut is the identity: no projection"
    if projected and got == want - 2 * c_out:
        return "the projection is a 1x1 convolution followed by a batch norm; the batch norm is missing"
    if got == want + 2 * c_out + (c_out if projected else 0):
        return "the convolutions are followed by batch norm, so they take bias=False"
    return (f"expected {want:,} parameters: two 3x3 convolutions without bias, two batch norms"
            + (", and a 1x1 convolution + batch norm projection" if projected else ""))


def _copy_by_order(source: nn.Module, target: nn.Module) -> None:
    with torch.no_grad():
        for s, t in zip(source.state_dict().values(), target.state_dict().values()):
            t.copy_(s)


@exercise("13.1 residual block with its own shortcut")
def check_residual_block(Residual: type) -> str:
    """Check `Residual(in_channels, out_channels, stride=1)`: the chapter's basic block that uses
    the identity shortcut when the shape is unchanged and a 1x1 convolution (with the stride) plus
    batch norm when the channels or the stride change; layers registered in the order conv1, bn1,
    conv2, bn2, then the projection's conv and bn (13_resnet)."""
    gen = torch.Generator().manual_seed(13)
    name = getattr(Residual, "__name__", "Residual")
    for c_in, c_out, stride, projected in _BLOCK_CASES:
        shape = f"{name}({c_in}, {c_out}, stride={stride})"
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(13)
            block = call(Residual, c_in, c_out, stride=stride)
            ref = _Reference(c_in, c_out, stride)
        require(isinstance(block, nn.Module),
                f"{shape} built a {type(block).__name__}: write a class that subclasses nn.Module")
        require(type(block).forward is not nn.Module.forward,
                f"{name} has no forward method (nn.Module calls only a method named exactly "
                f"forward): define forward(self, x)")
        got = sum(p.numel() for p in block.parameters())
        want = sum(p.numel() for p in ref.parameters())
        require(got == want, f"{shape} has {got:,} parameters: "
                             f"{_param_hint(got, name, c_in, c_out, stride, projected)}")
        mine = [tuple(t.shape) for t in block.state_dict().values()]
        theirs = [tuple(t.shape) for t in ref.state_dict().values()]
        require(mine == theirs,
                f"{shape}: its parameters and buffers come in a different order or shape than "
                f"conv1, bn1, conv2, bn2, projection conv, projection bn; register the layers in "
                f"that order (the check copies weights by position)")
        with torch.no_grad():  # make every layer matter: random BN scales, shifts and statistics
            for m in ref.modules():
                if isinstance(m, nn.BatchNorm2d):
                    m.weight.uniform_(0.5, 1.5, generator=gen)
                    m.bias.uniform_(-0.5, 0.5, generator=gen)
                    m.running_mean.uniform_(-0.2, 0.2, generator=gen)
                    m.running_var.uniform_(0.5, 1.5, generator=gen)
        _copy_by_order(ref, block)
        X = torch.randn(5, c_in, 7, 7, generator=gen)
        for mode in ("train", "eval"):
            block.train(mode == "train")
            ref.train(mode == "train")
            with torch.no_grad():
                want_y = ref(X)
                got_y = call(block, X)
            require(isinstance(got_y, torch.Tensor) and got_y.shape == want_y.shape,
                    f"{shape} maps a (5, {c_in}, 7, 7) input to "
                    f"{tuple(got_y.shape) if isinstance(got_y, torch.Tensor) else type(got_y).__name__}"
                    f", expected {tuple(want_y.shape)}: the first 3x3 convolution and the "
                    f"projection carry the stride, the first 3x3 one has padding=1")
            if matches(got_y, want_y):
                continue
            for variant, hint in _BLOCK_HINTS.items():
                ref.variant = variant
                with torch.no_grad():
                    slip = matches(got_y, ref(X))
                ref.variant = "right"
                if slip:
                    raise ExerciseFailed(f"{shape} in {mode} mode: {hint}")
            raise ExerciseFailed(
                f"{shape} in {mode} mode computes something else than "
                f"relu(shortcut(x) + bn2(conv2(relu(bn1(conv1(x)))))): check each layer's place")
    return ("identity shortcut when the shape is kept, projection when the channels or the stride "
            "change; same outputs as the chapter's block in train and eval mode")


# ---------------------------------------------------------------------------------------------
# 13.2 parameters of a bottleneck block

def _bottleneck(c_in: int, width: int, stride: int, *, bn: bool = True, bias: bool = False,
                k2: int = 9, expansion: int = 4, stride_projects: bool = True,
                projection: bool = True) -> int:
    out = expansion * width
    count = c_in * width + k2 * width * width + width * out
    if bias:
        count += width + width + out
    if bn:
        count += 2 * (width + width + out)
    needs = (stride != 1 and stride_projects) or c_in != out
    if projection and needs:
        count += c_in * out + (out if bias else 0) + (2 * out if bn else 0)
    return count


# (in_channels, width, stride): the identity block of stage 1, the first blocks of stages 1 and 2
# (projection for the channels; for channels and stride), a projection for the stride alone, and
# an identity block of stage 3
_BOTTLENECK_CASES = [(256, 64, 1), (64, 64, 1), (256, 128, 2), (512, 128, 2), (1024, 256, 1)]


@exercise("13.2 bottleneck parameters")
def check_bottleneck_params(bottleneck_params: Callable[[int, int, int], int]) -> str:
    """Check `bottleneck_params(in_channels, width, stride)`: the number of parameters of the
    chapter's `Bottleneck` block (1x1, 3x3, 1x1 convolutions without bias, each followed by batch
    norm, expansion 4, projection shortcut when the channels or the stride change) (13_resnet)."""
    for c_in, width, stride in _BOTTLENECK_CASES:
        case = f"bottleneck_params({c_in}, {width}, {stride})"
        want = _bottleneck(c_in, width, stride)
        got = whole_number(call(bottleneck_params, c_in, width, stride), case)
        if got == want:
            continue
        out = 4 * width
        if got == _bottleneck(c_in, width, stride, bn=False):
            hint = (f"the batch norms are missing: each has a scale and a shift per channel, "
                    f"2 * ({width} + {width} + {out}) for the branch (plus 2 * {out} for a projection)")
        elif got == _bottleneck(c_in, width, stride, bias=True):
            hint = "the convolutions have bias=False: the batch norm after each makes a bias useless"
        elif got == _bottleneck(c_in, width, stride, k2=1):
            hint = f"the 3x3 convolution has 9 * {width} * {width} weights: k^2 per pair of channels"
        elif got == _bottleneck(c_in, width, stride, expansion=1):
            hint = f"the last 1x1 convolution expands to 4 * width = {out} channels"
        elif got == _bottleneck(c_in, width, stride, stride_projects=False):
            hint = (f"with stride {stride} the branch halves height and width, so the shortcut "
                    f"needs a 1x1 projection with stride {stride} even though {c_in} = 4 * {width}")
        elif got == _bottleneck(c_in, width, stride, projection=False):
            hint = (f"the block turns {c_in} channels into {out}"
                    + (f" and halves the side" if stride != 1 else "")
                    + f": the shortcut is a 1x1 convolution ({c_in} * {out} weights) plus batch norm")
        elif c_in == out and stride == 1 and got == want + c_in * out + 2 * out:
            hint = f"the block keeps {c_in} channels and the side: its shortcut is the identity"
        else:
            hint = ("count conv1 (1x1, in -> width), conv2 (3x3, width -> width), conv3 (1x1, "
                    "width -> 4 width), their three batch norms, and the projection when needed")
        raise ExerciseFailed(f"{case} returned {got:,}, expected {want:,}: {hint}")
    return (f"{len(_BOTTLENECK_CASES)} blocks, with identity and projection shortcuts; "
            f"Bottleneck(256, 64) has {_bottleneck(256, 64, 1):,} parameters")


# ---------------------------------------------------------------------------------------------
# 13.3 feature-map sides of ResNet-18

def _sides(side: int) -> list[int]:
    """Run the size-changing layers of resnet18 on a 1-channel probe and read off the sides."""
    x = torch.zeros(1, 1, side, side)
    x = F.conv2d(x, torch.zeros(1, 1, 7, 7), stride=2, padding=3)
    x = F.max_pool2d(x, 3, stride=2, padding=1)
    sides = [x.shape[-1], x.shape[-1]]  # after the stem; stage 1 keeps the side
    for _ in range(3):  # stages 2-4 open with a stride-2 3x3 convolution
        x = F.conv2d(x, torch.zeros(1, 1, 3, 3), stride=2, padding=1)
        sides.append(x.shape[-1])
    return sides


def _halving(side: int, pool: bool = True, stage1: bool = False) -> list[int]:
    """Typical wrong walks: floor halving, no stem pooling, a stage 1 that halves."""
    s = side // 2
    s = s // 2 if pool else s
    sides = [s, s // 2 if stage1 else s]
    for _ in range(3):
        sides.append(sides[-1] // 2)
    return sides


def _formula(side: int, pool: bool = True, stage1: bool = False) -> list[int]:
    def out(n: int, k: int, s: int, p: int) -> int:
        return (n + 2 * p - k) // s + 1
    s = out(side, 7, 2, 3)
    s = out(s, 3, 2, 1) if pool else s
    sides = [s, out(s, 3, 2, 1) if stage1 else s]
    for _ in range(3):
        sides.append(out(sides[-1], 3, 2, 1))
    return sides


_SIDE_CASES = [96, 224, 28, 33, 32, 1]


@exercise("13.3 ResNet-18 feature-map sides")
def check_resnet18_sides(resnet18_sides: Callable[[int], list[int]]) -> str:
    """Check `resnet18_sides(side)`: the sides of ResNet-18's feature maps after the stem and
    after each of the four stages, for a side x side input (13_resnet)."""
    for side in _SIDE_CASES:
        want = _sides(side)
        got = entries(call(resnet18_sides, side), f"resnet18_sides({side})",
                      "a list of five sides")
        got = [whole_number(g, f"resnet18_sides({side})") for g in got]
        if got == want:
            continue
        case = f"resnet18_sides({side}) returned {got}, expected {want}"
        if len(got) != 5:
            hint = "return five sides: after the stem and after each of the four stages"
        elif got in (_formula(side, pool=False), _halving(side, pool=False)):
            hint = ("the stem ends with a 3x3 max pooling with stride 2 (padding 1), which halves "
                    "the side again")
        elif got in (_formula(side, stage1=True), _halving(side, stage1=True)):
            hint = "stage 1 keeps the side: its blocks have stride 1 (the stem has already shrunk the image)"
        elif got == _halving(side):
            hint = ("halving with // rounds down, but a stride-2 layer with padding rounds up: "
                    "floor((n + 2p - k) / s) + 1 gives 7 -> 4 for a 3x3 convolution with padding 1")
        else:
            hint = ("apply floor((n + 2p - k) / s) + 1 to the stem's 7x7 convolution (s=2, p=3) and "
                    "3x3 max pooling (s=2, p=1), then to the stride-2 3x3 convolution (p=1) opening "
                    "stages 2, 3 and 4")
        raise ExerciseFailed(f"{case}: {hint}")
    imagenet, cifar = _sides(224)[-1], _sides(32)[-1]
    return (f"{len(_SIDE_CASES)} input sides, odd ones included; a 224x224 ImageNet image ends "
            f"at {imagenet}x{imagenet}, a 32x32 CIFAR-10 image at {cifar}x{cifar}")
