"""Exercise checks for 08_lenet.ipynb."""

from __future__ import annotations

from ._core import ExerciseFailed, call, close, exercise, require, value  # noqa: F401

__all__: list[str] = []
