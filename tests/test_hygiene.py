"""Course hygiene: notebooks stripped and paired, checks present, figures drawn by code, every
public helper documented with the notebook that introduces it."""

import inspect
import json
import re
from pathlib import Path

import jupytext
import pytest

import d2lmini as d2l

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
CHAPTERS = ["01_linear_regression", "02_softmax_regression", "03_mlp", "04_model_selection",
            "05_numerical_stability", "06_convolutions", "07_batch_norm", "08_lenet",
            "09_alexnet", "10_vgg", "11_nin", "12_googlenet", "13_resnet", "14_densenet"]


def code_of(path: Path) -> str:
    nb = json.loads(path.read_text())
    return "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code")


def test_every_chapter_has_a_notebook():
    assert [p.stem for p in NOTEBOOKS] == CHAPTERS


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_stripped(path):
    nb = json.loads(path.read_text())
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [] and cell["execution_count"] is None, \
                f"{path.name} has outputs: clear them before committing"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_py_percent_twin_is_in_sync(path):
    twin = path.with_suffix(".py")
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


@pytest.mark.parametrize("name", d2l.__all__)
def test_public_names_are_documented_with_their_notebook(name):
    obj = getattr(d2l, name)
    if not (inspect.isfunction(obj) or inspect.isclass(obj)):
        return  # constants such as CLASS_NAMES are documented in their module
    doc = inspect.getdoc(obj) or ""
    chapters = re.findall(r"\b(\d\d_[a-z_]+)\b", doc)
    assert chapters, f"d2l.{name} has no docstring naming the notebook that introduces it"
    assert all(c in CHAPTERS for c in chapters), f"d2l.{name} names unknown notebooks {chapters}"
