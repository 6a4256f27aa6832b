"""Exercise checks for 07_batch_norm.ipynb."""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from ._core import ExerciseFailed, call, close, exercise, matches, number, require, value  # noqa: F401

__all__: list[str] = ["check_batch_norm_sequence", "check_fold_batch_norm",
                      "check_running_stats_after"]


def _standardized(X: torch.Tensor, dims: tuple[int, ...], gamma: torch.Tensor, beta: torch.Tensor,
                  eps: float, correction: int = 0) -> torch.Tensor:
    """(X - mean) / sqrt(var + eps) over `dims`, then gamma, beta per channel (axis 1)."""
    mean = X.mean(dim=dims, keepdim=True)
    var = X.var(dim=dims, keepdim=True, correction=correction)
    return (X - mean) / torch.sqrt(var + eps) * gamma.reshape(1, -1, 1) + beta.reshape(1, -1, 1)


# (N, C, L) shapes, each with its own eps, so that a hard-coded eps fails; the last case has a
# channel that is constant over the batch
_SEQ_SHAPES = [(4, 3, 7), (8, 2, 10), (2, 5, 1), (6, 4, 5)]
_SEQ_EPS = [1e-5, 0.1, 1e-3, 1e-5]


@exercise("07.1 batch norm for sequences")
def check_batch_norm_sequence(batch_norm_sequence: Callable[..., torch.Tensor]) -> str:
    """Check `batch_norm_sequence(X, gamma, beta, eps)`: training-mode batch normalization of a
    (N, C, L) input with per-channel statistics, against `F.batch_norm` (07_batch_norm)."""
    gen = torch.Generator().manual_seed(7)
    for i, (shape, eps) in enumerate(zip(_SEQ_SHAPES, _SEQ_EPS)):
        X = 3 * torch.randn(shape, generator=gen) + 2
        X[:, 0] *= 0.2  # a channel of small variance, where eps shows
        if i == len(_SEQ_SHAPES) - 1:
            X[:, 1] = 5.0  # a channel with zero variance in this batch
        C = shape[1]
        gamma, beta = torch.rand(C, generator=gen) + 0.5, torch.randn(C, generator=gen)
        want = F.batch_norm(X, None, None, gamma, beta, training=True, momentum=0.0, eps=eps)
        case = (f"X of shape {shape}, eps={eps}"
                + (" with channel 1 constant" if i == len(_SEQ_SHAPES) - 1 else ""))
        try:
            got = call(batch_norm_sequence, X.clone(), gamma.clone(), beta.clone(), eps)
        except ExerciseFailed as err:
            cause = err.__cause__  # what the learner's code raised
            if isinstance(cause, RuntimeError) and any(
                    text in str(cause) for text in ("must match the size", "expanded size")):
                raise ExerciseFailed(f"for {case}: {_broadcast_hint(batch_norm_sequence)} "
                                     f"(PyTorch said: {cause})") from None
            raise
        if matches(got, _flat_affine(X, gamma, beta, eps)) and not matches(got, want, atol=1e-4):
            raise ExerciseFailed(f"for {case}: {_UNRESHAPED}")
        if isinstance(got, torch.Tensor) and got.shape == want.shape and not torch.isfinite(got).all():
            raise ExerciseFailed(f"for {case} your output has nan or inf: a channel with zero "
                                 "variance divides by zero unless eps goes under the square root, "
                                 "sqrt(var + eps)")
        if isinstance(got, torch.Tensor) and got.shape == want.shape:
            for dims, hint in [
                ((0,), "you took statistics over the batch axis only, one pair per (channel, "
                       "position); a channel was made by one filter, so average over N AND L: "
                       "dims (0, 2)"),
                ((1, 2), "you took statistics per example (over C and L): that is layer norm; "
                         "batch norm averages each channel over the batch: dims (0, 2)"),
                ((2,), "you took statistics per example and channel (over L only): that is "
                       "instance norm; batch norm averages over the batch too: dims (0, 2)"),
            ]:
                wrong = _standardized(X, dims, gamma, beta, eps)
                if matches(got, wrong, atol=1e-4) and not matches(wrong, want, atol=1e-4):
                    raise ExerciseFailed(f"for {case}: {hint}")
            if eps > 1e-4 and any(matches(got, _standardized(X, (0, 2), gamma, beta, e), atol=1e-4)
                                  for e in (1e-5, 0.0)):
                raise ExerciseFailed(f"for {case} your output is that of eps = 1e-5 or of no eps "
                                     "at all: divide by sqrt(var + eps) with the `eps` argument")
            mean, var = X.mean(dim=(0, 2), keepdim=True), X.var(dim=(0, 2), keepdim=True, correction=0)
            eps_outside = ((X - mean) / (var.sqrt() + eps) * gamma.reshape(1, -1, 1)
                           + beta.reshape(1, -1, 1))
            if eps > 1e-4 and matches(got, eps_outside, atol=1e-4):
                raise ExerciseFailed(f"for {case} you added eps to the standard deviation: it goes "
                                     "under the square root, sqrt(var + eps)")
            if shape[0] * shape[2] > 1 and matches(
                    got, _standardized(X, (0, 2), gamma, beta, eps, correction=1), atol=1e-4):
                raise ExerciseFailed(f"for {case} you normalized with the unbiased variance "
                                     "(divide by n - 1); the batch is normalized with the biased "
                                     "one: X.var(..., correction=0)")
        close(got, want, f"for {case} the output differs from F.batch_norm in training mode: "
                         "per channel c, mean and biased variance over axes 0 and 2, then "
                         "gamma[c] * x_hat + beta[c] (reshape gamma and beta to (1, C, 1))",
              atol=1e-4)
    return (f"{len(_SEQ_SHAPES)} shapes and eps values against F.batch_norm, a constant channel "
            "included")


_UNRESHAPED = ("gamma and beta have shape (C,), and broadcasting lines a (C,) tensor up with the "
               "LAST axis of an (N, C, L) input, the positions, not the channels: reshape them "
               "to (1, C, 1), gamma.reshape(1, -1, 1), so that gamma[c] scales channel c")


def _flat_affine(X: torch.Tensor, gamma: torch.Tensor, beta: torch.Tensor, eps: float
                 ) -> torch.Tensor | None:
    """The right normalization followed by `* gamma + beta` with gamma and beta NOT reshaped
    (a typical slip), where broadcasting allows it (None where it raises)."""
    mean, var = X.mean(dim=(0, 2), keepdim=True), X.var(dim=(0, 2), keepdim=True, correction=0)
    try:
        return (X - mean) / torch.sqrt(var + eps) * gamma + beta
    except RuntimeError:
        return None


def _broadcast_hint(batch_norm_sequence: Callable[..., torch.Tensor]) -> str:
    """Feedback for a function that raised a broadcasting error: run it on a probe whose length
    L equals its channels C, where a gamma that was not reshaped broadcasts without an error,
    and name that slip if the output shows it."""
    gen = torch.Generator().manual_seed(77)
    X = 3 * torch.randn(4, 3, 3, generator=gen) + 2
    gamma, beta = torch.rand(3, generator=gen) + 0.5, torch.randn(3, generator=gen)
    try:
        probe = batch_norm_sequence(X.clone(), gamma.clone(), beta.clone(), 1e-5)
    except Exception:  # noqa: BLE001 (any error: the general hint below)
        probe = None
    if matches(probe, _flat_affine(X, gamma, beta, 1e-5)):
        return _UNRESHAPED
    return ("two tensors did not broadcast: against an (N, C, L) input, per-channel numbers must "
            "have shape (1, C, 1): keep the statistics' dims (keepdim=True) and reshape gamma and "
            "beta, gamma.reshape(1, -1, 1)")


# (d_in, d_out, eps): each layer its own eps, so that a hard-coded 1e-5 fails
_FOLD_CASES = [(4, 4, 1e-5), (6, 4, 0.1), (3, 5, 1e-3), (10, 2, 0.5)]


@exercise("07.2 fold batch norm into a dense layer")
def check_fold_batch_norm(fold_batch_norm: Callable[..., tuple[torch.Tensor, torch.Tensor]]) -> str:
    """Check `fold_batch_norm(weight, bias, bn)`: the weight and bias of one dense layer that
    computes `bn(linear(x))` with `bn` in evaluation mode (07_batch_norm)."""
    gen = torch.Generator().manual_seed(70)
    for d_in, d_out, eps in _FOLD_CASES:
        linear = nn.Linear(d_in, d_out)
        bn = nn.BatchNorm1d(d_out, eps=eps)
        with torch.no_grad():
            linear.weight.copy_(torch.randn(d_out, d_in, generator=gen))
            linear.bias.copy_(torch.randn(d_out, generator=gen))
            bn.weight.copy_(torch.rand(d_out, generator=gen) + 0.5)
            bn.bias.copy_(torch.randn(d_out, generator=gen))
            bn.running_mean.copy_(torch.randn(d_out, generator=gen))
            bn.running_var.copy_(torch.rand(d_out, generator=gen) * 4 + 0.1)
            bn.running_var[0] = 1e-6  # a nearly constant feature: eps matters here
        bn.eval()
        X = torch.randn(16, d_in, generator=gen)
        with torch.no_grad():
            want = bn(linear(X))
        case = f"a {d_in} -> {d_out} layer with bn.eps={eps}"
        got = call(fold_batch_norm, linear.weight.detach().clone(), linear.bias.detach().clone(), bn)
        require(isinstance(got, (tuple, list)) and len(got) == 2
                and all(isinstance(t, torch.Tensor) for t in got),
                f"for {case} fold_batch_norm returned {type(got).__name__}: return a pair of "
                "tensors (weight, bias)")
        W, b = got
        require(tuple(W.shape) == (d_out, d_in) and tuple(b.shape) == (d_out,),
                f"for {case} expected a weight of shape {(d_out, d_in)} and a bias of shape "
                f"{(d_out,)}, got {tuple(W.shape)} and {tuple(b.shape)}: scale the ROWS of the "
                "weight, one scale per output feature")
        with torch.no_grad():  # in one dtype, float64, whatever dtype the answer has
            out = F.linear(X.double(), W.detach().double(), b.detach().double())
        if not matches(out, want, atol=1e-4, rtol=1e-4):
            std = torch.sqrt(bn.running_var + bn.eps)
            with torch.no_grad():
                no_eps = F.linear(X, linear.weight * (bn.weight / bn.running_var.sqrt())[:, None],
                                  (linear.bias - bn.running_mean) * bn.weight / bn.running_var.sqrt()
                                  + bn.bias)
                fixed_std = torch.sqrt(bn.running_var + 1e-5)
                fixed_eps = F.linear(X, linear.weight * (bn.weight / fixed_std)[:, None],
                                     (linear.bias - bn.running_mean) * bn.weight / fixed_std + bn.bias)
                by_var = F.linear(X, linear.weight * (bn.weight / (bn.running_var + bn.eps))[:, None],
                                  (linear.bias - bn.running_mean) * bn.weight / (bn.running_var + bn.eps)
                                  + bn.bias)
                unscaled_bias = F.linear(X, linear.weight * (bn.weight / std)[:, None],
                                         linear.bias - bn.running_mean * bn.weight / std + bn.bias)
                columns = (F.linear(X, linear.weight * (bn.weight / std)[None, :],
                                    (linear.bias - bn.running_mean) * bn.weight / std + bn.bias)
                           if d_in == d_out else None)  # a shape error unless the layer is square
            if eps != 1e-5 and matches(out, fixed_eps, atol=1e-4, rtol=1e-4):
                hint = ("you used eps = 1e-5, but this layer was built with another eps: read it "
                        "off the layer, sqrt(bn.running_var + bn.eps)")
            elif matches(out, columns, atol=1e-4, rtol=1e-4):
                hint = ("you scaled the columns of the weight (one per INPUT): scale the ROWS, one "
                        "scale per output feature, weight * scale[:, None]")
            elif matches(out, by_var, atol=1e-4, rtol=1e-4):
                hint = "running_var is a variance: divide by its square root, sqrt(running_var + eps)"
            elif matches(out, no_eps, atol=1e-3, rtol=1e-3) or not torch.isfinite(out).all():
                hint = ("without eps a nearly constant feature (running_var 1e-6) is blown up: "
                        "divide by sqrt(running_var + bn.eps), as the layer does")
            elif matches(out, unscaled_bias, atol=1e-4, rtol=1e-4):
                hint = ("the old bias goes through the normalization too: "
                        "b' = (b - running_mean) * gamma / std + beta")
            else:
                hint = ("in eval mode bn(y) = gamma * (y - running_mean) / sqrt(running_var + eps) "
                        "+ beta; substitute y = W x + b and collect the terms")
            raise ExerciseFailed(f"for {case} the folded layer differs from bn(linear(x)) in eval "
                                 f"mode: {hint}")
    return (f"{len(_FOLD_CASES)} layers and eps values against bn(linear(x)) in eval mode, a "
            "near-zero variance included")


_RUN_CASES = [(8, 1, 0.1), (8, 3, 0.1), (4, 10, 0.1), (16, 5, 0.3), (2, 20, 0.01)]


@exercise("07.3 running statistics after k batches")
def check_running_stats_after(running_stats_after: Callable[..., tuple[torch.Tensor, torch.Tensor]]
                              ) -> str:
    """Check `running_stats_after(X, k, momentum)`: the running mean and variance of a fresh
    `nn.BatchNorm1d` after k training-mode passes of the same (N, D) batch X, against the layer
    itself (07_batch_norm)."""
    gen = torch.Generator().manual_seed(71)
    for n, k, rho in _RUN_CASES:
        X = 2 * torch.randn(n, 3, generator=gen) + 4
        bn = nn.BatchNorm1d(3, momentum=rho)
        with torch.no_grad():
            for _ in range(k):
                bn(X)
        case = f"a batch of {n}, k={k}, momentum={rho}"
        got = call(running_stats_after, X.clone(), k, rho)
        require(isinstance(got, (tuple, list)) and len(got) == 2,
                f"for {case} running_stats_after returned {type(got).__name__}: return a pair "
                "(running_mean, running_var)")
        mean = _numbers(got[0], f"for {case} the running mean")
        var = _numbers(got[1], f"for {case} the running variance")
        close(mean, bn.running_mean, _mean_hint(mean, X, k, rho, case))
        close(var, bn.running_var, _var_hint(var, X, k, rho, case))
    return f"{len(_RUN_CASES)} cases against nn.BatchNorm1d, momenta 0.01 to 0.3"


def _numbers(got: object, what: str) -> object:
    """`got` as a tensor when it is numbers as a learner writes them: a tensor (a numpy array
    comes as one, see `call`), or a list or tuple whose every entry `number` accepts; anything
    else is returned as it is, for `close` to name its type."""
    if isinstance(got, (list, tuple)):
        return torch.tensor([number(v, f"{what}, entry {i},") for i, v in enumerate(got)],
                            dtype=torch.float64)
    return got


def _after(start: torch.Tensor, target: torch.Tensor, k: int, keep: float) -> torch.Tensor:
    """k steps of r <- keep * r + (1 - keep) * target from r = start."""
    return keep ** k * start + (1 - keep ** k) * target


def _mean_hint(mean: object, X: torch.Tensor, k: int, rho: float, case: str) -> str:
    m = X.mean(dim=0)
    if isinstance(mean, torch.Tensor) and mean.shape == m.shape:
        if matches(mean, _after(torch.zeros_like(m), m, k, rho)):
            return (f"for {case} the running mean is off: PyTorch's momentum is the weight of the "
                    "NEW batch, r <- (1 - momentum) * r + momentum * batch_mean")
        if matches(mean, m):
            return (f"for {case} you returned the batch mean: the running mean starts at 0 and "
                    "only moves a fraction `momentum` of the way per batch")
    return (f"for {case} the running mean is off: start from zeros and apply "
            "r <- (1 - momentum) * r + momentum * batch_mean k times")


def _var_hint(var: object, X: torch.Tensor, k: int, rho: float, case: str) -> str:
    v = X.var(dim=0, correction=1)
    if isinstance(var, torch.Tensor) and var.shape == v.shape:
        if matches(var, _after(torch.ones_like(v), X.var(dim=0, correction=0), k, 1 - rho)):
            return (f"for {case} the running variance stores the UNBIASED batch variance "
                    "(divide by n - 1), although the batch itself is normalized with the biased one")
        if matches(var, _after(torch.zeros_like(v), v, k, 1 - rho)):
            return f"for {case} the running variance starts at ones, not zeros"
        if matches(var, _after(torch.ones_like(v), v, k, rho)):
            return (f"for {case} the running variance is off: momentum is the weight of the NEW "
                    "batch, r <- (1 - momentum) * r + momentum * unbiased_var")
    return (f"for {case} the running variance is off: start from ones and apply "
            "r <- (1 - momentum) * r + momentum * unbiased_batch_var k times")
