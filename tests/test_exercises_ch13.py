"""Chapter 13 exercise checks: the reference solutions pass, the stubs are "not attempted", and
the typical wrong answers fail with the hint meant for them."""

from collections import OrderedDict

import numpy as np
import pytest
import torch
import torchvision
from torch import nn

import d2lmini as d2l
from d2lmini.exercises import (ExerciseFailed, check_bottleneck_params, check_residual_block,
                               check_resnet18_sides)


def stub(*args, **kwargs):
    raise NotImplementedError


# 13.1 residual block with its own shortcut

def make_residual(project_when="shape", bias=False, projection_bn=True, forward="right"):
    """A Residual class; the arguments build the typical mistakes."""

    class Residual(nn.Module):
        def __init__(self, in_channels, out_channels, stride=1):
            super().__init__()
            self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=bias)
            self.bn1 = nn.BatchNorm2d(out_channels)
            self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=bias)
            self.bn2 = nn.BatchNorm2d(out_channels)
            needs = {"shape": stride != 1 or in_channels != out_channels,
                     "channels": in_channels != out_channels, "always": True}[project_when]
            if needs:
                layers = [nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=bias)]
                layers += [nn.BatchNorm2d(out_channels)] if projection_bn else []
                self.shortcut = nn.Sequential(*layers)
            else:
                self.shortcut = nn.Identity()

        def forward(self, x):
            if forward == "stride on conv2":  # same shapes: conv1 keeps the side, conv2 halves it
                h = torch.relu(self.bn1(nn.functional.conv2d(x, self.conv1.weight, padding=1)))
                g = self.bn2(nn.functional.conv2d(h, self.conv2.weight, stride=self.conv1.stride,
                                                  padding=1))
                return torch.relu(g + self.shortcut(x))
            h = torch.relu(self.bn1(self.conv1(x)))
            if forward == "add before bn2":
                return torch.relu(self.bn2(self.conv2(h) + self.shortcut(x)))
            g = self.bn2(self.conv2(h))
            if forward == "relu before add":
                return torch.relu(g) + self.shortcut(x)
            if forward == "no final relu":
                return g + self.shortcut(x)
            if forward == "relu twice":
                return torch.relu(torch.relu(g) + self.shortcut(x))
            if forward == "no inner relu":
                return torch.relu(self.bn2(self.conv2(self.bn1(self.conv1(x)))) + self.shortcut(x))
            return torch.relu(g + self.shortcut(x))

    return Residual


class ShortcutFirst(make_residual()):
    """Right computation, but the projection is registered before the branch."""

    def __init__(self, in_channels, out_channels, stride=1):
        nn.Module.__init__(self)
        if stride != 1 or in_channels != out_channels:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False),
                nn.BatchNorm2d(out_channels))
        else:
            self.shortcut = nn.Identity()
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)


class NoForward(nn.Module):
    def __init__(self, in_channels, out_channels, stride=1):
        super().__init__()
        self.inner = make_residual()(in_channels, out_channels, stride)


class Misspelled(NoForward):
    def foward(self, x):  # a typo: nn.Module never calls it
        return self.inner(x)


def test_residual_block_reference_passes(capsys):
    before = torch.get_rng_state()
    check_residual_block(make_residual())
    assert "13.1 residual block with its own shortcut: correct" in capsys.readouterr().out
    assert torch.equal(torch.get_rng_state(), before)


def test_residual_block_stub_is_not_attempted(capsys):
    check_residual_block(stub)
    assert "not attempted yet" in capsys.readouterr().out


@pytest.mark.parametrize("wrong,hint", [
    (make_residual(project_when="channels"), "it halves height and width: x cannot be added"),
    (make_residual(project_when="always"), "keeps the shape, so its shortcut is the identity"),
    (make_residual(bias=True), "bias=False"),
    (make_residual(projection_bn=False), "the batch norm is missing"),
    (make_residual(forward="add before bn2"), "before the second batch norm"),
    (make_residual(forward="relu before add"), "not relu\\(g\\(x\\)\\) \\+ shortcut\\(x\\)"),
    (make_residual(forward="no final relu"), "ends with a ReLU"),
    (make_residual(forward="relu twice"), "ends with bn2, without a ReLU"),
    (make_residual(forward="no inner relu"), "computes something else"),
    # issue 27: the generic "computes something else" before
    (make_residual(forward="stride on conv2"), r"\(4, 4, stride=2\) in train mode: the stride sits "
                                               r"on the second 3x3 convolution"),
    (ShortcutFirst, "register the layers in that order"),
    (NoForward, "has no forward method .* named exactly forward"),
    (Misspelled, "has no forward method .* named exactly forward"),
    (lambda *a, **k: "block", "subclasses nn.Module"),
])
def test_residual_block_typical_mistakes(wrong, hint):
    with pytest.raises(ExerciseFailed, match=hint):
        check_residual_block(wrong)


# 13.2 bottleneck parameters

def bottleneck_params(in_channels, width, stride):
    out = 4 * width
    count = in_channels * width + 9 * width * width + width * out + 2 * (width + width + out)
    if stride != 1 or in_channels != out:
        count += in_channels * out + 2 * out
    return count


@pytest.mark.parametrize("in_channels,width,stride", [(256, 64, 1), (64, 64, 1), (256, 128, 2),
                                                      (512, 128, 2), (1024, 256, 1)])
def test_bottleneck_reference_matches_torchvision(in_channels, width, stride):
    # torchvision's Bottleneck has the same layers (stride on the 3x3 convolution, "v1.5")
    tv = torchvision.models.resnet.Bottleneck
    downsample = None
    if stride != 1 or in_channels != 4 * width:
        downsample = nn.Sequential(nn.Conv2d(in_channels, 4 * width, 1, stride, bias=False),
                                   nn.BatchNorm2d(4 * width))
    with torch.device("meta"):
        block = tv(in_channels, width, stride, downsample)
    assert d2l.num_params(block) == bottleneck_params(in_channels, width, stride)


def test_bottleneck_params_reference_passes(capsys):
    check_bottleneck_params(bottleneck_params)
    out = capsys.readouterr().out
    assert "13.2 bottleneck parameters: correct" in out
    assert "Bottleneck(256, 64) has 70,400 parameters" in out  # 69,632 weights + 768 BN


def test_bottleneck_params_stub_is_not_attempted(capsys):
    check_bottleneck_params(stub)
    assert "not attempted yet" in capsys.readouterr().out


def no_bn(c, w, s):
    out = 4 * w
    return c * w + 9 * w * w + w * out + (c * out if s != 1 or c != out else 0)


def with_bias(c, w, s):
    out = 4 * w
    extra = w + w + out + (out if s != 1 or c != out else 0)
    return bottleneck_params(c, w, s) + extra


def channels_only(c, w, s):
    return bottleneck_params(c, w, 1)  # projects only when the channels change


def no_projection(c, w, s):
    out = 4 * w
    return c * w + 9 * w * w + w * out + 2 * (w + w + out)


@pytest.mark.parametrize("wrong,hint", [
    (no_bn, "the batch norms are missing"),
    (with_bias, "bias=False"),
    (lambda c, w, s: bottleneck_params(c, w, s) - 8 * w * w, "9 \\* 64 \\* 64 weights"),
    (lambda c, w, s: c * w + 9 * w * w + w * w + 6 * w + (c * w + 2 * w if c != w or s != 1 else 0),
     "expands to 4 \\* width"),
    (channels_only, "needs a 1x1 projection with stride 2 even though 512 = 4 \\* 128"),
    (no_projection, "the shortcut is a 1x1 convolution \\(64 \\* 256 weights\\)"),
    (lambda c, w, s: bottleneck_params(c, w, 2), "its shortcut is the identity"),
    (lambda c, w, s: bottleneck_params(c, w, s) + 1, "count conv1"),
    (lambda c, w, s: 1.5, "a count is a whole number"),
])
def test_bottleneck_params_typical_mistakes(wrong, hint):
    with pytest.raises(ExerciseFailed, match=hint):
        check_bottleneck_params(wrong)


# 13.3 ResNet-18 feature-map sides

def resnet18_sides(side):
    def out(n, k, s, p):
        return (n + 2 * p - k) // s + 1
    n = out(out(side, 7, 2, 3), 3, 2, 1)
    sides = [n, n]
    for _ in range(3):
        n = out(n, 3, 2, 1)
        sides.append(n)
    return sides


def small_resnet18():
    """The chapter's ResNet-18 layout at 1/16 of the width, enough to read off the shapes."""
    def block(c_in, c_out, stride):
        return torchvision.models.resnet.BasicBlock(
            c_in, c_out, stride, None if stride == 1 and c_in == c_out else nn.Sequential(
                nn.Conv2d(c_in, c_out, 1, stride, bias=False), nn.BatchNorm2d(c_out)))
    return nn.Sequential(OrderedDict(
        stem=nn.Sequential(nn.Conv2d(1, 4, 7, 2, 3, bias=False), nn.BatchNorm2d(4), nn.ReLU(),
                           nn.MaxPool2d(3, 2, 1)),
        stage1=nn.Sequential(block(4, 4, 1), block(4, 4, 1)),
        stage2=nn.Sequential(block(4, 8, 2), block(8, 8, 1)),
        stage3=nn.Sequential(block(8, 16, 2), block(16, 16, 1)),
        stage4=nn.Sequential(block(16, 32, 2), block(32, 32, 1))))


@pytest.mark.parametrize("side", [96, 224, 28, 33, 32, 1])
def test_resnet18_sides_reference_matches_a_real_network(side):
    net = small_resnet18().eval()
    with torch.no_grad():
        shapes = d2l.layer_shapes(net, torch.zeros(1, 1, side, side), verbose=False)
    assert [shape[-1] for _, shape in shapes] == resnet18_sides(side)


def test_resnet18_sides_reference_passes(capsys):
    check_resnet18_sides(resnet18_sides)
    out = capsys.readouterr().out
    assert "13.3 ResNet-18 feature-map sides: correct" in out
    assert "224x224 ImageNet image ends at 7x7" in out and "32x32 CIFAR-10 image at 1x1" in out


@pytest.mark.parametrize("form", [np.array, torch.tensor, tuple])
def test_resnet18_sides_accepts_arrays_and_tensors(capsys, form):
    # issue 27: a numpy array (or a tensor) of sides was refused, unlike `number`'s rule
    check_resnet18_sides(lambda side: form(resnet18_sides(side)))
    assert "correct" in capsys.readouterr().out


def test_resnet18_sides_stub_is_not_attempted(capsys):
    check_resnet18_sides(stub)
    assert "not attempted yet" in capsys.readouterr().out


def floor_halving(side):
    n = side // 4
    return [n, n, n // 2, n // 4, n // 8]


def no_pool(side):
    n = (side - 1) // 2 + 1
    return [n, n] + [(n - 1) // 2 ** k + 1 for k in (1, 2, 3)]


def stage1_halves(side):
    sides = resnet18_sides(side)
    n = sides[0]
    out = [n]
    for _ in range(4):
        n = (n - 1) // 2 + 1
        out.append(n)
    return out


@pytest.mark.parametrize("wrong,hint", [
    (floor_halving, "halving with // rounds down"),
    (no_pool, "ends with a 3x3 max pooling"),
    (stage1_halves, "stage 1 keeps the side"),
    (lambda side: resnet18_sides(side)[1:], "return five sides"),
    (lambda side: [s + 1 for s in resnet18_sides(side)], "apply floor"),
    (lambda side: 3, "return a list of five sides"),
])
def test_resnet18_sides_typical_mistakes(wrong, hint):
    with pytest.raises(ExerciseFailed, match=hint):
        check_resnet18_sides(wrong)
