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
"""

from __future__ import annotations

import functools
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


def call(answer: Callable, *args: Any, **kwargs: Any) -> Any:
    """Run the learner's function on one case. A stub's bare `NotImplementedError` means "not
    attempted"; any other exception, or a forgotten `return`, becomes feedback naming the case."""
    if is_stub(answer):
        raise _NotAttempted
    if not callable(answer):
        raise ExerciseFailed(f"expected a function, got {type(answer).__name__}: define it with def")
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
    if result is None:
        raise ExerciseFailed("your function returned None: did you forget `return`?")
    return result


def value(answer: Any) -> Any:
    """The learner's value, or "not attempted" while it is still `None` / `...`."""
    if is_stub(answer):
        raise _NotAttempted
    return answer


def require(condition: bool, feedback: str) -> None:
    """Fail with `feedback` unless `condition` holds."""
    if not condition:
        raise ExerciseFailed(feedback)


def close(got: Any, want: torch.Tensor, feedback: str, atol: float = 1e-5, rtol: float = 1e-4) -> None:
    """Fail with `feedback` unless `got` is a tensor of `want`'s shape with values close to it.
    A wrong type or shape gets its own message, since that is usually the first thing to fix."""
    if not isinstance(got, torch.Tensor):
        raise ExerciseFailed(f"expected a tensor, got {type(got).__name__}; {feedback}")
    if tuple(got.shape) != tuple(want.shape):
        raise ExerciseFailed(f"expected shape {tuple(want.shape)}, got {tuple(got.shape)}; {feedback}")
    got = got.detach().to(want.dtype) if got.is_floating_point() or want.is_floating_point() else got
    if not torch.allclose(got.detach().cpu(), want.cpu(), atol=atol, rtol=rtol, equal_nan=False):
        raise ExerciseFailed(feedback)


def matches(got: Any, want: torch.Tensor, atol: float = 1e-5, rtol: float = 1e-4) -> bool:
    """True when `got` is a tensor of `want`'s shape whose values match it (nan where `want` has
    nan); for checks that try several known mistakes before choosing their feedback."""
    return (isinstance(got, torch.Tensor) and got.shape == want.shape
            and torch.allclose(got.detach().to(want.dtype).cpu(), want.cpu(), atol=atol, rtol=rtol,
                               equal_nan=True))


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
