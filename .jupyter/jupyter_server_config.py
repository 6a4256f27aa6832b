"""Jupyter settings for studying the course: `make lab` puts this folder on JUPYTER_CONFIG_PATH.

Saved notebooks keep their outputs on disk, and git's nbstripout filter (installed by `make lab`)
strips them on the way into git. git still lists a notebook as modified once its size on disk
changed, even when nothing but outputs differ; so after every save, a notebook that git tracks and
whose stripped form equals what git has is re-recorded (`git add` of identical content stages
nothing), and `git status` stays clean. A notebook with real edits is left alone.
"""

import subprocess
from pathlib import Path


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


c.FileContentsManager.post_save_hook = keep_git_status_clean  # noqa: F821 (c is Jupyter's config)
