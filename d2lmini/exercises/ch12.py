"""Exercise checks for 12_googlenet.ipynb."""

from __future__ import annotations

from ._core import ExerciseFailed, call, close, exercise, require, value  # noqa: F401

__all__: list[str] = []
