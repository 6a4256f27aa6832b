"""pytest runs the course in the quick `smoke` profile unless D2LMINI_PROFILE says otherwise (set
here, before any notebook kernel starts, so the kernels nbval launches inherit it), and collects
the chapters only.

A profile switch saved inside a chapter (a `%env D2LMINI_PROFILE=quick` cell a learner added in
JupyterLab, kept by the autosave) does not change the run either: each notebook kernel starts with
D2LMINI_PROFILE_PIN set to this run's profile, which d2lmini honours over any switch made in the
notebook (d2lmini/profile.py), and the run's summary names the notebooks that hold one. Only the
kernels get the pin: the unit tests in this process switch profiles on purpose."""

import json
import os
import re
from pathlib import Path

import pytest

os.environ.setdefault("D2LMINI_PROFILE", "smoke")
PINNED = os.environ["D2LMINI_PROFILE"]  # the run's profile, before any test or notebook changes it
PIN_VAR = "D2LMINI_PROFILE_PIN"  # d2lmini.profile.PIN_VAR (not imported: conftest stays light)

CHAPTER = re.compile(r"\d\d_\w+\.ipynb")
# %env D2LMINI_PROFILE=quick, %env D2LMINI_PROFILE quick, %set_env ..., os.environ["D2LMINI_PROFILE"] = ...
SWITCH = re.compile(r"""^[ \t]*(?:%(?:set_)?env[ \t]+D2LMINI_PROFILE(?:[ \t]*=[ \t]*|[ \t]+)\S+"""
                    r"""|os\.environ\[[ \t]*['"]D2LMINI_PROFILE['"][ \t]*\][ \t]*=[ \t]*\S+)""", re.M)
_switches: dict[str, list[str]] = {}  # notebook -> the switches it holds, for the summary


def pytest_ignore_collect(collection_path, config):
    """The course's tests cover the chapters only: a learner's own notebook, made among the chapters
    (File > New in notebooks/) or in mine/, is never collected."""
    path = Path(collection_path)
    if path.suffix == ".ipynb" and not CHAPTER.fullmatch(path.name):
        return True
    if path.name == "mine" and path.parent == Path(__file__).parent:
        return True
    return None


def profile_switches(path: Path) -> list[str]:
    """The profile switches in a notebook's code cells, e.g. ['%env D2LMINI_PROFILE=quick']."""
    try:
        cells = json.loads(path.read_text())["cells"]
    except (OSError, ValueError, KeyError):
        return []
    code = "\n".join("".join(c.get("source", "")) for c in cells if c.get("cell_type") == "code")
    return [m.group(0).strip() for m in SWITCH.finditer(code)]


def _is_notebook_cell(item) -> bool:
    return type(item).__module__.split(".")[0] == "nbval"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_setup(item):
    """Around the set-up of a notebook's cells (where nbval starts the notebook's kernel), the pin
    is in the environment the kernel inherits; the unit tests never see it."""
    notebook = _is_notebook_cell(item)
    if notebook and str(item.fspath) not in _switches:
        _switches[str(item.fspath)] = profile_switches(Path(str(item.fspath)))
    pin = notebook and PIN_VAR not in os.environ  # one set by hand is left as it is
    if pin:
        os.environ[PIN_VAR] = PINNED
    try:
        yield
    finally:
        if pin:
            del os.environ[PIN_VAR]


def pytest_terminal_summary(terminalreporter):
    switched = {path: found for path, found in _switches.items() if found}
    for path, found in sorted(switched.items()):
        terminalreporter.write_line(
            f"{Path(path).name} switches the profile ({'; '.join(found)}): its kernel ran it in "
            f"{PINNED} all the same ({PIN_VAR}={PINNED}; switches apply in JupyterLab, not under "
            "pytest)")
