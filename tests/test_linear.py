"""Chapter-01 building blocks: data_iter, sgd, linreg, squared_loss, synthetic_data."""

import pytest
import torch

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


@pytest.mark.parametrize("batch_size", [0, -3, 2.5, True])
def test_data_iter_rejects_bad_batch_size(batch_size):
    with pytest.raises(ValueError, match="batch_size"):
        d2l.data_iter(batch_size, torch.zeros(4, 1), torch.zeros(4))


def test_data_iter_rejects_lengths_that_differ():
    with pytest.raises(ValueError, match="features and labels"):
        d2l.data_iter(2, torch.zeros(4, 1), torch.zeros(3))


def test_sgd_uses_summed_gradient_over_batch_size():
    w = torch.tensor([1.0, -2.0], requires_grad=True)
    X = torch.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    (X @ w).sum().backward()  # gradient of the summed loss: column sums of X
    d2l.sgd([w], lr=0.3, batch_size=3)
    torch.testing.assert_close(w.detach(), torch.tensor([1.0, -2.0]) - 0.3 * torch.tensor([9.0, 12.0]) / 3)
    assert w.requires_grad and w.grad_fn is None  # updated outside autograd


def test_sgd_without_backward_says_so():
    w = torch.zeros(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="backward"):
        d2l.sgd([w], 0.1, 1)


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

    import numpy as np

    def draw():
        return random.random(), float(np.random.rand()), float(torch.rand(()))

    d2l.set_seed(7)
    first = draw()
    d2l.set_seed(7)
    assert draw() == first
