"""Chapter 01's exercise checks accept a right answer, report a stub as not attempted, and reject
the typical wrong answers with the hint meant for them."""

import pytest
import torch

from d2lmini.exercises import (ExerciseFailed, check_linreg_gradients, check_minibatches,
                               check_mse_learning_rate, check_sgd_step)


def stub(*args):
    raise NotImplementedError


@pytest.mark.parametrize("check", [check_linreg_gradients, check_sgd_step, check_minibatches,
                                   check_mse_learning_rate])
def test_stub_is_not_attempted(capsys, check):
    check(stub)
    check(None)
    assert capsys.readouterr().out.count("not attempted yet") == 2


# 01.1 gradient of the squared loss

def gradients(X, y, w, b):
    residual = X @ w + b - y
    return X.T @ residual, residual.sum().reshape(1)


def test_gradients_right_answer(capsys):
    check_linreg_gradients(gradients)
    assert "correct" in capsys.readouterr().out


@pytest.mark.parametrize("wrong,hint", [
    (lambda X, y, w, b: (X.T @ (y - X @ w - b), (y - X @ w - b).sum().reshape(1)), "sign is flipped"),
    (lambda X, y, w, b: (2 * X.T @ (X @ w + b - y), 2 * (X @ w + b - y).sum().reshape(1)), "twice too large"),
    (lambda X, y, w, b: (X.T @ (X @ w + b - y) / len(X), (X @ w + b - y).mean().reshape(1)), "you averaged"),
    (lambda X, y, w, b: (X.T @ (X @ w + b - y), (X @ w + b - y).reshape(-1)), "sum the residuals"),
    (lambda X, y, w, b: ((X @ w + b - y).T @ X, (X @ w + b - y).sum().reshape(1)), r"shape of w, \(d, 1\)"),
])
def test_gradients_typical_mistakes(wrong, hint):
    with pytest.raises(ExerciseFailed, match=hint):
        check_linreg_gradients(wrong)


# 01.2 the minibatch SGD step

def sgd_step(params, lr, batch_size):
    with torch.no_grad():
        for param in params:
            param -= lr * param.grad / batch_size


def test_sgd_step_right_answer(capsys):
    check_sgd_step(sgd_step)

    def with_data(params, lr, batch_size):  # the classic way is accepted too
        for param in params:
            param.data -= lr * param.grad / batch_size

    check_sgd_step(with_data)
    assert capsys.readouterr().out.count("correct") == 2


def no_division(params, lr, batch_size):
    with torch.no_grad():
        for param in params:
            param -= lr * param.grad


def without_no_grad(params, lr, batch_size):
    for param in params:
        param -= lr * param.grad / batch_size


def rebinding(params, lr, batch_size):
    with torch.no_grad():
        for param in params:
            param = param - lr * param.grad / batch_size  # noqa: F841


def returns_early(params, lr, batch_size):
    with torch.no_grad():
        for param in params:
            param -= lr * param.grad / batch_size
            return


def uphill(params, lr, batch_size):
    with torch.no_grad():
        for param in params:
            param += lr * param.grad / batch_size


@pytest.mark.parametrize("wrong,hint", [
    (no_division, r"times too large: .*divide it by batch_size"),
    (without_no_grad, r"autograd refused your update.*torch.no_grad"),
    (rebinding, r"did not change: `param = param - ...` only gives the local name"),
    (returns_early, "update every tensor in params"),
    (uphill, "stepped uphill"),
])
def test_sgd_step_typical_mistakes(wrong, hint):
    with pytest.raises(ExerciseFailed, match=hint):
        check_sgd_step(wrong)


# 01.3 shuffled minibatches

def data_iter(batch_size, features, labels):
    order = torch.randperm(len(features))
    for start in range(0, len(features), batch_size):
        idx = order[start:start + batch_size]
        yield features[idx], labels[idx]


def test_minibatches_generator_stub_and_bugs(capsys):
    def generator_stub(batch_size, features, labels):
        raise NotImplementedError
        yield

    check_minibatches(generator_stub)
    assert "not attempted yet" in capsys.readouterr().out

    def buggy(batch_size, features, labels):
        yield features[len(features) + 1], labels[0]

    with pytest.raises(ExerciseFailed, match="your function raised IndexError"):
        check_minibatches(buggy)
    with pytest.raises(ExerciseFailed, match="returned int: yield"):
        check_minibatches(lambda batch_size, features, labels: 3)


def test_minibatches_right_answer(capsys):
    state = torch.get_rng_state()
    check_minibatches(data_iter)
    assert "correct" in capsys.readouterr().out
    assert torch.equal(torch.get_rng_state(), state), "the check must not disturb the global RNG"


def drops_last(batch_size, features, labels):
    order = torch.randperm(len(features))
    for start in range(0, len(features) - batch_size + 1, batch_size):
        idx = order[start:start + batch_size]
        yield features[idx], labels[idx]


def with_replacement(batch_size, features, labels):
    order = torch.randint(len(features), (len(features),))
    for start in range(0, len(features), batch_size):
        idx = order[start:start + batch_size]
        yield features[idx], labels[idx]


def unshuffled(batch_size, features, labels):
    for start in range(0, len(features), batch_size):
        yield features[start:start + batch_size], labels[start:start + batch_size]


def shuffled_apart(batch_size, features, labels):
    f_order, l_order = torch.randperm(len(features)), torch.randperm(len(features))
    for start in range(0, len(features), batch_size):
        yield (features[f_order[start:start + batch_size]],
               labels[l_order[start:start + batch_size]])


def reseeded(batch_size, features, labels):
    order = torch.randperm(len(features), generator=torch.Generator().manual_seed(0))
    for start in range(0, len(features), batch_size):
        idx = order[start:start + batch_size]
        yield features[idx], labels[idx]


@pytest.mark.parametrize("wrong,hint", [
    (drops_last, "last, shorter batch was dropped"),
    (with_replacement, "do not draw indices with replacement"),
    (unshuffled, "original order"),
    (shuffled_apart, "index features and labels with the same indices"),
    (reseeded, "two passes gave the same order"),
])
def test_minibatches_typical_mistakes(wrong, hint):
    with pytest.raises(ExerciseFailed, match=hint):
        check_minibatches(wrong)


# 01.4 the learning rate for nn.MSELoss

def test_mse_learning_rate_right_answer(capsys):
    check_mse_learning_rate(lambda lr: lr / 2)
    assert "correct" in capsys.readouterr().out


@pytest.mark.parametrize("wrong,hint", [
    (lambda lr: 2 * lr, "you doubled it"),
    (lambda lr: lr, "the same rate takes steps twice as large"),
    (lambda lr: lr / 16, "MSELoss already averages"),
    (lambda lr: -lr, "a learning rate is positive"),
])
def test_mse_learning_rate_typical_mistakes(wrong, hint):
    with pytest.raises(ExerciseFailed, match=hint):
        check_mse_learning_rate(wrong)
