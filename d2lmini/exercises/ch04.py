"""Exercise checks for 04_model_selection.ipynb."""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

from ._core import ExerciseFailed, call, close, entries, exercise, in_place, matches, number, require

__all__: list[str] = ["check_fold_bounds", "check_weight_decay_step", "check_dropout_moments"]

# (n, k): k divides n, remainders of 1 and of k - 1, n = k (leave-one-out), k = 2
_FOLD_CASES = [(20, 5), (23, 5), (21, 5), (7, 7), (9, 2), (10, 3)]


def _bounds_hint(got: list[tuple[int, int]], n: int, k: int) -> str:
    """Name the usual slip behind wrong fold boundaries, when `got` matches one."""
    size = n // k
    if got == [(i * size, (i + 1) * size) for i in range(k)]:
        return (f"with folds of n // k = {size} examples the last {n % k} never validate: give "
                f"the first n % k = {n % k} folds one extra example")
    if got == [(i * size, (i + 1) * size if i < k - 1 else n) for i in range(k)]:
        return (f"the last fold absorbs the whole remainder ({size + n % k} examples against "
                f"{size}): spread it, so that sizes differ by at most one")
    up = math.ceil(n / k)
    if got[:1] == [(0, up)] and any(b > n or a >= b for a, b in got):
        return (f"folds of ceil(n / k) = {up} run past the end or leave the last ones empty: "
                "only n % k folds get the extra example")
    return ("fold i starts where fold i - 1 ended; the first n % k folds hold n // k + 1 "
            "examples, the others n // k")


def _position(value: object, n: int, k: int) -> int:
    """One fold boundary as the learner wrote it (an int, a whole float, a one-element tensor)."""
    got = number(value, f"a boundary in fold_bounds({n}, {k})")
    if got != int(got):
        raise ExerciseFailed(f"fold_bounds({n}, {k}) has the boundary {got!r}: positions are whole "
                             "numbers; build the sizes with // and %, not /")
    return int(got)


@exercise("04.1 k-fold boundaries")
def check_fold_bounds(fold_bounds: Callable[[int, int], list[tuple[int, int]]]) -> str:
    """Check `fold_bounds(n, k)`: the k (start, stop) pairs that cut positions 0 .. n-1 into
    consecutive folds whose sizes differ by at most one, larger folds first, exactly as
    `torch.arange(n).tensor_split(k)` does (04_model_selection)."""
    for n, k in _FOLD_CASES:
        pieces = torch.arange(n).tensor_split(k)
        want = [(int(p[0]), int(p[-1]) + 1) for p in pieces]
        what = f"fold_bounds({n}, {k})"
        pairs = [entries(pair, f"{what}, fold {i},", "a (start, stop) pair")
                 for i, pair in enumerate(entries(call(fold_bounds, n, k), what,
                                                  "a list of k (start, stop) pairs"))]
        for i, pair in enumerate(pairs):
            require(len(pair) == 2, f"{what}, fold {i}, has {len(pair)} entries: a fold is a "
                                    "(start, stop) pair")
        got = [(_position(a, n, k), _position(b, n, k)) for a, b in pairs]
        require(len(got) == k, f"fold_bounds({n}, {k}) returned {len(got)} folds instead of {k}")
        if got != want:
            raise ExerciseFailed(f"fold_bounds({n}, {k}) returned {got}, expected {want}: "
                                 f"{_bounds_hint(got, n, k)}")
    return f"{len(_FOLD_CASES)} (n, k) pairs against tensor_split, remainders included"


@exercise("04.2 SGD step with weight decay")
def check_weight_decay_step(weight_decay_step: Callable) -> str:
    """Check `weight_decay_step(w, b, grad_w, grad_b, lr, lambd) -> (w_new, b_new)`: one SGD step
    on the mean data loss plus (lambd / 2) ||w||^2, the bias not penalized: the update that
    `torch.optim.SGD` makes with `weight_decay=lambd` on the weight's parameter group only
    (04_model_selection)."""
    gen = torch.Generator().manual_seed(42)
    # (shape of w, shape of b, lr, lambd)
    cases = (((4, 1), (1,), 0.1, 0.5), ((4, 1), (1,), 0.03, 3.0), ((4, 1), (1,), 0.2, 0.0),
             ((3, 5), (5,), 0.05, 1.0), ((7,), (), 0.3, 0.1))
    for shape, b_shape, lr, lambd in cases:
        w, b = torch.randn(shape, generator=gen), torch.randn(b_shape, generator=gen)
        grad_w, grad_b = torch.randn(shape, generator=gen), torch.randn(b_shape, generator=gen)
        w_ = w - lr * (grad_w + lambd * w)  # SGD's weight_decay adds lambd * w to the gradient
        b_ = b - lr * grad_b
        case = f"w of shape {shape}, lr={lr}, lambd={lambd}"
        # a step may update w and b in place and return them, as torch.optim does; the
        # gradients must come back unchanged
        got = call(weight_decay_step, in_place(w.clone()), in_place(b.clone()), grad_w.clone(),
                   grad_b.clone(), lr, lambd)
        require(isinstance(got, (tuple, list)) and len(got) == 2,
                f"for {case} your function returned {type(got).__name__}: return the pair "
                "(w_new, b_new)")
        w_new, b_new = got

        def near(slip: torch.Tensor, answer: object = w_new) -> bool:
            return matches(answer, slip, atol=1e-6, rtol=1e-5)

        if isinstance(w_new, torch.Tensor) and w_new.shape == w.shape:
            if near(w - lr * (grad_w + lambd / 2 * w)) and lambd:
                hint = ("the decay is half as strong as it should be: the derivative of "
                        "(lambd / 2) ||w||^2 is lambd * w")
            elif near(w - lr * (grad_w - lambd * w)) and lambd:
                hint = ("the decay has the wrong sign: it grows w instead of shrinking it; the "
                        "penalty's gradient lambd * w is ADDED to grad_w before the step, "
                        "w_new = w - lr * (grad_w + lambd * w) = (1 - lr * lambd) * w - lr * grad_w")
            elif near((1 - lambd) * w - lr * grad_w) and lambd:
                hint = "the shrink factor is 1 - lr * lambd: the decay is a gradient, scaled by lr"
            elif near(w - lr * grad_w) and lambd:
                hint = "w did not decay: add lambd * w to its gradient"
            elif near((1 - lr * lambd) * (w - lr * grad_w)) and lambd:
                hint = ("you shrank w after the data step; both terms use the old w: "
                        "(1 - lr * lambd) * w - lr * grad_w")
            else:
                hint = "w_new = (1 - lr * lambd) * w - lr * grad_w"
            close(w_new, w_, f"for {case} w_new is wrong: {hint}")
        else:
            close(w_new, w_, f"for {case} w_new must have w's shape")
        if lambd and near((1 - lr * lambd) * b - lr * grad_b, b_new):
            raise ExerciseFailed(f"for {case} you decayed the bias too: weight decay leaves b "
                                 "alone (it only shifts the output), b_new = b - lr * grad_b")
        close(b_new, b_, f"for {case} b_new is wrong: b_new = b - lr * grad_b")
    return f"{len(cases)} steps on weights of three shapes, lambd = 0 included"


@exercise("04.3 mean and variance of inverted dropout")
def check_dropout_moments(dropout_moments: Callable[[float, float], tuple[float, float]]) -> str:
    """Check `dropout_moments(h, p) -> (mean, variance)`: the mean and variance, over the random
    mask, of inverted dropout's output for one activation h dropped with probability p, computed
    exactly from the two outcomes (0 with probability p, h / (1 - p) otherwise; 0 always when
    p = 1) (04_model_selection)."""
    for h, p in ((1.5, 0.2), (2.0, 0.5), (-3.0, 0.9), (4.0, 0.0), (0.5, 0.75), (2.0, 1.0)):
        case = f"dropout_moments(h={h}, p={p})"
        try:
            got = call(dropout_moments, h, p)
        except ExerciseFailed as err:
            if p == 1 and "ZeroDivisionError" in str(err):
                raise ExerciseFailed(
                    f"{case} divided by 1 - p = 0: with p = 1 every unit is dropped, so the "
                    "output is 0 for sure (mean 0, variance 0); treat p = 1 on its own") from None
            raise
        got = entries(got, case, "the pair (mean, variance)")
        require(len(got) == 2, f"{case} returned {len(got)} numbers: return the pair (mean, variance)")
        got_mean = number(got[0], f"the mean from {case}")
        got_var = number(got[1], f"the variance from {case}")
        if p == 1:
            if math.isclose(got_mean, 0.0, abs_tol=1e-9) and math.isclose(got_var, 0.0, abs_tol=1e-9):
                continue
            if not (math.isfinite(got_mean) and math.isfinite(got_var)):
                hint = "h / (1 - p) is undefined here: no unit survives to be scaled"
            elif math.isclose(got_mean, h, rel_tol=1e-6):
                hint = ("the mean stays h only while some units survive (p < 1); at p = 1 the "
                        "output is 0 whatever h is")
            else:
                hint = "the output is 0 whatever h is, so both moments are 0"
            raise ExerciseFailed(f"{case} returned ({got_mean:.6g}, {got_var:.6g}): with p = 1 "
                                 f"every unit is dropped, so the mean and the variance are 0: {hint}")
        outcomes = torch.tensor([0.0, h / (1 - p)], dtype=torch.float64)
        probs = torch.tensor([p, 1 - p], dtype=torch.float64)
        mean = (probs * outcomes).sum().item()
        var = (probs * (outcomes - mean) ** 2).sum().item()
        require(math.isfinite(got_mean) and math.isfinite(got_var),
                f"{case} returned ({got_mean}, {got_var}): for p < 1 both moments are finite "
                "numbers")
        if not math.isclose(got_mean, mean, rel_tol=1e-6, abs_tol=1e-9):
            if math.isclose(got_mean, h * (1 - p), rel_tol=1e-6):
                hint = ("that is the mean without the 1 / (1 - p) scaling; inverted dropout "
                        "scales the survivors so that the mean stays h")
            elif any(math.isclose(got_mean, v, rel_tol=1e-6) for v in (h * p, h / p if p else math.nan)):
                hint = "p is the probability of dropping, 1 - p that of keeping"
            else:
                hint = "sum over the two outcomes: p * 0 + (1 - p) * h / (1 - p)"
            raise ExerciseFailed(f"{case}: the mean should be {mean:.6g}, got {got_mean:.6g}: {hint}")
        if not math.isclose(got_var, var, rel_tol=1e-6, abs_tol=1e-9):
            if math.isclose(got_var, h * h * p * (1 - p), rel_tol=1e-6):
                hint = ("that is the variance of the unscaled output h * mask; scaling by "
                        "1 / (1 - p) multiplies the variance by 1 / (1 - p)^2")
            elif math.isclose(got_var, h * h / (1 - p), rel_tol=1e-6):
                hint = "that is E[out^2]; subtract the squared mean h^2"
            elif math.isclose(got_var, h * p / (1 - p), rel_tol=1e-6):
                hint = "the variance scales with h^2, not h: out is h / (1 - p) or 0"
            else:
                hint = "E[out^2] - E[out]^2 with E[out^2] = (1 - p) * (h / (1 - p))^2"
            raise ExerciseFailed(f"{case}: the variance should be {var:.6g}, got {got_var:.6g}: {hint}")
    return "6 cases, p = 0 and p = 1 included"
