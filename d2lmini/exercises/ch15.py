"""Exercise checks for 15_optimization.ipynb: one step of Nesterov momentum, of Adam and of AdamW,
each against `torch.optim`, and a linear warmup-then-decay schedule."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch

from ._core import ExerciseFailed, call, close, exercise, matches, number, require

__all__: list[str] = ["check_nesterov_step", "check_adam_step", "check_adamw_step",
                      "check_warmup_linear"]

_ATOL, _RTOL = 1e-10, 1e-7  # the checks work in float64


def _pair_or_triple(got: Any, n: int, what: str, names: str) -> tuple[torch.Tensor, ...]:
    """The learner's returned tuple of `n` tensors, or feedback saying what to return."""
    require(isinstance(got, (tuple, list)) and len(got) == n,
            f"{what} returned {type(got).__name__}: return the {'pair' if n == 2 else 'triple'} "
            f"{names}")
    for item in got:
        require(isinstance(item, torch.Tensor),
                f"{what} returned a {type(item).__name__} inside the tuple: return tensors {names}")
    return tuple(item.detach() for item in got)


def _torch_steps(optimizer_class: type, settings: dict, shape: tuple[int, ...], steps: int,
                 gen: torch.Generator) -> list[dict[str, Any]]:
    """Run `optimizer_class` on one float64 parameter for `steps` steps with random gradients and
    record, for every step, the parameter and state before it, the gradient, and both after."""
    p = torch.randn(shape, generator=gen, dtype=torch.float64, requires_grad=True)
    optimizer = optimizer_class([p], **settings)
    records = []
    for t in range(1, steps + 1):
        state = optimizer.state[p]
        before = {key: value.clone() for key, value in state.items()
                  if isinstance(value, torch.Tensor) and value.shape == p.shape}
        grad = torch.randn(shape, generator=gen, dtype=torch.float64) * (0.5 + t % 3)
        record = {"t": t, "param": p.detach().clone(), "grad": grad, "before": before}
        p.grad = grad.clone()
        optimizer.step()
        record["after"] = {key: value.clone() for key, value in optimizer.state[p].items()
                           if isinstance(value, torch.Tensor) and value.shape == p.shape}
        record["new_param"] = p.detach().clone()
        records.append(record)
    return records


def _first_mismatch(candidates: dict[str, torch.Tensor], got: torch.Tensor) -> str | None:
    """The name of the first known mistake whose result `got` matches, if any."""
    for name, wrong in candidates.items():
        if matches(got, wrong, atol=_ATOL, rtol=_RTOL):
            return name
    return None


# ---------------------------------------------------------------------------------------------
# 15.1 Nesterov momentum

_NESTEROV_CASES = [((4,), 0.2, 0.9), ((2, 3), 0.05, 0.5), ((5,), 0.3, 0.99)]  # lr != 1 - beta
_NESTEROV_STEPS = 4


@exercise("15.1 Nesterov's step")
def check_nesterov_step(nesterov_step: Callable) -> str:
    """Check `nesterov_step(param, grad, velocity, lr, beta) -> (new_param, new_velocity)`: one
    step of PyTorch's Nesterov momentum, v = beta v + g, param = param - lr (g + beta v), against
    `torch.optim.SGD(momentum=beta, nesterov=True)` over several steps (15_optimization)."""
    gen = torch.Generator().manual_seed(15)
    for shape, lr, beta in _NESTEROV_CASES:
        records = _torch_steps(torch.optim.SGD, {"lr": lr, "momentum": beta, "nesterov": True},
                               shape, _NESTEROV_STEPS, gen)
        for r in reversed(records):  # the last step first: with v = 0 some slips look alike
            p, g = r["param"], r["grad"]
            v = r["before"].get("momentum_buffer", torch.zeros_like(p))
            v_new, p_new = r["after"]["momentum_buffer"], r["new_param"]
            case = f"step {r['t']} with lr={lr}, beta={beta}"
            got = call(nesterov_step, p.clone(), g.clone(), v.clone(), lr, beta)
            got_p, got_v = _pair_or_triple(got, 2, f"nesterov_step ({case})",
                                           "(new_param, new_velocity)")
            v_damped = beta * v + (1 - beta) * g
            velocity_hints = {
                "damped": v_damped,
                "with lr": beta * v + lr * g,
                "sign": beta * v - g,
            }
            mistake = _first_mismatch(velocity_hints, got_v)
            if not matches(got_v, v_new, atol=_ATOL, rtol=_RTOL):
                hint = {
                    "damped": "PyTorch's velocity adds the gradient undamped: v = beta * v + grad, "
                              "not beta * v + (1 - beta) * grad",
                    "with lr": "keep the learning rate out of the velocity (PyTorch's form): "
                               "v = beta * v + grad, and lr multiplies the step",
                    "sign": "the velocity accumulates +grad: v = beta * v + grad",
                }.get(mistake, "new_velocity must be beta * velocity + grad")
                close(got_v, v_new, f"{case}: new_velocity is wrong: {hint}", atol=_ATOL, rtol=_RTOL)
            param_hints = {
                "heavy ball": p - lr * v_new,
                "ascent": p + lr * (g + beta * v_new),
                "no gradient": p - lr * beta * v_new,
            }
            mistake = _first_mismatch(param_hints, got_p)
            hint = {
                "heavy ball": "that is the heavy ball's step, param - lr * v (the same as "
                              "param - lr * (grad + beta * v) with the old v); Nesterov's looks "
                              "ahead with the new one: param - lr * (grad + beta * new_v)",
                "ascent": "step against the gradient: param - lr * (grad + beta * v)",
                "no gradient": "the step is lr * (grad + beta * v): the gradient itself is "
                               "missing",
            }.get(mistake, "new_param = param - lr * (grad + beta * new_velocity)")
            close(got_p, p_new, f"{case}: new_param is wrong: {hint}", atol=_ATOL, rtol=_RTOL)
    return (f"{len(_NESTEROV_CASES) * _NESTEROV_STEPS} steps against torch.optim.SGD(nesterov=True), "
            "three settings of lr and beta")


# ---------------------------------------------------------------------------------------------
# 15.2 and 15.3 Adam and AdamW

# (shape, lr, beta1, beta2, eps, steps); eps = 0.01 makes its place in the formula visible
_ADAM_CASES = [((4,), 1e-3, 0.9, 0.999, 1e-8, 6), ((2, 3), 0.01, 0.8, 0.99, 1e-2, 5),
               ((3,), 0.05, 0.5, 0.9, 1e-6, 40)]


def _adam_wrong(p, g, m, v, t, lr, b1, b2, eps, decay_first=None):
    """The results of the usual slips in one Adam step, by name (new param only)."""
    m1, v1 = b1 * m + (1 - b1) * g, b2 * v + (1 - b2) * g * g
    base = decay_first if decay_first is not None else p
    c1, c2 = 1 - b1 ** t, 1 - b2 ** t
    wrong = {
        "no correction": base - lr * m1 / (v1.sqrt() + eps),
        "only m corrected": base - lr * (m1 / c1) / (v1.sqrt() + eps),
        "only v corrected": base - lr * m1 / ((v1 / c2).sqrt() + eps),
        "t + 1": base - lr * (m1 / (1 - b1 ** (t + 1))) / ((v1 / (1 - b2 ** (t + 1))).sqrt() + eps),
        "eps inside": base - lr * (m1 / c1) / ((v1 / c2 + eps).sqrt()),
        "no sqrt": base - lr * (m1 / c1) / (v1 / c2 + eps),
    }
    if t > 1:
        wrong["t - 1"] = base - lr * (m1 / (1 - b1 ** (t - 1))) / (
            (v1 / (1 - b2 ** (t - 1))).sqrt() + eps)
    return wrong


_ADAM_HINTS = {
    "no correction": "the bias correction is missing: divide m by 1 - beta1**t and v by "
                     "1 - beta2**t before the step",
    "only m corrected": "v needs its correction too: v_hat = v / (1 - beta2**t)",
    "only v corrected": "m needs its correction too: m_hat = m / (1 - beta1**t)",
    "t + 1": "t is the number of this step (1 for the first): the correction is 1 - beta**t, "
             "not 1 - beta**(t + 1)",
    "t - 1": "t is the number of this step (1 for the first): the correction is 1 - beta**t, "
             "not 1 - beta**(t - 1)",
    "eps inside": "eps goes outside the square root: m_hat / (sqrt(v_hat) + eps)",
    "no sqrt": "divide by the square root of v_hat: m_hat / (sqrt(v_hat) + eps)",
}


def _check_moments(got_m, got_v, m, v, g, m_new, v_new, b1, b2, t, case):
    """Compare the returned running averages with torch's, naming the usual slips."""
    if not matches(got_m, m_new, atol=_ATOL, rtol=_RTOL):
        if matches(got_m, m_new / (1 - b1 ** t), atol=_ATOL, rtol=_RTOL):
            hint = ("return the running average m itself, not the corrected m_hat: the "
                    "correction is recomputed from t at every step")
        elif matches(got_m, b1 * g + (1 - b1) * m, atol=_ATOL, rtol=_RTOL):
            hint = "the weights are swapped: m = beta1 * m + (1 - beta1) * grad"
        else:
            hint = "new_m = beta1 * m + (1 - beta1) * grad"
        close(got_m, m_new, f"{case}: new_m is wrong: {hint}", atol=_ATOL, rtol=_RTOL)
    if not matches(got_v, v_new, atol=_ATOL, rtol=_RTOL):
        if matches(got_v, v_new / (1 - b2 ** t), atol=_ATOL, rtol=_RTOL):
            hint = ("return the running average v itself, not the corrected v_hat: the "
                    "correction is recomputed from t at every step")
        elif matches(got_v, b2 * v + (1 - b2) * g, atol=_ATOL, rtol=_RTOL):
            hint = "v averages the squared gradient: v = beta2 * v + (1 - beta2) * grad**2"
        else:
            hint = "new_v = beta2 * v + (1 - beta2) * grad**2"
        close(got_v, v_new, f"{case}: new_v is wrong: {hint}", atol=_ATOL, rtol=_RTOL)


@exercise("15.2 Adam's step with its bias correction")
def check_adam_step(adam_step: Callable) -> str:
    """Check `adam_step(param, grad, m, v, t, lr, beta1, beta2, eps) -> (new_param, new_m, new_v)`:
    one Adam step (t = 1 for the first), against `torch.optim.Adam` at steps 1 to 40 of three
    runs; new_m and new_v are the running averages before correction (15_optimization)."""
    gen = torch.Generator().manual_seed(152)
    checked = 0
    for shape, lr, b1, b2, eps, steps in _ADAM_CASES:
        records = _torch_steps(torch.optim.Adam, {"lr": lr, "betas": (b1, b2), "eps": eps},
                               shape, steps, gen)
        for r in records[:5] + records[-1:] if steps > 6 else records:
            t, p, g = r["t"], r["param"], r["grad"]
            m = r["before"].get("exp_avg", torch.zeros_like(p))
            v = r["before"].get("exp_avg_sq", torch.zeros_like(p))
            case = f"step t={t} with lr={lr}, betas=({b1}, {b2}), eps={eps}"
            try:
                got = call(adam_step, p.clone(), g.clone(), m.clone(), v.clone(), t, lr, b1, b2,
                           eps)
            except ExerciseFailed as err:
                if t == 1 and "ZeroDivisionError" in str(err):
                    raise ExerciseFailed(f"{case}: you divided by zero: t is the number of this "
                                         "step, 1 for the first, so the correction 1 - beta**t "
                                         "is never 0") from None
                raise
            got_p, got_m, got_v = _pair_or_triple(got, 3, f"adam_step ({case})",
                                                  "(new_param, new_m, new_v)")
            _check_moments(got_m, got_v, m, v, g, r["after"]["exp_avg"],
                           r["after"]["exp_avg_sq"], b1, b2, t, case)
            require(bool(torch.isfinite(got_p).all()),
                    f"{case}: new_param holds inf or nan: at t = 1 the correction is "
                    "1 - beta**1, so t must count from 1")
            mistake = _first_mismatch(_adam_wrong(p, g, m, v, t, lr, b1, b2, eps), got_p)
            hint = _ADAM_HINTS.get(mistake, "new_param = param - lr * m_hat / (sqrt(v_hat) + eps)")
            close(got_p, r["new_param"], f"{case}: new_param is wrong: {hint}", atol=_ATOL,
                  rtol=_RTOL)
            checked += 1
    return f"{checked} steps against torch.optim.Adam, t = 1 and t = 40 included"


_ADAMW_CASES = [((4,), 1e-3, 0.9, 0.999, 1e-8, 0.01, 4), ((2, 3), 0.1, 0.8, 0.99, 1e-8, 0.5, 4),
                ((3,), 0.05, 0.5, 0.9, 1e-3, 2.0, 3)]


@exercise("15.3 AdamW's decoupled step")
def check_adamw_step(adamw_step: Callable) -> str:
    """Check `adamw_step(param, grad, m, v, t, lr, beta1, beta2, eps, weight_decay) -> (new_param,
    new_m, new_v)`: the step of `torch.optim.AdamW`, the weights shrunk by 1 - lr * weight_decay
    before Adam's step on the gradient alone (15_optimization)."""
    gen = torch.Generator().manual_seed(153)
    checked = 0
    for shape, lr, b1, b2, eps, wd, steps in _ADAMW_CASES:
        records = _torch_steps(torch.optim.AdamW, {"lr": lr, "betas": (b1, b2), "eps": eps,
                                                   "weight_decay": wd}, shape, steps, gen)
        for r in records:
            t, p, g = r["t"], r["param"], r["grad"]
            m = r["before"].get("exp_avg", torch.zeros_like(p))
            v = r["before"].get("exp_avg_sq", torch.zeros_like(p))
            case = f"step t={t} with lr={lr}, weight_decay={wd}"
            got = call(adamw_step, p.clone(), g.clone(), m.clone(), v.clone(), t, lr, b1, b2,
                       eps, wd)
            got_p, got_m, got_v = _pair_or_triple(got, 3, f"adamw_step ({case})",
                                                  "(new_param, new_m, new_v)")
            g_l2 = g + wd * p
            m_l2, v_l2 = b1 * m + (1 - b1) * g_l2, b2 * v + (1 - b2) * g_l2 * g_l2
            if matches(got_m, m_l2, atol=_ATOL, rtol=_RTOL) and wd:
                raise ExerciseFailed(f"{case}: your m includes weight_decay * param: that is the "
                                     "L2 penalty of torch.optim.Adam(weight_decay=...). AdamW keeps "
                                     "the decay out of the gradient and the averages: shrink the "
                                     "weights by 1 - lr * weight_decay instead")
            _check_moments(got_m, got_v, m, v, g, r["after"]["exp_avg"],
                           r["after"]["exp_avg_sq"], b1, b2, t, case)
            adam_only = p - lr * (r["after"]["exp_avg"] / (1 - b1 ** t)) / (
                (r["after"]["exp_avg_sq"] / (1 - b2 ** t)).sqrt() + eps)
            step = p - adam_only
            wrong = {
                "no decay": adam_only,
                "decay without lr": p * (1 - wd) - step,
                "decay after": (p - step) * (1 - lr * wd),
                "decay by wd * lr twice": p * (1 - lr * wd) ** 2 - step,
            }
            wrong.update({f"adam: {k}": w for k, w in _adam_wrong(
                p, g, m, v, t, lr, b1, b2, eps, decay_first=p * (1 - lr * wd)).items()})
            mistake = _first_mismatch(wrong, got_p)
            hints = {
                "no decay": "the weights did not decay: multiply them by 1 - lr * weight_decay",
                "decay without lr": "PyTorch's decay is scaled by the learning rate: "
                                    "param * (1 - lr * weight_decay)",
                "decay after": "decay the weights from before the step, then subtract Adam's "
                               "step: param * (1 - lr * weight_decay) - lr * m_hat / (sqrt(v_hat) "
                               "+ eps)",
                "decay by wd * lr twice": "the weights were shrunk twice: once, by "
                                          "1 - lr * weight_decay",
            }
            hints.update({f"adam: {k}": h for k, h in _ADAM_HINTS.items()})
            close(got_p, r["new_param"], f"{case}: new_param is wrong: " + hints.get(
                mistake, "new_param = param * (1 - lr * weight_decay) - lr * m_hat / "
                         "(sqrt(v_hat) + eps)"), atol=_ATOL, rtol=_RTOL)
            checked += 1
    return f"{checked} steps against torch.optim.AdamW, weight_decay from 0.01 to 2"


# ---------------------------------------------------------------------------------------------
# 15.4 linear warmup, then linear decay

_SCHEDULE_CASES = [(5, 20), (1, 10), (0, 8), (10, 11), (3, 100)]


def warmup_linear_reference(t: int, warmup: int, total: int) -> float:
    """The factor the exercise asks for (tests check it against torch's LinearLR)."""
    if t < warmup:
        return (t + 1) / warmup
    return (total - t) / (total - warmup)


@exercise("15.4 linear warmup, then linear decay")
def check_warmup_linear(warmup_linear: Callable[[int, int, int], float]) -> str:
    """Check `warmup_linear(t, warmup, total)`: the LambdaLR factor at step t = 0 .. total - 1,
    (t + 1) / warmup during the warmup, then (total - t) / (total - warmup) (15_optimization)."""
    for warmup, total in _SCHEDULE_CASES:
        for t in range(total):
            case = f"warmup_linear({t}, {warmup}, {total})"
            try:
                got = number(call(warmup_linear, t, warmup, total), case)
            except ExerciseFailed as err:
                if warmup == 0 and "ZeroDivisionError" in str(err):
                    raise ExerciseFailed(f"{case} divided by zero: warmup = 0 means no warmup, "
                                         "so the decay starts at t = 0") from None
                raise
            want = warmup_linear_reference(t, warmup, total)
            if math.isclose(got, want, rel_tol=1e-6, abs_tol=1e-9):  # float32 answers too
                continue
            if t < warmup and math.isclose(got, t / warmup, abs_tol=1e-12):
                hint = ("the first step would get a learning rate of 0 and be wasted: "
                        "step t of the warmup gets (t + 1) / warmup")
            elif t >= warmup and math.isclose(got, (total - 1 - t) / max(total - 1 - warmup, 1),
                                              abs_tol=1e-12):
                hint = ("the last step would get a learning rate of 0 and be wasted: "
                        "after the warmup the factor is (total - t) / (total - warmup)")
            elif t >= warmup and math.isclose(got, (total - t) / total, abs_tol=1e-12):
                hint = ("the decay starts at the end of the warmup, from the full rate: "
                        "(total - t) / (total - warmup), not (total - t) / total")
            elif t >= warmup and math.isclose(got, 1 - t / (total - warmup), abs_tol=1e-12):
                hint = ("count the decay's steps from the end of the warmup: "
                        "(total - t) / (total - warmup)")
            else:
                hint = ("during the warmup (t < warmup) the factor is (t + 1) / warmup, after it "
                        "(total - t) / (total - warmup)")
            raise ExerciseFailed(f"{case} returned {got:.6g}, expected {want:.6g}: {hint}")
    return f"every step of {len(_SCHEDULE_CASES)} schedules, warmup = 0 included"
