"""The from-scratch building blocks of linear regression: data, model, loss, optimizer."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import torch

from . import validate


def synthetic_data(w: torch.Tensor, b: float, num_examples: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Features X ~ N(0, 1) and labels y = Xw + b + noise (std 0.01), y shaped (n, 1), on w's
    device; `w` may also be a list of numbers, `b` a number or a one-element tensor
    (01_linear_regression)."""
    validate.positive_int("num_examples", num_examples)
    b = validate.finite_number("b", b)
    if isinstance(w, (str, bytes)):
        validate.fail("w", "a 1-D tensor (or list) of weights", w, error=TypeError)
    try:
        w = torch.as_tensor(w, dtype=torch.float32).detach()
    except (TypeError, ValueError, RuntimeError):
        validate.fail("w", "a 1-D tensor (or list) of weights", w, error=TypeError)
    if w.ndim != 1 or len(w) == 0:
        validate.fail("w", "a non-empty 1-D tensor of weights, one per feature", w,
                      hint="flatten a column of weights with w.reshape(-1)" if w.ndim == 2 else "")
    if not torch.isfinite(w).all():
        validate.fail("w", "finite weights", w, hint="it holds nan or inf")
    X = torch.randn(num_examples, len(w), device=w.device)
    y = X @ w + b
    y += 0.01 * torch.randn(y.shape, device=w.device)
    return X, y.reshape(-1, 1)


def data_iter(batch_size: int, features: torch.Tensor,
              labels: torch.Tensor) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """Shuffled minibatches `(X, y)`; each example once per pass, the last batch may be short
    (01_linear_regression). The arguments are checked at the call, not at the first batch."""
    validate.positive_int("batch_size", batch_size)
    for name, value in (("features", features), ("labels", labels)):
        validate.tensor(name, value)
        if value.ndim == 0:
            validate.fail(name, "a tensor with one entry per example (at least 1-D)", value)
    if len(labels) != len(features):
        validate.fail("labels", f"as long as features ({len(features)} examples)", labels)
    if len(features) == 0:
        validate.fail("features", "a tensor with at least one example", features)
    return _batches(batch_size, features, labels)


def _batches(batch_size: int, features: torch.Tensor,
             labels: torch.Tensor) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    order = torch.randperm(len(features))
    for start in range(0, len(features), batch_size):
        idx = order[start:start + batch_size]
        yield features[idx], labels[idx]


def linreg(X: torch.Tensor, w: torch.Tensor, b: torch.Tensor | float) -> torch.Tensor:
    """The linear model Xw + b (01_linear_regression).

    X is (n, d); w is (d,) or (d, k); b is a number, a one-element tensor or, for k outputs, a
    (k,) tensor. Anything else would broadcast into a wrong answer, so it is refused."""
    validate.tensor("X", X, ndim=2, floating=True)
    validate.tensor("w", w, ndim=(1, 2), floating=True)
    if w.dtype != X.dtype or w.device != X.device:
        where = f"w is on {w.device}; " if w.device != X.device else ""
        validate.fail("w", f"a {X.dtype} tensor on {X.device}, like X", w, error=TypeError,
                      hint=f"{where}convert one of them, e.g. with X.float() or w.to(X)")
    if w.shape[0] != X.shape[1]:
        validate.fail("w", f"a tensor with {X.shape[1]} rows, one per column of X "
                      f"{tuple(X.shape)}", w)
    if isinstance(b, torch.Tensor):
        outputs = w.shape[1] if w.ndim == 2 else 1
        if b.numel() != 1 and tuple(b.shape) not in ((outputs,), (1, outputs)):
            validate.fail("b", f"a one-element tensor (one bias per output: {outputs})", b)
    else:
        b = validate.finite_number("b", b)
    return X @ w + b


def squared_loss(y_hat: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Per-example halved squared error (y_hat - y)^2 / 2, y reshaped like y_hat
    (01_linear_regression).

    The shapes must agree once size-1 axes are set aside: (n, 1) against (n,) is the usual case;
    (n, 1) against (m,) with m != n, or (4, 1) against (2, 2), is refused."""
    validate.tensor("y_hat", y_hat)
    validate.tensor("y", y)
    if y.shape != y_hat.shape and (
            [s for s in y.shape if s != 1] != [s for s in y_hat.shape if s != 1]):
        validate.fail("y", f"a tensor shaped like y_hat {tuple(y_hat.shape)} (size-1 axes aside)", y)
    return (y_hat - y.reshape(y_hat.shape)) ** 2 / 2


def sgd(params: Iterable[torch.Tensor], lr: float, batch_size: int) -> None:
    """Minibatch SGD in place: `param -= lr * param.grad / batch_size`, outside autograd.

    The gradient must be that of a *summed* minibatch loss; dividing by `batch_size` turns it
    into the mean gradient (01_linear_regression). `params` is a list of tensors or any iterable
    of them, e.g. a fresh `net.parameters()`; the checks cost O(len(params)) and read no tensor
    values, so calling sgd once per batch stays cheap."""
    params = validate.tensors("params", params)
    lr = validate.positive_number("lr", lr)
    validate.positive_int("batch_size", batch_size)
    seen = set()
    for i, param in enumerate(params):
        if id(param) in seen:
            validate.fail(f"params[{i}]", "a tensor listed once", param,
                          hint="it appears earlier in params too, so it would take two steps")
        seen.add(id(param))
        if not param.is_leaf:
            validate.fail(f"params[{i}]", "a leaf tensor (created, not computed)", param,
                          hint=f"it was computed by {type(param.grad_fn).__name__}, so backward "
                               "gives it no .grad; e.g. torch.randn(2, 1, requires_grad=True) * "
                               "0.01 is computed: write (torch.randn(2, 1) * 0.01).requires_grad_()")
        if param.grad is None:
            validate.fail(f"params[{i}].grad", "a tensor", None, error=RuntimeError,
                          hint="call loss.backward() before sgd, on tensors with "
                               "requires_grad=True")
    with torch.no_grad():
        for param in params:
            param -= lr * param.grad / batch_size
