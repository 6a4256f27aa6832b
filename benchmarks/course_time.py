"""Wall time of `pytest --nbval-lax notebooks`, per notebook and in total, split into kernel
start, imports (the first code cell), data loading (cells calling load_data_fashion_mnist),
training (cells calling train_ch3/train_ch5) and everything else (demos and checks).

Usage: `python benchmarks/course_time.py [notebooks/NN_x.ipynb ...]` (default: all). Runs in the
profile pytest picks (smoke unless D2LMINI_PROFILE is set). Prints a markdown table.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PARTS = ("kernel start", "imports", "data", "training", "other")


def part_of(when: str, source: str, first_code_cell: bool) -> str:
    if when == "setup":
        return "kernel start" if first_code_cell else "other"
    if "train_ch3(" in source or "train_ch5(" in source:
        return "training"
    if "load_data_fashion_mnist(" in source:
        return "data"
    return "imports" if first_code_cell else "other"


def main(targets: list[str]) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "timing.json"
        env = dict(os.environ, NB_TIMING_OUT=str(out),
                   PYTHONPATH=os.pathsep.join([str(ROOT / "benchmarks"), os.environ.get("PYTHONPATH", "")]))
        start = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "nb_timing",
                               "--nbval-lax", *(targets or ["notebooks"])], cwd=ROOT, env=env)
        wall = time.perf_counter() - start
        data = json.loads(out.read_text())
    table: dict[str, dict[str, float]] = defaultdict(lambda: dict.fromkeys(PARTS, 0.0))
    seen_first: set[str] = set()
    for rec in data["records"]:
        notebook = rec["nodeid"].split("::")[0]
        first = notebook not in seen_first
        if rec["when"] == "call":
            seen_first.add(notebook)
        part = part_of(rec["when"], data["sources"].get(rec["nodeid"], ""), first)
        table[Path(notebook).stem][part] += rec["seconds"]
    print(f"\n`pytest --nbval-lax` with D2LMINI_PROFILE={os.environ.get('D2LMINI_PROFILE', 'smoke (pytest default)')}, "
          f"{os.cpu_count()} CPUs: seconds per notebook\n")
    print("| notebook | " + " | ".join(PARTS) + " | total |")
    print("|---|" + "---|" * (len(PARTS) + 1))
    totals = dict.fromkeys(PARTS, 0.0)
    for name in sorted(table):
        row = table[name]
        for p in PARTS:
            totals[p] += row[p]
        print(f"| {name} | " + " | ".join(f"{row[p]:.1f}" for p in PARTS) + f" | {sum(row.values()):.1f} |")
    print("| **all** | " + " | ".join(f"{totals[p]:.1f}" for p in PARTS) + f" | {sum(totals.values()):.1f} |")
    print(f"\nwall time of the whole pytest run: {wall:.1f} s (exit code {proc.returncode})")
    return proc.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
