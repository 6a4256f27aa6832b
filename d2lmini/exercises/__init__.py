"""Checks for the exercises at the end of every chapter, one module per chapter (`ch01` ...
`ch15`), all re-exported here: a notebook calls `d2l.exercises.check_...(answer)`.

How a check behaves is described in `_core`: an untouched stub prints "not attempted yet", a
wrong answer raises `ExerciseFailed` with specific feedback, a right one prints what was verified.
The reference solutions live in `tests/`, never in the notebooks.
"""

from . import ch01, ch02, ch03, ch04, ch05, ch06, ch07, ch08, ch09, ch10, ch11, ch12, ch13, ch14
from . import ch15
from ._core import ExerciseFailed

_CHAPTERS = (ch01, ch02, ch03, ch04, ch05, ch06, ch07, ch08, ch09, ch10, ch11, ch12, ch13, ch14,
             ch15)
for _chapter in _CHAPTERS:
    globals().update({name: getattr(_chapter, name) for name in _chapter.__all__})

__all__ = ["ExerciseFailed"] + [name for chapter in _CHAPTERS for name in chapter.__all__]
