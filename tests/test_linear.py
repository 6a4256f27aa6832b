"""Chapter-01 building blocks: data_iter, sgd, linreg, squared_loss, synthetic_data.

The contract tests come first; then, per helper, the plausible mistakes a learner makes, each
refused at the call with an error naming the argument (`name must be ..., got ...`)."""

import numpy as np
import pytest
import torch
from torch import nn

import d2lmini as d2l


def test_data_iter_visits_every_example_once_with_short_last_batch():
    X = torch.arange(23.0).reshape(-1, 1)
    y = torch.arange(23)
    batches = list(d2l.data_iter(5, X, y))
    assert [len(b[1]) for b in batches] == [5, 5, 5, 5, 3]
    seen = torch.cat([b[1] for b in batches])
    assert sorted(seen.tolist()) == list(range(23))
    for Xb, yb in batches:  # features stay paired with their labels
        assert torch.equal(Xb.flatten().long(), yb)


def test_data_iter_shuffles():
    d2l.set_seed(0)
    order = torch.cat([y for _, y in d2l.data_iter(100, torch.zeros(100, 1), torch.arange(100))])
    assert not torch.equal(order, torch.arange(100))


def test_sgd_uses_summed_gradient_over_batch_size():
    w = torch.tensor([1.0, -2.0], requires_grad=True)
    X = torch.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    (X @ w).sum().backward()  # gradient of the summed loss: column sums of X
    d2l.sgd([w], lr=0.3, batch_size=3)
    torch.testing.assert_close(w.detach(), torch.tensor([1.0, -2.0]) - 0.3 * torch.tensor([9.0, 12.0]) / 3)
    assert w.requires_grad and w.grad_fn is None  # updated outside autograd


def test_linreg_squared_loss_and_synthetic_data():
    d2l.set_seed(0)
    true_w = torch.tensor([2.0, -3.4])
    X, y = d2l.synthetic_data(true_w, 4.2, 1000)
    assert X.shape == (1000, 2) and y.shape == (1000, 1)
    residual = y - d2l.linreg(X, true_w.reshape(-1, 1), torch.tensor(4.2))
    assert 0.005 < residual.std() < 0.02  # only the 0.01 noise is left
    loss = d2l.squared_loss(torch.tensor([[1.0], [3.0]]), torch.tensor([2.0, 3.0]))
    torch.testing.assert_close(loss, torch.tensor([[0.5], [0.0]]))


def test_set_seed_repeats_python_numpy_and_torch():
    import random

    def draw():
        return random.random(), float(np.random.rand()), float(torch.rand(()))

    d2l.set_seed(7)
    first = draw()
    d2l.set_seed(7)
    assert draw() == first


# --- data_iter -----------------------------------------------------------------------------

@pytest.mark.parametrize("batch_size,error", [(0, ValueError), (-3, ValueError), (2.5, TypeError),
                                              (True, TypeError), ("2", TypeError)])
def test_data_iter_rejects_bad_batch_size(batch_size, error):
    with pytest.raises(error, match="batch_size must be a positive int"):
        d2l.data_iter(batch_size, torch.zeros(4, 1), torch.zeros(4))


def test_data_iter_rejects_lengths_that_differ_at_the_call():
    # no next(): the error comes when data_iter is called, not at the first batch
    with pytest.raises(ValueError, match=r"labels must be as long as features \(4 examples\), "
                                         r"got a torch.float32 tensor of shape \(3,\)"):
        d2l.data_iter(2, torch.zeros(4, 1), torch.zeros(3))


@pytest.mark.parametrize("name", ["features", "labels"])
def test_data_iter_rejects_lists(name):
    args = {"features": torch.zeros(4, 1), "labels": torch.zeros(4)}
    args[name] = args[name].tolist()
    with pytest.raises(TypeError, match=f"{name} must be a torch.Tensor, got "):
        d2l.data_iter(2, **args)


def test_data_iter_rejects_numpy_with_a_hint():
    with pytest.raises(TypeError, match=r"features must be a torch.Tensor, got a numpy float64 "
                                        r"array .*torch.as_tensor"):
        d2l.data_iter(2, np.zeros((4, 1)), torch.zeros(4))


def test_data_iter_rejects_a_0d_tensor():
    with pytest.raises(ValueError, match="labels must be a tensor with one entry per example"):
        d2l.data_iter(2, torch.zeros(1, 1), torch.tensor(0.0))


def test_data_iter_rejects_no_examples():
    # silently wrong before: a pass over nothing trains nothing and reports no error
    with pytest.raises(ValueError, match="features must be a tensor with at least one example"):
        d2l.data_iter(2, torch.zeros(0, 3), torch.zeros(0))


def test_data_iter_accepts_a_batch_larger_than_the_data():
    assert [len(y) for _, y in d2l.data_iter(10, torch.zeros(3, 1), torch.zeros(3))] == [3]


# --- sgd -----------------------------------------------------------------------------------

def param_with_grad():
    w = torch.ones(2, requires_grad=True)
    w.grad = torch.ones(2)
    return w


@pytest.mark.parametrize("lr,error,expected", [
    ("0.03", TypeError, "lr must be a positive number, got '0.03'"),
    (None, TypeError, "lr must be a positive number, got None"),
    (float("nan"), ValueError, "lr must be a finite positive number, got nan"),
    (float("inf"), ValueError, "lr must be a finite positive number, got inf"),
    (0, ValueError, "lr must be a finite positive number, got 0"),
    (-0.1, ValueError, "lr must be a finite positive number, got -0.1"),
])
def test_sgd_rejects_bad_learning_rates(lr, error, expected):
    w = param_with_grad()
    with pytest.raises(error, match=expected):
        d2l.sgd([w], lr, 1)
    assert torch.equal(w.detach(), torch.ones(2))  # nothing was stepped


def test_sgd_accepts_a_one_element_tensor_lr():
    w = param_with_grad()
    d2l.sgd([w], torch.tensor(0.5), 2)
    torch.testing.assert_close(w.detach(), torch.full((2,), 0.75))


@pytest.mark.parametrize("batch_size,error", [(0, ValueError), (-2, ValueError), (2.0, TypeError),
                                              (True, TypeError), (torch.tensor(2.0), TypeError),
                                              (torch.tensor([2, 3]), TypeError)])
def test_sgd_rejects_bad_batch_size(batch_size, error):
    with pytest.raises(error, match="batch_size must be a positive int"):
        d2l.sgd([param_with_grad()], 0.1, batch_size)


def test_sgd_rejects_a_single_tensor():
    with pytest.raises(TypeError, match=r"params must be a list of tensors, got a torch.float32 "
                                        r"tensor of shape \(2,\); wrap a single tensor in a list"):
        d2l.sgd(param_with_grad(), 0.1, 1)


def test_sgd_accepts_a_fresh_generator_each_call():
    net = nn.Linear(2, 1)
    before = [p.detach().clone() for p in net.parameters()]
    for p in net.parameters():
        p.grad = torch.ones_like(p)
    d2l.sgd(net.parameters(), 0.5, 1)
    for old, p in zip(before, net.parameters()):
        torch.testing.assert_close(p.detach(), old - 0.5)


def test_sgd_rejects_a_used_up_generator():
    # silently wrong before: params = net.parameters() reused for every batch steps only once
    net = nn.Linear(2, 1)
    for p in net.parameters():
        p.grad = torch.ones_like(p)
    params = net.parameters()
    d2l.sgd(params, 0.1, 1)
    with pytest.raises(ValueError, match=r"params must be a non-empty iterable of tensors, got a "
                                         r"generator; .*list\(net.parameters\(\)\)"):
        d2l.sgd(params, 0.1, 1)


def test_sgd_rejects_an_empty_list():
    with pytest.raises(ValueError, match="params must be a non-empty list of tensors"):
        d2l.sgd([], 0.1, 1)


def test_sgd_rejects_the_net_itself():
    with pytest.raises(TypeError, match=r"params must be an iterable of tensors, got a Linear; "
                                        r"pass net.parameters\(\)"):
        d2l.sgd(nn.Linear(2, 1), 0.1, 1)


def test_sgd_rejects_a_non_tensor_entry():
    with pytest.raises(TypeError, match=r"params\[1\] must be a tensor, got 0.5"):
        d2l.sgd([param_with_grad(), 0.5], 0.1, 1)


def test_sgd_rejects_a_tensor_listed_twice():
    # silently wrong before: [w, w] stepped w twice
    w = param_with_grad()
    with pytest.raises(ValueError, match=r"params\[1\] must be a tensor listed once"):
        d2l.sgd([w, w], 0.1, 1)
    assert torch.equal(w.detach(), torch.ones(2))


def test_sgd_rejects_a_computed_tensor_with_the_fix():
    w = torch.randn(2, requires_grad=True) * 0.01  # the classic slip: w is not a leaf
    (w.sum()).backward()
    with pytest.raises(ValueError, match=r"params\[0\] must be a leaf tensor .*MulBackward0.*"
                                         r"requires_grad_\(\)"):
        d2l.sgd([w], 0.1, 1)


def test_sgd_without_backward_says_so():
    w = torch.zeros(2, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"params\[0\].grad must be a tensor, got None; "
                                           r"call loss.backward\(\)"):
        d2l.sgd([w], 0.1, 1)


def test_per_batch_helpers_read_no_tensor_values(monkeypatch):
    """sgd, linreg and squared_loss run once per batch: their checks look at shapes, dtypes and
    devices only, never at values, so they never wait for a GPU."""
    X, y = torch.randn(4, 2), torch.randn(4)
    w = torch.zeros(2, 1, requires_grad=True)
    b = torch.zeros(1, requires_grad=True)
    d2l.squared_loss(d2l.linreg(X, w, b), y).sum().backward()

    def no_sync(*args):
        raise AssertionError("a tensor value was read")

    monkeypatch.setattr(torch.Tensor, "item", no_sync)
    monkeypatch.setattr(torch.Tensor, "__bool__", no_sync)
    monkeypatch.setattr(torch.Tensor, "tolist", no_sync)
    d2l.squared_loss(d2l.linreg(X, w, b), y)
    d2l.sgd([w, b], 0.1, 4)


# --- synthetic_data ------------------------------------------------------------------------

@pytest.mark.parametrize("num_examples,error", [(0, ValueError), (-5, ValueError),
                                                (100.0, TypeError), (True, TypeError)])
def test_synthetic_data_rejects_bad_num_examples(num_examples, error):
    with pytest.raises(error, match="num_examples must be a positive int"):
        d2l.synthetic_data(torch.tensor([2.0, -3.4]), 4.2, num_examples)


@pytest.mark.parametrize("b,error,expected", [
    ("4.2", TypeError, "b must be a real number, got '4.2'"),
    (float("nan"), ValueError, "b must be a finite number, got nan"),
    (torch.tensor([1.0, 2.0]), TypeError, r"b must be a real number, got a torch.float32 tensor"),
])
def test_synthetic_data_rejects_bad_bias(b, error, expected):
    with pytest.raises(error, match=expected):
        d2l.synthetic_data(torch.tensor([2.0, -3.4]), b, 10)


@pytest.mark.parametrize("w,error,expected", [
    (torch.tensor([[2.0], [-3.4]]), ValueError, r"w must be a non-empty 1-D tensor .*w.reshape\(-1\)"),
    (torch.tensor([]), ValueError, "w must be a non-empty 1-D tensor"),
    (torch.tensor(2.0), ValueError, "w must be a non-empty 1-D tensor"),
    ("2, -3.4", TypeError, "w must be a 1-D tensor \\(or list\\) of weights, got '2, -3.4'"),
    ({"w1": 2.0}, TypeError, "w must be a 1-D tensor \\(or list\\) of weights, got a dict"),
    (torch.tensor([2.0, float("nan")]), ValueError, "w must be finite weights"),
])
def test_synthetic_data_rejects_bad_weights(w, error, expected):
    with pytest.raises(error, match=expected):
        d2l.synthetic_data(w, 4.2, 10)


def test_synthetic_data_accepts_lists_and_one_element_bias():
    d2l.set_seed(0)
    X, y = d2l.synthetic_data([2, -3.4], torch.tensor([4.2]), 500)
    assert X.dtype == y.dtype == torch.float32 and y.shape == (500, 1)
    torch.testing.assert_close(y.flatten(), X @ torch.tensor([2.0, -3.4]) + 4.2, atol=0.05, rtol=0)


def test_synthetic_data_labels_carry_no_graph():
    # silently wrong before: a w with requires_grad made y part of a graph through w
    w = torch.tensor([2.0, -3.4], requires_grad=True)
    X, y = d2l.synthetic_data(w, 4.2, 10)
    assert not y.requires_grad and not X.requires_grad


# --- linreg --------------------------------------------------------------------------------

def test_linreg_rejects_integer_features():
    with pytest.raises(TypeError, match=r"X must be a floating-point tensor, got a torch.int64 "
                                        r".*\.float\(\)"):
        d2l.linreg(torch.arange(6).reshape(3, 2), torch.zeros(2, 1), torch.zeros(1))


def test_linreg_rejects_a_single_example_vector():
    with pytest.raises(ValueError, match=r"X must be a 2-D tensor, got a torch.float32 tensor "
                                         r"of shape \(2,\)"):
        d2l.linreg(torch.zeros(2), torch.zeros(2, 1), torch.zeros(1))


def test_linreg_rejects_a_list():
    with pytest.raises(TypeError, match="X must be a torch.Tensor, got a list"):
        d2l.linreg([[1.0, 2.0]], torch.zeros(2, 1), torch.zeros(1))


def test_linreg_rejects_weights_of_the_wrong_length():
    with pytest.raises(ValueError, match=r"w must be a tensor with 2 rows, one per column of X \(3, 2\), "
                                         r"got a torch.float32 tensor of shape \(3, 1\)"):
        d2l.linreg(torch.zeros(3, 2), torch.zeros(3, 1), torch.zeros(1))


def test_linreg_rejects_dtypes_that_differ():
    with pytest.raises(TypeError, match=r"w must be a torch.float64 tensor on cpu, like X, got a "
                                        r"torch.float32 tensor .*X.float\(\)"):
        d2l.linreg(torch.zeros(3, 2, dtype=torch.float64), torch.zeros(2, 1), torch.zeros(1))


def test_linreg_rejects_a_per_example_bias():
    # silently wrong before: b of shape (n,) with w of shape (d,) broadcast into a bias per example
    with pytest.raises(ValueError, match=r"b must be a one-element tensor \(one bias per output: 1\), "
                                         r"got a torch.float32 tensor of shape \(3,\)"):
        d2l.linreg(torch.zeros(3, 2), torch.zeros(2), torch.zeros(3))


def test_linreg_rejects_a_string_bias():
    with pytest.raises(TypeError, match="b must be a real number, got '1'"):
        d2l.linreg(torch.zeros(3, 2), torch.zeros(2, 1), "1")


def test_linreg_accepts_vector_weights_numbers_and_several_outputs():
    X = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
    torch.testing.assert_close(d2l.linreg(X, torch.tensor([1.0, 1.0]), 0.5), torch.tensor([3.5, 7.5]))
    W, b = torch.tensor([[1.0, 0.0], [0.0, 1.0]]), torch.tensor([10.0, 20.0])
    torch.testing.assert_close(d2l.linreg(X, W, b), X + b)


# --- squared_loss --------------------------------------------------------------------------

def test_squared_loss_rejects_lengths_that_differ():
    # (n, 1) against (m,), m != n: refused by name, never broadcast to an (n, m) matrix
    with pytest.raises(ValueError, match=r"y must be a tensor shaped like y_hat \(3, 1\) \(size-1 "
                                         r"axes aside\), got a torch.float32 tensor of shape \(4,\)"):
        d2l.squared_loss(torch.zeros(3, 1), torch.zeros(4))


def test_squared_loss_rejects_a_reshape_that_would_scramble():
    # silently wrong before: (4, 1) against (2, 2) was reshaped, pairing the wrong numbers
    with pytest.raises(ValueError, match=r"y must be a tensor shaped like y_hat \(4, 1\)"):
        d2l.squared_loss(torch.zeros(4, 1), torch.zeros(2, 2))


@pytest.mark.parametrize("name", ["y_hat", "y"])
def test_squared_loss_rejects_non_tensors(name):
    args = {"y_hat": torch.zeros(2, 1), "y": torch.zeros(2)}
    args[name] = [0.0, 0.0]
    with pytest.raises(TypeError, match=f"{name} must be a torch.Tensor, got "):
        d2l.squared_loss(**args)


def test_squared_loss_pairs_column_and_row_labels():
    y_hat = torch.tensor([[1.0], [2.0], [4.0]])
    for y in (torch.tensor([1.0, 2.0, 3.0]), torch.tensor([[1.0], [2.0], [3.0]]),
              torch.tensor([[1.0, 2.0, 3.0]])):
        torch.testing.assert_close(d2l.squared_loss(y_hat, y), torch.tensor([[0.0], [0.0], [0.5]]))
    torch.testing.assert_close(d2l.squared_loss(torch.tensor([1.0, 2.0]), torch.tensor([[2.0], [2.0]])),
                               torch.tensor([0.5, 0.0]))


# ---- one rule for numbers (issue 18 item 14): numpy scalars and 0-d tensors everywhere ----

def test_numbers_as_learners_write_them_are_taken_everywhere(monkeypatch):
    import numpy as np
    w = torch.tensor([2.0, -3.4])
    X, y = d2l.synthetic_data(w, np.float64(4.2), np.int64(10))
    assert X.shape == (10, 2)
    torch.testing.assert_close(d2l.linreg(X, w, np.float32(4.2)), d2l.linreg(X, w, 4.2))
    d2l.set_seed(np.int64(3))
    a = torch.rand(1)
    d2l.set_seed(3)
    assert torch.equal(a, torch.rand(1))
    monkeypatch.setenv("D2LMINI_PROFILE", "full")
    history = {"test_acc": [0.9], "train_loss": [0.1], "train_acc": [0.9], "seconds": [1.0]}
    assert d2l.check_accuracy(history, np.float64(0.8)) == 0.9
    for bad in (True, np.bool_(True), "0.8"):
        with pytest.raises(TypeError):
            d2l.check_accuracy(history, bad)


def test_a_one_element_integer_tensor_is_a_batch_size_like_any_number():
    p = param_with_grad()
    d2l.sgd([p], 0.1, torch.tensor(2))  # the one rule for numbers (issue 18 item 14)
