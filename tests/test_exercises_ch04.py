"""Chapter 04's exercise checks accept a right answer, report a stub as not attempted, and reject
the typical wrong answers with the hint meant for them."""

import math

import numpy as np
import pytest
import torch

from d2lmini.exercises import (ExerciseFailed, check_dropout_moments, check_fold_bounds,
                               check_weight_decay_step)


def stub(*args):
    raise NotImplementedError


@pytest.mark.parametrize("check", [check_fold_bounds, check_weight_decay_step,
                                   check_dropout_moments])
def test_stub_is_not_attempted(capsys, check):
    check(stub)
    check(None)
    assert capsys.readouterr().out.count("not attempted yet") == 2


# 04.1 k-fold boundaries

def fold_bounds(n, k):
    bounds, start = [], 0
    for i in range(k):
        size = n // k + (1 if i < n % k else 0)
        bounds.append((start, start + size))
        start += size
    return bounds


@pytest.mark.parametrize("right", [
    fold_bounds,
    lambda n, k: [(float(a), float(b)) for a, b in fold_bounds(n, k)],  # whole floats
    lambda n, k: [[torch.tensor(a), np.int64(b)] for a, b in fold_bounds(n, k)],
    lambda n, k: [(int(p[0]), int(p[-1]) + 1) for p in torch.arange(n).tensor_split(k)],
])
def test_fold_bounds_right_answers(capsys, right):
    check_fold_bounds(right)
    assert "correct" in capsys.readouterr().out


@pytest.mark.parametrize("wrong,hint", [
    (lambda n, k: [(i * (n // k), (i + 1) * (n // k)) for i in range(k)], "never validate"),
    (lambda n, k: [(i * (n // k), (i + 1) * (n // k) if i < k - 1 else n) for i in range(k)],
     "absorbs the whole remainder"),
    (lambda n, k: [(i * math.ceil(n / k), (i + 1) * math.ceil(n / k)) for i in range(k)],
     "run past the end"),
    (lambda n, k: fold_bounds(n, k)[:-1], "folds instead of"),
    (lambda n, k: [(i * n / k, (i + 1) * n / k) for i in range(k)], "positions are whole numbers"),
    (lambda n, k: [("0", str(n))] * k, "expected one number"),
])
def test_fold_bounds_typical_mistakes(wrong, hint):
    with pytest.raises(ExerciseFailed, match=hint):
        check_fold_bounds(wrong)


@pytest.mark.parametrize("right", [
    lambda n, k: np.array(fold_bounds(n, k)),  # an (k, 2) array
    lambda n, k: torch.tensor(fold_bounds(n, k)),
    lambda n, k: [np.array(pair) for pair in fold_bounds(n, k)],
])
def test_fold_bounds_accepts_arrays_and_tensors(capsys, right):
    # issue 27: refused before, although `number` takes numpy scalars and arrays
    check_fold_bounds(right)
    assert "correct" in capsys.readouterr().out


def test_fold_bounds_says_what_to_return():
    with pytest.raises(ExerciseFailed, match=r"fold_bounds\(20, 5\) returned int 4: return a list "
                                             r"of k \(start, stop\) pairs \(as a list, a tuple, a "
                                             r"tensor or a numpy array\)"):
        check_fold_bounds(lambda n, k: n // k)
    with pytest.raises(ExerciseFailed, match=r"fold 0, has 3 entries"):
        check_fold_bounds(lambda n, k: [(a, b, 0) for a, b in fold_bounds(n, k)])


# 04.2 SGD step with weight decay

def weight_decay_step(w, b, grad_w, grad_b, lr, lambd):
    # the reference is the library's own update, so the check's formula is tested against it
    w, b = w.clone().requires_grad_(), b.clone().requires_grad_()
    w.grad, b.grad = grad_w, grad_b
    torch.optim.SGD([{"params": [w], "weight_decay": lambd}, {"params": [b]}], lr=lr).step()
    return w.detach(), b.detach()


def weight_decay_step_in_place(w, b, grad_w, grad_b, lr, lambd):
    w.mul_(1 - lr * lambd).sub_(lr * grad_w)
    b.sub_(lr * grad_b)
    return w, b


def test_weight_decay_step_right_answer(capsys):
    check_weight_decay_step(weight_decay_step)
    check_weight_decay_step(lambda w, b, gw, gb, lr, lambd: ((1 - lr * lambd) * w - lr * gw, b - lr * gb))
    check_weight_decay_step(lambda w, b, gw, gb, lr, lambd: (w - lr * (gw + lambd * w), b - lr * gb))
    check_weight_decay_step(weight_decay_step_in_place)
    assert capsys.readouterr().out.count("correct") == 4


def test_weight_decay_step_in_float64(capsys):
    # issue 27: the hint selection crashed with "Double did not match Float"
    check_weight_decay_step(lambda w, b, gw, gb, lr, lambd: (
        (1 - lr * lambd) * w.double() - lr * gw.double(), b.double() - lr * gb.double()))
    assert "correct" in capsys.readouterr().out
    with pytest.raises(ExerciseFailed, match="w did not decay"):
        check_weight_decay_step(lambda w, b, gw, gb, lr, lambd: (
            w.double() - lr * gw.double(), b.double() - lr * gb.double()))


def decays_through_the_gradient_in_place(w, b, grad_w, grad_b, lr, lambd):
    grad_w += lambd * w  # right step, but the caller's gradient now includes the penalty
    return w - lr * grad_w, b - lr * grad_b


def test_weight_decay_step_leaves_the_gradients_alone():
    with pytest.raises(ExerciseFailed, match="changed its argument `grad_w`"):
        check_weight_decay_step(decays_through_the_gradient_in_place)


@pytest.mark.parametrize("wrong,hint", [
    (lambda w, b, gw, gb, lr, lambd: (w - lr * (gw + lambd / 2 * w), b - lr * gb), "half as strong"),
    # issue 27: got only the generic formula before
    (lambda w, b, gw, gb, lr, lambd: ((1 + lr * lambd) * w - lr * gw, b - lr * gb),
     "the decay has the wrong sign: it grows w"),
    (lambda w, b, gw, gb, lr, lambd: ((1 - lambd) * w - lr * gw, b - lr * gb), "scaled by lr"),
    (lambda w, b, gw, gb, lr, lambd: (w - lr * gw, b - lr * gb), "w did not decay"),
    (lambda w, b, gw, gb, lr, lambd: ((1 - lr * lambd) * w - lr * gw, (1 - lr * lambd) * b - lr * gb),
     "you decayed the bias too"),
    (lambda w, b, gw, gb, lr, lambd: ((1 - lr * lambd) * (w - lr * gw), b - lr * gb), "after the data step"),
])
def test_weight_decay_step_typical_mistakes(wrong, hint):
    with pytest.raises(ExerciseFailed, match=hint):
        check_weight_decay_step(wrong)


# 04.3 mean and variance of inverted dropout

def dropout_moments(h, p):
    if p == 1:
        return 0.0, 0.0
    return h, h * h * p / (1 - p)


def dropout_moments_as_tensors(h, p):
    # the same answer written with torch: one-element tensors are numbers too
    h, p = torch.tensor(h, dtype=torch.float64), torch.tensor(p, dtype=torch.float64)
    if p == 1:
        return torch.zeros(()), torch.zeros(())
    return h, h**2 * p / (1 - p)


def test_dropout_moments_right_answers(capsys):
    check_dropout_moments(dropout_moments)
    check_dropout_moments(dropout_moments_as_tensors)
    check_dropout_moments(lambda h, p: (np.float64(0), np.float64(0)) if p == 1
                          else (np.float64(h), np.float64(h * h * p / (1 - p))))
    # issue 27: the pair as one array or tensor, like every other list of numbers
    check_dropout_moments(lambda h, p: np.array(dropout_moments(h, p)))
    check_dropout_moments(lambda h, p: torch.tensor(dropout_moments(h, p)))
    check_dropout_moments(lambda h, p: [0, 0] if p == 1 else [h, (1 - p) * (h / (1 - p)) ** 2 - h * h])
    assert capsys.readouterr().out.count("correct") == 6


def test_dropout_moments_agree_with_nn_dropout():
    # the formula the check expects, against a sampled nn.Dropout
    torch.manual_seed(0)
    h, p = 2.0, 0.3
    out = torch.nn.Dropout(p)(torch.full((1_000_000,), h))
    mean, var = dropout_moments(h, p)
    assert abs(out.mean().item() - mean) < 0.01 and abs(out.var().item() - var) < 0.02


@pytest.mark.parametrize("wrong,hint", [
    (lambda h, p: (h * (1 - p), h * h * p * (1 - p)), "without the 1 / \\(1 - p\\) scaling"),
    (lambda h, p: (h, h * h * p * (1 - p)) if p < 1 else (0.0, 0.0), "variance of the unscaled output"),
    (lambda h, p: (h, h * h / (1 - p)) if p < 1 else (0.0, 0.0), "subtract the squared mean"),
    (lambda h, p: (h, h * h * p / (1 - p)), "divided by 1 - p = 0"),
    (lambda h, p: (h * p, 0.0), "p is the probability of dropping"),
    (lambda h, p: (h, h * p / (1 - p)) if p < 1 else (0.0, 0.0), "scales with h\\^2, not h"),
    # p = 1: the mean h is kept although nothing survives
    (lambda h, p: (h, h * h * p / (1 - p)) if p < 1 else (h, 0.0), "the mean stays h only while"),
    (lambda h, p: dropout_moments(h, p) if p < 1 else (0.0, 1.0), "whatever h is, so both moments"),
    # torch divides by zero without raising
    (lambda h, p: (h, torch.tensor(h * h * p) / torch.tensor(1 - p)) if p == 1 else dropout_moments(h, p),
     "undefined here: no unit survives"),
    (lambda h, p: (math.nan, math.nan), "for p < 1 both moments are finite"),
    (lambda h, p: ("h", 0.0), "expected one number"),
    (lambda h, p: (True, 0.0), "expected one number"),
])
def test_dropout_moments_typical_mistakes(wrong, hint):
    with pytest.raises(ExerciseFailed, match=hint):
        check_dropout_moments(wrong)
