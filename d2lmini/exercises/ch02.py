"""Exercise checks for 02_softmax_regression.ipynb."""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

from ._core import ExerciseFailed, call, close, exercise, matches, number, require

__all__: list[str] = ["check_stable_softmax", "check_cross_entropy_from_scores",
                      "check_accuracy_fraction", "check_cross_entropy_gradient"]


def _softmax_cases(gen: torch.Generator) -> list[tuple[str, torch.Tensor]]:
    return [
        ("small random scores of shape (4, 4)", torch.randn(4, 4, generator=gen)),
        ("small random scores of shape (3, 5)", torch.randn(3, 5, generator=gen)),
        ("scores around 1000", 1000 + torch.randn(3, 5, generator=gen)),
        ("scores around -1000", -1000 + torch.randn(3, 5, generator=gen)),
        ("one row around 1000 and one around 0",
         torch.cat([1000 + torch.randn(1, 5, generator=gen), torch.randn(1, 5, generator=gen)])),
        # rows spanning a wide range: exp overflows unless the row's *maximum* is subtracted
        # (shifting by the row's minimum or mean leaves a largest shifted score of 187 to 1000,
        # far above the 88 where float32's exp overflows)
        ("rows that span from -500 to 500", torch.stack([torch.linspace(-500, 500, 6),
                                                         torch.linspace(300, -300, 6)])
         + torch.randn(2, 6, generator=gen)),
        ("rows in which one score lies 250 above the others", torch.tensor([[0.0, 0.0, 0.0, 250.0],
                                                                   [-900.0, -650.0, -900.0, -900.0],
                                                                   [1.0, 2.0, 3.0, 4.0]])),
    ]


def _shifted_softmax(O: torch.Tensor, shift: torch.Tensor) -> torch.Tensor:
    E = torch.exp(O - shift)
    return E / E.sum(dim=1, keepdim=True)


@exercise("02.1 stable softmax")
def check_stable_softmax(stable_softmax: Callable[[torch.Tensor], torch.Tensor]) -> str:
    """Check `stable_softmax(O)`: the softmax of every row of a 2-D tensor of scores, finite
    even for scores around +-1000 (02_softmax_regression)."""
    cases = _softmax_cases(torch.Generator().manual_seed(21))
    for case, O in cases:
        want = torch.softmax(O, dim=1)
        got = call(stable_softmax, O.clone())
        other_shift = next((name for name, shift in (
            ("minimum", O.min(dim=1, keepdim=True).values), ("mean", O.mean(dim=1, keepdim=True)))
            if matches(got, _shifted_softmax(O, shift)) and not matches(got, want)), None)
        if matches(got, _shifted_softmax(O, O.max())) and not matches(got, want):
            hint = ("you subtracted the largest score of the whole tensor, so the exps of a row "
                    "far below it all underflow to 0 (0/0 = nan): subtract each row's own "
                    "maximum (dim=1, keepdim=True)")
        elif other_shift is not None:
            hint = (f"you subtracted each row's {other_shift}: in a row that spans a wide range "
                    "the largest shifted score is still huge, its exp overflows to inf and "
                    "inf / inf = nan; subtract each row's maximum, so that every shifted score "
                    "is at most 0")
        elif isinstance(got, torch.Tensor) and got.shape == want.shape and not torch.isfinite(got).all():
            hint = ("your softmax returns nan or inf: exp overflows to inf (or every exp of a "
                    "row underflows to 0); subtract each row's maximum before exp")
        elif matches(got, torch.softmax(O, dim=0)):
            hint = "you normalized each column: the probabilities of a row must sum to 1 (dim=1)"
        elif O.shape[0] == O.shape[1] and matches(got, torch.softmax(O - O.max(dim=1).values, dim=1)):
            hint = ("without keepdim=True the row maxima broadcast along the wrong axis: use "
                    "O.max(dim=1, keepdim=True).values")
        else:
            hint = "exp of the shifted scores, divided by their sum over each row"
        close(got, want, f"for {case} the values differ from torch.softmax: {hint}")
    return (f"{len(cases)} cases, including scores around +-1000, rows of very "
            "different size and rows that span a range of several hundred")


@exercise("02.2 cross-entropy from scores")
def check_cross_entropy_from_scores(cross_entropy_loss: Callable[[torch.Tensor, torch.Tensor],
                                                                 torch.Tensor]) -> str:
    """Check `cross_entropy_loss(O, y)`: the *mean* cross-entropy of a batch, computed from raw
    scores O of shape (n, k) and int64 labels y of shape (n,), finite for confident scores, like
    `F.cross_entropy(O, y)` (02_softmax_regression)."""
    gen = torch.Generator().manual_seed(22)
    cases = [("random scores of shape (5, 3)", torch.randn(5, 3, generator=gen),
              torch.tensor([0, 2, 1, 2, 0])),
             ("random scores of shape (4, 6)", torch.randn(4, 6, generator=gen),
              torch.tensor([5, 0, 3, 3])),
             ("confident and wrong scores [[0, 200], [300, 0]]",
              torch.tensor([[0.0, 200.0], [300.0, 0.0]]), torch.tensor([0, 1]))]
    for case, O, y in cases:
        want = F.cross_entropy(O, y)
        got = call(cross_entropy_loss, O.clone(), y.clone())
        n = len(y)
        log_p = torch.log_softmax(O, dim=1)
        if isinstance(got, torch.Tensor) and got.shape == (n,):
            raise ExerciseFailed(f"for {case} your function returned a tensor of shape {(n,)}, "
                                 "one loss per example: return their mean, a single number")
        if isinstance(got, torch.Tensor) and got.numel() != 1:
            raise ExerciseFailed(f"for {case} your function returned a tensor of shape "
                                 f"{tuple(got.shape)}: return a single number, the mean loss")
        loss = torch.tensor(number(got, f"for {case} your function"))
        if not torch.isfinite(loss):
            hint = ("it is inf or nan: log of a softmax that underflowed to 0; work on the "
                    "scores: log p_j = o_j - max - log(sum(exp(o - max)))")
        elif matches(loss, -log_p[torch.arange(n), y].sum()):
            hint = f"you summed over the batch: take the mean (divide by n = {n})"
        elif matches(loss, log_p[torch.arange(n), y].mean()):
            hint = "the sign is wrong: the loss is minus the log-probability of the true class"
        elif matches(loss, -log_p[:, y].mean()):
            hint = ("log_p[:, y] picks every row's entries for all n labels, an (n, n) block: "
                    "pick one entry per row with log_p[torch.arange(n), y]")
        else:
            hint = "mean over the batch of -log softmax(o)[true class]"
        close(loss, want, f"for {case} the loss should be {want.item():.4f}, got "
                          f"{loss.item():.4f}: {hint}")
    return "3 batches, including confident wrong scores of 200 and 300"


@exercise("02.3 accuracy")
def check_accuracy_fraction(accuracy: Callable[[torch.Tensor, torch.Tensor], float]) -> str:
    """Check `accuracy(y_hat, y)`: the fraction of rows of y_hat (n, k) whose largest entry sits
    at the true label, for labels shaped (n,) or (n, 1) (02_softmax_regression)."""
    y_hat = torch.tensor([[0.1, 0.7, 0.2], [0.8, 0.1, 0.1], [0.3, 0.3, 0.4], [0.2, 0.5, 0.3],
                          [0.6, 0.3, 0.1]])
    y = torch.tensor([1, 0, 0, 2, 0])  # rows 0, 1 and 4 are right: 3 of 5
    cases = [("labels of shape (5,)", y_hat, y),
             ("labels of shape (5, 1)", y_hat, y.reshape(-1, 1)),
             ("scores of shape (2, 4), labels [3, 3]",
              torch.tensor([[0.0, 1.0, 2.0, 3.0], [3.0, 2.0, 1.0, 0.0]]), torch.tensor([3, 3]))]
    for case, scores, labels in cases:
        flat = labels.reshape(-1)
        want = (scores.argmax(dim=1) == flat).float().mean().item()
        got = call(accuracy, scores.clone(), labels.clone())
        if isinstance(got, torch.Tensor) and got.numel() != 1:
            raise ExerciseFailed(f"for {case} your function returned a tensor of shape "
                                 f"{tuple(got.shape)}: return one number, the fraction of correct "
                                 "rows")
        got = number(got, f"for {case} your function")
        if abs(got - want) <= 1e-6:
            continue
        hits = round(want * len(flat))
        if abs(got - want * len(flat)) <= 1e-6:
            hint = f"that is the count of correct rows: divide by the number of rows, {len(flat)}"
        elif got == hits // len(flat) and _all_right_gives_one(accuracy):
            hint = (f"{hits} // {len(flat)} = {hits // len(flat)}: `//` is integer (floor) "
                    f"division and rounds the fraction down to a whole number; divide with `/` "
                    f"({hits} / {len(flat)} = {want:g}), or average the hits as floats, "
                    "(y_hat.argmax(dim=1) == y).float().mean()")
        elif labels.ndim == 2 and any(abs(got - v) <= 1e-6 for v in _broadcast_mistakes(scores, labels)):
            hint = ("with labels of shape (n, 1) the comparison broadcasts to an (n, n) table: "
                    "flatten the labels first (y.reshape(-1))")
        else:
            hint = "compare each row's argmax with its label, then average the hits"
        raise ExerciseFailed(f"for {case} the accuracy is {want:.2f}, you returned {got:.4g}: {hint}")
    return "3 batches, labels shaped (n,) and (n, 1)"


def _all_right_gives_one(accuracy: Callable) -> bool:
    """True when `accuracy` gives 1 on a batch whose rows are all right: then an answer that
    rounds the other batches' fractions down to 0 divides with `//`, it does not miss hits."""
    scores, labels = torch.tensor([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7]]), torch.tensor([1, 0, 1])
    try:
        return number(call(accuracy, scores, labels), "your function") == 1
    except ExerciseFailed:
        return False


def _broadcast_mistakes(scores: torch.Tensor, labels: torch.Tensor) -> list[float]:
    """What comes out when (n,) predictions meet (n, 1) labels: an (n, n) table of hits,
    averaged, or summed and divided by n."""
    table = (scores.argmax(dim=1) == labels).float()
    return [table.mean().item(), table.sum().item() / len(labels)]


@exercise("02.4 gradient of cross-entropy")
def check_cross_entropy_gradient(cross_entropy_grad: Callable[[torch.Tensor, torch.Tensor],
                                                              torch.Tensor]) -> str:
    """Check `cross_entropy_grad(O, y)`: the gradient of the *summed* cross-entropy of a batch
    with respect to the scores O, written by hand, against autograd (02_softmax_regression)."""
    gen = torch.Generator().manual_seed(24)
    for n, k in ((4, 3), (6, 5)):
        O = torch.randn(n, k, generator=gen)
        y = torch.randint(k, (n,), generator=gen)
        O_ = O.clone().requires_grad_()
        F.cross_entropy(O_, y, reduction="sum").backward()
        want = O_.grad
        got = call(cross_entropy_grad, O.clone(), y.clone())
        P, Y = torch.softmax(O, dim=1), F.one_hot(y, k).float()
        if matches(got, Y - P):
            hint = "the sign is flipped: the gradient is softmax(O) - one_hot(y)"
        elif matches(got, (P - Y) / n):
            hint = f"you divided by n = {n}: this is the gradient of the summed loss"
        elif matches(got, P):
            hint = "the true class's entry is missing its -1: subtract one_hot(y)"
        elif matches(got, -Y / P):
            hint = ("that is the gradient with respect to the probabilities; follow it through "
                    "the softmax to the scores")
        else:
            hint = "for each row, softmax(o) minus the one-hot vector of the label"
        close(got, want, f"for scores of shape {(n, k)} the gradient differs from autograd: {hint}")
    return "2 batches against autograd"
