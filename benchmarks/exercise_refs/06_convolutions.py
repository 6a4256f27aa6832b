"""Reference results for exercise 8 of notebooks/06_convolutions: the tiny CNN of section 9
with max pooling, average pooling, or a 2x2 stride-2 convolution in place of each pooling layer.

Everything else is the notebook's: Adam, learning rate 0.01, batch 256, 5 epochs. To keep the run
short, each net trains on 10 000 training images (1 000 per class, from the first 50 000) and is
scored on a validation split of 5 000 images (500 per class, from the last 10 000 training
images); the test set is not used. Two seeds per variant show how much of a difference is noise.

Usage: `python benchmarks/exercise_refs/06_convolutions.py` (about a minute on 2 CPU cores).
"""

from __future__ import annotations

import contextlib
import io
import os
import platform

os.environ["D2LMINI_PROFILE"] = "full"  # the subsets are chosen here, every epoch runs

import torch  # noqa: E402
from torch import nn  # noqa: E402

import d2lmini as d2l  # noqa: E402

EPOCHS, BATCH, LR, SEEDS = 5, 256, 0.01, (0, 1)


def split() -> tuple[d2l.InMemoryLoader, d2l.InMemoryLoader]:
    """1 000 training and 500 validation images per class, both from the training file."""
    images, labels, _, _ = d2l.read_fashion_mnist()
    train = d2l.balanced_subset(labels[:50_000], 1000)
    val = 50_000 + d2l.balanced_subset(labels[50_000:], 500)
    return (d2l.InMemoryLoader(images[train], labels[train], BATCH, shuffle=True),
            d2l.InMemoryLoader(images[val], labels[val], BATCH, shuffle=False))


def tiny_cnn(downsample) -> nn.Sequential:
    """Section 9's net; `downsample(channels)` replaces each 2x2 max pooling."""
    return nn.Sequential(
        nn.Conv2d(1, 6, kernel_size=5, padding=2), nn.ReLU(), downsample(6),
        nn.Conv2d(6, 16, kernel_size=3), nn.ReLU(), downsample(16),
        d2l.FlattenLayer(), nn.Linear(16 * 6 * 6, 10))


VARIANTS = {
    "max pooling 2x2": lambda c: nn.MaxPool2d(2),
    "average pooling 2x2": lambda c: nn.AvgPool2d(2),
    "conv 2x2, stride 2": lambda c: nn.Conv2d(c, c, kernel_size=2, stride=2),
}


def main() -> None:
    train_iter, val_iter = split()
    print(f"torch {torch.__version__}, {platform.machine()}, {os.cpu_count()} CPUs; "
          f"{EPOCHS} epochs on 10 000 training images, accuracy on 5 000 validation images\n")
    print("| downsampling | parameters | " + " | ".join(f"val acc, seed {s}" for s in SEEDS) + " |")
    print("|---|---|" + "---|" * len(SEEDS))
    for name, downsample in VARIANTS.items():
        accs = []
        for seed in SEEDS:
            d2l.set_seed(seed)
            net = tiny_cnn(downsample)
            optimizer = torch.optim.Adam(net.parameters(), lr=LR)
            with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
                history = d2l.train_ch5(net, train_iter, val_iter, BATCH, optimizer, "cpu", EPOCHS)
            accs.append(history["test_acc"][-1])
        print(f"| {name} | {d2l.num_params(net):,} | " + " | ".join(f"{a:.3f}" for a in accs) + " |")


if __name__ == "__main__":
    main()
