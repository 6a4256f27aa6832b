"""How long the full profile of each chapter would take here, without running it: executes a
notebook's cells in order with D2LMINI_PROFILE=full until the first training run prints its
estimate (`train_ch3`/`train_ch5` print one after their first few batches), then interrupts the
kernel, as Ctrl-C would, and reports that estimate.

Usage: `python benchmarks/full_estimates.py notebooks/09_alexnet.ipynb ...` (default: chapters
09-14, whose full runs are too long for a CPU). Prints a markdown table. Only a notebook's first
training run is estimated; the table says which.
"""

from __future__ import annotations

import os
import platform
import re
import subprocess
import sys
import time
from pathlib import Path
from queue import Empty

import nbformat
import torch
from jupyter_client.manager import start_new_kernel

ROOT = Path(__file__).resolve().parents[1]
ESTIMATE = re.compile(r"estimated time for (\d+) epoch\(s\) on (\S+): about ([^(]+) \(")
TARGET = re.compile(r"^\s*([\w\[\]]+)\s*=\s*d2l\.train_ch[35]\(", re.M)


def first_estimate(path: Path, timeout: float = 900) -> tuple[str, str, str]:
    """(training run, epochs, estimate) of the first training run in the notebook at `path`."""
    nb = nbformat.read(path, as_version=4)
    env = dict(os.environ, D2LMINI_PROFILE="full")
    # the kernel's own stderr (jupyter's start-up warnings) is not part of the table
    km, kc = start_new_kernel(kernel_name="python3", cwd=str(path.parent), env=env,
                              stderr=subprocess.DEVNULL)
    try:
        for cell in nb.cells:
            if cell.cell_type != "code":
                continue
            msg_id = kc.execute(cell.source)
            deadline = time.monotonic() + timeout
            while True:
                try:
                    msg = kc.get_iopub_msg(timeout=max(1.0, deadline - time.monotonic()))
                except Empty:
                    raise TimeoutError(f"{path.name}: no estimate within {timeout:.0f} s") from None
                if msg["parent_header"].get("msg_id") != msg_id:
                    continue
                kind, content = msg["msg_type"], msg["content"]
                if kind == "stream" and (found := ESTIMATE.search(content["text"])):
                    km.interrupt_kernel()
                    run = (TARGET.findall(cell.source) or ["(unnamed)"])[0]
                    return run, found.group(1), found.group(3).strip()
                if kind == "error":
                    raise RuntimeError(f"{path.name}: a cell failed before training: {content['ename']}")
                if kind == "status" and content["execution_state"] == "idle":
                    break
        raise RuntimeError(f"{path.name} trains nothing with train_ch3/train_ch5")
    finally:
        km.shutdown_kernel(now=True)


def main(targets: list[str]) -> int:
    paths = [Path(t) for t in targets] or sorted((ROOT / "notebooks").glob("1[0-4]_*.ipynb"))
    if not targets:
        paths = sorted((ROOT / "notebooks").glob("09_*.ipynb")) + paths
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}, "
          f"{'CUDA' if torch.cuda.is_available() else 'no GPU'}\n")
    print("| notebook | training run | epochs | estimated full-profile time |")
    print("|---|---|---|---|")
    for path in paths:
        run, epochs, estimate = first_estimate(path.resolve())
        print(f"| {path.stem} | `{run}` | {epochs} | {estimate} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
