"""Exercise checks for 05_numerical_stability.ipynb."""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import nn

from ._core import ExerciseFailed, _NotAttempted, call, exercise, is_stub_error, number, require, value

__all__: list[str] = ["check_xavier_bound", "check_leaky_kaiming_std", "check_relu_mlp_init",
                      "check_sigmoid_factor_bound"]


def _fans(shape: tuple[int, ...]) -> tuple[int, int]:
    """fan_in, fan_out of a Linear (out, in) or Conv2d (out, in, kh, kw) weight."""
    field = math.prod(shape[2:])
    return shape[1] * field, shape[0] * field


_BOUND_CASES = [(256, 784), (10, 256), (64, 3, 3, 3), (16, 6, 5, 5), (128, 64, 1, 1)]


@exercise("05.1 Xavier bound of a weight")
def check_xavier_bound(xavier_bound: Callable[[tuple[int, ...]], float]) -> str:
    """Check `xavier_bound(shape)`: the a of U(-a, a) that Xavier initialization uses for a weight
    of that shape, a Linear (out, in) or a Conv2d (out, in, kh, kw) weight (05_numerical_stability)."""
    for shape in _BOUND_CASES:
        fan_in, fan_out = _fans(shape)
        want = math.sqrt(6 / (fan_in + fan_out))
        got = number(call(xavier_bound, shape), f"xavier_bound({shape})")
        if math.isclose(got, want, rel_tol=1e-5):
            continue
        case = f"xavier_bound({shape}) returned {got:.6g}, expected {want:.6g}"
        if math.isclose(got, math.sqrt(2 / (fan_in + fan_out)), rel_tol=1e-5):
            hint = ("that is the standard deviation; U(-a, a) has variance a^2 / 3, so the bound "
                    "is sqrt(3) times larger: sqrt(6 / (fan_in + fan_out))")
        elif math.isclose(got, 6 / (fan_in + fan_out), rel_tol=1e-5):
            hint = "you forgot the square root"
        elif any(math.isclose(got, math.sqrt(c / fan), rel_tol=1e-5)
                 for c in (1, 2, 3, 6) for fan in (fan_in, fan_out)):
            hint = ("Xavier uses both fans, fan_in + fan_out, as a compromise between the forward "
                    "and the backward pass; one fan alone is LeCun's or Kaiming's rule")
        elif len(shape) == 4 and math.isclose(got, math.sqrt(6 / (shape[0] + shape[1])), rel_tol=1e-5):
            hint = ("for a convolution each output sums over in_channels * kh * kw inputs: "
                    "fan_in = in * kh * kw and fan_out = out * kh * kw")
        else:
            hint = "a = sqrt(6 / (fan_in + fan_out)), with the fans read off the weight's shape"
        raise ExerciseFailed(f"{case}: {hint}")
    return f"{len(_BOUND_CASES)} shapes, dense and convolutional"


_SLOPE_CASES = [(100, 0.0), (512, 0.01), (64, 0.2), (300, 1.0), (50, 0.5)]


@exercise("05.2 Kaiming std for a leaky ReLU")
def check_leaky_kaiming_std(leaky_kaiming_std: Callable[[int, float], float]) -> str:
    """Check `leaky_kaiming_std(fan_in, negative_slope)`: the weight std that keeps the forward
    second moment of a layer followed by a leaky ReLU unchanged, against PyTorch's gain
    (05_numerical_stability)."""
    for fan_in, a in _SLOPE_CASES:
        want = nn.init.calculate_gain("leaky_relu", a) / math.sqrt(fan_in)
        got = number(call(leaky_kaiming_std, fan_in, a), f"leaky_kaiming_std({fan_in}, {a})")
        if math.isclose(got, want, rel_tol=1e-5):
            continue
        case = (f"leaky_kaiming_std(fan_in={fan_in}, negative_slope={a}) returned {got:.6g}, "
                f"expected {want:.6g}")
        if math.isclose(got, math.sqrt(2 / fan_in), rel_tol=1e-5):
            hint = ("that is the plain ReLU value: a leaky ReLU keeps a^2 of the negative half's "
                    "second moment, so the factor is (1 + a^2) / 2, not 1/2")
        elif math.isclose(got, math.sqrt(2 / ((1 + a) * fan_in)), rel_tol=1e-5):
            hint = ("the negative half is scaled by a, so its SECOND moment by a^2: use 1 + a^2, "
                    "not 1 + a")
        elif math.isclose(got, math.sqrt(1 / fan_in), rel_tol=1e-5):
            hint = ("sqrt(1 / fan_in) keeps the variance of a linear layer; the ReLU part halves "
                    "the second moment (for a = 0), which the 2 in the numerator makes up for")
        elif math.isclose(got, 2 / ((1 + a * a) * fan_in), rel_tol=1e-5):
            hint = "that is the variance: return its square root, the standard deviation"
        else:
            hint = ("E[leaky(h)^2] = (1 + a^2) / 2 * Var[h] for a symmetric h; choose the std so "
                    "that fan_in * std^2 * (1 + a^2) / 2 = 1")
        raise ExerciseFailed(f"{case}: {hint}")
    return f"{len(_SLOPE_CASES)} slopes from 0 (ReLU) to 1 (linear), against nn.init.calculate_gain"


_WIDTHS = (784, 512, 256, 128)


@exercise("05.3 initialize a ReLU MLP")
def check_relu_mlp_init(init_fn: Callable[[nn.Module], None]) -> str:
    """Check `init_fn`, a function for `net.apply(init_fn)` that gives every `nn.Linear` of a ReLU
    MLP Kaiming weights (mean 0, std sqrt(2 / fan_in)) and zero biases, both still trainable
    parameters. It runs the way `net.apply` does, outside `torch.no_grad()`
    (05_numerical_stability)."""
    require(callable(value(init_fn)),
            f"expected a function, got {type(init_fn).__name__}: define it with def")
    with torch.random.fork_rng():  # building and initializing must not move the notebook's seed
        torch.manual_seed(5)
        layers: list[nn.Module] = []
        for n_in, n_out in zip(_WIDTHS, _WIDTHS[1:]):
            layers += [nn.Linear(n_in, n_out), nn.ReLU()]
        net = nn.Sequential(*layers)
        net.apply(lambda module: _apply(init_fn, module))
    for i, layer in enumerate(m for m in net if isinstance(m, nn.Linear)):
        n_out, n_in = _WIDTHS[i + 1], _WIDTHS[i]
        where = f"layer {i} ({n_in} -> {n_out})"
        for name in ("weight", "bias"):
            _require_trainable(layer, name, where)
        weight = layer.weight.detach()
        require(tuple(weight.shape) == (n_out, n_in),
                f"{where}: the weight has shape {tuple(weight.shape)}, expected {(n_out, n_in)} "
                "(nn.Linear.weight is (fan_out, fan_in)): change the values, not the shape")
        rows_equal = torch.allclose(weight, weight[:1].expand_as(weight))
        require(not rows_equal, f"{where}: every unit got the same weights, so they stay clones "
                                "forever (the symmetry problem): draw them at random")
        mean, std, want = weight.mean().item(), weight.std().item(), math.sqrt(2 / n_in)
        if abs(mean) > 0.05 * want:
            if abs(mean / want - 1) < 0.05:
                hint = ("nn.init.normal_(w, x) takes the MEAN as its second argument: write "
                        "nn.init.normal_(w, std=x), or use nn.init.kaiming_normal_")
            else:
                hint = ("the weights must be centred on zero (half positive, half negative), "
                        "e.g. N(0, 2 / fan_in) or U(-a, a)")
            raise ExerciseFailed(f"{where}: weight mean {mean:.4f}, expected about 0: {hint}")
        if abs(std / want - 1) > 0.05:
            if abs(std / math.sqrt(2 / (n_in + n_out)) - 1) < 0.05:
                hint = "that is Xavier's std; for ReLU use sqrt(2 / fan_in) (Kaiming)"
            elif abs(std / math.sqrt(2 / n_out) - 1) < 0.05:
                hint = ("you used fan_out: the forward pass sums over the fan_in inputs "
                        "(nn.Linear.weight has shape (fan_out, fan_in))")
            elif abs(std / math.sqrt(1 / n_in) - 1) < 0.05:
                hint = "sqrt(1 / fan_in) forgets that ReLU halves the second moment: use 2 / fan_in"
            elif abs(std / math.sqrt(1 / (3 * n_in)) - 1) < 0.05:
                hint = "that is PyTorch's default initialization, untouched: initialize the weight"
            else:
                hint = "Kaiming for ReLU: nn.init.kaiming_normal_(w, nonlinearity=\"relu\")"
            raise ExerciseFailed(f"{where}: weight std {std:.4f}, expected about {want:.4f}: {hint}")
        require(bool((layer.bias == 0).all()),
                f"{where}: the biases are not zero: set them with nn.init.zeros_(module.bias)")
    return ("weights of mean 0 and std within 5 % of sqrt(2 / fan_in), zero biases, all still "
            "trainable, in every layer of a 784-512-256-128 MLP")


def _require_trainable(layer: nn.Linear, name: str, where: str) -> None:
    """The layer's weight or bias must still be a parameter that training updates."""
    param = getattr(layer, name, None)
    require(param is not None, f"{where}: the {name} is gone; keep it and set its values "
                               f"(nn.init.{'zeros_' if name == 'bias' else 'kaiming_normal_'})")
    require(isinstance(param, nn.Parameter),
            f"{where}: the {name} is a plain tensor now, not an nn.Parameter, so the optimizer "
            "would never see it: change the existing parameter's values instead")
    require(param.requires_grad,
            f"{where}: the {name} no longer requires grad, so training would not update it: "
            "do not switch requires_grad off; write to it inside `with torch.no_grad():` or use "
            "nn.init, which does that for you")


def _apply(init_fn: Callable[[nn.Module], None], module: nn.Module) -> None:
    """Run the learner's init on one module, turning a stub or a crash into feedback."""
    try:
        init_fn(module)
    except NotImplementedError as err:
        if is_stub_error(err):
            raise _NotAttempted from None
        raise ExerciseFailed(f"your function raised NotImplementedError: {err}") from err
    except Exception as err:  # noqa: BLE001
        if not isinstance(module, nn.Linear):
            hint = ("net.apply calls it on EVERY submodule, ReLU and the Sequential itself "
                    "included: act only if isinstance(module, nn.Linear)")
        elif "in-place operation" in str(err) and "requires grad" in str(err):
            hint = ("autograd refuses in-place changes to a parameter it tracks: make them "
                    "inside `with torch.no_grad():`, or use nn.init's functions, which do that "
                    "for you")
        elif "cannot assign" in str(err):
            hint = "assign an nn.Parameter, or better, change the existing parameter's values"
        else:
            hint = ""
        raise ExerciseFailed(f"your function raised {type(err).__name__}: {err} on module "
                             f"{type(module).__name__}" + (f"; {hint}" if hint else "")) from err


@exercise("05.4 sigmoid factor bound")
def check_sigmoid_factor_bound(bound: float) -> str:
    """Check the largest factor by which the sigmoid derivatives of 10 layers can scale a
    gradient, the weights left aside; a value rounded to two significant digits counts
    (05_numerical_stability)."""
    got = number(value(bound), "your answer")
    want = 0.25 ** 10

    def near(x: float, rel: float = 0.005) -> bool:
        return math.isclose(got, x, rel_tol=rel)

    if near(want):
        return "(1/4)^10 = 9.54e-7"
    if near(want, 0.06):
        hint = (f"close, but (1/4)^10 = {want:.3g}: compute it exactly (0.25 ** 10) or round it "
                "to two significant digits, 9.5e-7")
    elif near(4 ** 10):
        hint = "that is the inverse: the derivatives can only shrink the gradient, so the factor is below 1"
    elif near(0.5 ** 10):
        hint = "sigma'(x) = sigma(x) (1 - sigma(x)) peaks at x = 0 where it is 1/2 * 1/2 = 1/4"
    elif near(0.25):
        hint = "that is one layer; the chain rule multiplies one such factor per layer"
    elif near(2.5):
        hint = "the chain rule multiplies the per-layer factors, it does not add them"
    elif near(0.25 ** 9) or near(0.25 ** 11):
        hint = "count again: ten layers contribute ten factors of at most 1/4"
    else:
        hint = "each layer contributes at most max sigma'(x) = 1/4; ten layers multiply ten of them"
    raise ExerciseFailed(f"{got!r} is not the bound: {hint}")
