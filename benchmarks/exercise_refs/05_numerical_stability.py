"""Reference results for exercise 10 of notebooks/05_numerical_stability: does the deep MLP with
N(0, 0.01^2) weights escape its plateau with more epochs or a larger learning rate, and what does
its first-layer gradient look like?

The chapter's net (five hidden layers of 256 ReLU units, biases zero) and optimizer (plain SGD on
the mean cross-entropy, batch 256), trained for 10 epochs at learning rates 0.1, 0.3 and 1.0, next
to the Kaiming-initialized net at the chapter's 0.1. To keep the run short, every net trains on
10 000 training images (1 000 per class, from the first 50 000) and is scored on a validation
split of 5 000 images (500 per class, from the last 10 000 training images); the test set is not
used. After training, the norm of the first layer's weight gradient is measured on one training
batch.

Usage: `OMP_NUM_THREADS=1 python benchmarks/exercise_refs/05_numerical_stability.py` (about a
minute on 2 CPU cores).
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

EPOCHS, BATCH = 10, 256


def split() -> tuple[d2l.InMemoryLoader, d2l.InMemoryLoader]:
    """1 000 training and 500 validation images per class, both from the training file."""
    images, labels, _, _ = d2l.read_fashion_mnist()
    train = d2l.balanced_subset(labels[:50_000], 1000)
    val = 50_000 + d2l.balanced_subset(labels[50_000:], 500)
    return (d2l.InMemoryLoader(images[train], labels[train], BATCH, shuffle=True),
            d2l.InMemoryLoader(images[val], labels[val], BATCH, shuffle=False))


def deep_mlp(init) -> nn.Sequential:
    """The chapter's six-layer ReLU MLP, `init` applied to every weight, biases zero."""
    layers = [d2l.FlattenLayer(), nn.Linear(784, 256), nn.ReLU()]
    for _ in range(4):
        layers += [nn.Linear(256, 256), nn.ReLU()]
    net = nn.Sequential(*layers, nn.Linear(256, 10))
    for layer in net:
        if isinstance(layer, nn.Linear):
            init(layer.weight)
            nn.init.zeros_(layer.bias)
    return net


def main() -> None:
    train_iter, val_iter = split()
    with torch.random.fork_rng():
        X, y = next(iter(train_iter))
    loss = nn.CrossEntropyLoss()
    print(f"torch {torch.__version__}, {platform.machine()}, {os.cpu_count()} CPUs; {EPOCHS} epochs "
          f"on 10 000 training images, accuracy on 5 000 validation images, seed 0\n")
    print("| init | lr | val acc after epoch 1 | epoch 5 | epoch 10 | train loss, epoch 10 | "
          "first-layer gradient norm after training |")
    print("|---|---|---|---|---|---|---|")
    runs = [("N(0, 0.01^2)", lambda w: nn.init.normal_(w, std=0.01), lr) for lr in (0.1, 0.3, 1.0)]
    runs.append(("Kaiming", lambda w: nn.init.kaiming_normal_(w, nonlinearity="relu"), 0.1))
    for name, init, lr in runs:
        d2l.set_seed(0)
        net = deep_mlp(init)
        optimizer = torch.optim.SGD(net.parameters(), lr=lr)
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            history = d2l.train_ch3(net, train_iter, val_iter, loss, EPOCHS, BATCH, optimizer=optimizer)
        net.zero_grad()
        loss(net(X), y).backward()
        grad = net[1].weight.grad.norm().item()
        acc = history["test_acc"]
        print(f"| {name} | {lr} | {acc[0]:.3f} | {acc[4]:.3f} | {acc[9]:.3f} | "
              f"{history['train_loss'][-1]:.3f} | {grad:.1e} |")


if __name__ == "__main__":
    main()
