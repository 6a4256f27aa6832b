"""Exercise checks for 03_mlp.ipynb."""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

from ._core import ExerciseFailed, call, close, exercise, matches, require

__all__: list[str] = ["check_activation_derivatives", "check_mlp_backward", "check_dead_units"]


@exercise("03.1 sigmoid and tanh derivatives")
def check_activation_derivatives(activation_derivatives: Callable[[torch.Tensor],
                                                                  tuple[torch.Tensor, torch.Tensor]]
                                 ) -> str:
    """Check `activation_derivatives(z) -> (dsigmoid, dtanh)`, the derivatives of sigmoid and tanh
    at every entry of z from their closed forms, against autograd (03_mlp)."""
    z = torch.cat([torch.linspace(-6, 6, 25), torch.tensor([0.0, 0.3, -2.5])])
    z_ = z.clone().requires_grad_()
    (want_sigmoid,) = torch.autograd.grad(torch.sigmoid(z_).sum(), z_)
    (want_tanh,) = torch.autograd.grad(torch.tanh(z_).sum(), z_)
    got = call(activation_derivatives, z.clone())
    require(isinstance(got, (tuple, list)) and len(got) == 2,
            f"your function returned {type(got).__name__}: return the pair (dsigmoid, dtanh)")
    d_sigmoid, d_tanh = got
    s, t = torch.sigmoid(z), torch.tanh(z)
    if matches(d_sigmoid, z * (1 - z)):
        hint = "you applied s(1 - s) to z itself: use s = sigmoid(z), then s * (1 - s)"
    elif matches(d_sigmoid, s):
        hint = "that is sigmoid(z) itself; its derivative is sigmoid(z) * (1 - sigmoid(z))"
    elif matches(d_sigmoid, s * (1 + s)) or matches(d_sigmoid, -s * (1 - s)):
        hint = "check the sign: d/dz 1 / (1 + e^-z) = e^-z / (1 + e^-z)^2 = s (1 - s)"
    else:
        hint = "sigmoid'(z) = sigmoid(z) * (1 - sigmoid(z)); it peaks at 1/4 at z = 0"
    close(d_sigmoid, want_sigmoid, f"the sigmoid derivative differs from autograd: {hint}")
    if matches(d_tanh, 1 - z**2):
        hint = "you squared z: the derivative is 1 - tanh(z)^2, not 1 - z^2"
    elif matches(d_tanh, 1 - t):
        hint = "square the tanh: 1 - tanh(z)^2"
    elif matches(d_tanh, s * (1 - s)):
        hint = "that is the sigmoid's derivative; tanh(z) = 2 sigmoid(2z) - 1 has 1 - tanh(z)^2"
    else:
        hint = "tanh'(z) = 1 - tanh(z)^2; it equals 1 at z = 0"
    close(d_tanh, want_tanh, f"the tanh derivative differs from autograd: {hint}")
    return f"{len(z)} points from -6 to 6 against autograd"


def _mlp_grads(X, y, W1, b1, W2, b2, mask: bool = True, transpose: bool = True):
    """Hand-written gradients of the summed cross-entropy of the one-hidden-layer ReLU MLP; the
    switches reproduce the two usual slips (no ReLU mask, W2 not transposed)."""
    Z = X @ W1 + b1
    H = torch.relu(Z)
    dO = torch.softmax(H @ W2 + b2, dim=1) - F.one_hot(y, W2.shape[1]).to(X.dtype)
    dH = dO @ (W2.T if transpose else W2)
    dZ = dH * (Z > 0) if mask else dH
    return X.T @ dZ, dZ.sum(dim=0), H.T @ dO, dO.sum(dim=0)


# (examples, inputs, hidden units, outputs); the first case is square where W2 meets dO, so a
# forgotten transpose gives wrong numbers instead of a shape error
_MLP_CASES = [(5, 3, 4, 4), (6, 4, 5, 3), (1, 2, 3, 2)]


@exercise("03.2 MLP backward pass by hand")
def check_mlp_backward(mlp_backward: Callable) -> str:
    """Check `mlp_backward(X, y, W1, b1, W2, b2) -> (dW1, db1, dW2, db2)`: the gradients of the
    summed cross-entropy of O = relu(X W1 + b1) W2 + b2, written by hand, against autograd
    (03_mlp)."""
    gen = torch.Generator().manual_seed(32)
    names = ("dW1", "db1", "dW2", "db2")
    for n, d, h, k in _MLP_CASES:
        X = torch.randn(n, d, generator=gen)
        y = torch.randint(k, (n,), generator=gen)
        params = [torch.randn(d, h, generator=gen), torch.randn(h, generator=gen),
                  torch.randn(h, k, generator=gen), torch.randn(k, generator=gen)]
        leaves = [p.clone().requires_grad_() for p in params]
        W1, b1, W2, b2 = leaves
        F.cross_entropy(torch.relu(X @ W1 + b1) @ W2 + b2, y, reduction="sum").backward()
        case = f"X of shape {(n, d)}, {h} hidden units, {k} classes"
        try:
            got = call(mlp_backward, X.clone(), y.clone(), *[p.clone() for p in params])
        except ExerciseFailed as err:
            if "cannot be multiplied" in str(err):
                raise ExerciseFailed(
                    f"for {case} {err}; write down each shape: dO is (n, k), W2 is (h, k), so "
                    "dH = dO @ W2.T is (n, h), and dW1 = X.T @ dZ is (d, h)") from None
            raise
        require(isinstance(got, (tuple, list)) and len(got) == 4,
                f"for {case} your function returned {type(got).__name__}: return the four "
                "gradients (dW1, db1, dW2, db2)")
        no_mask = _mlp_grads(X, y, *params, mask=False)
        no_transpose = _mlp_grads(X, y, *params, transpose=False) if h == k else None
        for i in (3, 2, 1, 0):  # from the output back, as backpropagation goes
            g, want = got[i], leaves[i].grad
            if isinstance(g, torch.Tensor) and g.shape != want.shape:
                raise ExerciseFailed(
                    f"for {case} {names[i]} has shape {tuple(g.shape)}, expected "
                    f"{tuple(want.shape)}: a gradient has the shape of its parameter"
                    + ("; sum the rows of the batch for a bias" if i in (1, 3) else ""))
            if matches(g, want):
                continue
            if matches(g, want / n) and n > 1:
                hint = f"you divided by n = {n}: the loss is summed over the batch"
            elif matches(g, -want):
                hint = "the sign is flipped: dL/dO = softmax(O) - one_hot(y)"
            elif i < 2 and matches(g, no_mask[i]):
                hint = ("the ReLU mask is missing: units with a non-positive pre-activation "
                        "pass back no gradient, so multiply dH by (Z > 0)")
            elif i < 2 and no_transpose is not None and matches(g, no_transpose[i]):
                hint = "the gradient reaches H through W2 transposed: dH = dO @ W2.T"
            else:
                hint = ("go backwards: dO = softmax(O) - one_hot(y); dW2 = H.T @ dO; "
                        "dH = dO @ W2.T; dZ = dH * (Z > 0); dW1 = X.T @ dZ; biases sum dO, dZ")
            close(g, want, f"for {case} {names[i]} differs from autograd: {hint}")
    return f"{len(_MLP_CASES)} networks against autograd"


@exercise("03.3 counting dead units")
def check_dead_units(dead_units: Callable[[torch.Tensor, torch.Tensor, torch.Tensor], int]) -> str:
    """Check `dead_units(X, W, b)`: how many hidden units of relu(X W + b) are dead on the batch X,
    i.e. have a pre-activation <= 0 for every row (so output 0 and gradient 0 everywhere)
    (03_mlp)."""
    gen = torch.Generator().manual_seed(33)
    X = torch.rand(8, 5, generator=gen)
    W = torch.randn(5, 6, generator=gen)
    b = torch.zeros(6)
    b[0], b[1], b[2] = -100.0, 100.0, -100.0  # units 0 and 2 dead, unit 1 always active
    W[:, 3], b[3] = 0.0, 0.0  # unit 3: pre-activation exactly 0 for every row, also dead
    W[:, 4], b[4] = 0.0, 1e-3  # unit 4: barely alive
    cases = [("a batch of 8 rows and 6 units", X, W, b),
             ("a batch of 1 row and 6 units", X[:1], W, b),
             ("a batch of 5 rows and 3 units", torch.randn(5, 3, generator=gen), torch.eye(3),
              torch.tensor([-10.0, 0.5, 0.0]))]
    for case, Xc, Wc, bc in cases:
        Z = Xc @ Wc + bc
        want = int(((Z > 0).sum(dim=0) == 0).sum())
        got = call(dead_units, Xc.clone(), Wc.clone(), bc.clone())
        if isinstance(got, torch.Tensor) and got.numel() == 1:
            got = got.item()
        require(isinstance(got, int) and not isinstance(got, bool),
                f"for {case} your function returned {got!r}: return the number of dead units, "
                "an int")
        if got == want:
            continue
        if got == int(((Z < 0).sum(dim=0) == len(Z)).sum()):
            hint = ("a unit whose pre-activation is exactly 0 everywhere is dead too: ReLU "
                    "outputs 0 there and PyTorch's ReLU'(0) is 0; count z <= 0, not z < 0")
        elif got == int(((Z <= 0).sum(dim=0) > 0).sum()):
            hint = ("you counted units that are silent on SOME row; a dead unit is silent on "
                    "EVERY row of the batch")
        elif got == int(((Z <= 0).sum(dim=1) == Z.shape[1]).sum()):
            hint = "you counted rows (examples) instead of units (columns): reduce over dim 0"
        elif got == int((Z <= 0).sum()):
            hint = "you counted silent (row, unit) entries; count units silent on every row"
        else:
            hint = "a unit (column of X W + b) is dead when none of its entries is positive"
        raise ExerciseFailed(f"for {case} there are {want} dead units, you returned {got}: {hint}")
    return f"{len(cases)} batches, including a unit stuck at exactly 0"
