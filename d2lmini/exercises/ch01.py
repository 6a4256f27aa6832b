"""Exercise checks for 01_linear_regression.ipynb."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import torch
from torch import nn
from torch.overrides import TorchFunctionMode

from ._core import ExerciseFailed, _common, call, close, exercise, in_place, number, require, value

__all__: list[str] = ["check_linreg_gradients", "check_sgd_step", "check_minibatches",
                      "check_mse_learning_rate"]


def _scale(got: torch.Tensor, want: torch.Tensor) -> float | None:
    """The factor c with got == c * want, when there is one (None otherwise)."""
    if not isinstance(got, torch.Tensor) or got.shape != want.shape or want.abs().max() == 0:
        return None
    got, want = _common(got, want)
    c = (got * want).sum() / (want * want).sum()
    return c.item() if torch.allclose(got, c * want, atol=1e-6, rtol=1e-4) else None


def _near(c: float | None, target: float) -> bool:
    return c is not None and abs(c - target) <= 1e-3 * max(1.0, abs(target))


# (number of examples, number of features) of each case; the 1-example case makes a forgotten
# sum over the batch and a mean instead of a sum look alike, so it comes last
_GRADIENT_CASES = [(5, 2), (7, 3), (1, 4)]


@exercise("01.1 gradient of the squared loss")
def check_linreg_gradients(linreg_gradients: Callable) -> str:
    """Check `linreg_gradients(X, y, w, b) -> (grad_w, grad_b)`, the gradient of the *summed*
    halved squared loss sum_i (x_i w + b - y_i)^2 / 2 written by hand, against autograd
    (01_linear_regression)."""
    gen = torch.Generator().manual_seed(1)
    for n, d in _GRADIENT_CASES:
        X, w = torch.randn(n, d, generator=gen), torch.randn(d, 1, generator=gen)
        b, y = torch.randn(1, generator=gen), torch.randn(n, 1, generator=gen)
        w_, b_ = w.clone().requires_grad_(), b.clone().requires_grad_()
        ((X @ w_ + b_ - y) ** 2 / 2).sum().backward()
        case = f"a batch of {n} examples with {d} features"
        got = call(linreg_gradients, X.clone(), y.clone(), w.clone(), b.clone())
        require(isinstance(got, (tuple, list)) and len(got) == 2,
                f"for {case} your function returned {type(got).__name__}: return the pair "
                "(grad_w, grad_b)")
        grad_w, grad_b = got
        for name, g, want, shape_hint in (
                ("grad_w", grad_w, w_.grad, "X.T @ residual has the shape of w, (d, 1)"),
                ("grad_b", grad_b, b_.grad, "sum the residuals over the batch: one number, "
                                            "shaped like b, (1,)")):
            if isinstance(g, torch.Tensor) and g.shape != want.shape:
                raise ExerciseFailed(f"for {case} {name} has shape {tuple(g.shape)}, expected "
                                     f"{tuple(want.shape)}: {shape_hint}")
            c = _scale(g, want)
            if _near(c, -1):
                hint = "the sign is flipped: the residual is y_hat - y, not y - y_hat"
            elif _near(c, 2):
                hint = ("it is twice too large: the 1/2 in the loss cancels the 2 that comes "
                        "from differentiating the square")
            elif _near(c, 1 / n) and n > 1:
                hint = (f"it is {n} times too small: you averaged over the batch, but the loss "
                        "is summed (d2l.sgd divides by the batch size itself)")
            else:
                hint = ("d/dw of (x w + b - y)^2 / 2 is (x w + b - y) x; add the contributions "
                        "of all examples: X.T @ (X @ w + b - y), and for b the plain sum")
            close(g, want, f"for {case} {name} is wrong: {hint}")
    return f"{len(_GRADIENT_CASES)} batches against autograd"


def _returns_true(fn: Callable) -> Callable:
    """`fn`, called for its side effects, made to return True, so `call` does not mistake an
    in-place update's `None` for a forgotten `return`."""
    def run(*args):
        fn(*args)
        return True
    return run


class _Results(TorchFunctionMode):
    """Keeps a copy of every tensor that a torch operation returns while it is active, so a check
    can tell what the learner's code computed, not only what it left behind."""

    def __init__(self) -> None:
        super().__init__()
        self.tensors: list[torch.Tensor] = []

    def __torch_function__(self, func, types, args=(), kwargs=None):
        result = func(*args, **(kwargs or {}))
        if isinstance(result, torch.Tensor):
            self.tensors.append(result.detach().clone())
        return result


def _computed_update(seen: list[torch.Tensor], p0: torch.Tensor, g: torch.Tensor) -> bool:
    """True when one of the tensors `seen` is p0 moved along its gradient g (p0 - c * g, c != 0):
    the learner computed an updated parameter as a new tensor."""
    for t in seen:
        if t.shape == p0.shape and t.dtype == p0.dtype:
            c = _scale(p0 - t, g)
            if c is not None and abs(c) > 1e-12:
                return True
    return False


# (parameter shapes, lr, batch size): lr and batch size chosen so that the usual slips scale the
# step by factors that cannot be confused with each other
_SGD_CASES = [([(3, 1), (1,)], 0.1, 4), ([(2, 2), (2,), (1,)], 0.03, 7)]


@exercise("01.2 the minibatch SGD step")
def check_sgd_step(sgd_step: Callable) -> str:
    """Check `sgd_step(params, lr, batch_size)`: in place, `param -= lr * param.grad / batch_size`
    for every parameter, outside autograd, like `d2l.sgd` (01_linear_regression)."""
    value(sgd_step)
    require(callable(sgd_step), f"expected a function, got {type(sgd_step).__name__}")
    gen = torch.Generator().manual_seed(2)
    for shapes, lr, batch_size in _SGD_CASES:
        params = [torch.randn(shape, generator=gen).requires_grad_() for shape in shapes]
        for p in params:
            p.grad = torch.randn(p.shape, generator=gen)
        before = [p.detach().clone() for p in params]
        grads = [p.grad.clone() for p in params]
        case = f"lr={lr}, batch_size={batch_size}, {len(params)} parameters"
        try:
            with _Results() as results:
                call(_returns_true(sgd_step), in_place(params), lr, batch_size)
        except ExerciseFailed as err:
            if "in-place operation" in str(err):
                raise ExerciseFailed(
                    f"for {case} autograd refused your update: a leaf that requires grad cannot "
                    "be changed in place while autograd records; put the update inside "
                    "`with torch.no_grad():`") from None
            raise
        for i, (p, p0, g) in enumerate(zip(params, before, grads)):
            want = p0 - lr * g / batch_size
            step = p0 - p.detach()
            c = _scale(step, lr * g / batch_size)
            if torch.equal(p.detach(), p0) and _computed_update(results.tensors, p0, g):
                hint = ("it did not change, although your code computed an updated value: "
                        "`param = param - ...` (or `param.sub(...)`) makes a new tensor and only "
                        "gives the local name that new tensor; change the tensor itself, "
                        "`param -= ...`, inside `with torch.no_grad():`")
            elif torch.equal(p.detach(), p0):
                hint = ("it did not change: subtract lr * param.grad / batch_size from each "
                        "tensor in params, in place (`param -= ...`), inside "
                        "`with torch.no_grad():`" if i == 0 else
                        "only the first parameters changed: update every tensor in params")
            elif _near(c, batch_size):
                hint = (f"the step is {batch_size} (batch_size) times too large: the gradient is "
                        "that of the summed loss, divide it by batch_size")
            elif _near(c, 1 / batch_size):
                hint = (f"the step is {batch_size} (batch_size) times too small: divide by "
                        "batch_size once")
            elif _near(c, 1 / lr):
                hint = "the step ignores the learning rate: multiply the gradient by lr"
            elif _near(c, -1):
                hint = "you stepped uphill: subtract the gradient, do not add it"
            else:
                hint = "param should become param - lr * param.grad / batch_size"
            close(p.detach(), want, f"for {case}, params[{i}] is wrong: {hint}")
            require(p.is_leaf and p.requires_grad,
                    f"for {case}, params[{i}] is no longer a leaf that requires grad: keep the "
                    "same tensor and update it in place under torch.no_grad()")
    return f"{len(_SGD_CASES)} updates, in place, every parameter"


# (number of examples, batch size): short last batch, exact division, one short batch, size 1
_BATCH_CASES = [(23, 5), (20, 5), (3, 10), (4, 1)]


def _passes(data_iter: Callable, batch_size: int, features: torch.Tensor, labels: torch.Tensor
            ) -> list[list[tuple[torch.Tensor, torch.Tensor]]]:
    """Two passes of the learner's reader, each a list of (X, y) batches."""
    def collected(*args):  # run the reader to the end inside `call`, so its errors become feedback
        out = data_iter(*args)
        return (list(out),) if isinstance(out, Iterable) else out

    passes = []
    for _ in range(2):
        got = call(collected, batch_size, features, labels)
        require(isinstance(got, tuple),
                f"your function returned {type(got).__name__}: yield (X, y) pairs (a generator)")
        (batches,) = got
        for item in batches:
            require(isinstance(item, (tuple, list)) and len(item) == 2
                    and all(isinstance(t, torch.Tensor) for t in item),
                    "every batch must be a pair (X, y) of tensors")
        passes.append(batches)
    return passes


@exercise("01.3 shuffled minibatches")
def check_minibatches(data_iter: Callable) -> str:
    """Check `data_iter(batch_size, features, labels)`: shuffled (X, y) minibatches, each example
    exactly once per pass, rows and labels kept together, the last batch possibly short, a new
    order every pass that also puts the examples into new batches (01_linear_regression)."""
    value(data_iter)
    require(callable(data_iter), f"expected a function, got {type(data_iter).__name__}")
    with torch.random.fork_rng(devices=[]):  # the learner shuffles with the global RNG
        torch.manual_seed(3)
        for n, batch_size in _BATCH_CASES:
            ids = torch.arange(n, dtype=torch.float32)
            features = torch.stack([ids, 100 + ids], dim=1)  # row i says which example it is
            labels = (10 * ids).reshape(n, 1)
            case = f"{n} examples, batch_size={batch_size}"
            passes = _passes(data_iter, batch_size, features, labels)
            orders, groups = [], []  # per pass: the order of the examples, the batches as sets
            for batches in passes:
                sizes = [len(X) for X, _ in batches]
                for X, y in batches:
                    require(X.shape[1:] == (2,) and y.shape[1:] == (1,),
                            f"for {case} a batch has X of shape {tuple(X.shape)} and y of shape "
                            f"{tuple(y.shape)}: index whole rows, features[idx] and labels[idx]")
                    require(torch.equal(y[:, 0], 10 * X[:, 0]),
                            f"for {case} some rows of X no longer sit next to their labels: "
                            "index features and labels with the same indices")
                seen = torch.cat([X[:, 0] for X, _ in batches]).long() if batches else torch.zeros(0)
                missing = sorted(set(range(n)) - set(seen.tolist()))
                if missing:
                    if len(seen) >= n:
                        hint = ("others come twice: shuffle a permutation of the indices "
                                "(torch.randperm), do not draw indices with replacement")
                    elif len(missing) == n % batch_size or len(missing) == n:
                        hint = ("the last, shorter batch was dropped: let the last slice run to "
                                "the end of the indices")
                    else:
                        hint = "go over all n shuffled indices in steps of batch_size"
                    raise ExerciseFailed(f"for {case} examples {missing} never come; {hint}")
                require(len(seen) == n,
                        f"for {case} a pass yields {len(seen)} examples instead of {n}, some of "
                        "them twice: consecutive slices idx[i:i + batch_size] must not overlap")
                right_sizes = [batch_size] * (n // batch_size) + ([n % batch_size] if n % batch_size else [])
                if sizes != right_sizes and sorted(sizes) == sorted(right_sizes):
                    raise ExerciseFailed(
                        f"for {case} the batches have sizes {sizes}: the short batch is not the "
                        "last, as if the batches had been shuffled instead of the examples; take "
                        "a new permutation of all n indices every pass and cut it into slices of "
                        "batch_size")
                require(sizes == right_sizes,
                        f"for {case} the batches have sizes {sizes}: every batch but the last "
                        "holds batch_size examples")
                orders.append(seen)
                groups.append(sorted(tuple(sorted(X[:, 0].long().tolist())) for X, _ in batches))
            if n >= 20:
                require(not all(torch.equal(order, torch.arange(n)) for order in orders),
                        f"for {case} the examples come in their original order: shuffle the "
                        "indices (torch.randperm) at the start of every pass")
                require(not torch.equal(orders[0], orders[1]),
                        f"for {case} two passes gave the same order: draw a new permutation "
                        "every pass (inside the generator), not once, and do not reseed")
                require(groups[0] != groups[1],
                        f"for {case} both passes cut the examples into the same batches, only in "
                        "another order: shuffle the examples, not the batches; take a new "
                        "permutation of all n indices (torch.randperm(n)) every pass and cut it "
                        "into slices of batch_size")
    return (f"{len(_BATCH_CASES)} sizes, two passes each: every example once, shuffled anew, "
            "in new batches")


@exercise("01.4 the learning rate for nn.MSELoss")
def check_mse_learning_rate(mse_learning_rate: Callable[[float], float]) -> str:
    """Check `mse_learning_rate(lr)`: the rate that makes `nn.MSELoss` + `torch.optim.SGD` take
    exactly the step that the summed halved squared loss + `d2l.sgd(params, lr, batch_size)`
    takes, verified by taking both steps (01_linear_regression)."""
    gen = torch.Generator().manual_seed(4)
    X, y = torch.randn(8, 2, generator=gen), torch.randn(8, 1, generator=gen)
    for lr in (0.03, 0.1, 1.0):
        got = number(call(mse_learning_rate, lr), f"mse_learning_rate({lr})")
        require(got > 0, f"mse_learning_rate({lr}) returned {got}: a learning rate is positive")
        scratch = torch.zeros(2, 1, requires_grad=True)
        ((X @ scratch - y) ** 2 / 2).sum().backward()
        with torch.no_grad():
            scratch -= lr * scratch.grad / len(X)
        concise = torch.zeros(2, 1, requires_grad=True)
        nn.MSELoss()(X @ concise, y).backward()
        with torch.no_grad():
            concise -= got * concise.grad  # what torch.optim.SGD's step does
        if _near(got, 2 * lr):
            hint = ("you doubled it: MSELoss has no 1/2, so its gradient is already twice ours "
                    "and a doubled rate makes steps four times as large")
        elif _near(got, lr):
            hint = ("the same rate takes steps twice as large: MSELoss has no 1/2, so its "
                    "gradient is twice that of our averaged loss")
        elif _near(got, lr / len(X)) or _near(got, lr / (2 * len(X))):
            hint = ("MSELoss already averages over the batch, like d2l.sgd's division; only the "
                    "missing 1/2 needs correcting")
        else:
            hint = ("compare the two gradients: ours (summed loss / batch_size) is the mean of "
                    "(y_hat - y) x; MSELoss's is the mean of 2 (y_hat - y) x")
        close(concise.detach(), scratch.detach(),
              f"with mse_learning_rate({lr}) = {got} the two steps differ: {hint}")
    return "three rates, checked by taking both steps"
