"""Chapter 07 exercise checks: the reference solutions pass, the stubs are "not attempted", and
the typical wrong answers fail with the hint meant for them."""

import numpy as np
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


def over(dims, correction=0, eps_inside=True, fixed_eps=None):
    def norm(X, gamma, beta, eps):
        eps = eps if fixed_eps is None else fixed_eps
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
    (over((0, 2), eps_inside=False), "that of eps = 1e-5 or of no eps at all"),
    (over((0, 2), fixed_eps=1e-5), "that of eps = 1e-5 or of no eps at all"),
    (lambda X, g, b, eps: batch_norm_sequence(X, g, b, eps) * 2, "differs from F.batch_norm"),
])
def test_sequence_typical_mistakes(wrong, hint):
    with pytest.raises(ExerciseFailed, match=hint):
        check_batch_norm_sequence(wrong)


def eps_outside_the_root(X, gamma, beta, eps):
    mean = X.mean(dim=(0, 2), keepdim=True)
    var = X.var(dim=(0, 2), keepdim=True, correction=0)
    return gamma.reshape(1, -1, 1) * (X - mean) / (torch.sqrt(var) + eps) + beta.reshape(1, -1, 1)


def test_sequence_eps_outside_the_root_fails():
    with pytest.raises(ExerciseFailed, match="it goes under the square root"):
        check_batch_norm_sequence(eps_outside_the_root)


def test_sequence_in_float64(capsys):
    # issue 27: the hint selection crashed with "Double did not match Float"
    check_batch_norm_sequence(lambda X, g, b, eps: batch_norm_sequence(X.double(), g.double(),
                                                                        b.double(), eps))
    assert "correct" in capsys.readouterr().out
    with pytest.raises(ExerciseFailed, match="that is layer norm"):
        check_batch_norm_sequence(lambda X, g, b, eps: over((1, 2))(X.double(), g, b, eps))


def gamma_not_reshaped(X, gamma, beta, eps):
    mean = X.mean(dim=(0, 2), keepdim=True)
    var = X.var(dim=(0, 2), keepdim=True, correction=0)
    return (X - mean) / torch.sqrt(var + eps) * gamma + beta


def statistics_without_keepdim(X, gamma, beta, eps):
    mean, var = X.mean(dim=(0, 2)), X.var(dim=(0, 2), correction=0)
    return gamma.reshape(1, -1, 1) * (X - mean) / torch.sqrt(var + eps) + beta.reshape(1, -1, 1)


@pytest.mark.parametrize("wrong,hint", [
    # issue 27: torch's raw size error before, the reshape hint only when the shapes matched
    (gamma_not_reshaped, r"for X of shape \(4, 3, 7\), eps=1e-05: gamma and beta have shape "
                         r"\(C,\), and broadcasting lines a \(C,\) tensor up with the LAST axis.*"
                         r"\(PyTorch said: The size of tensor a \(7\) must match"),
    (statistics_without_keepdim, r"two tensors did not broadcast: .*keepdim=True.*\(PyTorch said: "),
])
def test_sequence_broadcasting_mistakes(wrong, hint):
    with pytest.raises(ExerciseFailed, match=hint):
        check_batch_norm_sequence(wrong)


def test_sequence_gamma_not_reshaped_where_it_broadcasts():
    # with L = C or L = 1 the slip raises nothing: the values (or the shape) show it
    with pytest.raises(ExerciseFailed, match=r"X of shape \(2, 5, 1\).*reshape them to \(1, C, 1\)"):
        check_batch_norm_sequence(lambda X, g, b, eps: batch_norm_sequence(X, g, b, eps)
                                  if X.shape[2] != 1 else gamma_not_reshaped(X, g, b, eps))


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


def hard_codes_eps(weight, bias, bn):
    scale = bn.weight / torch.sqrt(bn.running_var + 1e-5)  # PyTorch's default, not this layer's
    return weight * scale[:, None], (bias - bn.running_mean) * scale + bn.bias


def bias_not_scaled(weight, bias, bn):
    scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
    return weight * scale[:, None], bias - bn.running_mean * scale + bn.bias


def scales_columns(weight, bias, bn):
    # broadcasting puts the scale along the last axis: right only by shape, for a square layer
    scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
    return weight * scale, (bias - bn.running_mean) * scale + bn.bias


def test_fold_in_float64_or_numpy(capsys):
    # issue 27: the check crashed on a float64 answer ("mat1 and mat2 must have the same dtype")
    check_fold_batch_norm(lambda w, b, bn: tuple(t.detach().double() for t in fold_batch_norm(w, b, bn)))
    check_fold_batch_norm(lambda w, b, bn: tuple(t.detach().numpy() for t in fold_batch_norm(w, b, bn)))
    assert capsys.readouterr().out.count("correct") == 2
    with pytest.raises(ExerciseFailed, match="divide by its square root"):
        check_fold_batch_norm(lambda w, b, bn: tuple(t.double() for t in divides_by_variance(w, b, bn)))


def adds_eps_to_the_layer(weight, bias, bn):
    bn.running_var += bn.eps  # right values, but the layer passed in now holds another variance
    scale = bn.weight / torch.sqrt(bn.running_var)
    return weight * scale[:, None], (bias - bn.running_mean) * scale + bn.bias


def test_fold_leaves_the_layer_alone():
    with pytest.raises(ExerciseFailed, match="changed its argument `bn`'s running_var"):
        check_fold_batch_norm(adds_eps_to_the_layer)


@pytest.mark.parametrize("wrong,hint", [
    (divides_by_variance, "divide by its square root"),
    (forgets_eps, "without eps"),
    (hard_codes_eps, "read it off the layer"),
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


def as_lists(X, k, momentum):
    mean, var = running_stats_after(X, k, momentum)
    return mean.tolist(), var.tolist()  # python floats in lists


def as_numpy(X, k, momentum):
    mean, var = running_stats_after(X, k, momentum)
    return mean.numpy(), var.numpy().astype(np.float64)


def as_mixed_tuples(X, k, momentum):
    mean, var = running_stats_after(X, k, momentum)
    return tuple(np.float32(v) for v in mean.tolist()), tuple(torch.tensor(v) for v in var.tolist())


@pytest.mark.parametrize("right", [running_stats_after, closed_form, as_lists, as_numpy,
                                   as_mixed_tuples])
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
    (lambda X, k, m: tuple(t.tolist() for t in variant(correction=0)(X, k, m)), "UNBIASED batch variance"),
    (lambda X, k, m: (running_stats_after(X, k, m)[0].tolist()[:-1], running_stats_after(X, k, m)[1]),
     r"expected shape \(3,\)"),
    (lambda X, k, m: ([True, False, True], running_stats_after(X, k, m)[1]), "entry 0, gave bool"),
    (lambda X, k, m: ("0.1 0.2 0.3", running_stats_after(X, k, m)[1]), "expected a tensor, got str"),
])
def test_running_stats_typical_mistakes(wrong, hint):
    with pytest.raises(ExerciseFailed, match=hint):
        check_running_stats_after(wrong)
