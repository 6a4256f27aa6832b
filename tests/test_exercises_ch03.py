"""Chapter 03's exercise checks accept a right answer, report a stub as not attempted, and reject
the typical wrong answers with the hint meant for them."""

import pytest
import torch
import torch.nn.functional as F

from d2lmini.exercises import (ExerciseFailed, check_activation_derivatives, check_dead_units,
                               check_mlp_backward)


def stub(*args):
    raise NotImplementedError


@pytest.mark.parametrize("check", [check_activation_derivatives, check_mlp_backward,
                                   check_dead_units])
def test_stub_is_not_attempted(capsys, check):
    check(stub)
    check(None)
    assert capsys.readouterr().out.count("not attempted yet") == 2


# 03.1 sigmoid and tanh derivatives

def derivatives(z):
    s = 1 / (1 + torch.exp(-z))
    return s * (1 - s), 1 - torch.tanh(z) ** 2


def test_derivatives_right_answer(capsys):
    check_activation_derivatives(derivatives)
    assert "correct" in capsys.readouterr().out


@pytest.mark.parametrize("wrong,hint", [
    (lambda z: (z * (1 - z), 1 - torch.tanh(z) ** 2), "applied s\\(1 - s\\) to z itself"),
    (lambda z: (torch.sigmoid(z), 1 - torch.tanh(z) ** 2), "that is sigmoid\\(z\\) itself"),
    (lambda z: (derivatives(z)[0], 1 - z ** 2), "you squared z"),
    (lambda z: (derivatives(z)[0], 1 - torch.tanh(z)), "square the tanh"),
])
def test_derivatives_typical_mistakes(wrong, hint):
    with pytest.raises(ExerciseFailed, match=hint):
        check_activation_derivatives(wrong)


# 03.2 MLP backward pass by hand

def mlp_backward(X, y, W1, b1, W2, b2, mask=True, transpose=True, scale=1.0):
    Z = X @ W1 + b1
    H = torch.relu(Z)
    dO = (torch.softmax(H @ W2 + b2, dim=1) - F.one_hot(y, W2.shape[1]).float()) * scale
    dH = dO @ (W2.T if transpose else W2)
    dZ = dH * (Z > 0) if mask else dH
    return X.T @ dZ, dZ.sum(dim=0), H.T @ dO, dO.sum(dim=0)


def test_mlp_backward_right_answer(capsys):
    check_mlp_backward(mlp_backward)
    assert "correct" in capsys.readouterr().out


@pytest.mark.parametrize("wrong,hint", [
    (lambda *a: mlp_backward(*a, mask=False), "the ReLU mask is missing"),
    (lambda *a: mlp_backward(*a, transpose=False), r"dH = dO @ W2.T"),
    (lambda *a: mlp_backward(*a, scale=1 / len(a[0])), "you divided by n"),
    (lambda *a: mlp_backward(*a, scale=-1.0), "the sign is flipped"),
    (lambda *a: mlp_backward(*a)[:2] + (mlp_backward(*a)[2], mlp_backward(*a)[3].reshape(1, -1)),
     "sum the rows of the batch for a bias"),
])
def test_mlp_backward_typical_mistakes(wrong, hint):
    with pytest.raises(ExerciseFailed, match=hint):
        check_mlp_backward(wrong)


# 03.3 counting dead units

def dead_units(X, W, b):
    return int(((X @ W + b > 0).sum(dim=0) == 0).sum())


def test_dead_units_right_answer(capsys):
    check_dead_units(dead_units)
    assert "correct" in capsys.readouterr().out


@pytest.mark.parametrize("wrong,hint", [
    (lambda X, W, b: int(((X @ W + b < 0).all(dim=0)).sum()), "count z <= 0, not z < 0"),
    (lambda X, W, b: int(((X @ W + b <= 0).any(dim=0)).sum()), "silent on SOME row"),
    (lambda X, W, b: int(((X @ W + b <= 0).all(dim=1)).sum()), "counted rows"),
    (lambda X, W, b: int((X @ W + b <= 0).sum()), r"silent \(row, unit\) entries"),
])
def test_dead_units_typical_mistakes(wrong, hint):
    with pytest.raises(ExerciseFailed, match=hint):
        check_dead_units(wrong)
