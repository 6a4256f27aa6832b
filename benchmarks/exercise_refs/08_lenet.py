"""Reference results for exercises 5, 6 and 7 of notebooks/08_lenet:

* 5: the four combinations of activation (sigmoid, ReLU) and pooling (average, max), each from
  Xavier initialization: the first convolution's gradient norm on one batch at the start, and the
  validation accuracy after training with Adam (learning rate 0.01), two seeds each;
* 6: the classic and the modern net trained with plain SGD (no momentum) at learning rates 0.1
  and 0.9, one seed;
* 7: the modern net with Kaiming instead of Xavier initialization, two seeds.

To keep the run short, every net trains for 3 epochs of batch 256 (120 steps) on 10 000 training
images (1 000 per class, from the first 50 000) and is scored on a validation split of 5 000
images (500 per class, from the last 10 000 training images); the test set is not used.

Usage: `OMP_NUM_THREADS=1 python benchmarks/exercise_refs/08_lenet.py` (a few minutes on 2 CPU
cores).
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

EPOCHS, BATCH, SEEDS = 3, 256, (0, 1)


def split() -> tuple[d2l.InMemoryLoader, d2l.InMemoryLoader]:
    """1 000 training and 500 validation images per class, both from the training file."""
    images, labels, _, _ = d2l.read_fashion_mnist()
    train = d2l.balanced_subset(labels[:50_000], 1000)
    val = 50_000 + d2l.balanced_subset(labels[50_000:], 500)
    return (d2l.InMemoryLoader(images[train], labels[train], BATCH, shuffle=True),
            d2l.InMemoryLoader(images[val], labels[val], BATCH, shuffle=False))


def lenet(activation: type[nn.Module], pooling: type[nn.Module]) -> nn.Sequential:
    """The chapter's LeNet."""
    return nn.Sequential(
        nn.Conv2d(1, 6, kernel_size=5, padding=2), activation(), pooling(kernel_size=2, stride=2),
        nn.Conv2d(6, 16, kernel_size=5), activation(), pooling(kernel_size=2, stride=2),
        d2l.FlattenLayer(),
        nn.Linear(16 * 5 * 5, 120), activation(), nn.Linear(120, 84), activation(),
        nn.Linear(84, 10))


def built(seed: int, activation: type[nn.Module], pooling: type[nn.Module], init) -> nn.Sequential:
    """The net with `init` on every conv and dense weight and zero biases, as in the chapter."""
    d2l.set_seed(seed)
    net = lenet(activation, pooling)
    for layer in net.modules():
        if isinstance(layer, (nn.Conv2d, nn.Linear)):
            init(layer.weight)
            nn.init.zeros_(layer.bias)
    return net


def first_grad(net: nn.Module, X: torch.Tensor, y: torch.Tensor) -> float:
    """Norm of the first convolution's weight gradient on one batch; the net's grads are cleared."""
    nn.functional.cross_entropy(net(X), y).backward()
    norm = net[0].weight.grad.norm().item()
    net.zero_grad(set_to_none=True)
    return norm


def val_acc(net: nn.Module, optimizer: torch.optim.Optimizer, train_iter, val_iter) -> float:
    """Train quietly with `train_ch5` and return the last epoch's validation accuracy."""
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        history = d2l.train_ch5(net, train_iter, val_iter, BATCH, optimizer, "cpu", EPOCHS)
    return history["test_acc"][-1]


def main() -> None:
    train_iter, val_iter = split()
    with torch.random.fork_rng():
        X, y = next(iter(train_iter))
    xavier = nn.init.xavier_uniform_
    print(f"torch {torch.__version__}, {platform.machine()}, {os.cpu_count()} CPUs; {EPOCHS} epochs "
          f"on 10 000 training images, accuracy on 5 000 validation images\n")

    print("Exercise 5: Adam, learning rate 0.01, Xavier initialization\n")
    print("| activation | pooling | first-conv gradient norm at start, seed 0 | "
          + " | ".join(f"val acc, seed {s}" for s in SEEDS) + " |")
    print("|---|---|---|" + "---|" * len(SEEDS))
    adam_accs = {}
    for activation in (nn.Sigmoid, nn.ReLU):
        for pooling in (nn.AvgPool2d, nn.MaxPool2d):
            grad = first_grad(built(0, activation, pooling, xavier), X, y)
            accs = []
            for seed in SEEDS:
                net = built(seed, activation, pooling, xavier)
                accs.append(val_acc(net, torch.optim.Adam(net.parameters(), lr=0.01), train_iter, val_iter))
            adam_accs[activation, pooling] = accs
            print(f"| {activation.__name__} | {pooling.__name__} | {grad:.4f} | "
                  + " | ".join(f"{a:.3f}" for a in accs) + " |")

    print("\nExercise 6: SGD without momentum, Xavier initialization, seed 0\n")
    print("| net | lr 0.1 | lr 0.9 |\n|---|---|---|")
    for name, activation, pooling in [("classic (sigmoid, avg)", nn.Sigmoid, nn.AvgPool2d),
                                      ("modern (ReLU, max)", nn.ReLU, nn.MaxPool2d)]:
        accs = []
        for lr in (0.1, 0.9):
            net = built(0, activation, pooling, xavier)
            accs.append(val_acc(net, torch.optim.SGD(net.parameters(), lr=lr), train_iter, val_iter))
        print(f"| {name} | " + " | ".join(f"{a:.3f}" for a in accs) + " |")

    print("\nExercise 7: modern net (ReLU, max), Adam, learning rate 0.01\n")
    print("| initialization | " + " | ".join(f"val acc, seed {s}" for s in SEEDS) + " |")
    print("|---|" + "---|" * len(SEEDS))
    kaiming_accs = []
    for seed in SEEDS:
        net = built(seed, nn.ReLU, nn.MaxPool2d, lambda w: nn.init.kaiming_uniform_(w, nonlinearity="relu"))
        kaiming_accs.append(val_acc(net, torch.optim.Adam(net.parameters(), lr=0.01), train_iter, val_iter))
    for name, accs in [("Xavier (the runs of exercise 5)", adam_accs[nn.ReLU, nn.MaxPool2d]),
                       ("Kaiming", kaiming_accs)]:
        print(f"| {name} | " + " | ".join(f"{a:.3f}" for a in accs) + " |")


if __name__ == "__main__":
    main()
