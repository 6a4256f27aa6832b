"""Exercise checks for 10_vgg.ipynb."""

from __future__ import annotations

from ._core import ExerciseFailed, call, close, exercise, require, value  # noqa: F401

__all__: list[str] = []
