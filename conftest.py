"""pytest runs the course in the quick `smoke` profile unless D2LMINI_PROFILE says otherwise (set
here, before any notebook kernel starts, so the kernels nbval launches inherit it), and collects
the chapters only."""

import os
import re
from pathlib import Path

os.environ.setdefault("D2LMINI_PROFILE", "smoke")

CHAPTER = re.compile(r"\d\d_\w+\.ipynb")


def pytest_ignore_collect(collection_path, config):
    """The course's tests cover the chapters only: a learner's own notebook, made among the chapters
    (File > New in notebooks/) or in mine/, is never collected."""
    path = Path(collection_path)
    if path.suffix == ".ipynb" and not CHAPTER.fullmatch(path.name):
        return True
    if path.name == "mine" and path.parent == Path(__file__).parent:
        return True
    return None
