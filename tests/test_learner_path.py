"""The learner's path: studying a chapter in JupyterLab leaves `git status` clean.

Runs the Makefile's own `hooks` target (nbstripout as git filter) in a scratch repository, then
calls the post-save hook that `make lab` gives JupyterLab, as JupyterLab does after a save."""

import json
import runpy
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from traitlets.config import Config

ROOT = Path(__file__).resolve().parents[1]
VENV = Path(sys.executable).parent.parent


def git(repo, *args):
    return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, check=True).stdout


@pytest.fixture
def repo(tmp_path):
    shutil.copy(ROOT / "Makefile", tmp_path)
    shutil.copytree(ROOT / ".jupyter", tmp_path / ".jupyter")
    (tmp_path / "notebooks").mkdir()
    shutil.copy(ROOT / "notebooks" / "03_mlp.ipynb", tmp_path / "notebooks")
    git(tmp_path, "init", "-q")
    git(tmp_path, "-c", "user.name=t", "-c", "user.email=t@t", "add", ".")
    git(tmp_path, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "course")
    stamp = VENV / ".requirements-installed"
    subprocess.run(["make", "-s", "-C", str(tmp_path), "hooks", f"VENV={VENV}", "-o", str(stamp)],
                   check=True, capture_output=True)
    return tmp_path


def save(repo, nb):
    """Write the notebook as JupyterLab does, then run the post-save hook of .jupyter/."""
    path = repo / "notebooks" / "03_mlp.ipynb"
    path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n")
    config = Config()
    runpy.run_path(str(repo / ".jupyter" / "jupyter_server_config.py"), init_globals={"c": config})
    config.FileContentsManager.post_save_hook({"type": "notebook"}, str(path), None)


def studied(repo):
    """The chapter after a learner ran it: outputs, counts and what JupyterLab adds."""
    nb = json.loads((repo / "notebooks" / "03_mlp.ipynb").read_text())
    nb["metadata"]["language_info"] = {"name": "python", "version": "3.11.7"}
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] == "code":
            cell["execution_count"] = i
            cell["outputs"] = [{"output_type": "stream", "name": "stdout", "text": [f"run {i}\n"]}]
            cell["metadata"]["jupyter"] = {"outputs_hidden": False}
    return nb


def test_running_and_saving_leaves_git_status_clean(repo):
    save(repo, studied(repo))
    on_disk = json.loads((repo / "notebooks" / "03_mlp.ipynb").read_text())
    assert any(cell.get("outputs") for cell in on_disk["cells"]), "the learner's outputs stay on disk"
    assert git(repo, "status", "--porcelain") == ""


def test_a_real_edit_still_shows_and_nothing_is_staged(repo):
    nb = studied(repo)
    code = next(cell for cell in nb["cells"] if cell["cell_type"] == "code")
    code["source"] = code["source"] + ["\n# my own note"] if isinstance(code["source"], list) \
        else code["source"] + "\n# my own note"
    save(repo, nb)
    assert git(repo, "status", "--porcelain").strip() == "M notebooks/03_mlp.ipynb"
    assert git(repo, "diff", "--cached", "--name-only") == ""
    diff = git(repo, "diff")
    assert "# my own note" in diff and "run 1" not in diff
