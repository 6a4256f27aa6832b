"""Reference results for 11_nin: how NiN's first SGD steps depend on the last 1 x 1 convolution
starting at zero and on the ReLU after it (section 4 and exercise 3).

Three runs of the notebook's nin() from the same seed on the same batches: (a) as in the notebook,
last 1 x 1 convolution zero-initialised, no final ReLU; (b) the same without the zero start, plain
Kaiming; (c) zero start with the final ReLU put back. Each takes STEPS SGD steps (lr 0.01,
momentum 0.9, weight decay 5e-4) on batches of 64 Fashion-MNIST training images resized to
96 x 96 (smaller than the notebook's 224, to keep the run short), and prints the mean training
loss over each block of 25 steps, then, for (c), how many of the 10 class maps are all zero on
256 test images.

Usage: `python benchmarks/exercise_refs/11_nin.py` (about 16 CPU-minutes)."""

from __future__ import annotations

import platform

import torch
from torch import nn

import d2lmini as d2l

STEPS, BLOCK, BATCH, SIDE = 150, 25, 64, 96


def nin_block(in_channels, out_channels, kernel_size, stride=1, padding=0, last_relu=True):
    layers = [nn.Conv2d(in_channels, out_channels, kernel_size, stride, padding), nn.ReLU(),
              nn.Conv2d(out_channels, out_channels, kernel_size=1), nn.ReLU(),
              nn.Conv2d(out_channels, out_channels, kernel_size=1)]
    if last_relu:
        layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def nin(last_relu: bool) -> nn.Sequential:
    net = nn.Sequential(
        nin_block(1, 96, kernel_size=11, stride=4), nn.MaxPool2d(3, stride=2),
        nin_block(96, 256, kernel_size=5, padding=2), nn.MaxPool2d(3, stride=2),
        nin_block(256, 384, kernel_size=3, padding=1), nn.MaxPool2d(3, stride=2),
        nn.Dropout(0.5),
        nin_block(384, 10, kernel_size=3, padding=1, last_relu=last_relu),
        d2l.GlobalAvgPool2d(), d2l.FlattenLayer())
    for layer in net.modules():
        if isinstance(layer, nn.Conv2d):
            nn.init.kaiming_normal_(layer.weight, nonlinearity="relu")
            nn.init.zeros_(layer.bias)
    return net


def main() -> None:
    print(f"machine: {platform.machine()}, {torch.get_num_threads()} threads, torch {torch.__version__}")
    d2l.set_seed(0)
    train_iter, test_iter = d2l.load_data_fashion_mnist(BATCH, resize=SIDE)
    batches = []
    for X, y in train_iter:
        batches.append((X, y))
        if len(batches) == STEPS:
            break
    tests = []
    for X, _ in test_iter:
        tests.append(X)
        if len(tests) * BATCH >= 256:
            break
    X_test = torch.cat(tests)[:256]
    print(f"data: the first {STEPS} shuffled batches of {BATCH} training images at {SIDE} x {SIDE}")
    loss = nn.CrossEntropyLoss()
    runs = {"(a) zero start, no final ReLU": (True, False),
            "(b) Kaiming start, no final ReLU": (False, False),
            "(c) zero start, final ReLU": (True, True)}
    for name, (zero_start, last_relu) in runs.items():
        d2l.set_seed(0)
        net = nin(last_relu)
        if zero_start:
            nn.init.zeros_(net[7][4].weight)
        optimizer = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)
        losses = []
        for X, y in batches:
            l = loss(net(X), y)
            optimizer.zero_grad()
            l.backward()
            optimizer.step()
            losses.append(l.item())
        blocks = [sum(losses[i:i + BLOCK]) / BLOCK for i in range(0, STEPS, BLOCK)]
        print(f"{name}: mean loss per {BLOCK} steps: " + ", ".join(f"{b:.3f}" for b in blocks))
        if last_relu:
            net.eval()
            with torch.no_grad():
                maps = net[:8](X_test)
            dead = int((maps.amax(dim=(0, 2, 3)) == 0).sum())
            print(f"    class maps all zero on {len(X_test)} test images: {dead} of 10")


if __name__ == "__main__":
    main()
