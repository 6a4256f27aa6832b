"""The from-scratch building blocks of linear regression: data, model, loss, optimizer."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import torch


def _check_positive_int(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive int, got {value!r}")


def synthetic_data(w: torch.Tensor, b: float, num_examples: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Features X ~ N(0, 1) and labels y = Xw + b + noise (std 0.01), y shaped (n, 1)
    (01_linear_regression)."""
    _check_positive_int("num_examples", num_examples)
    w = torch.as_tensor(w, dtype=torch.float32)
    if w.ndim != 1:
        raise ValueError(f"w must be a 1-D tensor of weights, got shape {tuple(w.shape)}")
    X = torch.randn(num_examples, len(w))
    y = X @ w + b
    y += 0.01 * torch.randn(y.shape)
    return X, y.reshape(-1, 1)


def data_iter(batch_size: int, features: torch.Tensor,
              labels: torch.Tensor) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """Shuffled minibatches `(X, y)`; each example once per pass, the last batch may be short
    (01_linear_regression)."""
    _check_positive_int("batch_size", batch_size)
    if len(features) != len(labels):
        raise ValueError(f"features and labels must have the same length, "
                         f"got {len(features)} features and {len(labels)} labels")
    return _batches(batch_size, features, labels)


def _batches(batch_size, features, labels):
    order = torch.randperm(len(features))
    for start in range(0, len(features), batch_size):
        idx = order[start:start + batch_size]
        yield features[idx], labels[idx]


def linreg(X: torch.Tensor, w: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """The linear model Xw + b (01_linear_regression)."""
    return X @ w + b


def squared_loss(y_hat: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Per-example halved squared error (y_hat - y)^2 / 2, y reshaped like y_hat
    (01_linear_regression)."""
    return (y_hat - y.reshape(y_hat.shape)) ** 2 / 2


def sgd(params: Iterable[torch.Tensor], lr: float, batch_size: int) -> None:
    """Minibatch SGD in place: `param -= lr * param.grad / batch_size`, outside autograd.

    The gradient must be that of a *summed* minibatch loss; dividing by `batch_size` turns it
    into the mean gradient (01_linear_regression)."""
    _check_positive_int("batch_size", batch_size)
    params = list(params)
    for i, param in enumerate(params):
        if param.grad is None:
            raise RuntimeError(f"sgd: params[{i}] has no gradient (.grad is None); call "
                               "loss.backward() before sgd, on a tensor with requires_grad=True")
    with torch.no_grad():
        for param in params:
            param -= lr * param.grad / batch_size
