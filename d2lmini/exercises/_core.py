"""The machinery every exercise check shares: stub detection, calling the learner's code, and
feedback that says which case failed and why.

A check is a function decorated with `@exercise("02.1 stable softmax")`. Inside it, `call(answer,
*args)` runs the learner's function, `require(condition, feedback)` and `close(got, want,
feedback)` compare against the reference. The decorator turns the outcome into what the learner
sees when the cell runs:

- an untouched stub (a function whose own code runs a bare `raise NotImplementedError`, or the
  value `None` / `...`) prints "not attempted yet" and does not fail, so CI passes with the
  exercises undone. Any other `NotImplementedError` (e.g. the one PyTorch raises for a module whose
  `forward` is missing or misspelled) is a broken answer and gets feedback;
- a wrong answer raises `ExerciseFailed` whose message is the specific feedback (red in Jupyter);
- a right answer prints one line saying what was checked.

Three rules hold for every check, because they live here:

- numbers as a learner writes them: one number is a Python int or float, a numpy scalar or a
  one-element tensor or array (`number`); several numbers are a list, a tuple, a tensor or a numpy
  array of them (`entries`); a numpy array the learner's function returns is read as the tensor it
  holds (`call`), so it is accepted wherever a tensor is;
- values are compared after casting both sides to one dtype (`close`, `matches`), so an answer
  computed in float64 is judged like one in float32, never a dtype error;
- the learner's function must leave the tensors it is given as they were (`call`): a function
  that overwrites its input in place hands back the right values but changes the caller's data.
  Only an argument wrapped in `in_place(...)`, one the exercise asks to update, may change.
"""

from __future__ import annotations

import functools
import inspect
import os
from collections.abc import Callable
from typing import Any

import torch

from .. import validate


class ExerciseFailed(AssertionError):
    """A learner's exercise answer is wrong; the message says which case failed and hints why
    (01_linear_regression)."""


class _NotAttempted(Exception):
    """Raised inside a check when the answer is still the stub."""


def is_stub(answer: Any) -> bool:
    """True for the placeholders the notebooks hand out: `None` and `...`."""
    return answer is None or answer is Ellipsis


_LIBRARY_DIRS = tuple(os.path.dirname(m.__file__) + os.sep for m in (torch,))


def is_stub_error(err: BaseException) -> bool:
    """True when `err` is the stub's own bare `raise NotImplementedError`: no message, raised by
    a line outside PyTorch. `nn.Module` raises one *with* a message for a module whose `forward`
    is missing or misspelled; that is a broken answer, not an untouched one."""
    if not isinstance(err, NotImplementedError) or err.args:
        return False
    tb = err.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    return tb is None or not tb.tb_frame.f_code.co_filename.startswith(_LIBRARY_DIRS)


def attempt(run: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """`run(*args, **kwargs)`, with the stub's bare `NotImplementedError` turned into "not
    attempted"; for checks that build the learner's module themselves."""
    try:
        return run(*args, **kwargs)
    except NotImplementedError as err:
        if is_stub_error(err):
            raise _NotAttempted from None
        raise


class in_place:  # noqa: N801 (used like a function: `call(step, in_place(params), lr)`)
    """Marks an argument of `call` that the exercise asks the learner's code to change in place
    (the parameters of an SGD step): it is passed on as it is and not required to come back
    unchanged."""

    def __init__(self, value: Any) -> None:
        self.value = value


def call(answer: Callable, *args: Any, **kwargs: Any) -> Any:
    """Run the learner's function on one case. A stub's bare `NotImplementedError` means "not
    attempted"; any other exception, or a forgotten `return`, becomes feedback naming the case.
    The tensors passed in (directly, in a list or tuple, or as a module's parameters and buffers)
    must come back unchanged, except those wrapped in `in_place`; a numpy array returned (alone or
    in a returned tuple or list) comes back as a tensor."""
    if is_stub(answer):
        raise _NotAttempted
    if not callable(answer):
        raise ExerciseFailed(f"expected a function, got {type(answer).__name__}: define it with def")
    guarded = [(name, tensor, tensor.detach().clone())
               for name, tensor in _input_tensors(answer, args, kwargs)]
    args = tuple(a.value if isinstance(a, in_place) else a for a in args)
    kwargs = {k: v.value if isinstance(v, in_place) else v for k, v in kwargs.items()}
    try:
        result = answer(*args, **kwargs)
    except NotImplementedError as err:
        if is_stub_error(err):
            raise _NotAttempted from None
        raise ExerciseFailed(f"your code raised NotImplementedError: {err} (on "
                             f"{_describe_args(args, kwargs)}); a module needs a method named "
                             "exactly `forward`") from err
    except Exception as err:  # the learner's own bug: show it with the case that triggered it
        raise ExerciseFailed(f"your function raised {type(err).__name__}: {err} "
                             f"(on {_describe_args(args, kwargs)})") from err
    for name, tensor, before in guarded:
        if not _unchanged(tensor, before):
            raise ExerciseFailed(
                f"your function changed {name} (a tensor of shape {tuple(before.shape)}) in place: "
                "the values it returns may be right, but the caller's tensor now holds other "
                "values, and the next cell of the notebook would see them; leave the inputs "
                "alone: compute new tensors (`x - m`, not `x -= m` or `x.sub_(m)`), or work on a "
                "copy (`x = x.clone()`)")
    if result is None:
        raise ExerciseFailed("your function returned None: did you forget `return`?")
    return _from_numpy(result)


def _input_tensors(answer: Callable, args: tuple, kwargs: dict) -> list[tuple[str, torch.Tensor]]:
    """The tensors the learner's function receives, each with the name feedback gives it; an
    argument wrapped in `in_place` is left out."""
    names = _argument_names(answer, len(args))
    found: list[tuple[str, torch.Tensor]] = []
    for name, arg in [*zip(names, args), *((f"its argument `{k}`", v) for k, v in kwargs.items())]:
        if isinstance(arg, in_place):
            continue
        if isinstance(arg, torch.Tensor):
            found.append((name, arg))
        elif isinstance(arg, (list, tuple)):
            found += [(f"{name}[{i}]", t) for i, t in enumerate(arg) if isinstance(t, torch.Tensor)]
        elif isinstance(arg, torch.nn.Module):
            found += [(f"{name}'s {key}", t) for key, t in arg.state_dict(keep_vars=True).items()
                      if isinstance(t, torch.Tensor)]
    return found


def _argument_names(answer: Callable, count: int) -> list[str]:
    """How feedback names the learner's positional arguments: by the parameter names of their
    function (`its argument `O``), else by position."""
    target = answer.forward if isinstance(answer, torch.nn.Module) else answer
    try:
        params = [p for p in inspect.signature(target).parameters.values()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        params = []
    return [f"its argument `{params[i].name}`" if i < len(params) else f"its argument {i + 1}"
            for i in range(count)]


def _unchanged(tensor: torch.Tensor, before: torch.Tensor) -> bool:
    """True when `tensor` still has the shape, dtype and values (nan where there was nan) that
    `before` recorded."""
    now = tensor.detach()
    if now.shape != before.shape or now.dtype != before.dtype:
        return False
    if torch.equal(now, before):
        return True
    return (now.is_floating_point() and torch.equal(now.isnan(), before.isnan())
            and torch.equal(now.nan_to_num(), before.nan_to_num()))


def _from_numpy(result: Any) -> Any:
    """A numpy array as the tensor it holds, also as an entry of a tuple or list; anything else
    as it is."""
    if isinstance(result, (tuple, list)):
        converted = [_as_tensor(item) for item in result]
        if any(c is not item for c, item in zip(converted, result)):
            return converted if isinstance(result, list) else tuple(converted)
        return result
    return _as_tensor(result)


def _as_tensor(x: Any) -> Any:
    """A numpy array of numbers as a tensor (`torch.as_tensor`); anything else as it is."""
    if (type(x).__module__ == "numpy" and type(x).__name__ == "ndarray"
            and getattr(x, "dtype", None) is not None and x.dtype.kind in "biuf"):
        try:
            return torch.as_tensor(x)
        except ValueError:  # a view with negative strides (np.flip): a contiguous copy
            return torch.as_tensor(x.copy())
    return x


def value(answer: Any) -> Any:
    """The learner's value, or "not attempted" while it is still `None` / `...`."""
    if is_stub(answer):
        raise _NotAttempted
    return answer


def require(condition: bool, feedback: str) -> None:
    """Fail with `feedback` unless `condition` holds."""
    if not condition:
        raise ExerciseFailed(feedback)


def _common(got: torch.Tensor, want: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """`got` and `want` detached, on the CPU and in one dtype: float64 when either is a floating
    tensor (so a float64 answer meets a float32 reference, and a float answer is never truncated
    to an integer reference), else as they are."""
    got, want = got.detach().cpu(), want.detach().cpu()
    if got.is_floating_point() or want.is_floating_point():
        return got.double(), want.double()
    return got, want


def close(got: Any, want: torch.Tensor, feedback: str, atol: float = 1e-5, rtol: float = 1e-4) -> None:
    """Fail with `feedback` unless `got` is a tensor (or numpy array) of `want`'s shape with
    values close to it, compared in one dtype. A wrong type or shape gets its own message, since
    that is usually the first thing to fix."""
    got = _as_tensor(got)
    if not isinstance(got, torch.Tensor):
        raise ExerciseFailed(f"expected a tensor, got {type(got).__name__}; {feedback}")
    if tuple(got.shape) != tuple(want.shape):
        raise ExerciseFailed(f"expected shape {tuple(want.shape)}, got {tuple(got.shape)}; {feedback}")
    got, want = _common(got, want)
    if not torch.allclose(got, want, atol=atol, rtol=rtol, equal_nan=False):
        raise ExerciseFailed(feedback)


def matches(got: Any, want: Any, atol: float = 1e-5, rtol: float = 1e-4) -> bool:
    """True when `got` is a tensor (or numpy array) of `want`'s shape whose values match it,
    compared in one dtype (nan where `want` has nan); for checks that try several known mistakes
    before choosing their feedback. Never raises: anything that is not a tensor of `want`'s shape
    (a `want` of None included) does not match."""
    got = _as_tensor(got)
    if not (isinstance(got, torch.Tensor) and isinstance(want, torch.Tensor)
            and got.shape == want.shape):
        return False
    got, want = _common(got, want)
    return torch.allclose(got, want, atol=atol, rtol=rtol, equal_nan=True)


def entries(got: Any, what: str, expected: str = "a list") -> list[Any]:
    """The items of `got` when it holds several values as a learner writes them: a list, a tuple,
    a tensor or a numpy array (with at least one dimension; its items are its rows); else
    feedback that `what` should return `expected`. The numbers among the items are then read with
    `number` or `whole_number`, so one rule covers a single number and several."""
    got = _as_tensor(got)
    if isinstance(got, (list, tuple)):
        return list(got)
    if isinstance(got, torch.Tensor) and got.ndim >= 1:
        return list(got.detach().cpu())
    raise ExerciseFailed(f"{what} returned {type(got).__name__} {_short(got)}: return "
                         f"{expected} (as a list, a tuple, a tensor or a numpy array)")


def number(got: Any, what: str) -> float:
    """`got` as a Python float when it is one number as a learner writes it (the rule of
    `d2lmini.validate`: a Python int or float, a numpy scalar, or a one-element tensor or array,
    never a bool); else feedback naming `what`. Every check that asks for a number uses it."""
    value = validate.as_real(got)
    if value is None:
        raise ExerciseFailed(f"{what} gave {type(got).__name__} {_short(got)}: expected one number "
                             "(a Python int or float, a numpy scalar or a one-element tensor)")
    return value


def whole_number(got: Any, what: str) -> int:
    """`got` as an int when it is a whole number (as `number` reads it), else feedback saying that
    `what` returned something that is not a count."""
    try:
        got = number(got, what)
    except ExerciseFailed:
        raise ExerciseFailed(f"{what} returned {_short(got)}: a count is a whole number") from None
    if got != got or got in (float("inf"), float("-inf")) or got != int(got):
        raise ExerciseFailed(f"{what} returned {got!r}: a count is a whole number")
    return int(got)


def exercise(title: str) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Decorate a check: print "not attempted yet" for a stub, raise `ExerciseFailed` with the
    feedback for a wrong answer, print what was verified for a right one."""

    def decorate(check: Callable[..., None]) -> Callable[..., None]:
        @functools.wraps(check)
        def run(*args: Any, **kwargs: Any) -> None:
            try:
                verified = check(*args, **kwargs)
            except _NotAttempted:
                print(f"Exercise {title}: not attempted yet (replace the stub with your answer "
                      "and run the cell again)")
                return
            except ExerciseFailed as err:
                raise ExerciseFailed(f"Exercise {title}: {err}") from None
            print(f"Exercise {title}: correct" + (f" ({verified})" if verified else ""))

        return run

    return decorate


def _describe_args(args: tuple, kwargs: dict) -> str:
    parts = [_short(a) for a in args] + [f"{k}={_short(v)}" for k, v in kwargs.items()]
    return "input " + ", ".join(parts) if parts else "no input"


def _short(x: Any) -> str:
    if isinstance(x, torch.Tensor):
        if x.numel() <= 6:
            return f"tensor {x.tolist()}"
        return f"a {x.dtype} tensor of shape {tuple(x.shape)}"
    text = repr(x)
    return text if len(text) <= 60 else text[:57] + "..."
