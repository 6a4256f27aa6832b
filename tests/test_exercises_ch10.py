"""The exercise checks of 10_vgg: each accepts the reference solution, reports an untouched stub
as not attempted, and rejects the typical mistakes with a hint at the cause."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
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


def one_shared_relu(num_convs, in_channels, out_channels, kernel_size=3):
    relu, layers = nn.ReLU(), []  # one ReLU module, used after every convolution
    for _ in range(num_convs):
        layers += [nn.Conv2d(in_channels, out_channels, kernel_size,
                             padding=(kernel_size - 1) // 2), relu]
        in_channels = out_channels
    return nn.Sequential(*layers, nn.MaxPool2d(2, 2))


class FunctionalBlock(nn.Module):
    def __init__(self, num_convs, in_channels, out_channels, kernel_size):
        super().__init__()
        self.convs = nn.ModuleList(
            nn.Conv2d(in_channels if i == 0 else out_channels, out_channels, kernel_size,
                      padding="same") for i in range(num_convs))

    def forward(self, X):
        for conv in self.convs:
            X = F.relu(conv(X))
        return F.max_pool2d(X, 2)


def functional_block(num_convs, in_channels, out_channels, kernel_size=3):
    return FunctionalBlock(num_convs, in_channels, out_channels, kernel_size)


def inplace_relu_default_pool_stride(num_convs, in_channels, out_channels, kernel_size=3):
    layers = []
    for i in range(num_convs):
        layers.append(nn.Conv2d(out_channels if i else in_channels, out_channels, kernel_size,
                                padding=kernel_size // 2))
        layers.append(nn.ReLU(inplace=True))
    return nn.Sequential(*layers, nn.MaxPool2d(2))


def nested_sequentials(num_convs, in_channels, out_channels, kernel_size=3):
    convs = [nn.Sequential(nn.Conv2d(in_channels if i == 0 else out_channels, out_channels,
                                     kernel_size, padding=(kernel_size - 1) // 2), nn.ReLU())
             for i in range(num_convs)]
    return nn.Sequential(nn.Sequential(*convs), nn.MaxPool2d(kernel_size=2, stride=2))


@pytest.mark.parametrize("answer", [one_shared_relu, functional_block,
                                    inplace_relu_default_pool_stride, nested_sequentials])
def test_block_valid_answers(answer, capsys):
    ex.check_vgg_block_any_kernel(answer)
    assert "correct" in capsys.readouterr().out


def block_variant(pool=nn.MaxPool2d, relu_before=False, relu=nn.ReLU, relu_last_only=False):
    def vgg_block(num_convs, in_channels, out_channels, kernel_size=3):
        layers = []
        for i in range(num_convs):
            conv = nn.Conv2d(in_channels, out_channels, kernel_size, padding=(kernel_size - 1) // 2)
            last = i == num_convs - 1
            if relu_before:
                layers += [relu(), conv]
            elif relu_last_only and not last:
                layers += [conv]
            else:
                layers += [conv, relu()]
            in_channels = out_channels
        return nn.Sequential(*layers, pool(kernel_size=2, stride=2))
    return vgg_block


class MisspelledForward(nn.Module):
    def __init__(self, num_convs, in_channels, out_channels, kernel_size):
        super().__init__()
        self.body = one_shared_relu(num_convs, in_channels, out_channels, kernel_size)

    def foward(self, X):  # misspelled: nn.Module never calls it
        return self.body(X)


class UnfinishedForward(nn.Module):  # layers written, forward still the bare stub
    def __init__(self, num_convs, in_channels, out_channels, kernel_size):
        super().__init__()
        self.body = one_shared_relu(num_convs, in_channels, out_channels, kernel_size)

    def forward(self, X):
        raise NotImplementedError


def shared_conv(num_convs, in_channels, out_channels, kernel_size=3):
    first = nn.Conv2d(in_channels, out_channels, kernel_size, padding=(kernel_size - 1) // 2)
    again = nn.Conv2d(out_channels, out_channels, kernel_size, padding=(kernel_size - 1) // 2)
    layers = [first, nn.ReLU()] + [again, nn.ReLU()] * (num_convs - 1)
    return nn.Sequential(*layers, nn.MaxPool2d(2, 2))


def test_block_unfinished_forward_is_not_attempted(capsys):
    ex.check_vgg_block_any_kernel(
        lambda n, c_in, c_out, kernel_size=3: UnfinishedForward(n, c_in, c_out, kernel_size))
    assert "not attempted yet" in capsys.readouterr().out


@pytest.mark.parametrize("wrong,hint", [
    (block_variant(pool=nn.AvgPool2d), "pooled with the average"),
    (block_variant(relu_before=True), "after each convolution, not before it"),
    (block_variant(relu=nn.LeakyReLU), "computes other values than a VGG block"),
    (block_variant(relu=nn.Identity), "not followed by ReLUs"),
    (block_variant(relu_last_only=True), "only the last convolution"),
    (lambda n, c_in, c_out, kernel_size=3: MisspelledForward(n, c_in, c_out, kernel_size),
     "named exactly `forward"),
    (shared_conv, "share their weights"),
])
def test_block_behaviour_mistakes(wrong, hint):
    with pytest.raises(ExerciseFailed, match=hint):
        ex.check_vgg_block_any_kernel(wrong)


def test_block_stub(capsys):
    ex.check_vgg_block_any_kernel(stub)
    assert "not attempted yet" in capsys.readouterr().out


@pytest.mark.parametrize("wrong,hint", [
    (block_with(lambda k: 1), "padding 1 keeps the side only for 3 x 3 kernels"),
    (block_with(lambda k: 0), "the convolutions shrink the side"),
    (block_with(lambda k: (k - 1) // 2, pool=False), "max-pool with stride 2 is missing"),
    (block_with(lambda k: (k - 1) // 2, chain=False), "previous one's output channels"),
    (block_with(lambda k: (k - 1) // 2, relu=False), "not followed by ReLUs"),
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


@pytest.mark.parametrize("count", [np.int64(138_357_544), 138_357_544.0, torch.tensor(138_357_544)])
def test_vgg16_accepts_any_form_of_the_number(count, capsys):
    ex.check_vgg16_params(count)
    assert "correct" in capsys.readouterr().out


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
    (lambda: "138357544", "expected one number"),
    (lambda: 138_357_544.5, "a whole number"),
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


@pytest.mark.parametrize("convert", [float, np.int64, torch.tensor])
def test_rf_accepts_any_form_of_the_number(convert, capsys):
    ex.check_receptive_field_side(lambda layers: convert(receptive_field_side(layers)))
    assert "correct" in capsys.readouterr().out


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
    (lambda layers: receptive_field_side(layers) + 0.5, "a count is a whole number"),
    (lambda layers: str(receptive_field_side(layers)), "a count is a whole number"),
])
def test_rf_mistakes(wrong, hint):
    with pytest.raises(ExerciseFailed, match=hint):
        ex.check_receptive_field_side(wrong)
