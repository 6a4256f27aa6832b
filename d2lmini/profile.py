"""The full/quick/smoke profiles: how much data and how many epochs the notebooks use.

`D2LMINI_PROFILE=full` (the default) runs the real course; `D2LMINI_PROFILE=quick` trains the
chapter's own net, resolution and recipe on all the data for at most one epoch, a real result on
a laptop; `D2LMINI_PROFILE=smoke` runs the same code on a small class-balanced subset of
Fashion-MNIST with epochs capped, so CI can re-execute every notebook in minutes. The helpers
read the profile; learners' code never branches on it. In JupyterLab, run
`%env D2LMINI_PROFILE=quick` in a chapter's first cell, before `import d2lmini`, or start the lab
with `D2LMINI_PROFILE=quick make lab`.

Such a cell is saved into the chapter, yet it never changes what the course's tests run: the
notebook kernels pytest starts get `D2LMINI_PROFILE_PIN` (conftest.py sets it to the profile the
test run was given, smoke unless `D2LMINI_PROFILE` said otherwise), and a pin wins over any
switch made inside the notebook, saying so in one line.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from . import validate

ENV_VAR = "D2LMINI_PROFILE"
PIN_VAR = "D2LMINI_PROFILE_PIN"  # set by conftest.py in the kernels of the notebooks pytest runs
_said: set[tuple[str, str]] = set()  # the pins over switches already said, each said once


@dataclass(frozen=True)
class Profile:
    """How much work a profile does; each count is a positive int, or None for no limit
    (introduced in 01_linear_regression)."""

    name: str
    train_per_class: int | None  # None: every image
    test_per_class: int | None
    max_epochs: int | None  # None: as many as the chapter asks for

    def __post_init__(self) -> None:
        if not isinstance(self.name, str):
            validate.fail("name", "a non-empty string", self.name, error=TypeError)
        if not self.name:
            validate.fail("name", "a non-empty string", self.name)
        for field in ("train_per_class", "test_per_class", "max_epochs"):
            if getattr(self, field) is not None:
                validate.positive_int(field, getattr(self, field))


PROFILES = {
    "full": Profile("full", None, None, None),
    "quick": Profile("quick", None, None, 1),
    "smoke": Profile("smoke", 20, 10, 1),
}


def _named(var: str, default: str) -> str:
    name = os.environ.get(var, default).strip().lower() or default
    return validate.one_of(var, name, sorted(PROFILES))


def current_profile() -> Profile:
    """The profile named by `$D2LMINI_PROFILE`, `full` when unset; where `$D2LMINI_PROFILE_PIN` is
    set (the notebooks the course's tests run), the pinned one, whatever the notebook switched to,
    said once per switch (01_linear_regression)."""
    if not os.environ.get(PIN_VAR, "").strip():
        return PROFILES[_named(ENV_VAR, "full")]
    pinned = _named(PIN_VAR, "full")
    switched = os.environ.get(ENV_VAR, "").strip()
    if switched and switched.lower() != pinned and (pinned, switched) not in _said:
        _said.add((pinned, switched))
        print(f"d2lmini profile: {pinned}, pinned by the course's tests ({PIN_VAR}={pinned}, set "
              f"by conftest.py): the switch to {ENV_VAR}={switched} made in this notebook does not "
              f"apply under pytest (in JupyterLab it does)")
    return PROFILES[pinned]


def cap_epochs(num_epochs: int) -> int:
    """`num_epochs`, capped by the profile's epoch limit (01_linear_regression)."""
    validate.positive_int("num_epochs", num_epochs)
    limit = current_profile().max_epochs
    return num_epochs if limit is None else min(num_epochs, limit)


def profile_summary() -> str:
    """One line saying which profile runs and how much data it uses (01_linear_regression)."""
    p = current_profile()
    switch = f"switch with %env {ENV_VAR}=... before the first import"
    if p.name == "full":
        return (f"d2lmini profile: full: every training and test image (Fashion-MNIST: 60000 / "
                f"10000), every epoch the chapter asks for ({ENV_VAR}=quick: all the data, one "
                f"epoch; {switch})")
    if p.train_per_class is None and p.test_per_class is None:
        return (f"d2lmini profile: {p.name}: every training and test image (Fashion-MNIST: 60000 "
                f"/ 10000), at most {plural(p.max_epochs, 'epoch')} per training run ({ENV_VAR}=full for "
                f"the real course; {switch})")
    return (f"d2lmini profile: {p.name}: the first {p.train_per_class} training and "
            f"{p.test_per_class} test images of each class (Fashion-MNIST: {10 * p.train_per_class}"
            f" / {10 * p.test_per_class}), at most {plural(p.max_epochs, 'epoch')} per training run "
            f"({ENV_VAR}=full for the real course; {switch})")


def plural(count: int, one: str, many: str | None = None) -> str:
    """`count` with its noun in the right number: "1 batch", "3 batches", "0 epochs"."""
    return f"{count} {one if count == 1 else many or one + 's'}"
