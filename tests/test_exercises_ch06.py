"""Chapter 06 exercise checks: the reference solutions pass, the stubs are "not attempted", and
the typical wrong answers fail with the hint meant for them."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from d2lmini.exercises import (ExerciseFailed, check_conv_transpose_output_size,
                               check_corr2d_padded, check_input_window)


def stub(*args):
    raise NotImplementedError


# 06.1 transposed convolution output size

@pytest.mark.parametrize("right", [
    lambda n, k, p, s: (n - 1) * s - 2 * p + k,
    lambda n, k, p, s: float((n - 1) * s - 2 * p + k),          # a whole number as a float
    lambda n, k, p, s: torch.tensor((n - 1) * s - 2 * p + k),   # or as a one-element tensor
])
def test_conv_transpose_output_size_references_pass(capsys, right):
    check_conv_transpose_output_size(right)
    assert "06.1 transposed convolution output size: correct" in capsys.readouterr().out


def test_conv_transpose_output_size_stub_is_not_attempted(capsys):
    check_conv_transpose_output_size(stub)
    assert "not attempted yet" in capsys.readouterr().out


@pytest.mark.parametrize("wrong,hint", [
    (lambda n, k, p, s: (n - 1) * s + k, "subtract 2p"),
    (lambda n, k, p, s: (n - 1) * s + k + 2 * p, "crops 2p rows instead of adding them"),
    (lambda n, k, p, s: n * s - 2 * p, "only the size of the upsampled grid"),
    (lambda n, k, p, s: (n - 1) * s - 2 * p + k - 1, "off by one"),
    (lambda n, k, p, s: (n - 1) * s - 2 * p + k + 0.5, "a count is a whole number"),
    (lambda n, k, p, s: str((n - 1) * s - 2 * p + k), "a count is a whole number"),
    # issue 27: the forward convolution's formula got the generic hint before
    (lambda n, k, p, s: (n + 2 * p - k) // s + 1,
     r"returned 3, but nn.ConvTranspose2d gives 7: that is the output size of the forward "
     r"convolution"),
])
def test_conv_transpose_output_size_typical_mistakes(wrong, hint):
    with pytest.raises(ExerciseFailed, match=hint):
        check_conv_transpose_output_size(wrong)


# 06.2 corr2d with padding and stride

def corr2d_padded(X, K, padding, stride):
    X = F.pad(X, (padding,) * 4)
    kh, kw = K.shape
    h = (X.shape[0] - kh) // stride + 1
    w = (X.shape[1] - kw) // stride + 1
    Y = torch.zeros(h, w)
    for i in range(h):
        for j in range(w):
            Y[i, j] = (X[i * stride:i * stride + kh, j * stride:j * stride + kw] * K).sum()
    return Y


def test_corr2d_padded_reference_passes(capsys):
    check_corr2d_padded(corr2d_padded)
    assert "06.2 corr2d with padding and stride: correct" in capsys.readouterr().out


def test_corr2d_padded_stub_is_not_attempted(capsys):
    check_corr2d_padded(stub)
    assert "not attempted yet" in capsys.readouterr().out


def padded_on_one_side(X, K, padding, stride):
    # all 2p zero rows on top and 2p columns on the left: the right size, the wrong windows
    return corr2d_padded(F.pad(X, (2 * padding, 0, 2 * padding, 0)), K, 0, stride)


def window_moves_one_pixel(X, K, padding, stride):
    # the output has the right size, but the window advances by one pixel instead of `stride`
    X = F.pad(X, (padding,) * 4)
    kh, kw = K.shape
    h = (X.shape[0] - kh) // stride + 1
    w = (X.shape[1] - kw) // stride + 1
    return torch.stack([torch.stack([(X[i:i + kh, j:j + kw] * K).sum() for j in range(w)])
                        for i in range(h)])


def width_from_kh(X, K, padding, stride, rows_too=False):
    # the output width computed with the kernel's height: right on every square kernel
    X = F.pad(X, (padding,) * 4)
    kh, kw = K.shape
    h = (X.shape[0] - (kw if rows_too else kh)) // stride + 1
    w = (X.shape[1] - kh) // stride + 1
    Y = torch.zeros(h, w)
    for i in range(h):
        for j in range(w):
            window = X[i * stride:i * stride + kh, j * stride:j * stride + kw]
            Y[i, j] = (window * K).sum() if window.shape == K.shape else 0.0
    return Y


def width_from_kh_crashing(X, K, padding, stride):
    X = F.pad(X, (padding,) * 4)
    kh, kw = K.shape
    h, w = (X.shape[0] - kh) // stride + 1, (X.shape[1] - kh) // stride + 1
    return torch.stack([torch.stack([(X[i * stride:i * stride + kh, j * stride:j * stride + kw]
                                      * K).sum() for j in range(w)]) for i in range(h)])


def test_corr2d_padded_other_right_answers(capsys):
    check_corr2d_padded(lambda X, K, p, s: F.conv2d(X[None, None].double(), K[None, None].double(),
                                                    padding=p, stride=s)[0, 0])
    check_corr2d_padded(lambda X, K, p, s: corr2d_padded(X, K, p, s).numpy())
    assert capsys.readouterr().out.count("correct") == 2


@pytest.mark.parametrize("wrong,hint", [
    # issue 27: accepted before, every checked kernel hid it (square, or a stride's floor)
    (width_from_kh, r"K of shape \(2, 4\), padding=1, stride=1 the output has shape \(7, 8\), "
                    r"expected \(7, 6\): the kernel is not square; check that .* kw = K.shape\[1\]"),
    (lambda X, K, p, s: width_from_kh(X, K, p, s, rows_too=True), "the kernel is not square"),
    (width_from_kh_crashing, r"a kernel that is not square: your function raised RuntimeError: .*"
                             r"check that the output height"),
    (lambda X, K, p, s: corr2d_padded(X, K, 0, s), "should have shape"),
    (lambda X, K, p, s: corr2d_padded(X, K, p, 1), "should have shape"),
    (lambda X, K, p, s: corr2d_padded(X, K.flip(0, 1), p, s), "true convolution"),
    (window_moves_one_pixel, r"starts at row i\*s"),
    (padded_on_one_side, "p zeros on every border"),
])
def test_corr2d_padded_typical_mistakes(wrong, hint):
    with pytest.raises(ExerciseFailed, match=hint):
        check_corr2d_padded(wrong)


# 06.3 input window of a unit

def input_window(layers, i):
    first, last = i, i
    for k, s, p in reversed(layers):
        first, last = first * s - p, last * s - p + k - 1
    return first, last


@pytest.mark.parametrize("right", [
    input_window,
    lambda layers, i: list(input_window(layers, i)),
    lambda layers, i: torch.tensor(input_window(layers, i)),
    lambda layers, i: tuple(float(r) for r in input_window(layers, i)),
    lambda layers, i: np.array(input_window(layers, i)),  # issue 27: refused before
])
def test_input_window_references_pass(capsys, right):
    check_input_window(right)
    assert "06.3 input window of a unit: correct" in capsys.readouterr().out


def test_input_window_matches_autograd_on_an_interior_unit():
    # the reference recursion against what the unit really depends on, for LeNet's encoder
    layers = [(5, 1, 2), (2, 2, 0), (5, 1, 0), (2, 2, 0)]
    net = torch.nn.Sequential(torch.nn.Conv2d(1, 1, 5, padding=2), torch.nn.AvgPool2d(2),
                              torch.nn.Conv2d(1, 1, 5), torch.nn.AvgPool2d(2))
    with torch.no_grad():
        for p in net.parameters():
            p.uniform_(0.1, 1.0)
    X = torch.rand(1, 1, 40, 40, requires_grad=True)
    (grad,) = torch.autograd.grad(net(X)[0, 0, 3, 3], X)
    rows = grad[0, 0].abs().sum(dim=1).nonzero().flatten()
    assert (rows.min().item(), rows.max().item()) == input_window(layers, 3)


def test_input_window_stub_is_not_attempted(capsys):
    check_input_window(stub)
    assert "not attempted yet" in capsys.readouterr().out


def no_padding(layers, i):
    return input_window([(k, s, 0) for k, s, _ in layers], i)


def no_strides(layers, i):
    return input_window([(k, 1, p) for k, _, p in layers], i)


def no_reach(layers, i):
    first, last = i, i
    for k, s, p in reversed(layers):
        first, last = first * s - p, last * s - p
    return first, last


def shifted(layers, i):
    # the right size, centred on the wrong row: padding subtracted once instead of per layer
    first, last = input_window(layers, i)
    return first + 1, last + 1


@pytest.mark.parametrize("wrong,hint", [
    (no_padding, "ignored the padding"),
    (no_strides, "ignored the strides"),
    (no_reach, "its last row is k - 1 below its first"),
    (shifted, "the window is shifted"),
    (lambda layers, i: input_window(layers, i)[0], "return a pair"),
    (lambda layers, i: (input_window(layers, i)[0] + 0.5, input_window(layers, i)[1]), "whole numbers"),
])
def test_input_window_typical_mistakes(wrong, hint):
    with pytest.raises(ExerciseFailed, match=hint):
        check_input_window(wrong)
