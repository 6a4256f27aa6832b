"""What studying leaves behind changes neither git status nor what the course's tests run (issue
26): a checkpoint written from a chapter, a profile switch saved inside one; and the first set-up
says what it is about to do. (A notebook made with File > New, and a chapter saved through the real
lab with a profile switch in it: tests/test_learner_path.py.)"""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from torch import nn

import d2lmini as d2l
from d2lmini import profile

ROOT = Path(__file__).resolve().parents[1]
IN_GIT = subprocess.run(["git", "-C", str(ROOT), "rev-parse"], capture_output=True).returncode == 0


def git(repo, *args) -> str:
    return subprocess.run(["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@t", *args],
                          capture_output=True, text=True, check=True).stdout


# --- checkpoints land where git does not look ----------------------------------------------------

EXAMPLE = re.compile(r"""checkpoint\s*=\s*["']([^"']+)["']""")


def ignored(path: str) -> bool:
    """Whether git ignores `path` (relative to the repository root) by the course's .gitignore."""
    return subprocess.run(["git", "-C", str(ROOT), "check-ignore", "-q", "--no-index", path]
                          ).returncode == 0


@pytest.mark.skipif(not IN_GIT, reason="not a git checkout")
def test_the_checkpoint_paths_the_readme_and_the_chapters_show_are_ignored_by_git():
    sources = [ROOT / "README.md"] + sorted((ROOT / "notebooks" / "py").glob("[0-9][0-9]_*.py"))
    shown = [(source.name, path) for source in sources for path in EXAMPLE.findall(source.read_text())]
    assert any(name == "README.md" for name, _ in shown), "the README shows no checkpoint= example"
    for name, path in shown:  # a chapter runs in notebooks/: a relative path starts there
        assert ignored(f"notebooks/{path}"), f"{name}: checkpoint={path!r} would show in git status"
    assert ignored("mine/runs/alexnet.pt") and ignored("notebooks/runs/alexnet.pt")
    assert not ignored("alexnet.pt") and not ignored("notebooks/alexnet.py")  # the check can fail


def tiny_run(checkpoint):
    torch.manual_seed(0)
    net = nn.Linear(2, 3)
    X, y = torch.randn(32, 2), torch.arange(32) % 3
    data = [(X[:16], y[:16]), (X[16:], y[16:])]
    d2l.train_ch5(net, data, data, 16, torch.optim.SGD(net.parameters(), lr=0.1), "cpu", 1,
                  checkpoint=checkpoint)


@pytest.mark.parametrize("gitignore, dirty", [("course", ""),
                                              ("empty", "?? notebooks/net.pt\n?? notebooks/runs/")])
def test_a_checkpoint_written_from_a_chapter_leaves_git_status_clean(tmp_path, monkeypatch, capsys,
                                                                     gitignore, dirty):
    repo = tmp_path / "course"
    (repo / "notebooks").mkdir(parents=True)
    (repo / "notebooks" / "01_x.ipynb").write_text("{}")
    if gitignore == "course":
        shutil.copy(ROOT / ".gitignore", repo / ".gitignore")
    else:  # the counterexample: without the course's rules the same run shows in git status
        (repo / ".gitignore").write_text("")
    git(repo, "init", "-q")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "course")
    monkeypatch.chdir(repo / "notebooks")  # where a chapter's kernel runs
    monkeypatch.setenv("D2LMINI_PROFILE", "full")
    tiny_run("runs/net.pt")  # the README's form
    tiny_run("net.pt")  # chapter 09's form
    capsys.readouterr()
    assert (repo / "notebooks" / "runs" / "net.pt").is_file() and (repo / "notebooks" / "net.pt").is_file()
    assert git(repo, "status", "--porcelain").strip() == dirty


# --- a profile switch made inside a notebook never changes the tests -----------------------------

@pytest.fixture
def fresh_profile(monkeypatch):
    monkeypatch.setattr(profile, "_said", set())
    monkeypatch.delenv(profile.PIN_VAR, raising=False)
    return monkeypatch


def test_a_pin_wins_over_a_switch_and_says_so_once(fresh_profile, capsys):
    fresh_profile.setenv("D2LMINI_PROFILE", "quick")
    assert d2l.current_profile().name == "quick"  # no pin: the switch applies, as in JupyterLab
    assert capsys.readouterr().out == ""
    fresh_profile.setenv(profile.PIN_VAR, "smoke")
    assert d2l.current_profile().name == "smoke"
    assert d2l.cap_epochs(10) == 1 and "smoke" in d2l.profile_summary()
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and out.startswith(
        "d2lmini profile: smoke, pinned by the course's tests (D2LMINI_PROFILE_PIN=smoke, set by "
        "conftest.py): the switch to D2LMINI_PROFILE=quick made in this notebook does not apply")
    fresh_profile.setenv("D2LMINI_PROFILE", "smoke")  # no switch away from the pin: nothing to say
    assert d2l.current_profile().name == "smoke" and capsys.readouterr().out == ""
    fresh_profile.setenv(profile.PIN_VAR, "full")  # `D2LMINI_PROFILE=full pytest ...` pins full
    assert d2l.current_profile().name == "full"
    fresh_profile.setenv(profile.PIN_VAR, "fast")
    with pytest.raises(ValueError, match="D2LMINI_PROFILE_PIN must be one of"):
        d2l.current_profile()


SEEN = """\
import contextlib, io, json
said = io.StringIO()
with contextlib.redirect_stdout(said):
    import d2lmini as d2l
    name = d2l.current_profile().name
with open("seen.json", "w") as f:
    json.dump({"profile": name, "said": said.getvalue()}, f)
"""


def notebook_with_a_switch(folder: Path) -> None:
    """A course-like folder: the repository's conftest.py, a chapter that switches to quick before
    its import (as a learner's saved cell does), and a unit test that must not see the pin."""
    import nbformat
    (folder / "notebooks").mkdir(parents=True)
    (folder / "tests").mkdir()
    shutil.copy(ROOT / "conftest.py", folder / "conftest.py")
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("%env D2LMINI_PROFILE=quick"), nbformat.v4.new_code_cell(SEEN)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, folder / "notebooks" / "99_switch.ipynb")
    (folder / "tests" / "test_unpinned.py").write_text(
        "import os\n\ndef test_no_pin_in_the_tests_process():\n"
        "    assert 'D2LMINI_PROFILE_PIN' not in os.environ\n")


@pytest.mark.parametrize("run, expected", [
    ((), "smoke"),  # make test: pytest's default profile, pinned over the notebook's switch
    (("D2LMINI_PROFILE=full",), "full"),  # an explicit profile for the run wins, and is pinned
    (("--noconftest",), "quick"),  # the counterexample: without the course's conftest, the switch
])
def test_a_notebook_that_switches_profile_runs_in_the_test_runs_profile(tmp_path, run, expected):
    notebook_with_a_switch(tmp_path)
    env = {k: v for k, v in os.environ.items() if not k.startswith("D2LMINI_PROFILE")}
    env.update(a.split("=", 1) for a in run if "=" in a)
    options = [a for a in run if a.startswith("--")]
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *options,
                           "--nbval-lax", "tests", "notebooks/99_switch.ipynb"], cwd=tmp_path,
                          capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0 and "3 passed" in done.stdout, done.stdout[-3000:]
    seen = json.loads((tmp_path / "notebooks" / "seen.json").read_text())
    assert seen["profile"] == expected
    summary = (f"99_switch.ipynb switches the profile (%env D2LMINI_PROFILE=quick): its kernel ran it "
               f"in {expected} all the same (D2LMINI_PROFILE_PIN={expected};")
    if expected == "quick":
        assert seen["said"] == "" and "switches the profile" not in done.stdout
    else:
        assert seen["said"].startswith(f"d2lmini profile: {expected}, pinned by the course's tests")
        assert summary in done.stdout


# --- the first set-up says what it does ----------------------------------------------------------

FAKE_PYTHON = """#!/bin/sh
# stands in for the venv's python: records each call, prints what pip would
echo "$@" >> "$(dirname "$0")/calls"
case "$*" in
  *"-m pip install"*) echo "Collecting torch (from -r requirements.txt)";;
  *) echo "installed: torch (stand-in)";;
esac
"""


def run_setup(tmp_path: Path, makefile: str) -> tuple[list[str], list[str]]:
    """`make setup` with a stand-in venv whose python records its calls: what make printed, and
    the calls."""
    repo = tmp_path / "course"
    repo.mkdir()
    (repo / "Makefile").write_text(makefile)
    for name in ("requirements.txt", "pyproject.toml"):
        shutil.copy(ROOT / name, repo / name)
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "python").write_text(FAKE_PYTHON)
    (venv / "bin" / "python").chmod(0o755)
    done = subprocess.run(["make", "-s", "-C", str(repo), f"VENV={venv}", "setup"], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines(), (venv / "bin" / "calls").read_text().splitlines()


def says_before_pip(printed: list[str], calls: list[str]) -> bool:
    """One line, before pip starts, that says what is installed, how big and how long; pip not
    quieted, so it prints a line per package."""
    pip = next(i for i, line in enumerate(printed) if line.startswith("Collecting"))
    before = [line for line in printed[:pip] if "set-up" in line]
    announced = (len(before) == 1 and "torch" in before[0] and re.search(r"\d+(\.\d+)? GB", before[0])
                 and re.search(r"\d+(-\d+)? minutes", before[0]))
    quiet = any(re.search(r"-m pip install .*(-q\b|--quiet)", call) for call in calls)
    return bool(announced) and not quiet


def test_the_first_set_up_says_what_it_installs_before_pip_starts(tmp_path):
    printed, calls = run_setup(tmp_path, (ROOT / "Makefile").read_text())
    assert says_before_pip(printed, calls), printed
    assert any("--progress-bar on" in call for call in calls)
    assert printed[-1].startswith("the virtual environment takes")
    # the counterexample: the recipe as it was (pip -q, no line before) fails the same check
    old = re.sub(r"\t@echo \"== set-up:.*?==\"\n", "", (ROOT / "Makefile").read_text(), flags=re.S)
    old = old.replace("pip install --progress-bar on", "pip install -q")
    shutil.rmtree(tmp_path / "course")
    shutil.rmtree(tmp_path / "venv")
    printed, calls = run_setup(tmp_path, old)
    assert not says_before_pip(printed, calls)
