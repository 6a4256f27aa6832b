"""The exercise checks of 10_vgg: each accepts the reference solution, reports an untouched stub
as not attempted, and rejects the typical mistakes with a hint at the cause."""

import pytest
import torch
import torchvision
from torch import nn

import d2lmini as d2l
from d2lmini.exercises import ExerciseFailed

ex = d2l.exercises


def stub(*args, **kwargs):
    raise NotImplementedError


# 10.1 a VGG block for any odd kernel size --------------------------------------------------------

def block_with(padding, pool=True, chain=True, relu=True):
    def vgg_block(num_convs, in_channels, out_channels, kernel_size=3):
        layers = []
        for _ in range(num_convs):
            layers.append(nn.Conv2d(in_channels, out_channels, kernel_size,
                                    padding=padding(kernel_size)))
            if relu:
                layers.append(nn.ReLU())
            if chain:
                in_channels = out_channels
        if pool:
            layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
        return nn.Sequential(*layers)
    return vgg_block


def test_block_reference(capsys):
    ex.check_vgg_block_any_kernel(block_with(lambda k: (k - 1) // 2))
    assert "correct" in capsys.readouterr().out


def test_block_stub(capsys):
    ex.check_vgg_block_any_kernel(stub)
    assert "not attempted yet" in capsys.readouterr().out


@pytest.mark.parametrize("wrong,hint", [
    (block_with(lambda k: 1), "padding 1 keeps the side only for 3 x 3 kernels"),
    (block_with(lambda k: 0), "the convolutions shrink the side"),
    (block_with(lambda k: (k - 1) // 2, pool=False), "max-pool with stride 2 is missing"),
    (block_with(lambda k: (k - 1) // 2, chain=False), "previous one's output channels"),
    (block_with(lambda k: (k - 1) // 2, relu=False), "put one after every convolution"),
])
def test_block_mistakes(wrong, hint):
    with pytest.raises(ExerciseFailed, match=hint):
        ex.check_vgg_block_any_kernel(wrong)


def test_block_without_bias_is_caught():
    def vgg_block(num_convs, in_channels, out_channels, kernel_size=3):
        layers = []
        for _ in range(num_convs):
            layers += [nn.Conv2d(in_channels, out_channels, kernel_size,
                                 padding=(kernel_size - 1) // 2, bias=False), nn.ReLU()]
            in_channels = out_channels
        return nn.Sequential(*layers, nn.MaxPool2d(2, 2))
    with pytest.raises(ExerciseFailed, match="with a bias"):
        ex.check_vgg_block_any_kernel(vgg_block)


# 10.2 parameters of VGG-16 -----------------------------------------------------------------------

def test_vgg16_reference_equals_torchvision(capsys):
    with torch.device("meta"):
        count = d2l.num_params(torchvision.models.vgg16())
    ex.check_vgg16_params(count)
    assert "correct (138,357,544 parameters" in capsys.readouterr().out


def test_vgg16_stub(capsys):
    ex.check_vgg16_params(None)
    assert "not attempted yet" in capsys.readouterr().out


def torchvision_count(name):
    with torch.device("meta"):
        return d2l.num_params(getattr(torchvision.models, name)())


def one_channel_ten_classes():
    count, c_in = 0, 1
    for num_convs, c_out in ((2, 64), (2, 128), (3, 256), (3, 512), (3, 512)):
        for _ in range(num_convs):
            count += c_out * (9 * c_in + 1)
            c_in = c_out
    return count + 4096 * (25088 + 1) + 4096 * (4096 + 1) + 10 * (4096 + 1)


@pytest.mark.parametrize("count,hint", [
    (lambda: torchvision_count("vgg11"), "VGG-11's count"),
    (lambda: torchvision_count("vgg19"), "VGG-19's count"),
    (one_channel_ten_classes, "for 1 channel and 10 classes"),
    (lambda: 138_357_544 - sum((64, 64, 128, 128, 256, 256, 256, 512, 512, 512, 512,
                                         512, 512, 4096, 4096, 1000)), "left out the biases"),
    (lambda: 138_000_000, "is not the count"),
])
def test_vgg16_mistakes(count, hint):
    with pytest.raises(ExerciseFailed, match=hint):
        ex.check_vgg16_params(count())


# 10.3 receptive field of a stack of windows ------------------------------------------------------

def receptive_field_side(layers):
    side, jump = 1, 1
    for k, s in layers:
        side += (k - 1) * jump
        jump *= s
    return side


def test_rf_reference(capsys):
    ex.check_receptive_field_side(receptive_field_side)
    assert "sees 150 x 150 input pixels" in capsys.readouterr().out


def test_rf_reference_matches_a_measured_gradient():
    # the pixels an output depends on are those where its gradient is non-zero (all weights 1 and
    # average pooling, so that nothing cancels or is skipped)
    layers = [(3, 1), (2, 2), (3, 1), (2, 2), (3, 1)]
    modules = [nn.Conv2d(1, 1, k, bias=False) if s == 1 else nn.AvgPool2d(k, s) for k, s in layers]
    for m in modules:
        if isinstance(m, nn.Conv2d):
            nn.init.ones_(m.weight)
    X = torch.rand(1, 1, 40, 40, requires_grad=True)
    nn.Sequential(*modules)(X)[0, 0, 2, 2].backward()
    seen = X.grad[0, 0] != 0
    assert seen.any(dim=1).sum() == seen.any(dim=0).sum() == receptive_field_side(layers) == 18


def test_rf_stub(capsys):
    ex.check_receptive_field_side(stub)
    assert "not attempted yet" in capsys.readouterr().out


def ignores_strides(layers):
    return 1 + sum(k - 1 for k, _ in layers)


def stride_too_early(layers):
    side, jump = 1, 1
    for k, s in layers:
        jump *= s
        side += (k - 1) * jump
    return side


def starts_from_zero(layers):
    return receptive_field_side(layers) - 1


@pytest.mark.parametrize("wrong,hint", [
    (ignores_strides, "ignored the strides"),
    (stride_too_early, "includes the layer's own stride"),
    (starts_from_zero, "off by one"),
    (lambda layers: float(receptive_field_side(layers)), "return the side as an int"),
])
def test_rf_mistakes(wrong, hint):
    with pytest.raises(ExerciseFailed, match=hint):
        ex.check_receptive_field_side(wrong)
