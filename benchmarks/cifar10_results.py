"""The chapters' CNNs on CIFAR-10 (and NiN on MNIST), ten epochs each, against the seed page.

Each network is built by its chapter's own builder, loaded from the notebook's py twin
(notebooks/py/NN_topic.py) by executing only its top-level imports, function and class
definitions and literal constants, never a training cell. The one change for CIFAR-10 is the
builder's `in_channels=3`; everything else is the chapter's recipe: input size, batch size 128,
optimizer, learning rate, weight decay, schedule and the chapter's own initialisation step (NiN's
zeroed last convolution, GoogLeNet's Kaiming init). Images are scaled to [0, 1] and not
normalised, as in the chapters. Training is `d2l.train_ch5` on `d2l.try_gpu()`.

Usage: `python benchmarks/cifar10_results.py [--nets alexnet vgg ...] [--root DIR]`. The data sets
are looked up first (d2lmini's usual order: --root, $D2LMINI_DATA, the cache, a download); without
them the script stops at once with d2lmini's DataNotFoundError. With D2LMINI_PROFILE=smoke it
runs one epoch on the smoke subset, a quick check that everything is wired up, not a result.
On a CPU the full run takes days; it is meant for a GPU.
"""

from __future__ import annotations

import argparse
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

import d2lmini as d2l

from chapter_nets import chapter_namespace

EPOCHS, BATCH = 10, 128


def zero_last_conv(net: nn.Module) -> None:
    """Chapter 11's start: the 1 x 1 convolution that produces the class maps begins at zero."""
    nn.init.zeros_(net[7][-1].weight)


@dataclass
class Run:
    """One training run: which chapter builds the net, how, on what data, with what optimizer."""

    key: str
    label: str
    chapter: str
    build: Callable[[dict, int], nn.Module]  # (chapter namespace, in_channels) -> net
    resize: int
    optimizer: Callable[[nn.Module], torch.optim.Optimizer]
    cosine: bool  # the chapter lowers the learning rate along a half cosine
    dataset: str  # "cifar10" or "mnist"
    seed_page: str  # the seed page's test accuracy after 10 epochs, as it states it


def sgd(lr: float, weight_decay: float) -> Callable[[nn.Module], torch.optim.Optimizer]:
    return lambda net: torch.optim.SGD(net.parameters(), lr=lr, momentum=0.9, weight_decay=weight_decay)


def adam(lr: float) -> Callable[[nn.Module], torch.optim.Optimizer]:
    return lambda net: torch.optim.Adam(net.parameters(), lr=lr)


def with_zeroed_head(ns: dict, channels: int) -> nn.Module:
    net = ns["nin"](in_channels=channels)
    zero_last_conv(net)
    return net


def googlenet_kaiming(ns: dict, channels: int) -> nn.Module:
    net = ns["googlenet"](in_channels=channels)
    net.apply(ns["init_kaiming"])  # chapter 12 trains the Kaiming-initialised net
    return net


def small_vgg(ns: dict, channels: int) -> nn.Module:
    ratio = 4  # chapter 10 trains VGG-11 with a quarter of the channels in every block
    arch = tuple((num_convs, out // ratio) for num_convs, out in ns["vgg11_arch"])
    return ns["vgg"](arch, in_channels=channels)


RUNS = [
    Run("alexnet", "AlexNet", "09_alexnet", lambda ns, c: ns["alexnet"](in_channels=c), 224,
        sgd(0.01, 5e-4), False, "cifar10", "0.777"),
    Run("vgg", "VGG-11, 1/4 width", "10_vgg", small_vgg, 224, sgd(0.01, 5e-4), False, "cifar10",
        "0.468 (small VGG; 0.546 full)"),
    Run("nin", "NiN", "11_nin", with_zeroed_head, 224, adam(0.001), False, "cifar10", "0.543"),
    Run("googlenet", "GoogLeNet", "12_googlenet", googlenet_kaiming, 96,
        adam(0.001), True, "cifar10", "0.625-0.686"),
    Run("resnet", "ResNet-18", "13_resnet", lambda ns, c: ns["resnet18"](in_channels=c), 96,
        sgd(0.05, 5e-4), True, "cifar10", "0.816"),
    Run("densenet", "DenseNet", "14_densenet", lambda ns, c: ns["densenet"](in_channels=c), 96,
        sgd(0.1, 1e-4), True, "cifar10", "0.745"),
    Run("nin-mnist", "NiN", "11_nin", with_zeroed_head, 224, adam(0.001), False, "mnist",
        "0.979-0.987"),
]
LOADERS = {"cifar10": (d2l.load_data_cifar10, 3, "CIFAR-10"), "mnist": (d2l.load_data_mnist, 1, "MNIST")}


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nets", nargs="+", choices=[r.key for r in RUNS], default=[r.key for r in RUNS])
    parser.add_argument("--root", default=None, help="folder holding the data (else the usual lookup)")
    args = parser.parse_args(argv)
    runs = [r for r in RUNS if r.key in args.nets]

    for name in dict.fromkeys(r.dataset for r in runs):  # the data first: stop at once without it
        LOADERS[name][0](BATCH, root=args.root)

    device = d2l.try_gpu()
    num_epochs = d2l.cap_epochs(EPOCHS)
    profile = d2l.current_profile()
    print(f"profile {profile.name}: " + ("every image" if profile.train_per_class is None else
          f"{profile.train_per_class} training and {profile.test_per_class} test images per class "
          "(a wiring check, not a result)"))
    print(f"device {device}, torch {torch.__version__}, {platform.machine()}, {num_epochs} epoch(s)")
    namespaces: dict[str, dict] = {}
    rows = []
    for run in runs:
        load, channels, data_name = LOADERS[run.dataset]
        if run.chapter not in namespaces:
            namespaces[run.chapter] = chapter_namespace(run.chapter)
        print(f"\n{run.label} ({run.chapter}) on {data_name}, {run.resize} x {run.resize}")
        d2l.set_seed(0)
        net = run.build(namespaces[run.chapter], channels)
        train_iter, test_iter = load(BATCH, resize=run.resize, root=args.root)
        optimizer = run.optimizer(net)
        if run.cosine:
            d2l.cosine_schedule(optimizer, num_epochs * len(train_iter))
        start = time.perf_counter()
        history = d2l.train_ch5(net, train_iter, test_iter, BATCH, optimizer, device, num_epochs)
        rows.append({"net": run.label, "data": data_name, "size": run.resize,
                     "epochs": len(history["test_acc"]), "test_acc": history["test_acc"][-1],
                     "seconds": time.perf_counter() - start, "seed_page": run.seed_page})

    print("\n| network | data | input | epochs | test acc | time (s) | seed page, 10 epochs |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['net']} | {r['data']} | {r['size']} | {r['epochs']} | {r['test_acc']:.3f} | "
              f"{r['seconds']:.0f} | {r['seed_page']} |")
    return rows


if __name__ == "__main__":
    main()
