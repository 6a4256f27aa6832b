"""Exercise checks for 05_numerical_stability.ipynb."""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import nn

from ._core import ExerciseFailed, _NotAttempted, call, close, exercise, require, value  # noqa: F401

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
        got = call(xavier_bound, shape)
        require(isinstance(got, (int, float)) and not isinstance(got, bool),
                f"xavier_bound({shape}) returned {got!r}: return a number (a Python float)")
        if math.isclose(got, want, rel_tol=1e-6):
            continue
        case = f"xavier_bound({shape}) returned {got:.6g}, expected {want:.6g}"
        if math.isclose(got, math.sqrt(2 / (fan_in + fan_out)), rel_tol=1e-6):
            hint = ("that is the standard deviation; U(-a, a) has variance a^2 / 3, so the bound "
                    "is sqrt(3) times larger: sqrt(6 / (fan_in + fan_out))")
        elif math.isclose(got, 6 / (fan_in + fan_out), rel_tol=1e-6):
            hint = "you forgot the square root"
        elif any(math.isclose(got, math.sqrt(c / fan), rel_tol=1e-6)
                 for c in (1, 2, 3, 6) for fan in (fan_in, fan_out)):
            hint = ("Xavier uses both fans, fan_in + fan_out, as a compromise between the forward "
                    "and the backward pass; one fan alone is LeCun's or Kaiming's rule")
        elif len(shape) == 4 and math.isclose(got, math.sqrt(6 / (shape[0] + shape[1])), rel_tol=1e-6):
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
        got = call(leaky_kaiming_std, fan_in, a)
        require(isinstance(got, (int, float)) and not isinstance(got, bool),
                f"leaky_kaiming_std({fan_in}, {a}) returned {got!r}: return a number")
        if math.isclose(got, want, rel_tol=1e-6):
            continue
        case = (f"leaky_kaiming_std(fan_in={fan_in}, negative_slope={a}) returned {got:.6g}, "
                f"expected {want:.6g}")
        if math.isclose(got, math.sqrt(2 / fan_in), rel_tol=1e-6):
            hint = ("that is the plain ReLU value: a leaky ReLU keeps a^2 of the negative half's "
                    "second moment, so the factor is (1 + a^2) / 2, not 1/2")
        elif math.isclose(got, math.sqrt(2 / ((1 + a) * fan_in)), rel_tol=1e-6):
            hint = ("the negative half is scaled by a, so its SECOND moment by a^2: use 1 + a^2, "
                    "not 1 + a")
        elif math.isclose(got, math.sqrt(1 / fan_in), rel_tol=1e-6):
            hint = ("sqrt(1 / fan_in) keeps the variance of a linear layer; the ReLU part halves "
                    "the second moment (for a = 0), which the 2 in the numerator makes up for")
        elif math.isclose(got, 2 / ((1 + a * a) * fan_in), rel_tol=1e-6):
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
    MLP Kaiming weights (std sqrt(2 / fan_in)) and zero biases (05_numerical_stability)."""
    require(callable(value(init_fn)),
            f"expected a function, got {type(init_fn).__name__}: define it with def")
    with torch.random.fork_rng():  # building and initializing must not move the notebook's seed
        torch.manual_seed(5)
        layers: list[nn.Module] = []
        for n_in, n_out in zip(_WIDTHS, _WIDTHS[1:]):
            layers += [nn.Linear(n_in, n_out), nn.ReLU()]
        net = nn.Sequential(*layers)
        with torch.no_grad():
            net.apply(lambda module: _apply(init_fn, module))
    for i, layer in enumerate(m for m in net if isinstance(m, nn.Linear)):
        fan_out, fan_in = layer.weight.shape
        std, want = layer.weight.std().item(), math.sqrt(2 / fan_in)
        where = f"layer {i} ({fan_in} -> {fan_out})"
        rows_equal = torch.allclose(layer.weight, layer.weight[:1].expand_as(layer.weight))
        require(not rows_equal, f"{where}: every unit got the same weights, so they stay clones "
                                "forever (the symmetry problem): draw them at random")
        if abs(std / want - 1) > 0.05:
            if abs(std / math.sqrt(2 / (fan_in + fan_out)) - 1) < 0.05:
                hint = "that is Xavier's std; for ReLU use sqrt(2 / fan_in) (Kaiming)"
            elif abs(std / math.sqrt(2 / fan_out) - 1) < 0.05:
                hint = ("you used fan_out: the forward pass sums over the fan_in inputs "
                        "(nn.Linear.weight has shape (fan_out, fan_in))")
            elif abs(std / math.sqrt(1 / fan_in) - 1) < 0.05:
                hint = "sqrt(1 / fan_in) forgets that ReLU halves the second moment: use 2 / fan_in"
            elif abs(std / math.sqrt(1 / (3 * fan_in)) - 1) < 0.05:
                hint = "that is PyTorch's default initialization, untouched: initialize the weight"
            else:
                hint = "Kaiming for ReLU: nn.init.kaiming_normal_(w, nonlinearity=\"relu\")"
            raise ExerciseFailed(f"{where}: weight std {std:.4f}, expected about {want:.4f}: {hint}")
        require(layer.bias is None or bool((layer.bias == 0).all()),
                f"{where}: the biases are not zero: set them with nn.init.zeros_(module.bias)")
    return "weight std within 5 % of sqrt(2 / fan_in) and zero biases in every layer of a 784-512-256-128 MLP"


def _apply(init_fn: Callable[[nn.Module], None], module: nn.Module) -> None:
    """Run the learner's init on one module, turning a stub or a crash into feedback."""
    try:
        init_fn(module)
    except NotImplementedError:
        raise _NotAttempted from None
    except Exception as err:  # noqa: BLE001
        hint = ("net.apply calls it on EVERY submodule, ReLU and the Sequential itself included: "
                "act only if isinstance(module, nn.Linear)") if not isinstance(module, nn.Linear) else ""
        raise ExerciseFailed(f"your function raised {type(err).__name__}: {err} on module "
                             f"{type(module).__name__}" + (f"; {hint}" if hint else "")) from err


@exercise("05.4 sigmoid factor bound")
def check_sigmoid_factor_bound(bound: float) -> str:
    """Check the largest factor by which the sigmoid derivatives of 10 layers can scale a
    gradient, the weights left aside (05_numerical_stability)."""
    got = value(bound)
    require(isinstance(got, (int, float)) and not isinstance(got, bool),
            f"expected a number, got {got!r}")
    want = 0.25 ** 10
    if math.isclose(got, want, rel_tol=1e-3):
        return "(1/4)^10, about 9.5e-7"
    if math.isclose(got, 4 ** 10, rel_tol=1e-3):
        hint = "that is the inverse: the derivatives can only shrink the gradient, so the factor is below 1"
    elif math.isclose(got, 0.5 ** 10, rel_tol=1e-3):
        hint = "sigma'(x) = sigma(x) (1 - sigma(x)) peaks at x = 0 where it is 1/2 * 1/2 = 1/4"
    elif math.isclose(got, 0.25, rel_tol=1e-3):
        hint = "that is one layer; the chain rule multiplies one such factor per layer"
    elif math.isclose(got, 2.5, rel_tol=1e-3):
        hint = "the chain rule multiplies the per-layer factors, it does not add them"
    else:
        hint = "each layer contributes at most max sigma'(x) = 1/4; ten layers multiply ten of them"
    raise ExerciseFailed(f"{got!r} is not the bound: {hint}")
