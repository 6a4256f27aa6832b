"""Reference results for 11_nin: which optimiser gets NiN off the ln 10 plateau (section 4), and
how its first steps depend on the last 1 x 1 convolution starting at zero and on the ReLU after
it (exercise 5).

Every run trains the chapter's own `nin()` (built from the twin by `benchmarks/chapter_nets.py`)
from seed 0 on the same STEPS shuffled batches of BATCH images from the first 50 000 training
images, resized to SIDE x SIDE (smaller than the notebook's 224, to keep the runs short), and
prints the mean training loss per block of BLOCK steps and the accuracy on 1000 validation images
(100 per class from the last 10 000 training images; the test set is not looked at).

1. Optimisers, each at a constant learning rate, all with the zero start of the notebook: SGD with
   momentum 0.9 and weight decay 5e-4 (the recipe of chapters 09 and 10) at lr 0.01 and 0.05, and
   Adam at lr 0.0005, 0.001 (the notebook's) and 0.002.
2. With the notebook's Adam at 0.001: the plain Kaiming start (no zero start), and the zero start
   with the final ReLU put back; for the latter, how many of the 10 class maps are all zero on 256
   validation images.

Usage: `python benchmarks/exercise_refs/11_nin.py` (seven runs; 13 minutes on one thread, loaded).
"""

from __future__ import annotations

import platform
import sys
import time
from pathlib import Path

import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from chapter_nets import chapter_net  # noqa: E402

import d2lmini as d2l  # noqa: E402
from _common import train_steps  # noqa: E402  (benchmarks/exercise_refs/_common.py)

STEPS, BLOCK, BATCH, SIDE = 120, 20, 128, 96
OPTIMISERS = {
    "Adam, lr 0.001 (the notebook)": lambda p: torch.optim.Adam(p, lr=0.001),
    "Adam, lr 0.0005": lambda p: torch.optim.Adam(p, lr=0.0005),
    "Adam, lr 0.002": lambda p: torch.optim.Adam(p, lr=0.002),
    "SGD + momentum, lr 0.01 (chapters 09, 10)":
        lambda p: torch.optim.SGD(p, lr=0.01, momentum=0.9, weight_decay=5e-4),
    "SGD + momentum, lr 0.05": lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9, weight_decay=5e-4),
}


def build(zero_start: bool, last_relu: bool) -> nn.Sequential:
    """The chapter's nin() from seed 0, its last 1 x 1 convolution zeroed and/or a ReLU after it."""
    d2l.set_seed(0)
    net, _ = chapter_net("11_nin")
    if zero_start:
        nn.init.zeros_(net[7][-1].weight)
    if last_relu:
        net[7].append(nn.ReLU())
    return net


def run(name: str, net: nn.Module, optimizer: torch.optim.Optimizer, batches: list,
        validation: d2l.InMemoryLoader) -> None:
    start = time.perf_counter()
    losses = train_steps(net, optimizer, batches)
    blocks = [sum(losses[i:i + BLOCK]) / len(losses[i:i + BLOCK])
              for i in range(0, len(losses), BLOCK)]
    accuracy = d2l.evaluate_accuracy(validation, net, precision="fp32")
    print(f"| {name} | " + " | ".join(f"{b:.3f}" for b in blocks)
          + f" | {accuracy:.3f} | {time.perf_counter() - start:.0f} s |", flush=True)


def main() -> None:
    print(f"machine: {platform.machine()}, {torch.get_num_threads()} threads, torch {torch.__version__}")
    images, labels, _, _ = d2l.read_fashion_mnist()
    held_out = 50_000 + d2l.balanced_subset(labels[50_000:], 100)
    d2l.set_seed(0)
    loader = d2l.InMemoryLoader(images[:50_000], labels[:50_000], BATCH, shuffle=True, resize=SIDE)
    batches = [b for _, b in zip(range(STEPS), loader)]
    validation = d2l.InMemoryLoader(images[held_out], labels[held_out], 250, shuffle=False,
                                    resize=SIDE)
    print(f"data: the first {STEPS} shuffled batches of {BATCH} training images at {SIDE} x {SIDE}; "
          f"validation: {len(held_out)} images from the last 10 000 training images")
    header = ("| run | " + " | ".join(f"{i + 1}-{i + BLOCK}" for i in range(0, STEPS, BLOCK))
              + " | validation accuracy | time |")
    print(f"\n1. optimisers, zero start, no final ReLU: mean training loss per {BLOCK} steps\n")
    print(header)
    for name, make in OPTIMISERS.items():
        net = build(zero_start=True, last_relu=False)
        run(name, net, make(net.parameters()), batches, validation)

    print("\n2. starts, with Adam at lr 0.001 (the first row above is the notebook's start)\n")
    print(header)
    net = build(zero_start=False, last_relu=False)
    run("Kaiming everywhere, no final ReLU", net, OPTIMISERS["Adam, lr 0.001 (the notebook)"](
        net.parameters()), batches, validation)
    net = build(zero_start=True, last_relu=True)
    run("last 1 x 1 conv at zero, final ReLU", net, OPTIMISERS["Adam, lr 0.001 (the notebook)"](
        net.parameters()), batches, validation)
    net.eval()
    with torch.no_grad():
        maps = torch.cat([net[:8](X) for X, _ in validation])[:256]
    dead = int((maps.amax(dim=(0, 2, 3)) == 0).sum())
    print(f"\nwith the final ReLU: class maps all zero on {len(maps)} validation images: {dead} of 10")


if __name__ == "__main__":
    main()
