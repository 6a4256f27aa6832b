"""Chapter 02's exercise checks accept a right answer, report a stub as not attempted, and reject
the typical wrong answers with the hint meant for them."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from d2lmini.exercises import (ExerciseFailed, check_accuracy_fraction,
                               check_cross_entropy_from_scores, check_cross_entropy_gradient,
                               check_stable_softmax)


def stub(*args):
    raise NotImplementedError


@pytest.mark.parametrize("check", [check_stable_softmax, check_cross_entropy_from_scores,
                                   check_accuracy_fraction, check_cross_entropy_gradient])
def test_stub_is_not_attempted(capsys, check):
    check(stub)
    check(None)
    assert capsys.readouterr().out.count("not attempted yet") == 2


# 02.1 stable softmax

def stable_softmax(O):
    E = torch.exp(O - O.max(dim=1, keepdim=True).values)
    return E / E.sum(dim=1, keepdim=True)


def test_stable_softmax_right_answer(capsys):
    check_stable_softmax(stable_softmax)
    assert "correct" in capsys.readouterr().out


@pytest.mark.parametrize("answer", [
    lambda O: torch.softmax(O, dim=1),
    lambda O: F.softmax(O, dim=-1),
    lambda O: torch.exp(O - torch.logsumexp(O, dim=1, keepdim=True)),
    lambda O: (lambda E: E / E.sum(dim=1, keepdim=True))(torch.exp(O - O.amax(dim=1, keepdim=True))),
    lambda O: stable_softmax(O.double()).float(),
])
def test_stable_softmax_other_right_answers(capsys, answer):
    check_stable_softmax(answer)
    assert "correct" in capsys.readouterr().out


def softmax_overwriting_scores(O):
    # right values, but the caller's scores become exps of shifted scores
    O -= O.max(dim=1, keepdim=True).values
    O.exp_()
    return O / O.sum(dim=1, keepdim=True)


def test_stable_softmax_that_overwrites_the_scores_is_rejected(capsys):
    # issue 27: this answer was accepted; the learner's next cell would see changed scores
    with pytest.raises(ExerciseFailed, match=r"changed its argument `O` \(a tensor of shape "
                                             r"\(4, 4\)\) in place"):
        check_stable_softmax(softmax_overwriting_scores)
    check_stable_softmax(lambda O: softmax_overwriting_scores(O.clone()))
    assert "correct" in capsys.readouterr().out


def no_shift(O):
    E = torch.exp(O)
    return E / E.sum(dim=1, keepdim=True)


def global_shift(O):
    E = torch.exp(O - O.max())
    return E / E.sum(dim=1, keepdim=True)


def wrong_axis(O):
    E = torch.exp(O - O.max(dim=0, keepdim=True).values)
    return E / E.sum(dim=0, keepdim=True)


def min_shift(O):
    E = torch.exp(O - O.min(dim=1, keepdim=True).values)
    return E / E.sum(dim=1, keepdim=True)


def mean_shift(O):
    E = torch.exp(O - O.mean(dim=1, keepdim=True))
    return E / E.sum(dim=1, keepdim=True)


def no_keepdim(O):
    E = torch.exp(O - O.max(dim=1).values)
    return E / E.sum(dim=1, keepdim=True)


@pytest.mark.parametrize("wrong,hint", [
    (no_shift, "returns nan or inf.*subtract each row's maximum"),
    (global_shift, "largest score of the whole tensor"),
    (wrong_axis, "you normalized each column"),
    (no_keepdim, "keepdim=True"),
    (min_shift, r"rows that span from -500 to 500 .*you subtracted each row's minimum"),
    (mean_shift, r"rows that span from -500 to 500 .*you subtracted each row's mean"),
])
def test_stable_softmax_typical_mistakes(wrong, hint):
    with pytest.raises(ExerciseFailed, match=hint):
        check_stable_softmax(wrong)


# 02.2 cross-entropy from scores

def cross_entropy_loss(O, y):
    shifted = O - O.max(dim=1, keepdim=True).values
    log_p = shifted - torch.log(torch.exp(shifted).sum(dim=1, keepdim=True))
    return -log_p[torch.arange(len(y)), y].mean()


def test_cross_entropy_right_answer(capsys):
    check_cross_entropy_from_scores(cross_entropy_loss)
    # numbers as learners write them: a Python float, a one-element tensor
    check_cross_entropy_from_scores(lambda O, y: cross_entropy_loss(O, y).item())
    check_cross_entropy_from_scores(lambda O, y: cross_entropy_loss(O, y).reshape(1))
    check_cross_entropy_from_scores(
        lambda O, y: (torch.logsumexp(O, dim=1) - O[torch.arange(len(y)), y]).mean())
    assert capsys.readouterr().out.count("correct") == 4


@pytest.mark.parametrize("wrong,hint", [
    (lambda O, y: -torch.log(stable_softmax(O)[torch.arange(len(y)), y]).mean(),
     "inf or nan: log of a softmax that underflowed"),
    (lambda O, y: -torch.log_softmax(O, dim=1)[torch.arange(len(y)), y].sum(), "you summed over the batch"),
    (lambda O, y: -torch.log_softmax(O, dim=1)[:, y].mean(), r"pick one entry per row"),
    (lambda O, y: torch.log_softmax(O, dim=1)[torch.arange(len(y)), y].mean(), "the sign is wrong"),
    (lambda O, y: F.cross_entropy(O, y, reduction="none"), "one loss per example"),
    (lambda O, y: -torch.log_softmax(O, dim=1),
     r"returned a tensor of shape \(5, 3\): return a single number"),
    (lambda O, y: -torch.log(stable_softmax(O)[torch.arange(len(y)), y]).mean().item(),
     "inf or nan: log of a softmax that underflowed"),
    (lambda O, y: "2.3", "gave str '2.3': expected one number"),
])
def test_cross_entropy_typical_mistakes(wrong, hint):
    with pytest.raises(ExerciseFailed, match=hint):
        check_cross_entropy_from_scores(wrong)


# 02.3 accuracy

def accuracy(y_hat, y):
    return (y_hat.argmax(dim=1) == y.reshape(-1)).float().mean().item()


def test_accuracy_right_answer(capsys):
    check_accuracy_fraction(accuracy)
    check_accuracy_fraction(lambda y_hat, y: (y_hat.argmax(dim=1) == y.reshape(-1)).float().mean())
    # numbers as learners write them: a numpy scalar, a Python division of counts
    check_accuracy_fraction(lambda y_hat, y: np.mean(y_hat.argmax(dim=1).numpy() == y.reshape(-1).numpy()))
    check_accuracy_fraction(lambda y_hat, y: int((y_hat.argmax(dim=1) == y.reshape(-1)).sum()) / len(y))
    assert capsys.readouterr().out.count("correct") == 4


@pytest.mark.parametrize("wrong,hint", [
    (lambda y_hat, y: (y_hat.argmax(dim=1) == y).float().mean().item(), r"broadcasts to an \(n, n\) table"),
    (lambda y_hat, y: (y_hat.argmax(dim=1) == y).sum().item() / len(y), r"broadcasts to an \(n, n\) table"),
    (lambda y_hat, y: (y_hat.argmax(dim=1) == y.reshape(-1)).sum().item(), "count of correct rows"),
    (lambda y_hat, y: (y_hat.argmin(dim=1) == y.reshape(-1)).float().mean().item(),
     "compare each row's argmax"),
    (lambda y_hat, y: (y_hat.argmax(dim=1) == y.reshape(-1)).float(), r"returned a tensor of shape \(5,\)"),
    (lambda y_hat, y: bool((y_hat.argmax(dim=1) == y.reshape(-1)).all()),
     "gave bool False: expected one number"),
    # issue 27: integer division got the generic hint before
    (lambda y_hat, y: int((y_hat.argmax(dim=1) == y.reshape(-1)).sum()) // len(y),
     r"3 // 5 = 0: `//` is integer \(floor\) division"),
    (lambda y_hat, y: (y_hat.argmax(dim=1) == y.reshape(-1)).sum() // len(y),
     r"3 // 5 = 0: `//` is integer \(floor\) division"),
])
def test_accuracy_typical_mistakes(wrong, hint):
    with pytest.raises(ExerciseFailed, match=hint):
        check_accuracy_fraction(wrong)


def test_accuracy_no_division_hint_for_an_answer_that_finds_no_hits():
    # 0 on every batch, also on one whose rows are all right: not a rounding, a missed comparison
    with pytest.raises(ExerciseFailed, match="compare each row's argmax") as err:
        check_accuracy_fraction(lambda y_hat, y: 0)
    assert "//" not in str(err.value)


# 02.4 gradient of cross-entropy

def cross_entropy_grad(O, y):
    return torch.softmax(O, dim=1) - F.one_hot(y, O.shape[1]).float()


def test_cross_entropy_gradient_right_answer(capsys):
    check_cross_entropy_gradient(cross_entropy_grad)
    assert "correct" in capsys.readouterr().out


@pytest.mark.parametrize("wrong,hint", [
    (lambda O, y: -cross_entropy_grad(O, y), "sign is flipped"),
    (lambda O, y: cross_entropy_grad(O, y) / len(y), "you divided by n"),
    (lambda O, y: torch.softmax(O, dim=1), "subtract one_hot"),
])
def test_cross_entropy_gradient_typical_mistakes(wrong, hint):
    with pytest.raises(ExerciseFailed, match=hint):
        check_cross_entropy_gradient(wrong)
