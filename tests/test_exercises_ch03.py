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
    check_activation_derivatives(lambda z: [d.double() for d in derivatives(z)])
    assert capsys.readouterr().out.count("correct") == 2


@pytest.mark.parametrize("wrong,hint", [
    (lambda z: (z * (1 - z), 1 - torch.tanh(z) ** 2), "applied s\\(1 - s\\) to z itself"),
    (lambda z: (torch.sigmoid(z), 1 - torch.tanh(z) ** 2), "that is sigmoid\\(z\\) itself"),
    (lambda z: (derivatives(z)[0], 1 - z ** 2), "you squared z"),
    (lambda z: (derivatives(z)[0], 1 - torch.tanh(z)), "square the tanh"),
    # issue 27: the swapped pair got "sigmoid'(z) = ..." before, blaming a right derivative
    (lambda z: derivatives(z)[::-1], r"both derivatives are right, but in swapped order: .* "
                                     r"\(dsigmoid, dtanh\)"),
    (lambda z: (derivatives(z)[1], derivatives(z)[1]), "that is tanh's derivative"),
])
def test_derivatives_typical_mistakes(wrong, hint):
    with pytest.raises(ExerciseFailed, match=hint):
        check_activation_derivatives(wrong)


# 03.2 backward pass of a tanh MLP by hand

def mlp_backward(X, y, W1, b1, W2, b2, slope="tanh", mean=True, transpose=True, sign=1.0):
    Z = X @ W1 + b1
    H = torch.tanh(Z)
    dO = sign * (torch.softmax(H @ W2 + b2, dim=1) - F.one_hot(y, W2.shape[1]).float())
    if mean:
        dO = dO / len(X)
    dH = dO @ (W2.T if transpose else W2)
    local = {"tanh": 1 - H**2, "relu": (Z > 0).float(), "z": 1 - Z**2, "sigmoid": H * (1 - H),
             "none": torch.ones_like(Z)}[slope]
    dZ = dH * local
    return X.T @ dZ, dZ.sum(dim=0), H.T @ dO, dO.sum(dim=0)


def mlp_backward_autograd(X, y, W1, b1, W2, b2):
    # a valid answer too: the check tests the numbers, not how they were found
    params = [p.requires_grad_() for p in (W1, b1, W2, b2)]
    loss = F.cross_entropy(torch.tanh(X @ params[0] + params[1]) @ params[2] + params[3], y)
    return list(torch.autograd.grad(loss, params))


def test_mlp_backward_right_answers(capsys):
    check_mlp_backward(mlp_backward)
    check_mlp_backward(mlp_backward_autograd)
    assert capsys.readouterr().out.count("correct") == 2


@pytest.mark.parametrize("wrong,hint", [
    (lambda *a: mlp_backward(*a, slope="relu"), "that is the ReLU mask of section 6"),
    (lambda *a: mlp_backward(*a, slope="z"), "you used 1 - Z\\^2"),
    (lambda *a: mlp_backward(*a, slope="sigmoid"), "the sigmoid's derivative"),
    (lambda *a: mlp_backward(*a, slope="none"), "step 3 is missing"),
    (lambda *a: mlp_backward(*a, transpose=False), r"dH = dO @ W2.T"),
    (lambda *a: mlp_backward(*a, mean=False), "gradient of the summed loss"),
    (lambda *a: mlp_backward(*a, sign=-1.0), "the sign is flipped"),
    (lambda *a: mlp_backward(*a)[:3] + (mlp_backward(*a)[3].reshape(1, -1),),
     "sum the rows of the batch for a bias"),
    (lambda *a: mlp_backward(*a)[:3], "return the four gradients"),
])
def test_mlp_backward_typical_mistakes(wrong, hint):
    with pytest.raises(ExerciseFailed, match=hint):
        check_mlp_backward(wrong)


def test_mlp_backward_forgotten_transpose_with_a_shape_error():
    # where W2 is not square the slip is a shape error; the feedback spells out the shapes
    def wrong(X, y, W1, b1, W2, b2):
        if W2.shape[0] != W2.shape[1]:
            return mlp_backward(X, y, W1, b1, W2, b2, transpose=False)
        return mlp_backward(X, y, W1, b1, W2, b2)
    with pytest.raises(ExerciseFailed, match="write down each shape"):
        check_mlp_backward(wrong)


# 03.3 counting dead units

def dead_units(X, W, b):
    return int(((X @ W + b > 0).sum(dim=0) == 0).sum())


@pytest.mark.parametrize("right", [
    dead_units,
    lambda X, W, b: (torch.relu(X @ W + b).amax(dim=0) == 0).sum(),  # a one-element tensor
    lambda X, W, b: float((X @ W + b <= 0).all(dim=0).sum()),  # a whole float
    lambda X, W, b: sum(1 for j in range(W.shape[1]) if (X @ W[:, j] + b[j]).max() <= 0),
])
def test_dead_units_right_answers(capsys, right):
    check_dead_units(right)
    assert "correct" in capsys.readouterr().out


@pytest.mark.parametrize("wrong,hint", [
    (lambda X, W, b: int(((X @ W + b < 0).all(dim=0)).sum()), "count z <= 0, not z < 0"),
    (lambda X, W, b: int(((X @ W + b <= 0).any(dim=0)).sum()), "silent on SOME row"),
    (lambda X, W, b: int(((X @ W + b > 0).any(dim=0)).sum()), "counted the living units"),
    (lambda X, W, b: int(((X @ W + b <= 0).all(dim=1)).sum()), "counted rows"),
    (lambda X, W, b: int((X @ W + b <= 0).sum()), r"silent \(row, unit\) entries"),
    (lambda X, W, b: int(((X @ W + b).sum(dim=0) <= 0).sum()), "a negative sum over the batch"),
    (lambda X, W, b: (X @ W + b <= 0).all(dim=0), "a count is a whole number"),
    (lambda X, W, b: 0.5, "a count is a whole number"),
])
def test_dead_units_typical_mistakes(wrong, hint):
    with pytest.raises(ExerciseFailed, match=hint):
        check_dead_units(wrong)


@pytest.mark.parametrize("wrong", [
    lambda X, W, b: 3,  # right on two of the batches by coincidence
    lambda X, W, b: 0,
    lambda X, W, b: int(((X @ W + b < 0).all(dim=0)).sum()) if len(X) > 1 else 0,
])
def test_dead_units_no_hint_for_a_coincidence(wrong):
    # an answer that matches a known slip on only some batches gets the general rule, not that
    # slip's hint
    with pytest.raises(ExerciseFailed, match="dead when none of its entries is positive"):
        check_dead_units(wrong)
