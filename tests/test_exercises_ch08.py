"""Chapter 08 exercise checks: the reference solutions pass, the stubs are "not attempted", and
the typical wrong answers fail with the hint meant for them."""

import numpy as np
import pytest
import torch

from d2lmini.exercises import (ExerciseFailed, check_lenet_flat_features, check_lenet_macs,
                               check_lenet_num_params)


def stub(*args):
    raise NotImplementedError


def out_size(n, k, p=0, s=1):
    return (n + 2 * p - k) // s + 1


# 08.1 LeNet flat features

def lenet_flat_features(n, padding):
    side = out_size(out_size(out_size(out_size(n, 5, padding), 2, s=2), 5), 2, s=2)
    return 16 * side * side


@pytest.mark.parametrize("right", [
    lenet_flat_features,
    lambda n, p: np.int64(lenet_flat_features(n, p)),     # a numpy integer
    lambda n, p: torch.tensor(lenet_flat_features(n, p)),  # a one-element tensor
    lambda n, p: float(lenet_flat_features(n, p)),         # a whole float is still the count
])
def test_flat_features_reference_passes(capsys, right):
    check_lenet_flat_features(right)
    assert "08.1 LeNet flat features: correct" in capsys.readouterr().out


def test_flat_features_stub_is_not_attempted(capsys):
    check_lenet_flat_features(stub)
    assert "not attempted yet" in capsys.readouterr().out


def off_by_one(n, padding):
    side = ((n + 2 * padding - 5) // 2 - 5) // 2
    return 16 * side * side


def divides_with_slash(n, padding):
    side = ((n + 2 * padding - 4) / 2 - 4) / 2
    return 16 * side * side


def rounds_pooling_up(n, padding):
    side = -(-(-(-(n + 2 * padding - 4) // 2) - 4) // 2)
    return 16 * side * side


@pytest.mark.parametrize("wrong,hint", [
    (lambda n, p: lenet_flat_features(n, 0), "left out the padding"),
    (off_by_one, "off by one"),
    (rounds_pooling_up, "round down, n // 2"),
    (lambda n, p: lenet_flat_features(n, p) // 16, "the encoder ends with 16 channels"),
    (lambda n, p: int((lenet_flat_features(n, p) // 16) ** 0.5), "you returned the side length"),
    (divides_with_slash, "round down with //, not divide with /"),
    (lambda n, p: lenet_flat_features(n, p) + 0.5, "a count is a whole number.*use // rather than /"),
    (lambda n, p: str(lenet_flat_features(n, p)), "a count is a whole number"),
])
def test_flat_features_typical_mistakes(wrong, hint):
    with pytest.raises(ExerciseFailed, match=hint):
        check_lenet_flat_features(wrong)


# 08.2 LeNet parameter count

def lenet_num_params(c1, c2):
    conv = lambda c_in, c_out, k: c_out * (c_in * k * k + 1)  # noqa: E731
    dense = lambda d_in, d_out: d_out * (d_in + 1)  # noqa: E731
    return conv(1, c1, 5) + conv(c1, c2, 5) + dense(25 * c2, 120) + dense(120, 84) + dense(84, 10)


@pytest.mark.parametrize("right", [lenet_num_params,
                                   lambda c1, c2: np.int64(lenet_num_params(c1, c2)),
                                   lambda c1, c2: torch.tensor(lenet_num_params(c1, c2))])
def test_num_params_reference_passes(capsys, right):
    check_lenet_num_params(right)
    assert "08.2 LeNet parameter count: correct" in capsys.readouterr().out
    assert lenet_num_params(6, 16) == 61706  # the chapter's count


def test_num_params_stub_is_not_attempted(capsys):
    check_lenet_num_params(stub)
    assert "not attempted yet" in capsys.readouterr().out


@pytest.mark.parametrize("wrong,hint", [
    (lambda c1, c2: 25 * c1 + 25 * c1 * c2 + 25 * c2 * 120 + 120 * 84 + 84 * 10, "left out the biases"),
    (lambda c1, c2: lenet_num_params(c1, c2) - 25 * c2 * (c1 - 1), "for EACH of its c1 input channels"),
    (lambda c1, c2: lenet_num_params(c1, c2) - 120 * 24 * c2, "not one per channel"),
    (lambda c1, c2: lenet_num_params(c1, c2) - 850, "count all three dense layers"),
    (lambda c1, c2: lenet_num_params(c1, c2) + 1, r"c_o \(c_i k\^2 \+ 1\)"),
    (lambda c1, c2: lenet_num_params(c1, c2) / 7, "a count is a whole number"),
])
def test_num_params_typical_mistakes(wrong, hint):
    with pytest.raises(ExerciseFailed, match=hint):
        check_lenet_num_params(wrong)


# 08.3 LeNet multiply-adds

def lenet_macs(c1, c2):
    return (1 * c1 * 25 * 28 * 28 + c1 * c2 * 25 * 10 * 10
            + 25 * c2 * 120 + 120 * 84 + 84 * 10)


@pytest.mark.parametrize("right", [lenet_macs, lambda c1, c2: np.int64(lenet_macs(c1, c2))])
def test_macs_reference_passes(capsys, right):
    check_lenet_macs(right)
    assert "08.3 LeNet multiply-adds: correct" in capsys.readouterr().out


def test_macs_stub_is_not_attempted(capsys):
    check_lenet_macs(stub)
    assert "not attempted yet" in capsys.readouterr().out


@pytest.mark.parametrize("wrong,hint", [
    (lenet_num_params, "that is the parameter count"),
    (lambda c1, c2: lenet_macs(c1, c2) + c1 * c2 * 25 * (14 * 14 - 10 * 10), "output is 10x10"),
    (lambda c1, c2: lenet_macs(c1, c2) - (c1 - 1) * c2 * 25 * 100, "sums over all c1 input channels"),
    (lambda c1, c2: c1 * 25 * 28 * 28 + c1 * c2 * 25 * 100, "add the dense layers too"),
    (lambda c1, c2: 2 * lenet_macs(c1, c2), "biases, activations and pooling are not counted"),
    (lambda c1, c2: [lenet_macs(c1, c2)], "a count is a whole number"),
])
def test_macs_typical_mistakes(wrong, hint):
    with pytest.raises(ExerciseFailed, match=hint):
        check_lenet_macs(wrong)
