"""Errors shown as a learner needs them: their own line and d2lmini's message, not d2lmini's
internals (02_softmax_regression).

An error that d2lmini raises on purpose (a refused argument, a wrong exercise answer, data not
found) is meant for the learner, and the frames of d2lmini's own code between their call and
the message only bury it. Inside IPython (Jupyter), `install()` registers a handler that cuts a
traceback whose error was raised in d2lmini's code at the learner's last frame; every other error
is shown as IPython always shows it. `D2LMINI_FULL_TRACEBACKS=1` shows everything, for work on
d2lmini itself.
"""

from __future__ import annotations

import os
from pathlib import Path
from types import TracebackType

PACKAGE = str(Path(__file__).resolve().parent) + os.sep
ENV_VAR = "D2LMINI_FULL_TRACEBACKS"


def _in_d2lmini(tb: TracebackType) -> bool:
    return str(Path(tb.tb_frame.f_code.co_filename).resolve()).startswith(PACKAGE)


def learners_part(tb: TracebackType | None) -> TracebackType | None:
    """The traceback cut after the learner's last frame, when the error was raised in d2lmini's
    code and the learner's code called it; else `tb` unchanged."""
    frames = []
    while tb is not None:
        frames.append(tb)
        tb = tb.tb_next
    if not frames or not _in_d2lmini(frames[-1]):
        return frames[0] if frames else None
    first_inside = next(i for i, f in enumerate(frames) if _in_d2lmini(f))
    if first_inside == 0:
        return frames[0]
    frames[first_inside - 1].tb_next = None
    return frames[0]


def _show(shell, etype, value, tb, tb_offset=None):
    if not os.environ.get(ENV_VAR):
        tb = learners_part(tb)
    shell.showtraceback((etype, value, tb), tb_offset=tb_offset)


def install() -> None:
    """Register the handler in the running IPython shell, if there is one (called on import)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is not None and hasattr(shell, "set_custom_exc"):
        shell.set_custom_exc((Exception,), _show)
