"""What a checkpoint inside an epoch costs: the seconds one save of each CNN chapter's net takes
(its weights, Adam's two moment estimates, the worst case among the course's optimizers, and the
position inside the epoch), as a share of `d2l.training.CHECKPOINT_EVERY`, the seconds of
training between two saves. Run: `python benchmarks/checkpoint_cost.py [--repeat 3]`.
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from pathlib import Path

import torch

from d2lmini import training
from d2lmini.checkpoint import Checkpoint, random_state

from chapter_nets import TRAINED, chapter_net


def seconds_per_save(stem: str, folder: Path, repeat: int) -> tuple[float, float]:
    """Mean seconds of one save, and the file's size in MB."""
    net, _ = chapter_net(stem)
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-3)
    for p in net.parameters():  # give Adam its state, as after a first step
        p.grad = torch.zeros_like(p)
    optimizer.step()
    batches = [(torch.zeros(128, 1, 8, 8), torch.zeros(128, dtype=torch.int64))] * 469
    saver = Checkpoint(folder / f"{stem}.pt", net, optimizer, None, 10, train_iter=batches)
    position = {"batch": 312, "epoch_random": random_state(), "seconds": 0.0,
                "sums": {"loss": torch.zeros(()), "correct": torch.zeros((), dtype=torch.int64),
                         "first_bad": torch.full((), -1), "count": 0, "num_classes": 10,
                         "first_loss": torch.zeros(())}}
    history = {"train_loss": [], "train_acc": [], "test_acc": [], "seconds": []}
    saver.save(0, history, 312, position=position)  # warm-up: the folder, the first write
    start = time.perf_counter()
    for _ in range(repeat):
        saver.save(0, history, 312, position=position)
    return (time.perf_counter() - start) / repeat, saver.path.stat().st_size / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    every = training.CHECKPOINT_EVERY
    print(f"{platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}; a save every "
          f"{every:.0f} s of training (CHECKPOINT_EVERY); mean of {args.repeat} saves\n")
    print("| chapter | file MB | seconds per save | share of the interval |")
    print("|---|---|---|---|")
    with tempfile.TemporaryDirectory() as folder:
        for stem in TRAINED:
            seconds, size = seconds_per_save(stem, Path(folder), args.repeat)
            print(f"| {stem} | {size:.0f} | {seconds:.2f} | {100 * seconds / every:.2f} % |")


if __name__ == "__main__":
    main()
