"""Reference results for exercises 5 to 8 of notebooks/15_optimization:

* 5: chapter 04's MLP (the notebook's `mlp()`) with the notebook's scratch `Adam`, with and
  without bias correction, at learning rates 0.001 and 0.002;
* 6: the linear scaling rule with plain SGD: batch 64 at lr 0.025, 256 at 0.1, 1024 at 0.4 and
  4096 at 1.6, the same epochs; the two largest also with a linear warmup over the first epoch;
* 7: Adam with an L2 penalty (`torch.optim.Adam(weight_decay=λ)`) against AdamW at the same λ,
  lr 0.001, λ = 0.01, 0.1 and 1: validation accuracy and the norm of the weights;
* 8: chapter 11's NiN (zero start, 96 x 96 images, batches of 16) under chapter 11's SGD recipe:
  the ratio of the first convolution's gradient RMS to the last convolution's, step by step, and
  the first step where it exceeds 1/10.

The MLP runs (5-7) train for 3 epochs on the first 50 000 training images, in the same shuffled
order for every run (seed 0 before each), from the same start, and are scored on the last 10 000
training images; the test set is not used. The nets and optimizers are the notebook's own, built
from its twin by `benchmarks/chapter_nets.py` (definitions only, no training).

Usage: `OMP_NUM_THREADS=1 python benchmarks/exercise_refs/15_optimization.py` (a few minutes
on one thread of the AMD EPYC; `python ... 5 7` runs only those exercises).
"""

from __future__ import annotations

import math
import os
import platform
import sys
import time
from pathlib import Path

os.environ["D2LMINI_PROFILE"] = "full"  # the splits are chosen here

import torch  # noqa: E402
from torch import nn  # noqa: E402
from torch.nn import functional as F  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from chapter_nets import chapter_namespace, chapter_net  # noqa: E402

import d2lmini as d2l  # noqa: E402

EPOCHS, BATCH = 3, 256
CH15 = chapter_namespace("15_optimization")


def split(batch: int) -> tuple[d2l.InMemoryLoader, d2l.InMemoryLoader]:
    images, labels, _, _ = d2l.read_fashion_mnist()
    return (d2l.InMemoryLoader(images[:50_000], labels[:50_000], batch, shuffle=True),
            d2l.InMemoryLoader(images[50_000:], labels[50_000:], 1000, shuffle=False))


def start() -> dict:
    d2l.set_seed(0)
    return CH15["mlp"]().state_dict()


START = start()


def train(make_optimizer, batch: int = BATCH, warmup_steps: int = 0) -> dict:
    """The MLP from START, EPOCHS epochs on the training split; losses per step, validation
    accuracy and the norm of all its weights at the end."""
    train_iter, valid_iter = split(batch)
    net = CH15["mlp"]()
    net.load_state_dict(START)
    optimizer = make_optimizer(net.parameters())
    schedule = None
    if warmup_steps:
        schedule = torch.optim.lr_scheduler.LambdaLR(
            optimizer, lambda t: min(1.0, (t + 1) / warmup_steps))
    d2l.set_seed(0)
    losses = []
    began = time.perf_counter()
    for _ in range(EPOCHS):
        net.train()
        for X, y in train_iter:
            loss = F.cross_entropy(net(X), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            if schedule is not None:
                schedule.step()
            losses.append(loss.item())
    weights = torch.cat([p.detach().flatten() for p in net.parameters()])
    return {"losses": losses, "acc": d2l.evaluate_accuracy(valid_iter, net),
            "norm": weights.norm().item(), "seconds": time.perf_counter() - began,
            "finite": all(math.isfinite(v) for v in losses)}


def mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else float("nan")


def row(name: str, result: dict) -> str:
    l = result["losses"]
    return (f"| {name} | {mean(l[:20]):.3f} | {mean(l[20:100]):.3f} | {mean(l[-100:]):.3f} | "
            f"{result['acc']:.3f} | {result['seconds']:.0f} s |")


HEADER = ("| run | mean loss, steps 1-20 | steps 21-100 | last 100 steps | validation accuracy | "
          "time |\n|---|---|---|---|---|---|")


def exercise_5() -> None:
    print("\nExercise 5: the notebook's Adam with and without bias correction\n")
    print(HEADER)
    adam = CH15["Adam"]
    for lr in (0.001, 0.002):
        for correction in (True, False):
            result = train(lambda p: adam(p, lr=lr, bias_correction=correction))
            print(row(f"Adam lr {lr}, bias correction {'on' if correction else 'off'}", result),
                  flush=True)


def exercise_6() -> None:
    print("\nExercise 6: the linear scaling rule, plain SGD, lr = 0.1 * batch / 256\n")
    print(HEADER)
    for batch in (64, 256, 1024, 4096):
        lr = 0.1 * batch / 256
        result = train(lambda p: torch.optim.SGD(p, lr=lr), batch=batch)
        flag = "" if result["finite"] else " (diverged)"
        print(row(f"batch {batch}, lr {lr:g}{flag}", result), flush=True)
        if batch >= 1024:
            steps = math.ceil(50_000 / batch)  # one epoch of warmup
            result = train(lambda p: torch.optim.SGD(p, lr=lr), batch=batch, warmup_steps=steps)
            flag = "" if result["finite"] else " (diverged)"
            print(row(f"batch {batch}, lr {lr:g}, warmup over epoch 1{flag}", result), flush=True)


def exercise_7() -> None:
    print("\nExercise 7: Adam with an L2 penalty against AdamW, lr 0.001\n")
    print("| weight decay | Adam + L2: validation accuracy | weight norm | AdamW: validation "
          "accuracy | weight norm |\n|---|---|---|---|---|")
    for wd in (0.01, 0.1, 1.0):
        l2 = train(lambda p: torch.optim.Adam(p, lr=0.001, weight_decay=wd))
        decoupled = train(lambda p: torch.optim.AdamW(p, lr=0.001, weight_decay=wd))
        print(f"| {wd} | {l2['acc']:.3f} | {l2['norm']:.1f} | {decoupled['acc']:.3f} | "
              f"{decoupled['norm']:.1f} |", flush=True)
    none = train(lambda p: torch.optim.Adam(p, lr=0.001))
    print(f"| 0 (plain Adam) | {none['acc']:.3f} | {none['norm']:.1f} | | |")


def exercise_8(steps: int = 200) -> None:
    print(f"\nExercise 8: NiN under SGD (lr 0.01, momentum 0.9, weight decay 5e-4), zero start, "
          f"96 x 96, batches of 16, up to {steps} steps\n")
    images, labels, _, _ = d2l.read_fashion_mnist()
    d2l.set_seed(0)
    loader = d2l.InMemoryLoader(images[:50_000], labels[:50_000], 16, shuffle=True, resize=96)
    d2l.set_seed(0)
    net, _ = chapter_net("11_nin")
    nn.init.zeros_(net[7][-1].weight)
    convs = [m for m in net.modules() if isinstance(m, nn.Conv2d)]
    optimizer = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)
    ratios, losses, reached = [], [], None
    for step, (X, y) in zip(range(1, steps + 1), loader):
        loss = F.cross_entropy(net(X), y)
        optimizer.zero_grad()
        loss.backward()
        first = convs[0].weight.grad.pow(2).mean().sqrt().item()
        last = convs[-1].weight.grad.pow(2).mean().sqrt().item()
        ratios.append(first / last)
        losses.append(loss.item())
        if reached is None and first / last > 0.1:
            reached = step
        optimizer.step()
    for k in (2, 10, 25, 50, 100, 150, 200):
        if k <= len(ratios):
            print(f"  step {k:3d}: first / last convolution gradient RMS {ratios[k - 1]:.1e}, "
                  f"mean loss of steps {max(1, k - 9)}-{k}: {mean(losses[max(0, k - 10):k]):.3f}")
    print(f"  first step with a ratio above 1/10: {reached if reached else f'none in {steps}'}")


def main() -> None:
    print(f"machine: {platform.machine()}, {torch.get_num_threads()} threads, torch "
          f"{torch.__version__}")
    for exercise in sys.argv[1:] or ["5", "6", "7", "8"]:
        {"5": exercise_5, "6": exercise_6, "7": exercise_7, "8": exercise_8}[exercise]()


if __name__ == "__main__":
    main()
