"""The exercise checks of 11_nin: each accepts the reference solution, reports an untouched stub
as not attempted, and rejects the typical mistakes with a hint at the cause."""

import numpy as np
import pytest
import torch
from torch import nn

import d2lmini as d2l
from d2lmini.exercises import ExerciseFailed

ex = d2l.exercises


def stub(*args):
    raise NotImplementedError


# 11.1 global average pooling by hand -------------------------------------------------------------

def test_gap_reference(capsys):
    ex.check_global_avg_pool(lambda X: X.mean(dim=(2, 3), keepdim=True))
    assert "correct" in capsys.readouterr().out


def test_gap_in_float64_or_numpy(capsys):
    # issue 27: the hint selection crashed on a float64 answer with "Double did not match Float"
    ex.check_global_avg_pool(lambda X: X.double().mean(dim=(2, 3), keepdim=True))
    ex.check_global_avg_pool(lambda X: X.numpy().mean(axis=(2, 3), keepdims=True))
    assert capsys.readouterr().out.count("correct") == 2
    with pytest.raises(ExerciseFailed, match="not by H or W alone"):
        ex.check_global_avg_pool(lambda X: X.double().sum(dim=(2, 3), keepdim=True) / X.shape[2])


def test_gap_reference_equals_the_library_layer():
    X = torch.randn(2, 3, 4, 5)
    torch.testing.assert_close(X.mean(dim=(2, 3), keepdim=True), d2l.GlobalAvgPool2d()(X))


def test_gap_stub(capsys):
    ex.check_global_avg_pool(stub)
    assert "not attempted yet" in capsys.readouterr().out


@pytest.mark.parametrize("wrong,hint", [
    (lambda X: X.mean(dim=(2, 3)), "use keepdim=True"),
    (lambda X: X.mean(), "averaged over the channels too"),
    (lambda X: X.mean(dim=(1, 2, 3), keepdim=True), "averaged over the channels too"),
    (lambda X: X.mean(dim=1, keepdim=True), "averaged over the wrong dims"),
    (lambda X: X.sum(dim=(2, 3), keepdim=True) / X.shape[2], "not by H or W alone"),
    (lambda X: X.amax(dim=(2, 3), keepdim=True), "not the per-channel means"),
])
def test_gap_mistakes(wrong, hint):
    with pytest.raises(ExerciseFailed, match=hint):
        ex.check_global_avg_pool(wrong)


# 11.2 a 1 x 1 convolution as a matrix product ----------------------------------------------------

def conv1x1(X, weight, bias):
    n, c_in, h, w = X.shape
    pixels = X.permute(0, 2, 3, 1).reshape(-1, c_in)
    Y = pixels @ weight.reshape(weight.shape[0], c_in).T + bias
    return Y.reshape(n, h, w, -1).permute(0, 3, 1, 2)


def test_conv1x1_reference(capsys):
    ex.check_conv1x1_by_matmul(conv1x1)
    assert "correct" in capsys.readouterr().out


def test_conv1x1_in_float64(capsys):
    # issue 27: the hint selection crashed on a float64 answer with "Double did not match Float"
    ex.check_conv1x1_by_matmul(lambda X, W, b: conv1x1(X.double(), W.double(), b.double()))
    assert "correct" in capsys.readouterr().out
    with pytest.raises(ExerciseFailed, match="the bias is missing"):
        ex.check_conv1x1_by_matmul(lambda X, W, b: conv1x1(X.double(), W.double(), 0 * b.double()))


def test_conv1x1_reference_equals_a_per_pixel_linear_layer():
    conv = nn.Conv2d(3, 4, kernel_size=1)
    dense = nn.Linear(3, 4)
    with torch.no_grad():
        dense.weight.copy_(conv.weight.reshape(4, 3))
        dense.bias.copy_(conv.bias)
        X = torch.randn(2, 3, 5, 6)
        torch.testing.assert_close(conv1x1(X, conv.weight, conv.bias),
                                   dense(X.permute(0, 2, 3, 1)).permute(0, 3, 1, 2))


def test_conv1x1_stub(capsys):
    ex.check_conv1x1_by_matmul(stub)
    assert "not attempted yet" in capsys.readouterr().out


def no_bias(X, weight, bias):
    return conv1x1(X, weight, torch.zeros_like(bias))


def transposed_weight(X, weight, bias):
    n, c_in, h, w = X.shape
    Y = X.permute(0, 2, 3, 1).reshape(-1, c_in) @ weight.reshape(-1, c_in) + bias
    return Y.reshape(n, h, w, -1).permute(0, 3, 1, 2)


def no_permute(X, weight, bias):
    n, c_in, h, w = X.shape
    Y = X.reshape(-1, c_in) @ weight.reshape(weight.shape[0], c_in).T + bias
    return Y.reshape(n, -1, h, w)


def channels_left_last(X, weight, bias):
    n, c_in, h, w = X.shape
    Y = X.permute(0, 2, 3, 1).reshape(-1, c_in) @ weight.reshape(weight.shape[0], c_in).T + bias
    return Y.reshape(n, h, w, -1)


@pytest.mark.parametrize("wrong,hint", [
    (no_bias, "the bias is missing"),
    (transposed_weight, "transposed weight"),
    (no_permute, "move the channels last"),
    (channels_left_last, "the channels come back to dim 1"),
])
def test_conv1x1_mistakes(wrong, hint):
    with pytest.raises(ExerciseFailed, match=hint):
        ex.check_conv1x1_by_matmul(wrong)


# 11.3 smallest input side of NiN -----------------------------------------------------------------

def nin_layers():  # the windows of the notebook's nin(); 1 x 1 convolutions and ReLUs keep shapes
    return nn.Sequential(
        nn.Conv2d(1, 96, 11, stride=4), nn.MaxPool2d(3, 2), nn.Conv2d(96, 256, 5, padding=2),
        nn.MaxPool2d(3, 2), nn.Conv2d(256, 384, 3, padding=1), nn.MaxPool2d(3, 2),
        nn.Conv2d(384, 10, 3, padding=1), d2l.GlobalAvgPool2d(), d2l.FlattenLayer())


def test_min_side_reference(capsys):
    ex.check_nin_min_side(67)
    assert "correct" in capsys.readouterr().out


def test_min_side_reference_is_what_the_network_accepts():
    with torch.device("meta"):
        net = nin_layers()
        assert net(torch.empty(1, 1, 67, 67)).shape == (1, 10)
        with pytest.raises(RuntimeError):
            net(torch.empty(1, 1, 66, 66))


@pytest.mark.parametrize("answer", [67.0, np.int64(67), torch.tensor(67)])
def test_min_side_accepts_any_form_of_the_number(answer, capsys):
    ex.check_nin_min_side(answer)
    assert "correct" in capsys.readouterr().out


def test_min_side_stub(capsys):
    ex.check_nin_min_side(None)
    assert "not attempted yet" in capsys.readouterr().out


@pytest.mark.parametrize("answer,hint", [
    (66, "a window no longer fits"),  # off by one
    (193, "a smaller side does too"),  # AlexNet's answer
    (224, "a smaller side does too"),
    (67.5, "a whole number of pixels"),
    ("67", "expected one number"),
])
def test_min_side_mistakes(answer, hint):
    with pytest.raises(ExerciseFailed, match=hint):
        ex.check_nin_min_side(answer)
