"""Jupyter settings for studying the course: `make lab` puts this folder on JUPYTER_CONFIG_PATH.

Two promises of the README are kept here, in the contents manager JupyterLab reads and saves
notebooks through (jupytext's, which pairs each chapter with its twin in notebooks/py/):

- Studying leaves `git status` clean. Saved notebooks keep their outputs on disk, and git's
  nbstripout filter (installed by `make lab`) strips them on the way into git. git still lists a
  notebook as modified once its size on disk changed, even when nothing but outputs differ; so
  after every save, a notebook that git tracks and whose stripped form equals what git has is
  re-recorded (`git add` of identical content stages nothing). A notebook with real edits is left
  alone.
- A chapter reset opens. jupytext reads a chapter's inputs from its twin and refuses to open a
  notebook that is newer than its twin with other inputs, which is what resetting the notebook
  alone (`git checkout notebooks/08_lenet.ipynb`) leaves. Here the newer notebook wins: its twin
  is rewritten from it before the chapter opens. `make reset CH=08` resets both at once.
"""

import re
import subprocess
from pathlib import Path

from jupytext.async_contentsmanager import AsyncTextFileContentsManager

CHAPTER = re.compile(r"\d\d_\w+\.ipynb")


def keep_git_status_clean(model, os_path, contents_manager, **kwargs):
    if model.get("type") != "notebook":
        return
    path = Path(os_path)
    git = ["git", "-C", str(path.parent)]
    tracked = subprocess.run(git + ["ls-files", "--error-unmatch", "--", path.name], capture_output=True)
    filtered = subprocess.run(git + ["config", "filter.nbstripout.clean"], capture_output=True)
    if tracked.returncode or filtered.returncode:
        return
    if subprocess.run(git + ["diff", "--quiet", "--", path.name]).returncode == 0:
        subprocess.run(git + ["add", "--", path.name], capture_output=True)


def twin_follows_newer_notebook(notebook: Path, log) -> None:
    """Rewrite a chapter's twin from the notebook when the notebook is the newer of the two."""
    twin = notebook.parent / "py" / f"{notebook.stem}.py"
    if not (CHAPTER.fullmatch(notebook.name) and notebook.is_file() and twin.is_file()):
        return
    if notebook.stat().st_mtime <= twin.stat().st_mtime:
        return
    import jupytext
    from jupytext.config import load_jupytext_config
    nb = jupytext.read(notebook)
    fresh = jupytext.writes(nb, fmt="py:percent", config=load_jupytext_config(str(notebook)))
    if twin.read_text() != fresh:
        twin.write_text(fresh)
        log.info("%s is newer than its twin (a reset?): %s rewritten from it", notebook, twin)


class CourseContentsManager(AsyncTextFileContentsManager):
    """jupytext's contents manager with the two behaviours above."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.register_post_save_hook(keep_git_status_clean)

    async def get(self, path, content=True, type=None, format=None, **kwargs):
        if content and path.endswith(".ipynb"):
            twin_follows_newer_notebook(Path(self._get_os_path(path)), self.log)
        return await super().get(path, content=content, type=type, format=format, **kwargs)


c.ServerApp.contents_manager_class = CourseContentsManager  # noqa: F821 (c is Jupyter's config)
