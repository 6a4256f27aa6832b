"""Reference results for exercises 4 and 5 of notebooks/13_resnet: a 34-layer plain network
against ResNet-34 (exercise 4), and ResNet-18 with every block's last batch-norm scale set to zero
against the usual initialization (exercise 5).

Each comparison changes one thing: exercise 4 removes the shortcuts (the plain net's blocks return
relu(g(x)); its stride-2 blocks keep no projection), exercise 5 only zeroes the last gamma of
every block. The mean square of the features that reach the dense layer is measured at
initialization, on the first batch (on a copy of the net, so its batch-norm statistics stay
untouched). Everything else is the notebook's: SGD with lr 0.05, momentum 0.9, weight decay 5e-4
(held constant over these few steps), batch norm everywhere, seed 0.

To keep the run short (a few CPU-minutes), every net sees the same 40 shuffled batches of 32
training images at 32x32 instead of 96x96 (the size of a CIFAR-10 image; the same nets, whose
last feature map is 1x1 instead of 3x3) and is scored on a validation split of 500 images (50 per
class) taken from the training file; the test set is not used. The numbers describe the first 40
steps only.

Usage: `python benchmarks/exercise_refs/13_resnet.py`
"""

from __future__ import annotations

import copy
import os
import platform
import time
from collections import OrderedDict

os.environ["D2LMINI_PROFILE"] = "full"  # the subsets are chosen here

import torch  # noqa: E402
from torch import nn  # noqa: E402

import d2lmini as d2l  # noqa: E402
from _common import fixed_batches, train_steps  # noqa: E402  (benchmarks/exercise_refs/_common.py)

STEPS, BATCH, SIDE, BLOCK = 40, 32, 32, 10


class Block(nn.Module):
    """The notebook's basic block; without `shortcut` it is a plain block returning relu(g(x))."""

    def __init__(self, c_in: int, c_out: int, stride: int, shortcut: bool = True):
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.shortcut = None
        if shortcut:
            self.shortcut = nn.Identity()
            if stride != 1 or c_in != c_out:
                self.shortcut = nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride=stride, bias=False),
                                              nn.BatchNorm2d(c_out))

    def forward(self, x):
        g = self.bn2(self.conv2(torch.relu(self.bn1(self.conv1(x)))))
        return torch.relu(g if self.shortcut is None else self.shortcut(x) + g)


def resnet(blocks_per_stage: tuple[int, ...], shortcut: bool = True) -> nn.Sequential:
    """The notebook's ResNet layout for 1-channel images and 10 classes."""
    layers = OrderedDict(stem=nn.Sequential(
        nn.Conv2d(1, 64, 7, stride=2, padding=3, bias=False), nn.BatchNorm2d(64), nn.ReLU(),
        nn.MaxPool2d(3, stride=2, padding=1)))
    channels = 64
    for i, (width, count) in enumerate(zip((64, 128, 256, 512), blocks_per_stage)):
        stride = 1 if i == 0 else 2
        blocks = [Block(channels, width, stride, shortcut)]
        blocks += [Block(width, width, 1, shortcut) for _ in range(count - 1)]
        layers[f"stage{i + 1}"] = nn.Sequential(*blocks)
        channels = width
    layers.update(pool=d2l.GlobalAvgPool2d(), flatten=d2l.FlattenLayer(), fc=nn.Linear(512, 10))
    return nn.Sequential(layers)


def zero_last_gamma(net: nn.Module) -> nn.Module:
    for m in net.modules():
        if isinstance(m, Block):
            nn.init.zeros_(m.bn2.weight)
    return net


RUNS = {
    "exercise 4": {
        "plain-34 (no shortcuts)": lambda: resnet((3, 4, 6, 3), shortcut=False),
        "ResNet-34": lambda: resnet((3, 4, 6, 3)),
    },
    "exercise 5": {
        "ResNet-18, last gamma = 1 (notebook)": lambda: resnet((2, 2, 2, 2)),
        "ResNet-18, last gamma = 0": lambda: zero_last_gamma(resnet((2, 2, 2, 2))),
    },
}


def main() -> None:
    batches, val_iter = fixed_batches(STEPS, BATCH, SIDE)
    print(f"torch {torch.__version__}, {platform.machine()}, {os.cpu_count()} CPUs; the same {STEPS} "
          f"batches of {BATCH} training images at {SIDE}x{SIDE}; validation: 500 images from the "
          f"training file")
    for exercise, runs in RUNS.items():
        print(f"\n{exercise}\n")
        print(f"| net | feature mean square at init | first loss | mean training loss, steps "
              f"1-{BLOCK} | steps 11-20 | steps {STEPS - BLOCK + 1}-{STEPS} | val acc after {STEPS} "
              f"steps | CPU s |")
        print("|---|---|---|---|---|---|---|---|")
        for name, build in runs.items():
            d2l.set_seed(0)
            net = build()
            optimizer = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9, weight_decay=5e-4)
            net.train()
            with torch.no_grad():  # what reaches the dense layer, on the first batch
                features = copy.deepcopy(net)[:-1](batches[0][0])
            scale = (features ** 2).mean().item()
            start = time.process_time()
            losses = train_steps(net, optimizer, batches)
            acc = d2l.evaluate_accuracy(val_iter, net)
            seconds = time.process_time() - start
            means = [sum(losses[i:i + BLOCK]) / BLOCK for i in (0, BLOCK, STEPS - BLOCK)]
            print(f"| {name} | {scale:.2f} | {losses[0]:.3f} | " + " | ".join(f"{m:.3f}" for m in means)
                  + f" | {acc:.3f} | {seconds:.0f} |")


if __name__ == "__main__":
    main()
