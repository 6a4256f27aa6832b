"""Chapter 15's exercise checks accept right answers (written in several ways), report a stub as
not attempted, and reject the typical wrong answers with the hint meant for them."""

import math

import numpy as np
import pytest
import torch

from d2lmini.exercises import (ExerciseFailed, check_adam_step, check_adamw_step,
                               check_nesterov_step, check_warmup_linear)
from d2lmini.exercises.ch15 import warmup_linear_reference

CHECKS = [check_nesterov_step, check_adam_step, check_adamw_step, check_warmup_linear]


def stub(*args):
    raise NotImplementedError


@pytest.mark.parametrize("check", CHECKS)
def test_stub_is_not_attempted(capsys, check):
    check(stub)
    check(None)
    assert capsys.readouterr().out.count("not attempted yet") == 2


# 15.1 Nesterov's step

def nesterov_step(param, grad, velocity, lr, beta):
    velocity = beta * velocity + grad
    return param - lr * (grad + beta * velocity), velocity


def nesterov_step_by_torch(param, grad, velocity, lr, beta):
    # the library's own step, so that the check's reference is tested against it
    p = param.clone().requires_grad_()
    optimizer = torch.optim.SGD([p], lr=lr, momentum=beta, nesterov=True)
    optimizer.state[p]["momentum_buffer"] = velocity.clone()
    p.grad = grad.clone()
    optimizer.step()
    return p.detach(), optimizer.state[p]["momentum_buffer"]


def nesterov_step_expanded(param, grad, velocity, lr, beta):
    # the same step with the new velocity substituted: param - lr (1 + beta) g - lr beta^2 v
    return (param - lr * (1 + beta) * grad - lr * beta ** 2 * velocity,
            torch.add(grad, velocity, alpha=beta))


@pytest.mark.parametrize("right", [nesterov_step, nesterov_step_by_torch, nesterov_step_expanded,
                                   lambda p, g, v, lr, b: list(nesterov_step(p, g, v, lr, b))])
def test_nesterov_right_answers(capsys, right):
    check_nesterov_step(right)
    assert "correct" in capsys.readouterr().out


@pytest.mark.parametrize("wrong,hint", [
    (lambda p, g, v, lr, b: (p - lr * (b * v + g), b * v + g), "heavy ball"),
    (lambda p, g, v, lr, b: (p - lr * (g + b * v), b * v + g), "with the old v"),
    (lambda p, g, v, lr, b: (p - lr * (g + b * (b * v + (1 - b) * g)), b * v + (1 - b) * g),
     "undamped"),
    (lambda p, g, v, lr, b: (p - lr * g - b * (b * v + lr * g), b * v + lr * g),
     "learning rate out of the velocity"),
    (lambda p, g, v, lr, b: (p + lr * (g + b * (b * v + g)), b * v + g), "against the gradient"),
    (lambda p, g, v, lr, b: (p - lr * b * (b * v + g), b * v + g), "gradient itself is missing"),
    (lambda p, g, v, lr, b: p - lr * (g + b * (b * v + g)), "return the pair"),
    (lambda p, g, v, lr, b: (p - lr * (g + b * (b * v + g)), 0.0), "return tensors"),
])
def test_nesterov_typical_mistakes(wrong, hint):
    with pytest.raises(ExerciseFailed, match=hint):
        check_nesterov_step(wrong)


# 15.2 Adam's step

def adam_step(param, grad, m, v, t, lr, beta1, beta2, eps):
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad ** 2
    m_hat, v_hat = m / (1 - beta1 ** t), v / (1 - beta2 ** t)
    return param - lr * m_hat / (v_hat.sqrt() + eps), m, v


def adam_step_torch_order(param, grad, m, v, t, lr, beta1, beta2, eps):
    # PyTorch's order of operations: the corrections folded into the step size and the root
    m = m.lerp(grad, 1 - beta1)
    v = v * beta2 + (1 - beta2) * grad * grad
    denom = v.sqrt() / math.sqrt(1 - beta2 ** t) + eps
    return torch.addcdiv(param, m, denom, value=-lr / (1 - beta1 ** t)), m, v


def adam_step_by_torch(param, grad, m, v, t, lr, beta1, beta2, eps):
    p = param.clone().requires_grad_()
    optimizer = torch.optim.Adam([p], lr=lr, betas=(beta1, beta2), eps=eps)
    optimizer.state[p].update(step=torch.tensor(float(t - 1)), exp_avg=m.clone(),
                              exp_avg_sq=v.clone())
    p.grad = grad.clone()
    optimizer.step()
    return p.detach(), optimizer.state[p]["exp_avg"], optimizer.state[p]["exp_avg_sq"]


@pytest.mark.parametrize("right", [adam_step, adam_step_torch_order, adam_step_by_torch])
def test_adam_right_answers(capsys, right):
    check_adam_step(right)
    assert "correct" in capsys.readouterr().out


def adam_variant(correct_m=True, correct_v=True, shift=0, eps_inside=False, root=True,
                 return_hats=False, swap_m=False, v_of_grad=False):
    def step(p, g, m, v, t, lr, b1, b2, eps):
        m = b1 * g + (1 - b1) * m if swap_m else b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * (g if v_of_grad else g * g)
        m_hat = m / (1 - b1 ** (t + shift)) if correct_m else m
        v_hat = v / (1 - b2 ** (t + shift)) if correct_v else v
        if eps_inside:
            denom = (v_hat + eps).sqrt()
        else:
            denom = (v_hat.sqrt() if root else v_hat) + eps
        new_p = p - lr * m_hat / denom
        return (new_p, m_hat, v_hat) if return_hats else (new_p, m, v)
    return step


@pytest.mark.parametrize("wrong,hint", [
    (adam_variant(correct_m=False, correct_v=False), "bias correction is missing"),
    (adam_variant(correct_v=False), "v needs its correction too"),
    (adam_variant(correct_m=False), "m needs its correction too"),
    (adam_variant(shift=1), r"not 1 - beta\*\*\(t \+ 1\)"),
    (adam_variant(shift=-1), "divided by zero|t must count from 1"),
    (adam_variant(eps_inside=True), "eps goes outside the square root"),
    (adam_variant(root=False), "square root of v_hat"),
    (adam_variant(return_hats=True), "not the corrected m_hat"),
    (adam_variant(swap_m=True), "weights are swapped"),
    (adam_variant(v_of_grad=True), "squared gradient"),
    (lambda p, g, m, v, t, lr, b1, b2, eps: adam_step(p, g, m, v, t, lr, b1, b2, eps)[:2],
     "return the triple"),
])
def test_adam_typical_mistakes(wrong, hint):
    with pytest.raises(ExerciseFailed, match=hint):
        check_adam_step(wrong)


def test_adam_shift_minus_one_crashing_in_python_floats_is_named():
    def step(p, g, m, v, t, lr, b1, b2, eps):
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        scale = 1 / (1 - b1 ** (t - 1))  # a Python float: ZeroDivisionError at t = 1
        return p - lr * m * scale / ((v / (1 - b2 ** t)).sqrt() + eps), m, v
    with pytest.raises(ExerciseFailed, match="divided by zero"):
        check_adam_step(step)


# 15.3 AdamW's step

def adamw_step(param, grad, m, v, t, lr, beta1, beta2, eps, weight_decay):
    decayed = param * (1 - lr * weight_decay)
    new_param, m, v = adam_step(decayed, grad, m, v, t, lr, beta1, beta2, eps)
    return new_param, m, v


def adamw_step_by_torch(param, grad, m, v, t, lr, beta1, beta2, eps, weight_decay):
    p = param.clone().requires_grad_()
    optimizer = torch.optim.AdamW([p], lr=lr, betas=(beta1, beta2), eps=eps,
                                  weight_decay=weight_decay)
    optimizer.state[p].update(step=torch.tensor(float(t - 1)), exp_avg=m.clone(),
                              exp_avg_sq=v.clone())
    p.grad = grad.clone()
    optimizer.step()
    return p.detach(), optimizer.state[p]["exp_avg"], optimizer.state[p]["exp_avg_sq"]


def adamw_step_subtracting(param, grad, m, v, t, lr, beta1, beta2, eps, weight_decay):
    # the decay written as a subtraction of lr * wd * param, then Adam's step
    adam_param, m, v = adam_step(param, grad, m, v, t, lr, beta1, beta2, eps)
    return adam_param - lr * weight_decay * param, m, v


@pytest.mark.parametrize("right", [adamw_step, adamw_step_by_torch, adamw_step_subtracting])
def test_adamw_right_answers(capsys, right):
    check_adamw_step(right)
    assert "correct" in capsys.readouterr().out


def adamw_l2(p, g, m, v, t, lr, b1, b2, eps, wd):
    return adam_step(p, g + wd * p, m, v, t, lr, b1, b2, eps)


def adamw_after(p, g, m, v, t, lr, b1, b2, eps, wd):
    new_p, m, v = adam_step(p, g, m, v, t, lr, b1, b2, eps)
    return new_p * (1 - lr * wd), m, v


def adamw_without_lr(p, g, m, v, t, lr, b1, b2, eps, wd):
    return adam_step(p * (1 - wd), g, m, v, t, lr, b1, b2, eps)


def adamw_twice(p, g, m, v, t, lr, b1, b2, eps, wd):
    return adam_step(p * (1 - lr * wd) ** 2, g, m, v, t, lr, b1, b2, eps)


def adamw_no_correction(p, g, m, v, t, lr, b1, b2, eps, wd):
    return adam_variant(correct_m=False, correct_v=False)(p * (1 - lr * wd), g, m, v, t, lr, b1,
                                                          b2, eps)


@pytest.mark.parametrize("wrong,hint", [
    (adamw_l2, "L2 penalty"),
    (adamw_after, "decay the weights from before the step"),
    (adamw_without_lr, "scaled by the learning rate"),
    (adamw_twice, "shrunk twice"),
    (lambda p, g, m, v, t, lr, b1, b2, eps, wd: adam_step(p, g, m, v, t, lr, b1, b2, eps),
     "did not decay"),
    (adamw_no_correction, "bias correction is missing"),
])
def test_adamw_typical_mistakes(wrong, hint):
    with pytest.raises(ExerciseFailed, match=hint):
        check_adamw_step(wrong)


# 15.4 linear warmup, then linear decay

def warmup_linear(t, warmup, total):
    if t < warmup:
        return (t + 1) / warmup
    return (total - t) / (total - warmup)


def warmup_linear_by_min(t, warmup, total):
    # the rising line and the falling one, whichever is lower
    rise = (t + 1) / warmup if warmup else math.inf
    return min(rise, (total - t) / (total - warmup))


@pytest.mark.parametrize("right", [
    warmup_linear,
    warmup_linear_by_min,
    lambda t, w, T: torch.tensor(warmup_linear(t, w, T)),
    lambda t, w, T: np.float64(warmup_linear(t, w, T)),
])
def test_warmup_linear_right_answers(capsys, right):
    check_warmup_linear(right)
    assert "correct" in capsys.readouterr().out


@pytest.mark.parametrize("wrong,hint", [
    (lambda t, w, T: t / w if t < w else (T - t) / (T - w), "first step would get a learning rate of 0"),
    (lambda t, w, T: (t + 1) / w if t < w else (T - 1 - t) / (T - 1 - w),
     "last step would get a learning rate of 0"),
    (lambda t, w, T: (t + 1) / w if t < w else (T - t) / T, "from the full rate"),
    (lambda t, w, T: (t + 1) / w if t < w else 1 - t / (T - w), "count the decay's steps"),
    (lambda t, w, T: (t + 1) / w if t < w else 1.0, r"\(total - t\) / \(total - warmup\)"),
    (lambda t, w, T: min(1.0, (t + 1) / w) * (T - t) / (T - w), "divided by zero|returned"),
    (lambda t, w, T: "1.0", "expected one number"),
])
def test_warmup_linear_typical_mistakes(wrong, hint):
    with pytest.raises(ExerciseFailed, match=hint):
        check_warmup_linear(wrong)


@pytest.mark.parametrize("warmup,total", [(5, 20), (1, 10), (0, 8), (10, 11), (3, 100)])
def test_warmup_linear_reference_is_torchs_two_linear_schedules(warmup, total):
    """The check's reference equals LinearLR warming up over `warmup` steps followed by LinearLR
    decaying to 0 over the rest, the way PyTorch's schedulers would build it."""
    p = torch.zeros(1, requires_grad=True)
    optimizer = torch.optim.SGD([p], lr=1.0)
    parts, milestones = [], []
    if warmup:
        parts.append(torch.optim.lr_scheduler.LinearLR(optimizer, start_factor=1 / warmup,
                                                       total_iters=max(warmup - 1, 1)))
        milestones.append(warmup)
    parts.append(torch.optim.lr_scheduler.LinearLR(optimizer, start_factor=1.0, end_factor=0.0,
                                                   total_iters=total - warmup))
    schedule = (torch.optim.lr_scheduler.SequentialLR(optimizer, parts, milestones)
                if warmup else parts[0])
    rates = []
    for _ in range(total):
        rates.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        schedule.step()
    want = [warmup_linear_reference(t, warmup, total) for t in range(total)]
    if warmup == 1:  # LinearLR needs total_iters >= 1: its one warmup step starts at 1 / 1 anyway
        rates[0] = 1.0
    assert rates == pytest.approx(want, rel=1e-9, abs=1e-12)
