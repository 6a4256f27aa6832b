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
- An untouched chapter opens unmodified. When its kernel connects, JupyterLab writes the kernel's
  `language_info` (Python's version among it) into the notebook's metadata, and a change there
  marks the notebook as having unsaved changes ("Save changes?" on close). The committed chapters
  carry none (it differs between machines; nbstripout strips it on the way into git), so every
  chapter would open modified. Here a notebook whose kernel is ipykernel's own `python3`, which
  runs this server's Python, is served with that kernel's `language_info` already in place:
  JupyterLab's write then changes nothing.
"""

from __future__ import annotations

import functools
import re
import subprocess
import sys
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


@functools.lru_cache(maxsize=None)
def kernel_language_info(kernel_name: str) -> dict | None:
    """The `language_info` the kernel `kernel_name` reports when JupyterLab connects to it, where
    that is known without starting it: ipykernel's kernel started as `python`, which Jupyter runs
    with this server's own Python (jupyter_client's KernelManager.format_kernel_cmd). None for any
    other kernel."""
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel
    try:
        spec = KernelSpecManager().get_kernel_spec(kernel_name)
    except (NoSuchKernel, ValueError, OSError):
        return None
    pythons = {"python", f"python{sys.version_info[0]}", "python%i.%i" % sys.version_info[:2],
               sys.executable}
    if spec.language != "python" or not spec.argv or spec.argv[0] not in pythons \
            or "ipykernel" not in " ".join(spec.argv):
        return None
    from ipykernel.ipkernel import IPythonKernel
    return dict(IPythonKernel.language_info)


class CourseContentsManager(AsyncTextFileContentsManager):
    """jupytext's contents manager with the three behaviours above."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.register_post_save_hook(keep_git_status_clean)

    async def get(self, path, content=True, type=None, format=None, **kwargs):
        if content and path.endswith(".ipynb"):
            twin_follows_newer_notebook(Path(self._get_os_path(path)), self.log)
        model = await super().get(path, content=content, type=type, format=format, **kwargs)
        if model.get("type") == "notebook" and model.get("content") is not None:
            metadata = model["content"]["metadata"]
            info = kernel_language_info(metadata.get("kernelspec", {}).get("name", ""))
            if info is not None:
                metadata["language_info"] = info
        return model


c.ServerApp.contents_manager_class = CourseContentsManager  # noqa: F821 (c is Jupyter's config)
