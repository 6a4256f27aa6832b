"""Chapter 07 exercise checks: the reference solutions pass, the stubs are "not attempted", and
the typical wrong answers fail with the hint meant for them."""

import pytest
import torch

from d2lmini.exercises import (ExerciseFailed, check_batch_norm_sequence, check_fold_batch_norm,
                               check_running_stats_after)


def stub(*args):
    raise NotImplementedError


# 07.1 batch norm for sequences

def batch_norm_sequence(X, gamma, beta, eps):
    mean = X.mean(dim=(0, 2), keepdim=True)
    var = X.var(dim=(0, 2), keepdim=True, correction=0)
    return gamma.reshape(1, -1, 1) * (X - mean) / torch.sqrt(var + eps) + beta.reshape(1, -1, 1)


def test_sequence_reference_passes(capsys):
    check_batch_norm_sequence(batch_norm_sequence)
    assert "07.1 batch norm for sequences: correct" in capsys.readouterr().out


def test_sequence_reference_matches_batchnorm1d():
    # nn.BatchNorm1d accepts (N, C, L) too: the reference agrees with it in training mode
    bn = torch.nn.BatchNorm1d(3)
    X = torch.randn(4, 3, 6)
    torch.testing.assert_close(batch_norm_sequence(X, bn.weight, bn.bias, bn.eps), bn(X))


def test_sequence_stub_is_not_attempted(capsys):
    check_batch_norm_sequence(stub)
    assert "not attempted yet" in capsys.readouterr().out


def over(dims, correction=0, eps_inside=True):
    def norm(X, gamma, beta, eps):
        mean = X.mean(dim=dims, keepdim=True)
        var = X.var(dim=dims, keepdim=True, correction=correction)
        std = torch.sqrt(var + eps) if eps_inside else torch.sqrt(var)
        return gamma.reshape(1, -1, 1) * (X - mean) / std + beta.reshape(1, -1, 1)
    return norm


@pytest.mark.parametrize("wrong,hint", [
    (over((0,)), "over the batch axis only"),
    (over((1, 2)), "that is layer norm"),
    (over((2,)), "that is instance norm"),
    (over((0, 2), correction=1), "unbiased variance"),
    (over((0, 2), eps_inside=False), "nan or inf"),
    (lambda X, g, b, eps: batch_norm_sequence(X, g, b, eps) * 2, "differs from F.batch_norm"),
])
def test_sequence_typical_mistakes(wrong, hint):
    with pytest.raises(ExerciseFailed, match=hint):
        check_batch_norm_sequence(wrong)


# 07.2 fold batch norm into a dense layer

def fold_batch_norm(weight, bias, bn):
    scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
    return weight * scale[:, None], (bias - bn.running_mean) * scale + bn.bias


def test_fold_reference_passes(capsys):
    check_fold_batch_norm(fold_batch_norm)
    assert "07.2 fold batch norm into a dense layer: correct" in capsys.readouterr().out


def test_fold_stub_is_not_attempted(capsys):
    check_fold_batch_norm(stub)
    assert "not attempted yet" in capsys.readouterr().out


def divides_by_variance(weight, bias, bn):
    scale = bn.weight / (bn.running_var + bn.eps)
    return weight * scale[:, None], (bias - bn.running_mean) * scale + bn.bias


def forgets_eps(weight, bias, bn):
    scale = bn.weight / torch.sqrt(bn.running_var)
    return weight * scale[:, None], (bias - bn.running_mean) * scale + bn.bias


def bias_not_scaled(weight, bias, bn):
    scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
    return weight * scale[:, None], bias - bn.running_mean * scale + bn.bias


def scales_columns(weight, bias, bn):
    # broadcasting puts the scale along the last axis: right only by shape, for a square layer
    scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
    return weight * scale, (bias - bn.running_mean) * scale + bn.bias


@pytest.mark.parametrize("wrong,hint", [
    (divides_by_variance, "divide by its square root"),
    (forgets_eps, "without eps"),
    (bias_not_scaled, "the old bias goes through the normalization too"),
    (scales_columns, "scale the ROWS"),
    (lambda w, b, bn: (w, b), "substitute y = W x \\+ b"),
    (lambda w, b, bn: w, "return a pair of tensors"),
])
def test_fold_typical_mistakes(wrong, hint):
    with pytest.raises(ExerciseFailed, match=hint):
        check_fold_batch_norm(wrong)


# 07.3 running statistics after k batches

def running_stats_after(X, k, momentum):
    mean, var = torch.zeros(X.shape[1]), torch.ones(X.shape[1])
    for _ in range(k):
        mean = (1 - momentum) * mean + momentum * X.mean(dim=0)
        var = (1 - momentum) * var + momentum * X.var(dim=0, correction=1)
    return mean, var


def closed_form(X, k, momentum):
    keep = (1 - momentum) ** k
    return (1 - keep) * X.mean(dim=0), keep + (1 - keep) * X.var(dim=0)


@pytest.mark.parametrize("right", [running_stats_after, closed_form])
def test_running_stats_references_pass(capsys, right):
    check_running_stats_after(right)
    assert "07.3 running statistics after k batches: correct" in capsys.readouterr().out


def test_running_stats_stub_is_not_attempted(capsys):
    check_running_stats_after(stub)
    assert "not attempted yet" in capsys.readouterr().out


def variant(mean_start=0.0, var_start=1.0, new_weight=lambda m: m, correction=1):
    def stats(X, k, momentum):
        w = new_weight(momentum)
        mean, var = torch.full((X.shape[1],), mean_start), torch.full((X.shape[1],), var_start)
        for _ in range(k):
            mean = (1 - w) * mean + w * X.mean(dim=0)
            var = (1 - w) * var + w * X.var(dim=0, correction=correction)
        return mean, var
    return stats


@pytest.mark.parametrize("wrong,hint", [
    (variant(new_weight=lambda m: 1 - m), "weight of the NEW batch"),
    (variant(correction=0), "UNBIASED batch variance"),
    (variant(var_start=0.0), "starts at ones, not zeros"),
    (lambda X, k, m: (X.mean(dim=0), X.var(dim=0)), "you returned the batch mean"),
    (lambda X, k, m: running_stats_after(X, k, m)[0], "return a pair"),
])
def test_running_stats_typical_mistakes(wrong, hint):
    with pytest.raises(ExerciseFailed, match=hint):
        check_running_stats_after(wrong)
