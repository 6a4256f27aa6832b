"""Chapter 12 exercise checks: the reference solutions pass, the stubs are "not attempted", and
the typical wrong answers fail with the hint meant for them."""

import numpy as np
import pytest
import torch
from torch import nn

from d2lmini.exercises import (ExerciseFailed, check_inception_factorized, check_inception_macs,
                               check_stacked_pool_channels)


def stub(*args):
    raise NotImplementedError


# 12.1 Inception multiply-adds

def inception_macs(c_in, c1, c2, c3, c4, h, w):
    return h * w * (c_in * c1 + c_in * c2[0] + 9 * c2[0] * c2[1] + c_in * c3[0]
                    + 25 * c3[0] * c3[1] + c_in * c4)


def test_inception_macs_reference_passes(capsys):
    check_inception_macs(inception_macs)
    out = capsys.readouterr().out
    assert "12.1 Inception multiply-adds: correct" in out
    # 144 positions times the block's 163,328 convolution weights (163,696 parameters minus 368
    # biases, as the notebook counts them)
    assert f"{144 * (163_696 - 368):,} multiply-adds with the reductions" in out


def test_inception_macs_reference_matches_torch():
    # the formula against the MACs counted from a real block's convolutions
    block = nn.ModuleList([nn.Conv2d(192, 64, 1), nn.Conv2d(192, 96, 1), nn.Conv2d(96, 128, 3),
                           nn.Conv2d(192, 16, 1), nn.Conv2d(16, 32, 5), nn.Conv2d(192, 32, 1)])
    weights = sum(m.weight.numel() for m in block)
    assert inception_macs(192, 64, (96, 128), (16, 32), 32, 12, 12) == 144 * weights


def test_inception_macs_stub_is_not_attempted(capsys):
    check_inception_macs(stub)
    assert "not attempted yet" in capsys.readouterr().out


@pytest.mark.parametrize("wrong,hint", [
    (lambda c_in, c1, c2, c3, c4, h, w: h * w * (c_in * c1 + 9 * c_in * c2[1]
                                                + 25 * c_in * c3[1] + c_in * c4),
     "read the c2\\[0\\] and c3\\[0\\] channels"),
    (lambda c_in, c1, c2, c3, c4, h, w: h * w * (c_in * c1 + 9 * c2[0] * c2[1]
                                                + 25 * c3[0] * c3[1] + c_in * c4),
     "the 1x1 reductions are convolutions too"),
    (lambda c_in, c1, c2, c3, c4, h, w: inception_macs(c_in, c1, c2, c3, 0, h, w),
     "fourth path's 1x1 convolution"),
    (lambda c_in, c1, c2, c3, c4, h, w: h * w * (c_in * c1 + c_in * c2[0] + 3 * c2[0] * c2[1]
                                                + c_in * c3[0] + 5 * c3[0] * c3[1] + c_in * c4),
     "k\\^2 weights per input channel"),
    (lambda c_in, c1, c2, c3, c4, h, w: inception_macs(c_in, c1, c2, c3, c4, 1, 1),
     "multiply by the h\\*w positions"),
    (lambda c_in, c1, c2, c3, c4, h, w: inception_macs(c_in, c1, c2, c3, c4, h, h),
     "h rows, w columns"),
    (lambda c_in, c1, c2, c3, c4, h, w: inception_macs(c_in, c1, c2, c3, c4, h, w) + 1,
     "add, over the six convolutions"),
    (lambda c_in, c1, c2, c3, c4, h, w: "a lot", "a count is a whole number"),
])
def test_inception_macs_typical_mistakes(wrong, hint):
    with pytest.raises(ExerciseFailed, match=hint):
        check_inception_macs(wrong)


# 12.2 Inception block with two 3x3 convolutions

def make_block(path3, pool_padding=1, order=(0, 1, 2, 3), last_relu=True, bias=True,
               relu_2a=True, pool=nn.MaxPool2d, relu_before_pool=False):
    """An InceptionFactorized class; the arguments build the typical mistakes."""

    class Block(nn.Module):
        def __init__(self, in_channels, c1, c2, c3, c4):
            super().__init__()
            self.p1 = nn.Sequential(nn.Conv2d(in_channels, c1, 1, bias=bias), nn.ReLU())
            self.p2 = nn.Sequential(nn.Conv2d(in_channels, c2[0], 1, bias=bias),
                                    nn.ReLU() if relu_2a else nn.Identity(),
                                    nn.Conv2d(c2[0], c2[1], 3, padding=1, bias=bias), nn.ReLU())
            self.p3 = path3(in_channels, c3, bias)
            head = [nn.ReLU()] if relu_before_pool else []
            tail = [nn.ReLU()] if last_relu else []
            self.p4 = nn.Sequential(*head, pool(3, stride=1, padding=pool_padding),
                                    nn.Conv2d(in_channels, c4, 1, bias=bias), *tail)

        def forward(self, x):
            outs = [self.p1(x), self.p2(x), self.p3(x), self.p4(x)]
            return torch.cat([outs[i] for i in order], dim=1)

    return Block


def two_3x3(in_channels, c3, bias):
    return nn.Sequential(nn.Conv2d(in_channels, c3[0], 1, bias=bias), nn.ReLU(),
                         nn.Conv2d(c3[0], c3[1], 3, padding=1, bias=bias), nn.ReLU(),
                         nn.Conv2d(c3[1], c3[1], 3, padding=1, bias=bias), nn.ReLU())


def one_5x5(in_channels, c3, bias):
    return nn.Sequential(nn.Conv2d(in_channels, c3[0], 1, bias=bias), nn.ReLU(),
                         nn.Conv2d(c3[0], c3[1], 5, padding=2, bias=bias), nn.ReLU())


def narrow_middle(in_channels, c3, bias):
    return nn.Sequential(nn.Conv2d(in_channels, c3[0], 1, bias=bias), nn.ReLU(),
                         nn.Conv2d(c3[0], c3[0], 3, padding=1, bias=bias), nn.ReLU(),
                         nn.Conv2d(c3[0], c3[1], 3, padding=1, bias=bias), nn.ReLU())


def unpadded(in_channels, c3, bias):
    return nn.Sequential(nn.Conv2d(in_channels, c3[0], 1, bias=bias), nn.ReLU(),
                         nn.Conv2d(c3[0], c3[1], 3, padding=1, bias=bias), nn.ReLU(),
                         nn.Conv2d(c3[1], c3[1], 3, bias=bias), nn.ReLU())


def no_relu_between_3x3(in_channels, c3, bias):
    return nn.Sequential(nn.Conv2d(in_channels, c3[0], 1, bias=bias), nn.ReLU(),
                         nn.Conv2d(c3[0], c3[1], 3, padding=1, bias=bias),
                         nn.Conv2d(c3[1], c3[1], 3, padding=1, bias=bias), nn.ReLU())


def no_relu_after_reduction(in_channels, c3, bias):
    return nn.Sequential(nn.Conv2d(in_channels, c3[0], 1, bias=bias),
                         nn.Conv2d(c3[0], c3[1], 3, padding=1, bias=bias), nn.ReLU(),
                         nn.Conv2d(c3[1], c3[1], 3, padding=1, bias=bias), nn.ReLU())


class Functional(nn.Module):
    """A valid answer written differently: other names and registration order, functional ReLUs,
    padding="same" and the paths kept in a ModuleList."""

    def __init__(self, in_channels, c1, c2, c3, c4):
        super().__init__()
        self.convs = nn.ModuleList([
            nn.Conv2d(in_channels, c4, 1),                      # path 4
            nn.Conv2d(c3[1], c3[1], 3, padding="same"),         # path 3, last
            nn.Conv2d(in_channels, c1, 1),                      # path 1
            nn.Conv2d(in_channels, c3[0], 1), nn.Conv2d(c3[0], c3[1], 3, padding="same"),
            nn.Conv2d(in_channels, c2[0], 1), nn.Conv2d(c2[0], c2[1], 3, padding="same")])

    def forward(self, x):
        relu, (p4, p3c, p1, p3a, p3b, p2a, p2b) = torch.relu, self.convs
        pooled = nn.functional.max_pool2d(x, 3, stride=1, padding=1)
        return torch.cat([relu(p1(x)), relu(p2b(relu(p2a(x)))),
                          relu(p3c(relu(p3b(relu(p3a(x)))))), relu(p4(pooled))], dim=1)


def test_inception_factorized_accepts_another_valid_answer(capsys):
    check_inception_factorized(Functional)
    assert "12.2 Inception block with two 3x3 convolutions: correct" in capsys.readouterr().out


def test_inception_factorized_reference_passes(capsys):
    before = torch.get_rng_state()
    check_inception_factorized(make_block(two_3x3))
    assert "12.2 Inception block with two 3x3 convolutions: correct" in capsys.readouterr().out
    assert torch.equal(torch.get_rng_state(), before)  # the check leaves the global RNG alone


class StubBlock(nn.Module):
    def __init__(self, in_channels, c1, c2, c3, c4):
        super().__init__()
        raise NotImplementedError

    def forward(self, x):
        raise NotImplementedError


def test_inception_factorized_stub_is_not_attempted(capsys):
    check_inception_factorized(StubBlock)
    assert "not attempted yet" in capsys.readouterr().out


class NoForward(nn.Module):
    def __init__(self, *args):
        super().__init__()
        self.inner = make_block(two_3x3)(*args)


class Misspelled(NoForward):
    def foward(self, x):  # a typo: nn.Module never calls it
        return self.inner(x)


@pytest.mark.parametrize("wrong,hint", [
    (make_block(one_5x5), "still has one 5x5 convolution"),
    (make_block(narrow_middle), "the first 3x3 convolution of path 3 should output c3\\[1\\]"),
    (make_block(two_3x3, bias=False), "keep the convolutions' biases"),
    (make_block(unpadded), "need padding=1"),
    (make_block(two_3x3, pool_padding=0), "need padding=1"),
    (make_block(two_3x3, order=(0, 2, 1, 3)), "concatenate the paths in the order path 1, path 2"),
    (make_block(two_3x3, last_relu=False), "followed by a ReLU"),
    (make_block(two_3x3, relu_2a=False), "path 2 needs a ReLU between its 1x1 and its 3x3"),
    (make_block(no_relu_between_3x3), "path 3 needs a ReLU between its two 3x3 convolutions"),
    (make_block(no_relu_after_reduction), "path 3 needs a ReLU after its 1x1 convolution too"),
    (make_block(two_3x3, pool=nn.AvgPool2d), "path 4 starts with a 3x3 max pooling"),
    (make_block(two_3x3, relu_before_pool=True), "no ReLU before the pooling"),
    (make_block(two_3x3, order=(3, 1, 2, 0)), "concatenates path 4, path 2, path 3, path 1"),
    (NoForward, "no forward method: define a method named exactly forward"),
    (Misspelled, "define a method named exactly forward"),
    (lambda *args: "a block", "subclasses nn.Module"),
])
def test_inception_factorized_typical_mistakes(wrong, hint):
    with pytest.raises(ExerciseFailed, match=hint):
        check_inception_factorized(wrong)


# 12.3 stacked blocks without the pool projection

def stacked_out_channels(in_channels, configs):
    widths = []
    for c1, c2, c3 in configs:
        in_channels = c1 + c2[1] + c3[1] + in_channels
        widths.append(in_channels)
    return widths


def test_stacked_pool_channels_reference_passes(capsys):
    check_stacked_pool_channels(stacked_out_channels)
    out = capsys.readouterr().out
    assert "12.3 stacked blocks without the pool projection: correct" in out
    assert "[928, 1376, 1824]" in out  # 480 + 448, then + 448, then + 448


@pytest.mark.parametrize("form", [np.array, torch.tensor, tuple])
def test_stacked_pool_channels_accepts_arrays_and_tensors(capsys, form):
    # issue 27: a numpy array (or a tensor) of counts was refused, unlike `number`'s rule
    check_stacked_pool_channels(lambda c, configs: form(stacked_out_channels(c, configs)))
    assert "correct" in capsys.readouterr().out


def test_stacked_pool_channels_reference_matches_real_blocks():
    # a max pooling path really passes every channel: build the blocks and look
    def block(in_channels, c1, c2, c3):
        paths = [nn.Conv2d(in_channels, c1, 1), nn.Conv2d(in_channels, c2[1], 3, padding=1),
                 nn.Conv2d(in_channels, c3[1], 5, padding=2), nn.MaxPool2d(3, 1, padding=1)]
        return lambda x: torch.cat([p(x) for p in paths], dim=1)

    configs = [(3, (4, 5), (2, 7)), (1, (2, 2), (1, 1))]
    x, widths = torch.randn(1, 8, 5, 5), []
    for config in configs:
        x = block(x.shape[1], *config)(x)
        widths.append(x.shape[1])
    assert stacked_out_channels(8, configs) == widths


def test_stacked_pool_channels_stub_is_not_attempted(capsys):
    check_stacked_pool_channels(stub)
    assert "not attempted yet" in capsys.readouterr().out


def first_input_only(in_channels, configs):
    return [c1 + c2[1] + c3[1] + in_channels for c1, c2, c3 in configs]


@pytest.mark.parametrize("wrong,hint", [
    (lambda in_channels, configs: [c1 + c2[1] + c3[1] for c1, c2, c3 in configs],
     "the pooling path is missing"),
    (first_input_only, "the previous block's output, not the first input"),
    (lambda in_channels, configs: stacked_out_channels(
        in_channels, [(c1, (c2[1], c2[0]), (c3[1], c3[0])) for c1, c2, c3 in configs]),
     "c2\\[0\\] and c3\\[0\\] are only the widths of the 1x1 reductions"),
    (lambda in_channels, configs: stacked_out_channels(in_channels, configs)[-1:],
     "one channel count per block"),
    (lambda in_channels, configs: 5, r"returned int 5: return a list .*\(as a list, a tuple, a "
                                     r"tensor or a numpy array\)"),
])
def test_stacked_pool_channels_typical_mistakes(wrong, hint):
    with pytest.raises(ExerciseFailed, match=hint):
        check_stacked_pool_channels(wrong)
