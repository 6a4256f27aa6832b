"""Run chapter notebooks in a profile (default: full) and print, for every training run in them,
the epochs, final train/test accuracy and training time, as markdown rows for the README.

Usage: `python benchmarks/full_results.py notebooks/02_softmax_regression.ipynb ...
[--profile full] [--save-dir DIR]`. Each notebook runs top to bottom in a fresh kernel with
D2LMINI_PROFILE set, so every check in it (accuracy floors included) must pass; a notebook whose
check fails still reports the runs that finished, marked FAILED. Rows are printed as each
notebook ends. With --save-dir the executed notebooks are kept there (outputs and all).
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import time
from pathlib import Path

import nbformat
import torch
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError

EPOCH = re.compile(r"^epoch (\d+)/(\d+), loss ([\d.naif]+), train acc ([\d.]+), test acc ([\d.]+), "
                   r"([\d.]+) sec", re.M)
TARGET = re.compile(r"^\s*([\w\[\]]+)\s*=\s*d2l\.train_ch[35]\(", re.M)


def runs_in(nb) -> list[dict]:
    runs = []
    for cell in nb.cells:
        if cell.cell_type != "code" or "train_ch" not in cell.source:
            continue
        text = "".join(o.get("text", "") for o in cell.get("outputs", []) if o.get("name") == "stdout")
        text = text.replace("\r", "\n")  # the progress bar shares stdout: "\r" starts a line too
        epochs = EPOCH.findall(text)
        if not epochs:
            continue
        name = (TARGET.findall(cell.source) or ["(unnamed)"])[0]
        starts = [i for i, e in enumerate(epochs) if e[0] == "1"] + [len(epochs)]
        for k, (a, b) in enumerate(zip(starts, starts[1:])):  # a cell may train several nets
            last = epochs[b - 1]
            runs.append({"run": name if len(starts) == 2 else f"{name} #{k + 1}",
                         "epochs": int(last[0]), "train_acc": float(last[3]),
                         "test_acc": float(last[4]), "seconds": sum(float(e[5]) for e in epochs[a:b])})
    return runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+")
    parser.add_argument("--profile", default="full")
    parser.add_argument("--save-dir", default=None)
    parser.add_argument("--timeout", type=int, default=None,
                        help="seconds per cell (default: none; a CNN chapter's one quick epoch "
                             "takes over an hour on two CPU cores)")
    args = parser.parse_args()
    os.environ["D2LMINI_PROFILE"] = args.profile
    print(f"Profile {args.profile}; {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} CPUs, torch {torch.__version__}, "
          f"device {'cuda' if torch.cuda.is_available() else 'cpu'}, {time.strftime('%Y-%m-%d')}\n")
    print("| notebook | run | epochs | train acc | test acc | training s | notebook wall s | checks |")
    print("|---|---|---|---|---|---|---|---|", flush=True)
    failed = 0
    for path in map(Path, args.notebooks):
        nb = nbformat.read(path, as_version=4)
        start = time.perf_counter()
        checks = "all passed"
        try:
            NotebookClient(nb, timeout=args.timeout, kernel_name="python3",
                           resources={"metadata": {"path": str(path.parent)}}).execute()
        except (CellExecutionError, CellTimeoutError) as error:  # keep what finished, say what failed
            failed += 1
            checks = "FAILED: " + (str(error).strip().splitlines() or ["?"])[-1][:120]
        wall = time.perf_counter() - start
        if args.save_dir:
            Path(args.save_dir).mkdir(parents=True, exist_ok=True)
            nbformat.write(nb, Path(args.save_dir) / path.name)
        for run in runs_in(nb):  # printed as each notebook ends, so a stopped run keeps them
            print(f"| {path.stem} | {run['run']} | {run['epochs']} | {run['train_acc']:.3f} | "
                  f"{run['test_acc']:.3f} | {run['seconds']:.0f} | {wall:.0f} | {checks} |",
                  flush=True)
    raise SystemExit(1 if failed else 0)


if __name__ == "__main__":
    main()
