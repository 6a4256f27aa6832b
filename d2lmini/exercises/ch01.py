"""Exercise checks for 01_linear_regression.ipynb."""

from __future__ import annotations

from ._core import ExerciseFailed, call, close, exercise, require, value  # noqa: F401

__all__: list[str] = []
