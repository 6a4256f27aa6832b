"""Chapter 14 exercise checks: the reference solutions pass, the stubs are "not attempted", and
the typical wrong answers fail with the hint meant for them."""

import numpy as np
import pytest
import torch
import torchvision
from torch import nn

from d2lmini.exercises import (ExerciseFailed, check_dense_forward, check_densenet_channels,
                               check_pool_first_transition)


def stub(*args):
    raise NotImplementedError


# 14.1 channels through a DenseNet

def densenet_channels(stem_channels, growth_rate, layers_per_block):
    channels, walk = stem_channels, []
    for i, num_layers in enumerate(layers_per_block):
        channels += num_layers * growth_rate
        walk.append(channels)
        if i < len(layers_per_block) - 1:
            channels //= 2
            walk.append(channels)
    return walk


def test_densenet_channels_reference_matches_torchvision():
    # torchvision's DenseNet-121 features: the channels after each block and transition
    with torch.device("meta"):
        features = torchvision.models.densenet121(weights=None).features
    seen = []
    for name, module in features.named_children():
        if name.startswith("denseblock"):
            last = list(module.children())[-1]
            seen.append(last.conv1.in_channels + last.conv2.out_channels)
        elif name.startswith("transition"):
            seen.append(module.conv.out_channels)
    assert densenet_channels(64, 32, (6, 12, 24, 16)) == seen


def test_densenet_channels_reference_passes(capsys):
    check_densenet_channels(densenet_channels)
    out = capsys.readouterr().out
    assert "14.1 channels through a DenseNet: correct" in out
    assert "DenseNet-121 hands 1024 channels to its classifier" in out


@pytest.mark.parametrize("form", [np.array, torch.tensor, tuple])
def test_densenet_channels_accepts_arrays_and_tensors(capsys, form):
    # issue 27: a numpy array (or a tensor) of counts was refused, unlike `number`'s rule
    check_densenet_channels(lambda stem, k, layers: form(densenet_channels(stem, k, layers)))
    assert "correct" in capsys.readouterr().out


def halving_with_round(stem, k, layers):
    # Python's round takes a half to the even neighbour: 13 / 2 and 9 / 2 round down like //,
    # 7 / 2 and 11 / 2 round up
    channels, walk = stem, []
    for i, n in enumerate(layers):
        channels += n * k
        walk.append(channels)
        if i < len(layers) - 1:
            channels = round(channels / 2)
            walk.append(channels)
    return walk


def test_densenet_channels_stub_is_not_attempted(capsys):
    check_densenet_channels(stub)
    assert "not attempted yet" in capsys.readouterr().out


def growth_only(stem, k, layers):
    return densenet_channels(0, k, layers)  # forgets the block input everywhere


def transition_after_last(stem, k, layers):
    walk = densenet_channels(stem, k, layers)
    return walk + [walk[-1] // 2]


def rounding_up(stem, k, layers):
    channels, walk = stem, []
    for i, n in enumerate(layers):
        channels += n * k
        walk.append(channels)
        if i < len(layers) - 1:
            channels = (channels + 1) // 2
            walk.append(channels)
    return walk


def blocks_only(stem, k, layers):
    return densenet_channels(stem, k, layers)[::2]


@pytest.mark.parametrize("wrong,hint", [
    (lambda stem, k, layers: [
        c for i, n in enumerate(layers)
        for c in ([n * k, n * k // 2] if i < len(layers) - 1 else [n * k])],
     "a dense block keeps its input"),
    (growth_only, "start the count from them"),
    (transition_after_last, "no transition after the last block"),
    (rounding_up, "rounding down"),
    # issue 27: accepted before (the checked odd counts were 13 and 9)
    (halving_with_round, r"densenet_channels\(3, 4, \(1, 2, 1\)\) returned \[7, 4, 12, 6, 10\], "
                         r"expected \[7, 3, 11, 5, 9\]: round\(c / 2\) is not c // 2"),
    (lambda stem, k, layers: densenet_channels(stem, k, [n - 1 for n in layers]), "off by one"),
    (blocks_only, "one after each of the 4 blocks and one after each of the 3 transitions"),
    (lambda stem, k, layers: [c + 1 for c in densenet_channels(stem, k, layers)], "c // 2"),
    (lambda stem, k, layers: 1024, "return a list"),
])
def test_densenet_channels_typical_mistakes(wrong, hint):
    with pytest.raises(ExerciseFailed, match=hint):
        check_densenet_channels(wrong)


# 14.2 the forward pass of a dense block

def dense_forward(x, layers):
    for layer in layers:
        x = torch.cat([x, layer(x)], dim=1)
    return x


def test_dense_forward_reference_passes(capsys):
    before = torch.get_rng_state()
    check_dense_forward(dense_forward)
    assert "14.2 the forward pass of a dense block: correct" in capsys.readouterr().out
    assert torch.equal(torch.get_rng_state(), before)


def test_dense_forward_stub_is_not_attempted(capsys):
    check_dense_forward(stub)
    assert "not attempted yet" in capsys.readouterr().out


def only_new(x, layers):
    outputs = []
    for layer in layers:
        new = layer(torch.cat([x] + outputs, dim=1))
        outputs.append(new)
    return torch.cat(outputs, dim=1) if outputs else x


def previous_only(x, layers):
    outputs = [x]
    for layer in layers:
        outputs.append(layer(outputs[-1]))
    return torch.cat(outputs, dim=1)


def new_first(x, layers):
    for layer in layers:
        x = torch.cat([layer(x), x], dim=1)
    return x


def batch_axis(x, layers):
    for layer in layers:
        x = torch.cat([x, layer(x)], dim=0)
    return x


def sums(x, layers):
    for layer in layers:
        new = layer(x)
        x = torch.cat([x, new], dim=1)
        x = x + 0.1
    return x


@pytest.mark.parametrize("wrong,hint", [
    (only_new, "the block input is missing from the output"),
    (previous_only, "not only the previous layer's output"),
    (new_first, "the channels are in the wrong order"),
    (batch_axis, "wrong number of channels|concatenate along the channel axis"),
    (sums, "the values differ"),
    (lambda x, layers: x.tolist(), "return the tensor"),
])
def test_dense_forward_typical_mistakes(wrong, hint):
    with pytest.raises(ExerciseFailed, match=hint):
        check_dense_forward(wrong)


# 14.3 transition that pools first

def pool_first_transition(in_channels, out_channels):
    return nn.Sequential(nn.BatchNorm2d(in_channels), nn.ReLU(), nn.AvgPool2d(2, 2),
                         nn.Conv2d(in_channels, out_channels, 1, bias=False))


def test_pool_first_transition_reference_passes(capsys):
    before = torch.get_rng_state()
    check_pool_first_transition(pool_first_transition)
    out = capsys.readouterr().out
    assert "14.3 transition that pools first: correct" in out
    # 3 images, 4 x 8 weights, at 4x4 pooled positions instead of 8x8
    assert f"{3 * 4 * 8 * 16:,} multiply-adds instead of the {3 * 4 * 8 * 64:,}" in out
    assert torch.equal(torch.get_rng_state(), before)


class PoolFirstModule(nn.Module):
    """A valid answer as a class of its own, with the pooling done functionally."""

    def __init__(self, in_channels, out_channels):
        super().__init__()
        self.norm = nn.BatchNorm2d(in_channels)
        self.proj = nn.Conv2d(in_channels, out_channels, 1, bias=False)

    def forward(self, x):
        return self.proj(nn.functional.avg_pool2d(torch.relu(self.norm(x)), 2))


def test_pool_first_transition_accepts_a_module_of_its_own(capsys):
    check_pool_first_transition(PoolFirstModule)
    assert "14.3 transition that pools first: correct" in capsys.readouterr().out


class NoForward(nn.Module):
    def __init__(self, in_channels, out_channels):
        super().__init__()
        self.norm = nn.BatchNorm2d(in_channels)
        self.proj = nn.Conv2d(in_channels, out_channels, 1, bias=False)


class Misspelled(NoForward):
    def foward(self, x):  # a typo: nn.Module never calls it
        return self.proj(nn.functional.avg_pool2d(torch.relu(self.norm(x)), 2))


def test_pool_first_transition_stub_is_not_attempted(capsys):
    check_pool_first_transition(stub)
    assert "not attempted yet" in capsys.readouterr().out


def with_layers(*make):
    return lambda c_in, c_out: nn.Sequential(*(m(c_in, c_out) for m in make))


BN = lambda c_in, c_out: nn.BatchNorm2d(c_in)  # noqa: E731
RELU = lambda c_in, c_out: nn.ReLU()  # noqa: E731
AVG = lambda c_in, c_out: nn.AvgPool2d(2, 2)  # noqa: E731
CONV = lambda c_in, c_out: nn.Conv2d(c_in, c_out, 1, bias=False)  # noqa: E731


@pytest.mark.parametrize("wrong,hint", [
    (with_layers(BN, RELU, lambda c_in, c_out: nn.MaxPool2d(2, 2), CONV), "use average pooling"),
    (with_layers(AVG, BN, RELU, CONV), "pool after the batch norm and the ReLU"),
    (with_layers(BN, AVG, CONV), "keep the ReLU"),
    (with_layers(BN, RELU, AVG, lambda c_in, c_out: nn.Conv2d(c_in, c_out, 1)), "bias=False"),
    (with_layers(BN, RELU, lambda c_in, c_out: nn.AvgPool2d(2, 1), CONV), "halves height and width"),
    (with_layers(CONV, BN, RELU, AVG), "register the batch norm \\(over 8 channels\\) before"),
    (with_layers(BN, RELU, AVG), "a batch norm over the 8 input channels"),
    (with_layers(BN, RELU, AVG, lambda c_in, c_out: nn.Conv2d(c_in, c_out, 1, bias=False),
                 lambda c_in, c_out: nn.ReLU()), "computes something else"),
    (lambda c_in, c_out: "layer", "return an nn.Module"),
    (with_layers(BN, RELU, CONV, AVG), "still runs before the pooling, on all 8x8 positions"),
    (NoForward, "without a forward method .* named exactly forward"),
    (Misspelled, "without a forward method .* named exactly forward"),
])
def test_pool_first_transition_typical_mistakes(wrong, hint):
    with pytest.raises(ExerciseFailed, match=hint):
        check_pool_first_transition(wrong)
