"""Reference results for exercises 4, 5 and 6 of notebooks/14_densenet.

Exercise 4: the notebook's DenseNet with max pooling instead of average pooling in its
transitions. Exercise 6: growth rate 16 with 8 layers per block instead of 32 with 4. Both are
compared with the notebook's net, one change each, same recipe (SGD, lr 0.1, momentum 0.9, weight
decay 1e-4, held constant over these few steps), two seeds each. To keep the run short, every net
sees 40 shuffled batches of 32 training images at 32x32 instead of 96x96 (the same nets; the last
feature map is 1x1 instead of 3x3) and is scored on a validation split of 500 images (50 per
class) taken from the training file; the test set is not used. The numbers describe the first 40
steps only, not a full training.

Exercise 5: the notebook's DenseNet against the notebook's ResNet-18, both at 96x96 with batches
of 32: parameters, the activations autograd keeps for the backward pass (MB per batch, each
storage counted once, the parameters not counted), and the CPU time of one training step (median
of 3 after one warm-up step).

Usage: `python benchmarks/exercise_refs/14_densenet.py`
"""

from __future__ import annotations

import os
import platform
import statistics
import time
from collections import OrderedDict

os.environ["D2LMINI_PROFILE"] = "full"  # the subsets are chosen here

import torch  # noqa: E402
from torch import nn  # noqa: E402

import d2lmini as d2l  # noqa: E402
from _common import fixed_batches  # noqa: E402  (benchmarks/exercise_refs/_common.py)

STEPS, BATCH, SIDE, SEEDS = 40, 32, 32, (0, 1)


def conv_block(c_in: int, c_out: int) -> nn.Sequential:
    return nn.Sequential(nn.BatchNorm2d(c_in), nn.ReLU(), nn.Conv2d(c_in, c_out, 3, padding=1, bias=False))


class DenseBlock(nn.Module):
    def __init__(self, num_layers: int, c_in: int, growth: int):
        super().__init__()
        self.layers = nn.ModuleList(conv_block(c_in + i * growth, growth) for i in range(num_layers))
        self.out_channels = c_in + num_layers * growth

    def forward(self, x):
        for layer in self.layers:
            x = torch.cat([x, layer(x)], dim=1)
        return x


def densenet(growth: int = 32, layers_per_block=(4, 4, 4, 4), pool=nn.AvgPool2d) -> nn.Sequential:
    """The notebook's DenseNet; `pool` is the transitions' pooling."""
    parts = OrderedDict(stem=nn.Sequential(
        nn.Conv2d(1, 64, 7, stride=2, padding=3, bias=False), nn.BatchNorm2d(64), nn.ReLU(),
        nn.MaxPool2d(3, stride=2, padding=1)))
    channels = 64
    for i, n in enumerate(layers_per_block):
        block = DenseBlock(n, channels, growth)
        parts[f"dense{i + 1}"] = block
        channels = block.out_channels
        if i < len(layers_per_block) - 1:
            parts[f"transition{i + 1}"] = nn.Sequential(
                nn.BatchNorm2d(channels), nn.ReLU(), nn.Conv2d(channels, channels // 2, 1, bias=False),
                pool(kernel_size=2, stride=2))
            channels //= 2
    parts.update(head=nn.Sequential(nn.BatchNorm2d(channels), nn.ReLU(), d2l.GlobalAvgPool2d(),
                                    d2l.FlattenLayer()), fc=nn.Linear(channels, 10))
    return nn.Sequential(parts)


class Residual(nn.Module):
    def __init__(self, c_in: int, c_out: int, stride: int):
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.shortcut = nn.Identity() if stride == 1 and c_in == c_out else nn.Sequential(
            nn.Conv2d(c_in, c_out, 1, stride=stride, bias=False), nn.BatchNorm2d(c_out))

    def forward(self, x):
        return torch.relu(self.shortcut(x) + self.bn2(self.conv2(torch.relu(self.bn1(self.conv1(x))))))


def resnet18() -> nn.Sequential:
    """The notebook's ResNet-18 for 1-channel images and 10 classes."""
    layers = [nn.Conv2d(1, 64, 7, stride=2, padding=3, bias=False), nn.BatchNorm2d(64), nn.ReLU(),
              nn.MaxPool2d(3, stride=2, padding=1)]
    channels = 64
    for i, width in enumerate((64, 128, 256, 512)):
        layers += [Residual(channels, width, 1 if i == 0 else 2), Residual(width, width, 1)]
        channels = width
    return nn.Sequential(*layers, d2l.GlobalAvgPool2d(), d2l.FlattenLayer(), nn.Linear(512, 10))


def step(net: nn.Module, optimizer: torch.optim.Optimizer, X: torch.Tensor, y: torch.Tensor) -> float:
    loss = nn.functional.cross_entropy(net(X), y)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return loss.item()


def sgd(net: nn.Module, lr: float) -> torch.optim.SGD:
    return torch.optim.SGD(net.parameters(), lr=lr, momentum=0.9, weight_decay=1e-4)


def accuracy_runs(batches, val_iter) -> None:
    runs = {
        "notebook: growth 32, 4 layers per block, average pooling": lambda: densenet(),
        "exercise 4: max pooling in the transitions": lambda: densenet(pool=nn.MaxPool2d),
        "exercise 6: growth 16, 8 layers per block": lambda: densenet(16, (8, 8, 8, 8)),
    }
    print(f"exercises 4 and 6: the same {STEPS} batches of {BATCH} training images at {SIDE}x{SIDE}\n")
    print("| net | parameters | " + " | ".join(
        f"seed {s}: loss, last 10 steps | seed {s}: val acc" for s in SEEDS) + " | CPU s per run |")
    print("|---|---|" + "---|---|" * len(SEEDS) + "---|")
    for name, build in runs.items():
        cells, seconds = [], []
        for seed in SEEDS:
            d2l.set_seed(seed)
            net = build()
            optimizer = sgd(net, 0.1)
            net.train()
            start = time.process_time()
            losses = [step(net, optimizer, X, y) for X, y in batches]
            cells += [f"{sum(losses[-10:]) / 10:.3f}", f"{d2l.evaluate_accuracy(val_iter, net):.3f}"]
            seconds.append(time.process_time() - start)
        print(f"| {name} | {d2l.num_params(net):,} | " + " | ".join(cells)
              + f" | {statistics.mean(seconds):.0f} |")


def saved_megabytes(net: nn.Module, X: torch.Tensor, y: torch.Tensor) -> float:
    """Megabytes of the tensors autograd stores for the backward pass of one batch, each storage
    counted once, the parameters not counted."""
    seen: dict[int, int] = {}

    def pack(t: torch.Tensor) -> torch.Tensor:
        storage = t.untyped_storage()
        seen[storage.data_ptr()] = storage.nbytes()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        loss = nn.functional.cross_entropy(net(X), y)
    params = {p.untyped_storage().data_ptr() for p in net.parameters()}
    loss.backward()
    return sum(size for ptr, size in seen.items() if ptr not in params) / 2 ** 20


def cost_runs() -> None:
    print(f"\nexercise 5: one training step on a batch of {BATCH} images at 96x96\n")
    print("| net | parameters | activations kept for backward (MB) | CPU s per step |")
    print("|---|---|---|---|")
    gen = torch.Generator().manual_seed(0)
    X, y = torch.rand(BATCH, 1, 96, 96, generator=gen), torch.randint(0, 10, (BATCH,), generator=gen)
    for name, build in (("DenseNet (notebook)", densenet), ("ResNet-18 (chapter 13)", resnet18)):
        d2l.set_seed(0)
        net = build().train()
        megabytes = saved_megabytes(net, X, y)
        optimizer = sgd(net, 0.01)
        step(net, optimizer, X, y)  # warm-up
        times = []
        for _ in range(3):
            start = time.process_time()
            step(net, optimizer, X, y)
            times.append(time.process_time() - start)
        print(f"| {name} | {d2l.num_params(net):,} | {megabytes:.0f} | {statistics.median(times):.2f} |")


def main() -> None:
    print(f"torch {torch.__version__}, {platform.machine()}, {os.cpu_count()} CPUs; validation: "
          f"500 images from the training file\n")
    batches, val_iter = fixed_batches(STEPS, BATCH, SIDE)
    accuracy_runs(batches, val_iter)
    cost_runs()


if __name__ == "__main__":
    main()
