"""Course hygiene: notebooks stripped and paired, checks present, figures drawn by code, every
public helper documented with the notebook that introduces it."""

import inspect
import json
import re
import subprocess
from pathlib import Path

import jupytext
import pytest

import d2lmini as d2l

ROOT = Path(__file__).resolve().parents[1]


def as_git_lists(pattern: str) -> list[Path]:
    """The files matching `pattern` (in one folder: `*` stays inside it) as git holds them, so
    what a learner makes in the lab (File > New in notebooks/ makes Untitled.ipynb and, paired by
    jupytext, notebooks/py/Untitled.py) is not judged as a chapter; the files on disk outside a
    git checkout (an unpacked archive of the course)."""
    listed = subprocess.run(["git", "-C", str(ROOT), "ls-files", "-z", "--", f":(glob){pattern}"],
                            capture_output=True, text=True)
    if listed.returncode != 0:
        return sorted(ROOT.glob(pattern))
    return sorted(ROOT / name for name in listed.stdout.split("\0") if name)


NOTEBOOKS = as_git_lists("notebooks/*.ipynb")
CHAPTERS = ["01_linear_regression", "02_softmax_regression", "03_mlp", "04_model_selection",
            "05_numerical_stability", "06_convolutions", "07_batch_norm", "08_lenet",
            "09_alexnet", "10_vgg", "11_nin", "12_googlenet", "13_resnet", "14_densenet",
            "15_optimization"]


def code_of(path: Path) -> str:
    nb = json.loads(path.read_text())
    return "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code")


def test_every_chapter_has_a_notebook():
    assert [p.stem for p in NOTEBOOKS] == CHAPTERS


def as_git_holds(path: Path) -> str:
    """The notebook as git holds it (its staged form, which nbstripout has stripped), so a learner
    whose saved chapters keep their outputs on disk can still run the tests; the file itself
    outside a git checkout."""
    shown = subprocess.run(["git", "-C", str(ROOT), "show", f":{path.relative_to(ROOT).as_posix()}"],
                           capture_output=True, text=True)
    return shown.stdout if shown.returncode == 0 else path.read_text()


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_stripped(path):
    nb = json.loads(as_git_holds(path))
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [] and cell["execution_count"] is None, \
                f"{path.name} has outputs: clear them before committing"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_kernelspec_is_the_one_jupyterlab_writes(path):
    """JupyterLab rewrites the kernelspec on every save with the installed kernel's own display
    name; a chapter committed with another one shows as modified after a save with no edit."""
    from jupyter_client.kernelspec import KernelSpecManager
    spec = KernelSpecManager().get_kernel_spec("python3")
    saved = json.loads(path.read_text())["metadata"]["kernelspec"]
    assert saved == {"display_name": spec.display_name, "language": spec.language,
                     "name": "python3"}, f"{path.name}: kernelspec {saved}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_py_percent_twin_is_in_sync(path):
    twin = path.parent / "py" / f"{path.stem}.py"  # jupytext.toml: formats = "ipynb,py//py:percent"
    assert twin.is_file(), f"{path.name} has no py:percent twin"
    cells = [(c.cell_type, c.source.strip()) for c in jupytext.read(path).cells]
    twin_cells = [(c.cell_type, c.source.strip()) for c in jupytext.read(twin).cells]
    assert cells == twin_cells, f"{path.name} and {twin.name} differ: run jupytext --sync"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_prints_profile_and_has_checks(path):
    code = code_of(path)
    assert "d2l.profile_summary()" in code and "d2l.set_seed(" in code
    checks = re.findall(r"^\s*assert\b|assert_close\(|check_accuracy\(", code, flags=re.M)
    assert len(checks) >= 2, f"{path.name} has {len(checks)} checks; at least two are required"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_figures_exist_and_are_drawn_by_repo_code(path):
    text = path.read_text()
    assert not re.search(r"!\[[^\]]*\]\((https?:)?//", text), f"{path.name} shows a remote image"
    scripts = "\n".join(p.read_text() for p in (ROOT / "Pics" / "scripts").glob("*.py"))
    for name in re.findall(r"\]\(\.\./Pics/([^)\s]+)\)", text):
        assert (ROOT / "Pics" / name).is_file(), f"{path.name} shows missing Pics/{name}"
        assert name in scripts, f"Pics/{name} is not drawn by any Pics/scripts/*.py"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_no_control_characters_in_any_cell(path):
    # a "\a" typed into a LaTeX string once turned \approx into BEL + "pprox"
    for i, cell in enumerate(json.loads(path.read_text())["cells"]):
        bad = sorted({f"U+{ord(ch):04X}" for ch in "".join(cell["source"])
                      if ord(ch) < 32 and ch not in "\n\t" or 127 <= ord(ch) < 160})
        assert not bad, f"{path.name} cell {i} holds control characters {bad}"


def test_twins_are_out_of_the_chapter_list():
    assert not as_git_lists("notebooks/*.py"), "py twins belong in notebooks/py/"
    assert [p.stem for p in as_git_lists("notebooks/py/*.py")] == CHAPTERS


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_at_least_three_checked_exercises(path):
    cells = [c for c in json.loads(path.read_text())["cells"]
             if "exercise" in c.get("metadata", {}).get("tags", [])]
    assert len(cells) >= 3, f"{path.name} has {len(cells)} exercise-tagged cells; at least 3 are required"
    for cell in cells:
        source = "".join(cell["source"])
        assert cell["cell_type"] == "code" and "d2l.exercises.check_" in source, \
            f"{path.name}: an exercise cell must call a check from d2l.exercises:\n{source}"


def _documented_names():
    yield from ((name, getattr(d2l, name)) for name in d2l.__all__)
    yield from ((f"exercises.{name}", getattr(d2l.exercises, name)) for name in d2l.exercises.__all__)


@pytest.mark.parametrize("name,obj", list(_documented_names()), ids=lambda v: v if isinstance(v, str) else "")
def test_public_names_are_documented_with_their_notebook(name, obj):
    if not (inspect.isfunction(obj) or inspect.isclass(obj)):
        return  # constants such as CLASS_NAMES are documented in their module
    doc = inspect.getdoc(obj) or ""
    chapters = re.findall(r"\b(\d\d_[a-z_]+)\b", doc)
    assert chapters, f"d2l.{name} has no docstring naming the notebook that introduces it"
    assert all(c in CHAPTERS for c in chapters), f"d2l.{name} names unknown notebooks {chapters}"


# a markdown heading written as a comment: "# ## Summary" or "# # Title" (a "# %% [markdown]" line
# forgotten in the twin leaves the heading, and the prose around it, unrendered in a code cell)
_HEADING_AS_COMMENT = re.compile(r"^\s*#\s+#{1,6}\s+\S")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_no_markdown_heading_inside_a_code_cell(path):
    for i, cell in enumerate(json.loads(path.read_text())["cells"]):
        if cell["cell_type"] != "code":
            continue
        headings = [line for line in "".join(cell["source"]).splitlines()
                    if _HEADING_AS_COMMENT.match(line)]
        assert not headings, (f"{path.name} code cell {i} holds markdown headings as comments "
                              f"{headings}: start a markdown cell (`# %% [markdown]` in the twin)")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_title_is_number_middle_dot_title(path):
    cells = json.loads(path.read_text())["cells"]
    markdown = [c for c in cells if c["cell_type"] == "markdown"]
    assert markdown, f"{path.name} has no markdown cell"
    first_line = "".join(markdown[0]["source"]).strip().splitlines()[0]
    number = path.stem[:2]
    assert re.fullmatch(rf"# {number} · \S.*", first_line), \
        f"{path.name} starts with {first_line!r}: the title must read '# {number} · Title'"
