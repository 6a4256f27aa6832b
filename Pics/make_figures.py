"""Redraw every figure the notebooks show: `python Pics/make_figures.py` (or name chapters:
`python Pics/make_figures.py 01 06`).

Each chapter's drawing code lives in Pics/scripts/NN_topic.py and writes its files into Pics/;
Pics/scripts/diagram.py holds the pieces several architecture figures share.
"""

import runpy
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
matplotlib.rcParams["svg.fonttype"] = "none"  # keep text as text: small, diff-friendly SVGs
matplotlib.rcParams["svg.hashsalt"] = "d2lmini"  # stable ids, so unchanged figures stay unchanged

HERE = Path(__file__).resolve().parent


def main(chapters: list[str]) -> None:
    sys.path.insert(0, str(HERE / "scripts"))  # the scripts share Pics/scripts/diagram.py
    for script in sorted((HERE / "scripts").glob("[0-9][0-9]_*.py")):
        if not chapters or script.name[:2] in chapters:
            print(f"drawing {script.name}")
            runpy.run_path(str(script), run_name="__main__")


if __name__ == "__main__":
    main(sys.argv[1:])
