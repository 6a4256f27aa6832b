"""Chapter 05 exercise checks: the reference solutions pass, the stubs are "not attempted", and
the typical wrong answers fail with the hint meant for them."""

import math

import numpy as np
import pytest
import torch
from torch import nn

from d2lmini.exercises import (ExerciseFailed, check_leaky_kaiming_std, check_relu_mlp_init,
                               check_sigmoid_factor_bound, check_xavier_bound)


def stub(*args):
    raise NotImplementedError


# 05.1 Xavier bound of a weight

def fans(shape):
    field = math.prod(shape[2:])
    return shape[1] * field, shape[0] * field


def xavier_bound(shape):
    fan_in, fan_out = fans(shape)
    return math.sqrt(6 / (fan_in + fan_out))


@pytest.mark.parametrize("right", [
    xavier_bound,
    lambda shape: torch.tensor(xavier_bound(shape)),          # a one-element tensor is a number
    lambda shape: np.float64(xavier_bound(shape)),
    lambda shape: math.sqrt(6 / sum(nn.init._calculate_fan_in_and_fan_out(torch.empty(shape)))),
])
def test_xavier_bound_references_pass(capsys, right):
    check_xavier_bound(right)
    assert "05.1 Xavier bound of a weight: correct" in capsys.readouterr().out


def test_xavier_bound_matches_what_torch_draws():
    # the reference agrees with nn.init.xavier_uniform_: its draws fill (-a, a) up to the edge
    for shape in [(256, 784), (16, 6, 5, 5)]:
        w = nn.init.xavier_uniform_(torch.empty(shape))
        assert 0.99 * xavier_bound(shape) < w.abs().max() <= xavier_bound(shape)


def test_xavier_bound_stub_is_not_attempted(capsys):
    check_xavier_bound(stub)
    assert "not attempted yet" in capsys.readouterr().out


@pytest.mark.parametrize("wrong,hint", [
    (lambda shape: math.sqrt(2 / sum(fans(shape))), "that is the standard deviation"),
    (lambda shape: 6 / sum(fans(shape)), "forgot the square root"),
    (lambda shape: math.sqrt(6 / fans(shape)[0]), "Xavier uses both fans"),
    (lambda shape: math.sqrt(6 / (shape[0] + shape[1])), "in_channels \\* kh \\* kw"),
    (lambda shape: str(xavier_bound(shape)), "expected one number"),
    (lambda shape: [xavier_bound(shape)] * 2, "expected one number"),
])
def test_xavier_bound_typical_mistakes(wrong, hint):
    with pytest.raises(ExerciseFailed, match=hint):
        check_xavier_bound(wrong)


# 05.2 Kaiming std for a leaky ReLU

def leaky_kaiming_std(fan_in, a):
    return math.sqrt(2 / ((1 + a * a) * fan_in))


@pytest.mark.parametrize("right", [
    leaky_kaiming_std,
    lambda n, a: nn.init.calculate_gain("leaky_relu", a) / math.sqrt(n),
    lambda n, a: torch.sqrt(torch.tensor(2 / ((1 + a * a) * n))),  # float32 tensor
])
def test_leaky_kaiming_references_pass(capsys, right):
    check_leaky_kaiming_std(right)
    assert "05.2 Kaiming std for a leaky ReLU: correct" in capsys.readouterr().out


def test_leaky_kaiming_stub_is_not_attempted(capsys):
    check_leaky_kaiming_std(stub)
    assert "not attempted yet" in capsys.readouterr().out


@pytest.mark.parametrize("wrong,hint", [
    (lambda n, a: math.sqrt(2 / n), "that is the plain ReLU value"),
    (lambda n, a: math.sqrt(2 / ((1 + a) * n)), "use 1 \\+ a\\^2"),
    (lambda n, a: math.sqrt(1 / ((1 + a * a) * n)), "the 2 in the numerator"),
    (lambda n, a: 2 / ((1 + a * a) * n), "that is the variance"),
    (lambda n, a: True, "expected one number"),
])
def test_leaky_kaiming_typical_mistakes(wrong, hint):
    with pytest.raises(ExerciseFailed, match=hint):
        check_leaky_kaiming_std(wrong)


# 05.3 initialize a ReLU MLP

def init_relu(module):
    if isinstance(module, nn.Linear):
        nn.init.kaiming_normal_(module.weight, nonlinearity="relu")
        nn.init.zeros_(module.bias)


def init_relu_uniform(module):
    if isinstance(module, nn.Linear):
        nn.init.kaiming_uniform_(module.weight, nonlinearity="relu")
        nn.init.zeros_(module.bias)


def init_relu_by_hand(module):
    if isinstance(module, nn.Linear):
        with torch.no_grad():
            module.weight.normal_(0, math.sqrt(2 / module.in_features))
            module.bias.zero_()


def init_relu_new_parameters(module):
    if isinstance(module, nn.Linear):
        n_out, n_in = module.weight.shape
        module.weight = nn.Parameter(torch.randn(n_out, n_in) * math.sqrt(2 / n_in))
        module.bias = nn.Parameter(torch.zeros(n_out))


def init_relu_data(module):
    if isinstance(module, nn.Linear):
        module.weight.data.normal_(0, math.sqrt(2 / module.in_features))
        module.bias.data.zero_()


@pytest.mark.parametrize("right", [init_relu, init_relu_uniform, init_relu_by_hand,
                                   init_relu_new_parameters, init_relu_data])
def test_relu_init_references_pass(capsys, right):
    check_relu_mlp_init(right)
    assert "05.3 initialize a ReLU MLP: correct" in capsys.readouterr().out


def test_relu_init_keeps_the_global_seed():
    torch.manual_seed(0)
    expected = torch.rand(3)
    torch.manual_seed(0)
    check_relu_mlp_init(init_relu)
    assert torch.equal(torch.rand(3), expected)


def test_relu_init_stub_is_not_attempted(capsys):
    check_relu_mlp_init(stub)
    check_relu_mlp_init(None)
    assert capsys.readouterr().out.count("not attempted yet") == 2


def linear_only(init):
    def fn(module):
        if isinstance(module, nn.Linear):
            init(module)
    return fn


@pytest.mark.parametrize("wrong,hint", [
    (linear_only(lambda m: (nn.init.xavier_normal_(m.weight), nn.init.zeros_(m.bias))), "Xavier's std"),
    (linear_only(lambda m: (nn.init.kaiming_normal_(m.weight, mode="fan_out"), nn.init.zeros_(m.bias))),
     "you used fan_out"),
    (linear_only(lambda m: (nn.init.normal_(m.weight, std=0.01), nn.init.zeros_(m.bias))),
     "Kaiming for ReLU"),
    (linear_only(lambda m: (nn.init.normal_(m.weight, std=1 / m.in_features ** 0.5), nn.init.zeros_(m.bias))),
     "forgets that ReLU halves"),
    (linear_only(lambda m: (nn.init.constant_(m.weight, 0.05), nn.init.zeros_(m.bias))), "symmetry problem"),
    (linear_only(lambda m: nn.init.kaiming_normal_(m.weight, nonlinearity="relu")), "biases are not zero"),
    (linear_only(lambda m: nn.init.zeros_(m.bias)), "PyTorch's default initialization"),
    (lambda m: nn.init.kaiming_normal_(m.weight), "act only if isinstance"),
    # in place on a parameter without torch.no_grad(): autograd refuses it
    (linear_only(lambda m: (m.weight.normal_(0, math.sqrt(2 / m.in_features)), m.bias.zero_())),
     "inside `with torch.no_grad\\(\\):`"),
    # a right std around a wrong mean
    (linear_only(lambda m: (nn.init.uniform_(m.weight, 0, math.sqrt(24 / m.in_features)),
                            nn.init.zeros_(m.bias))), "centred on zero"),
    (linear_only(lambda m: (nn.init.normal_(m.weight, math.sqrt(2 / m.in_features)),
                            nn.init.zeros_(m.bias))), "MEAN as its second argument"),
    # the weights no longer train
    (linear_only(lambda m: (m.weight.requires_grad_(False), nn.init.kaiming_normal_(m.weight),
                            nn.init.zeros_(m.bias))), "no longer requires grad"),
    (linear_only(lambda m: (nn.init.kaiming_normal_(m.weight), nn.init.zeros_(m.bias),
                            setattr(m, "weight", nn.Parameter(m.weight.detach(), requires_grad=False)))),
     "no longer requires grad"),
    (linear_only(lambda m: (nn.init.kaiming_normal_(m.weight), setattr(m, "bias", None))), "bias is gone"),
    (linear_only(lambda m: setattr(m, "weight", torch.randn(m.out_features, m.in_features))),
     "assign an nn.Parameter"),
])
def test_relu_init_typical_mistakes(wrong, hint):
    with pytest.raises(ExerciseFailed, match=hint):
        check_relu_mlp_init(wrong)


# 05.4 sigmoid factor bound

@pytest.mark.parametrize("right", [0.25 ** 10, 4 ** -10, 9.5e-7, 9.54e-7, np.float64(9.5367e-7),
                                   torch.tensor(0.25) ** 10])
def test_sigmoid_bound_references_pass(capsys, right):
    # 9.5e-7 is the value the success message rounds to: it must pass too
    check_sigmoid_factor_bound(right)
    assert "05.4 sigmoid factor bound: correct" in capsys.readouterr().out


def test_sigmoid_bound_stub_is_not_attempted(capsys):
    check_sigmoid_factor_bound(None)
    assert "not attempted yet" in capsys.readouterr().out


@pytest.mark.parametrize("wrong,hint", [
    (4 ** 10, "that is the inverse"),
    (0.5 ** 10, "1/2 \\* 1/2 = 1/4"),
    (0.25, "that is one layer"),
    (2.5, "does not add them"),
    ("0.25**10", "expected one number"),
    (True, "expected one number"),
    (1e-6, "close, but"),
    (9.4e-7, "close, but"),
    (0.25 ** 9, "count again"),
])
def test_sigmoid_bound_typical_mistakes(wrong, hint):
    with pytest.raises(ExerciseFailed, match=hint):
        check_sigmoid_factor_bound(wrong)
