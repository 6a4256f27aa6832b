"""Chapter 01's exercise checks accept a right answer, report a stub as not attempted, and reject
the typical wrong answers with the hint meant for them."""

import random

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

from d2lmini.exercises import (ExerciseFailed, check_linreg_gradients, check_minibatches,
                               check_mse_learning_rate, check_sgd_step)


def stub(*args):
    raise NotImplementedError


@pytest.fixture
def python_and_numpy_seeded():
    """Answers that shuffle with Python's `random` or numpy (which the check does not seed) give
    the same batches on every test run."""
    py_state, np_state = random.getstate(), np.random.get_state()
    random.seed(0)
    np.random.seed(0)
    yield
    random.setstate(py_state)
    np.random.set_state(np_state)


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


def gradients_overwriting_y(X, y, w, b):
    # right values, but the caller's labels become the residuals
    y -= X @ w + b
    y.neg_()
    return X.T @ y, y.sum().reshape(1)


def test_gradients_that_overwrite_an_input_are_rejected(capsys):
    # issue 27: this answer was accepted; the learner's next cell would see changed labels
    with pytest.raises(ExerciseFailed, match=r"changed its argument `y` \(a tensor of shape "
                                             r"\(5, 1\)\) in place"):
        check_linreg_gradients(gradients_overwriting_y)
    check_linreg_gradients(lambda X, y, w, b: gradients_overwriting_y(X, y.clone(), w, b))
    check_linreg_gradients(lambda X, y, w, b: tuple(g.double() for g in gradients(X, y, w, b)))
    check_linreg_gradients(lambda X, y, w, b: tuple(g.numpy() for g in gradients(X, y, w, b)))
    assert capsys.readouterr().out.count("correct") == 3


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

    def with_sub_(params, lr, batch_size):
        with torch.no_grad():
            for param in params:
                param.sub_(lr * param.grad / batch_size)

    def with_copy_(params, lr, batch_size):
        with torch.no_grad():
            for param in params:
                param.copy_(param - lr * param.grad / batch_size)

    check_sgd_step(with_sub_)
    check_sgd_step(with_copy_)
    assert capsys.readouterr().out.count("correct") == 4


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


def rebinding_undivided(params, lr, batch_size):
    with torch.no_grad():
        for param in params:
            param = param - lr * param.grad  # noqa: F841


def sub_without_underscore(params, lr, batch_size):
    with torch.no_grad():
        for param in params:
            param.sub(lr * param.grad / batch_size)


def zeroes_the_gradient_only(params, lr, batch_size):
    for param in params:
        param.grad.zero_()


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
    (rebinding, r"did not change, although your code computed an updated value: `param = param - "),
    (rebinding_undivided, r"did not change, although your code computed an updated value"),
    (sub_without_underscore, r"computed an updated value: .*or `param.sub\(...\)`"),
    (zeroes_the_gradient_only, r"params\[0\] is wrong: it did not change: subtract lr \* param.grad"),
    (returns_early, "update every tensor in params"),
    (uphill, "stepped uphill"),
])
def test_sgd_step_typical_mistakes(wrong, hint):
    with pytest.raises(ExerciseFailed, match=hint):
        check_sgd_step(wrong)


def test_sgd_step_rebinding_hint_only_for_rebinding():
    with pytest.raises(ExerciseFailed) as err:
        check_sgd_step(zeroes_the_gradient_only)
    assert "param = param" not in str(err.value) and "new tensor" not in str(err.value)


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


def shuffled_python_list(batch_size, features, labels):
    order = list(range(len(features)))
    random.shuffle(order)
    for start in range(0, len(order), batch_size):
        idx = order[start:start + batch_size]
        yield features[idx], labels[idx]


def numpy_permutation(batch_size, features, labels):
    order = np.random.permutation(len(features))
    for start in range(0, len(order), batch_size):
        idx = torch.from_numpy(order[start:start + batch_size])
        yield features[idx], labels[idx]


def split_permuted(batch_size, features, labels):
    order = torch.randperm(len(features))
    yield from zip(features[order].split(batch_size), labels[order].split(batch_size))


def torch_data_loader(batch_size, features, labels):
    return DataLoader(TensorDataset(features, labels), batch_size=batch_size, shuffle=True)


@pytest.mark.parametrize("answer", [shuffled_python_list, numpy_permutation, split_permuted,
                                    torch_data_loader])
def test_minibatches_other_right_answers(capsys, python_and_numpy_seeded, answer):
    check_minibatches(answer)
    assert "correct" in capsys.readouterr().out


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


def shuffled_batch_order(batch_size, features, labels):
    starts = list(range(0, len(features), batch_size))
    random.shuffle(starts)
    for start in starts:
        yield features[start:start + batch_size], labels[start:start + batch_size]


def shuffled_batch_order_torch(batch_size, features, labels):
    batches = list(zip(features.split(batch_size), labels.split(batch_size)))
    for i in torch.randperm(len(batches)):
        X, y = batches[i]
        order = torch.randperm(len(X))  # the examples inside a batch shuffled too
        yield X[order], y[order]


_FIXED_ORDERS = {}


def shuffled_once_then_batch_order(batch_size, features, labels):
    # one permutation per data set, made on the first pass and kept; only the batch order changes
    order = _FIXED_ORDERS.setdefault(len(features), torch.randperm(len(features)))
    batches = [order[start:start + batch_size] for start in range(0, len(order), batch_size)]
    for i in torch.randperm(len(batches)):
        yield features[batches[i]], labels[batches[i]]


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
    (shuffled_batch_order, "short batch is not the last, as if the batches had been shuffled"),
    (shuffled_batch_order_torch, "short batch is not the last"),
    (shuffled_once_then_batch_order, "short batch is not the last"),
])
def test_minibatches_typical_mistakes(python_and_numpy_seeded, wrong, hint):
    with pytest.raises(ExerciseFailed, match=hint):
        check_minibatches(wrong)


def keeping_the_short_batch_last(shuffled):
    """`shuffled` run on the examples up to the last whole batch, the rest appended as the short
    last batch: the batch sizes come out right, only the batches are fixed."""
    def reader(batch_size, features, labels):
        whole = len(features) - len(features) % batch_size
        yield from shuffled(batch_size, features[:whole], labels[:whole])
        if whole < len(features):
            yield features[whole:], labels[whole:]
    return reader


@pytest.mark.parametrize("wrong", [shuffled_batch_order, shuffled_batch_order_torch,
                                   shuffled_once_then_batch_order])
def test_minibatches_shuffled_batches_with_right_sizes(python_and_numpy_seeded, wrong):
    with pytest.raises(ExerciseFailed, match="same batches, only in another order: shuffle the "
                                             "examples, not the batches"):
        check_minibatches(keeping_the_short_batch_last(wrong))


# 01.4 the learning rate for nn.MSELoss

def test_mse_learning_rate_right_answer(capsys):
    check_mse_learning_rate(lambda lr: lr / 2)
    check_mse_learning_rate(lambda lr: 0.5 * lr)
    check_mse_learning_rate(lambda lr: torch.tensor(lr) / 2)  # numbers as learners write them
    check_mse_learning_rate(lambda lr: np.float64(lr) / 2)
    check_mse_learning_rate(lambda lr: torch.tensor([lr / 2]))
    assert capsys.readouterr().out.count("correct") == 5


@pytest.mark.parametrize("wrong,hint", [
    (lambda lr: 2 * lr, "you doubled it"),
    (lambda lr: lr, "the same rate takes steps twice as large"),
    (lambda lr: lr / 16, "MSELoss already averages"),
    (lambda lr: -lr, "a learning rate is positive"),
    (lambda lr: lr / 2 > 0, r"gave bool True: expected one number"),
    (lambda lr: f"{lr / 2}", r"gave str '0.015': expected one number"),
    (lambda lr: torch.tensor([lr / 2, lr / 2]), r"gave Tensor .*expected one number"),
])
def test_mse_learning_rate_typical_mistakes(wrong, hint):
    with pytest.raises(ExerciseFailed, match=hint):
        check_mse_learning_rate(wrong)
