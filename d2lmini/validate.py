"""Argument checks shared by every public helper: one place, one voice.

Each check raises at the call with a message of the form `name must be ..., got ...`, naming the
argument the learner passed, so a mistake is caught where it is made instead of surfacing as a
torch internal error, a `ZeroDivisionError` or, worse, a silently wrong number. Checks run once
per call, never per batch.
"""

from __future__ import annotations

import math
import numbers
import sys
from collections.abc import Iterable
from typing import Any

import torch


def describe(value: Any) -> str:
    """A short description of what came: the value for small scalars, type and shape otherwise."""
    if isinstance(value, torch.Tensor):
        return f"a {value.dtype} tensor of shape {tuple(value.shape)}"
    if type(value).__module__ == "numpy" and hasattr(value, "shape"):
        return f"a numpy {getattr(value, 'dtype', '')} array of shape {tuple(value.shape)}"
    if value is None or isinstance(value, (bool, int, float, str)):
        return repr(value)
    if (isinstance(value, (tuple, list)) and len(value) <= 4
            and all(v is None or isinstance(v, (bool, int, float, str)) for v in value)):
        return repr(value)
    return f"a {type(value).__name__}"


def fail(name: str, expected: str, value: Any, hint: str = "", error: type[Exception] = ValueError,
         got: str | None = None):
    """Raise `error` saying `name must be <expected>, got <what came>` (plus an optional hint);
    `got` replaces the description of `value` where a summary says more (a count, a range)."""
    message = f"{name} must be {expected}, got {describe(value) if got is None else got}"
    raise error(message + (f"; {hint}" if hint else ""))


def _scalar(value: Any) -> Any:
    """A one-element tensor or numpy array as the Python number it holds; anything else as is.
    With `_is_real`/`_is_int` below this is the one rule for a number a learner passes: a Python
    int or float, a numpy scalar, or a one-element tensor or array; never a bool."""
    if isinstance(value, torch.Tensor) and value.numel() == 1 and value.dtype != torch.bool:
        return value.item()
    if (type(value).__module__ == "numpy" and getattr(value, "size", None) == 1
            and getattr(value, "dtype", None) is not None and value.dtype.kind in "iuf"):
        return value.item()
    return value


def _is_int(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, (bool, _numpy_bool()))


def _is_real(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, _numpy_bool()))


def positive_int(name: str, value: Any) -> int:
    """`value` as an int if it is an integer >= 1 (see `_scalar` for the forms a number takes)."""
    value = _scalar(value)
    if not _is_int(value):
        fail(name, "a positive int", value, error=TypeError)
    if value < 1:
        fail(name, "a positive int", value)
    return int(value)


def _numpy_bool() -> tuple[type, ...]:
    """numpy's bool type when numpy is loaded (it is no `numbers.Integral`, but be explicit)."""
    numpy = sys.modules.get("numpy")
    return (numpy.bool_,) if numpy is not None else ()


def positive_number(name: str, value: Any) -> float:
    """`value` as a float if it is a finite real number > 0."""
    value = _scalar(value)
    if not _is_real(value):
        fail(name, "a positive number", value, error=TypeError)
    if not math.isfinite(value) or value <= 0:
        fail(name, "a finite positive number", value)
    return float(value)


def fraction(name: str, value: Any) -> float:
    """`value` as a float if it is a real number in [0, 1]."""
    value = _scalar(value)
    if not _is_real(value):
        fail(name, "a number in [0, 1]", value, error=TypeError)
    if not 0 <= value <= 1:
        fail(name, "a number in [0, 1]", value)
    return float(value)


def tensor(name: str, value: Any, ndim: int | tuple[int, ...] | None = None,
           floating: bool = False) -> torch.Tensor:
    """`value` if it is a torch tensor with the given number of dimensions (one of them, when a
    tuple) and, with `floating`, a floating-point dtype."""
    if not isinstance(value, torch.Tensor):
        fail(name, "a torch.Tensor", value, hint="convert it with torch.as_tensor(...)"
             if type(value).__module__ == "numpy" else "", error=TypeError)
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else ndim
        if value.ndim not in allowed:
            dims = " or ".join(f"{d}-D" for d in allowed)
            fail(name, f"a {dims} tensor", value)
    if floating and not value.is_floating_point():
        fail(name, "a floating-point tensor", value, hint="convert it with .float()", error=TypeError)
    return value


def module(name: str, value: Any) -> torch.nn.Module:
    """`value` if it is an `nn.Module`."""
    if not isinstance(value, torch.nn.Module):
        fail(name, "a torch.nn.Module", value, error=TypeError)
    return value


def parameter_list(name: str, value: Any) -> list[torch.Tensor]:
    """A list of tensors from a list or tuple of tensors. Generators are refused: they are used up
    after one pass, so a training loop that reads them every step would train nothing after the
    first."""
    if isinstance(value, torch.Tensor):
        fail(name, "a list of tensors", value, hint="wrap a single tensor in a list: [w]",
             error=TypeError)
    if not isinstance(value, (list, tuple)):
        hint = ("a generator such as net.parameters() is used up after one pass; "
                "pass list(net.parameters())") if isinstance(value, Iterable) else ""
        fail(name, "a list of tensors", value, hint=hint, error=TypeError)
    if not value:
        fail(name, "a non-empty list of tensors", value)
    for i, p in enumerate(value):
        if not isinstance(p, torch.Tensor):
            fail(f"{name}[{i}]", "a tensor", p, error=TypeError)
    return list(value)


def one_of(name: str, value: Any, choices: Iterable[Any]) -> Any:
    """`value` if it is one of `choices`."""
    choices = list(choices)
    if value not in choices:
        fail(name, "one of " + ", ".join(map(repr, choices)), value)
    return value


def non_negative_int(name: str, value: Any) -> int:
    """`value` as an int if it is an integer >= 0: an index, a seed."""
    value = _scalar(value)
    if not _is_int(value):
        fail(name, "a non-negative int", value, error=TypeError)
    if value < 0:
        fail(name, "a non-negative int", value)
    return int(value)


def finite_number(name: str, value: Any) -> float:
    """`value` as a float if it is a finite real number of any sign."""
    value = _scalar(value)
    if not _is_real(value):
        fail(name, "a real number", value, error=TypeError)
    if not math.isfinite(value):
        fail(name, "a finite number", value)
    return float(value)


def as_real(value: Any) -> float | None:
    """`value` as a float when it is one real number by the rule of `_scalar` (infinities and NaN
    included, never a bool), else None: for code that words its own feedback, such as the
    exercise checks (d2lmini.exercises, 01_linear_regression onwards)."""
    value = _scalar(value)
    return float(value) if _is_real(value) else None


def real_number(name: str, value: Any) -> float:
    """`value` as a float if it is a real number, infinities and NaN included."""
    number = as_real(value)
    if number is None:
        fail(name, "a real number", _scalar(value), error=TypeError)
    return number


def tensors(name: str, value: Any) -> list[torch.Tensor]:
    """A list of the tensors in `value`: a list or tuple of tensors as `parameter_list` takes, or
    any other non-empty iterable of them, a generator such as `net.parameters()` included (it is
    read once, here). For helpers that use the tensors once per call, like an optimizer step."""
    if isinstance(value, torch.nn.Module) and not isinstance(value, torch.nn.ParameterList):
        fail(name, "an iterable of tensors", value, hint="pass net.parameters(), not the net",
             error=TypeError)
    if isinstance(value, (torch.Tensor, list, tuple)) or not isinstance(value, Iterable):
        return parameter_list(name, value)
    items = list(value)
    if not items:
        fail(name, "a non-empty iterable of tensors", value,
             hint="a generator such as net.parameters() is empty after its first pass; call "
                  "net.parameters() again for each step, or keep params = list(net.parameters())")
    return parameter_list(name, items)


def boolean(name: str, value: Any) -> bool:
    """`value` if it is True or False (not 0, 1 or a string)."""
    if not isinstance(value, bool):
        fail(name, "True or False", value, error=TypeError)
    return value


def image_size(name: str, value: Any) -> tuple[int, int] | None:
    """None, or `value` as a (height, width) pair of positive ints; one int means a square."""
    expected = "None, a positive int or a pair of positive ints"
    if value is None:
        return None
    value = _scalar(value)
    pair = (value, value) if _is_int(value) else value
    if isinstance(pair, (tuple, list)):
        pair = tuple(_scalar(s) for s in pair)
    if not (isinstance(pair, tuple) and len(pair) == 2 and all(_is_int(s) for s in pair)):
        fail(name, expected, value, error=TypeError)
    if min(pair) < 1:
        fail(name, expected, value)
    return int(pair[0]), int(pair[1])


def integer_tensor(name: str, value: Any, ndim: int | tuple[int, ...] | None = None) -> torch.Tensor:
    """`value` if it is a torch tensor of an integer dtype (not bool) with the given number of
    dimensions: class labels, indices."""
    tensor(name, value, ndim)
    if value.is_floating_point() or value.is_complex() or value.dtype == torch.bool:
        fail(name, "an integer tensor", value, hint="class labels are whole numbers: use .long()",
             error=TypeError)
    return value
