"""Exercise checks for 03_mlp.ipynb."""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

from ._core import ExerciseFailed, call, close, exercise, matches, require, whole_number

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
    require(not (matches(d_sigmoid, want_tanh) and matches(d_tanh, want_sigmoid)),
            "both derivatives are right, but in swapped order: the first entry holds tanh's and "
            "the second sigmoid's; return the pair as (dsigmoid, dtanh)")
    if matches(d_sigmoid, want_tanh):
        hint = ("that is tanh's derivative, 1 - tanh(z)^2; the first entry of the pair is "
                "sigmoid's, sigmoid(z) * (1 - sigmoid(z))")
    elif matches(d_sigmoid, z * (1 - z)):
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


def _mlp_grads(X, y, W1, b1, W2, b2, slope: str = "tanh", mean: bool = True,
               transpose: bool = True):
    """Hand-written gradients of the cross-entropy of the one-hidden-layer MLP
    O = tanh(X W1 + b1) W2 + b2; the switches reproduce the usual slips: `slope` is the local
    derivative used in step 3 ("tanh" is right; "relu" is section 6's mask, "z" is 1 - Z^2,
    "sigmoid" is H (1 - H), "none" leaves it out), `mean=False` differentiates the summed loss,
    `transpose=False` forgets to transpose W2."""
    Z = X @ W1 + b1
    H = torch.tanh(Z)
    dO = torch.softmax(H @ W2 + b2, dim=1) - F.one_hot(y, W2.shape[1]).to(X.dtype)
    if mean:
        dO = dO / len(X)
    dH = dO @ (W2.T if transpose else W2)
    local = {"tanh": 1 - H**2, "relu": (Z > 0).to(X.dtype), "z": 1 - Z**2,
             "sigmoid": H * (1 - H), "none": torch.ones_like(Z)}[slope]
    dZ = dH * local
    return X.T @ dZ, dZ.sum(dim=0), H.T @ dO, dO.sum(dim=0)


# (examples, inputs, hidden units, outputs); the first case is square where W2 meets dO, so a
# forgotten transpose gives wrong numbers instead of a shape error; the last has one example,
# where the mean and the sum agree
_MLP_CASES = [(5, 3, 4, 4), (6, 4, 5, 3), (8, 6, 7, 5), (1, 2, 3, 2)]

_SLOPE_HINTS = {
    "relu": "that is the ReLU mask of section 6; for tanh multiply dH by 1 - tanh(Z)^2",
    "z": "you used 1 - Z^2: the derivative is 1 - tanh(Z)^2, with H = tanh(Z) squared",
    "sigmoid": "H * (1 - H) is the sigmoid's derivative; tanh's is 1 - H^2",
    "none": "step 3 is missing: dZ = dH * (1 - H^2), the local slope of tanh",
}


@exercise("03.2 backward pass of a tanh MLP by hand")
def check_mlp_backward(mlp_backward: Callable) -> str:
    """Check `mlp_backward(X, y, W1, b1, W2, b2) -> (dW1, db1, dW2, db2)`: the gradients of the
    mean cross-entropy of O = tanh(X W1 + b1) W2 + b2, written by hand, against autograd, on
    several shapes (03_mlp)."""
    gen = torch.Generator().manual_seed(32)
    names = ("dW1", "db1", "dW2", "db2")
    for n, d, h, k in _MLP_CASES:
        X = torch.randn(n, d, generator=gen)
        y = torch.randint(k, (n,), generator=gen)
        params = [torch.randn(d, h, generator=gen), torch.randn(h, generator=gen),
                  torch.randn(h, k, generator=gen), torch.randn(k, generator=gen)]
        leaves = [p.clone().requires_grad_() for p in params]
        W1, b1, W2, b2 = leaves
        F.cross_entropy(torch.tanh(X @ W1 + b1) @ W2 + b2, y).backward()
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
        slips = {slope: _mlp_grads(X, y, *params, slope=slope) for slope in _SLOPE_HINTS}
        summed = _mlp_grads(X, y, *params, mean=False)
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
            if n > 1 and matches(g, summed[i]):
                hint = (f"that is the gradient of the summed loss; the mean divides it by "
                        f"n = {n} (divide dO by n)")
            elif matches(g, -want):
                hint = "the sign is flipped: dL/dO = (softmax(O) - one_hot(y)) / n"
            elif i < 2 and (slope := next((s for s, grads in slips.items()
                                            if matches(g, grads[i])), None)):
                hint = _SLOPE_HINTS[slope]
            elif i < 2 and no_transpose is not None and matches(g, no_transpose[i]):
                hint = "the gradient reaches H through W2 transposed: dH = dO @ W2.T"
            else:
                hint = ("go backwards: dO = (softmax(O) - one_hot(y)) / n; dW2 = H.T @ dO; "
                        "dH = dO @ W2.T; dZ = dH * (1 - H^2); dW1 = X.T @ dZ; biases sum dO, dZ")
            close(g, want, f"for {case} {names[i]} differs from autograd: {hint}")
    return f"{len(_MLP_CASES)} networks against autograd"


# the slips a count of dead units is tested against: each is a function of the pre-activations
# Z = X W + b; a hint is given only when the answer agrees with the slip on every case
_DEAD_SLIPS = [
    (lambda Z: int((Z < 0).all(dim=0).sum()),
     "a unit whose pre-activation is exactly 0 everywhere is dead too: ReLU outputs 0 there and "
     "PyTorch's ReLU'(0) is 0; count z <= 0, not z < 0"),
    (lambda Z: int((Z <= 0).any(dim=0).sum()),
     "you counted units that are silent on SOME row; a dead unit is silent on EVERY row of the "
     "batch"),
    (lambda Z: int((Z > 0).any(dim=0).sum()),
     "you counted the living units (positive on some row); count the others"),
    (lambda Z: int((Z <= 0).all(dim=1).sum()),
     "you counted rows (examples) instead of units (columns): reduce over dim 0"),
    (lambda Z: int((Z <= 0).sum()),
     "you counted silent (row, unit) entries; count units silent on every row"),
    (lambda Z: int((Z.sum(dim=0) <= 0).sum()),
     "a negative sum over the batch does not make a unit dead: every single entry must be <= 0"),
]


def _dead_cases() -> list[tuple[str, torch.Tensor, torch.Tensor, torch.Tensor]]:
    """Batches on which every slip above gives a count different from the right one somewhere."""
    gen = torch.Generator().manual_seed(33)
    X = torch.rand(8, 5, generator=gen)
    W = torch.randn(5, 6, generator=gen)
    b = torch.zeros(6)
    b[0], b[1], b[2] = -100.0, 100.0, -100.0  # units 0 and 2 dead, unit 1 always active
    W[:, 3], b[3] = 0.0, 0.0  # unit 3: pre-activation exactly 0 for every row, also dead
    W[:, 4], b[4] = 0.0, 1e-3  # unit 4: barely alive
    X2, W2 = torch.randn(10, 4, generator=gen), torch.randn(4, 7, generator=gen)
    b2 = torch.tensor([0.0, -50.0, 0.0, 0.0, 50.0, -50.0, 0.0])
    W2[:, 2] = 0.0  # unit 2 stuck at exactly 0
    X3 = torch.randn(5, 3, generator=gen)
    X3[0] = torch.tensor([0.0, -1.0, -1.0])  # a row on which every unit is silent
    return [("a batch of 8 rows and 6 units", X, W, b),
            ("a batch of 1 row and 6 units", X[:1], W, b),
            ("a batch of 5 rows and 3 units", X3, torch.eye(3), torch.tensor([-10.0, 0.5, 0.0])),
            ("a batch of 10 rows and 7 units", X2, W2, b2)]


@exercise("03.3 counting dead units")
def check_dead_units(dead_units: Callable[[torch.Tensor, torch.Tensor, torch.Tensor], int]) -> str:
    """Check `dead_units(X, W, b)`: how many hidden units of relu(X W + b) are dead on the batch X,
    i.e. have a pre-activation <= 0 for every row (so output 0 and gradient 0 everywhere), on
    several batches; a hint names a slip only when the answer behaves like it on all of them
    (03_mlp)."""
    cases = _dead_cases()
    got, want = [], []
    for case, Xc, Wc, bc in cases:
        Z = Xc @ Wc + bc
        want.append(int(((Z > 0).sum(dim=0) == 0).sum()))
        got.append(whole_number(call(dead_units, Xc.clone(), Wc.clone(), bc.clone()),
                                f"your function, on {case},"))
    wrong = [i for i in range(len(cases)) if got[i] != want[i]]
    if not wrong:
        return f"{len(cases)} batches, including units stuck at exactly 0"
    Zs = [Xc @ Wc + bc for _, Xc, Wc, bc in cases]
    hint = next((text for slip, text in _DEAD_SLIPS
                 if all(slip(Z) == g for Z, g in zip(Zs, got))),
                "a unit (a column of X W + b) is dead when none of its entries is positive")
    i = wrong[0]
    raise ExerciseFailed(f"for {cases[i][0]} there are {want[i]} dead units, you returned "
                         f"{got[i]}: {hint}")
