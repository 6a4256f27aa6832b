"""Reference results for exercises 4 and 5 of notebooks/12_googlenet: GoogLeNet trained with
PyTorch's default initialization instead of Kaiming's (exercise 5), and with a batch norm after
every convolution, default initialization and SGD instead of Adam (exercise 4).

Four runs, each differing from the one it is compared with in one thing:
A  the notebook's net: no batch norm, Kaiming init, Adam (lr 0.001)
B  as A with PyTorch's default init                         (exercise 5: A vs B)
C  as B with SGD (lr 0.05, momentum 0.9) instead of Adam
D  as C with a batch norm after every convolution           (exercise 4: C vs D)

To keep the run short (about 9 CPU-minutes on 2 cores), every run sees the same 40 shuffled
batches of 32 training images at 48x48 instead of 96x96 (the same net; its last feature map is
2x2 instead of 3x3), and is scored on a validation split of 500 images (50 per class) taken from
the training file; the test set is not used. The numbers describe the first 40 steps only, not a
full training.

Usage: `python benchmarks/exercise_refs/12_googlenet.py`
"""

from __future__ import annotations

import math
import os
import platform
import time
from collections import OrderedDict

os.environ["D2LMINI_PROFILE"] = "full"  # the subsets are chosen here

import torch  # noqa: E402
from torch import nn  # noqa: E402

import d2lmini as d2l  # noqa: E402
from _common import fixed_batches, train_steps  # noqa: E402  (benchmarks/exercise_refs/_common.py)

STEPS, BATCH, SIDE, BLOCK = 40, 32, 48, 10


def conv(c_in: int, c_out: int, k: int, bn: bool, **kw) -> list[nn.Module]:
    """A convolution, with a batch norm after it when `bn`, then a ReLU."""
    if not bn:
        return [nn.Conv2d(c_in, c_out, k, **kw), nn.ReLU()]
    return [nn.Conv2d(c_in, c_out, k, bias=False, **kw), nn.BatchNorm2d(c_out), nn.ReLU()]


class Inception(nn.Module):
    """The notebook's Inception block, optionally with batch norm after each convolution."""

    def __init__(self, c_in, c1, c2, c3, c4, bn=False):
        super().__init__()
        self.path1 = nn.Sequential(*conv(c_in, c1, 1, bn))
        self.path2 = nn.Sequential(*conv(c_in, c2[0], 1, bn), *conv(c2[0], c2[1], 3, bn, padding=1))
        self.path3 = nn.Sequential(*conv(c_in, c3[0], 1, bn), *conv(c3[0], c3[1], 5, bn, padding=2))
        self.path4 = nn.Sequential(nn.MaxPool2d(3, stride=1, padding=1), *conv(c_in, c4, 1, bn))

    def forward(self, x):
        return torch.cat([self.path1(x), self.path2(x), self.path3(x), self.path4(x)], dim=1)


def googlenet(bn: bool = False) -> nn.Sequential:
    """The notebook's GoogLeNet for 1-channel images and 10 classes."""
    def pool():
        return nn.MaxPool2d(3, stride=2, padding=1)
    return nn.Sequential(OrderedDict([
        ("b1", nn.Sequential(*conv(1, 64, 7, bn, stride=2, padding=3), pool())),
        ("b2", nn.Sequential(*conv(64, 64, 1, bn), *conv(64, 192, 3, bn, padding=1), pool())),
        ("b3", nn.Sequential(Inception(192, 64, (96, 128), (16, 32), 32, bn),
                             Inception(256, 128, (128, 192), (32, 96), 64, bn), pool())),
        ("b4", nn.Sequential(Inception(480, 192, (96, 208), (16, 48), 64, bn),
                             Inception(512, 160, (112, 224), (24, 64), 64, bn),
                             Inception(512, 128, (128, 256), (24, 64), 64, bn),
                             Inception(512, 112, (144, 288), (32, 64), 64, bn),
                             Inception(528, 256, (160, 320), (32, 128), 128, bn), pool())),
        ("b5", nn.Sequential(Inception(832, 256, (160, 320), (32, 128), 128, bn),
                             Inception(832, 384, (192, 384), (48, 128), 128, bn),
                             d2l.GlobalAvgPool2d(), d2l.FlattenLayer())),
        ("fc", nn.Linear(1024, 10)),
    ]))


def init_kaiming(module: nn.Module) -> None:
    if isinstance(module, nn.Conv2d):
        nn.init.kaiming_normal_(module.weight, nonlinearity="relu")
        if module.bias is not None:
            nn.init.zeros_(module.bias)


RUNS = {
    "A: no BN, Kaiming, Adam": dict(bn=False, kaiming=True, adam=True),
    "B: no BN, default init, Adam": dict(bn=False, kaiming=False, adam=True),
    "C: no BN, default init, SGD": dict(bn=False, kaiming=False, adam=False),
    "D: BN, default init, SGD": dict(bn=True, kaiming=False, adam=False),
}


def main() -> None:
    batches, val_iter = fixed_batches(STEPS, BATCH, SIDE)
    print(f"torch {torch.__version__}, {platform.machine()}, {os.cpu_count()} CPUs; the same {STEPS} "
          f"batches of {BATCH} training images at {SIDE}x{SIDE}; validation: 500 images from the "
          f"training file\n")
    print(f"| run | first loss | mean loss, steps 1-{BLOCK} | steps {STEPS - BLOCK + 1}-{STEPS} "
          f"| val acc after {STEPS} steps | CPU s |")
    print("|---|---|---|---|---|---|")
    for name, cfg in RUNS.items():
        d2l.set_seed(0)
        net = googlenet(bn=cfg["bn"])
        if cfg["kaiming"]:
            net.apply(init_kaiming)
        optimizer = (torch.optim.Adam(net.parameters(), lr=0.001) if cfg["adam"] else
                     torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9))
        net.train()
        start = time.process_time()
        losses = train_steps(net, optimizer, batches)
        acc = d2l.evaluate_accuracy(val_iter, net)
        seconds = time.process_time() - start
        first, last = sum(losses[:BLOCK]) / BLOCK, sum(losses[-BLOCK:]) / BLOCK
        shown = [f"{v:.3f}" if math.isfinite(v) else "nan" for v in (losses[0], first, last)]
        print(f"| {name} | " + " | ".join(shown) + f" | {acc:.3f} | {seconds:.0f} |")


if __name__ == "__main__":
    main()
