"""Reference results for the open exercises of 03_mlp: hidden width, a second hidden layer, sigmoid
and tanh instead of ReLU, and dead units at large learning rates.

Usage: `python benchmarks/exercise_refs/03_mlp.py` (about 4 minutes of CPU time, one thread).
To stay short it trains for 10 epochs (the chapter trains for 20) on all 60 000 Fashion-MNIST
training images and tests on all 10 000 test images. Run it in the full profile (the default;
D2LMINI_PROFILE=smoke would cap every run at one epoch). Every run is
the chapter's concise MLP (N(0, 0.01^2) weights, zero biases, batch 256, SGD on the mean
cross-entropy, lr 0.2, `d2l.train_ch3`) from the same seed; only the named thing changes.
"""

from __future__ import annotations

import time

import torch
from torch import nn

import d2lmini as d2l

BATCH_SIZE, NUM_EPOCHS, LR = 256, 10, 0.2


def loaders() -> tuple[d2l.InMemoryLoader, d2l.InMemoryLoader]:
    train_x, train_y, test_x, test_y = d2l.read_fashion_mnist()
    return (d2l.InMemoryLoader(train_x, train_y, BATCH_SIZE, True),
            d2l.InMemoryLoader(test_x, test_y, BATCH_SIZE, False))


def mlp(hiddens: list[int], activation: type[nn.Module] = nn.ReLU) -> nn.Sequential:
    layers: list[nn.Module] = [nn.Flatten()]
    width = 784
    for h in hiddens:
        layers += [nn.Linear(width, h), activation()]
        width = h
    layers.append(nn.Linear(width, 10))
    net = nn.Sequential(*layers)
    for m in net:
        if isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, std=0.01)
            nn.init.zeros_(m.bias)
    return net


def run(train_iter, test_iter, hiddens=(256,), activation=nn.ReLU, lr=LR):
    d2l.set_seed(0)
    net = mlp(list(hiddens), activation)
    optimizer = torch.optim.SGD(net.parameters(), lr=lr)
    history = d2l.train_ch3(net, train_iter, test_iter, nn.CrossEntropyLoss(), NUM_EPOCHS,
                            BATCH_SIZE, optimizer=optimizer)
    return net, history


def ms_per_batch(hiddens: list[int], repeats: int = 3, steps: int = 20) -> float:
    """CPU milliseconds per SGD step on one batch of 256 (one thread; process time, so other
    programs on a shared machine do not count), the best of `repeats` timings of `steps` steps."""
    d2l.set_seed(0)
    net = mlp(hiddens)
    optimizer = torch.optim.SGD(net.parameters(), lr=LR)
    X, y = torch.rand(BATCH_SIZE, 1, 28, 28), torch.randint(10, (BATCH_SIZE,))
    loss = nn.CrossEntropyLoss()
    best = float("inf")
    for _ in range(repeats):
        start = time.process_time()
        for _ in range(steps):
            optimizer.zero_grad()
            loss(net(X), y).backward()
            optimizer.step()
        best = min(best, (time.process_time() - start) / steps)
    return 1000 * best


def dead_on_test(net: nn.Sequential, test_iter) -> int:
    """Units of the first hidden layer that no test picture activates."""
    X = torch.cat([Xb for Xb, _ in test_iter]).reshape(-1, 784)
    with torch.no_grad():
        return int(((net[1](X) > 0).sum(dim=0) == 0).sum())


def accs(history) -> str:
    test = history["test_acc"]
    return (f"train acc {history['train_acc'][-1]:.3f}, test acc {test[-1]:.3f} (mean of the last "
            f"3 epochs {sum(test[-3:]) / 3:.3f}, best epoch {max(test):.3f})")


def main() -> None:
    torch.set_num_threads(1)  # on a shared, busy machine one thread wastes no time waiting
    print(f"all 60000 training and 10000 test images, {NUM_EPOCHS} epochs, "
          f"batch {BATCH_SIZE}; torch {torch.__version__}, {torch.get_num_threads()} threads")
    train_iter, test_iter = loaders()
    results = {}

    def once(key, **kwargs):
        if key not in results:
            results[key] = run(train_iter, test_iter, **kwargs)
        return results[key]

    print("Exercise 4: hidden width (time: CPU time of one SGD step on a batch of 256, best of 3 x 20)")
    for h in (32, 256, 1024):
        _, history = once(("width", h), hiddens=(h,))
        print(f"  {h:>4} hidden units: {accs(history)}; {ms_per_batch([h]):.2f} CPU ms per batch")

    print("Exercise 5: a second hidden layer of 256 units")
    for hiddens in ((256,), (256, 256)):
        key = ("width", 256) if hiddens == (256,) else ("depth", 2)
        _, history = once(key, hiddens=hiddens)
        print(f"  hidden layers {hiddens}: {accs(history)}; test acc per epoch "
              f"{' '.join(f'{a:.3f}' for a in history['test_acc'])}")

    print("Exercise 6: activation (test accuracy after each epoch)")
    for name, act in (("ReLU", nn.ReLU), ("sigmoid", nn.Sigmoid), ("tanh", nn.Tanh)):
        key = ("width", 256) if act is nn.ReLU else ("act", name)
        _, history = once(key, activation=act)
        print(f"  {name:<7}: {' '.join(f'{a:.3f}' for a in history['test_acc'])}")

    print("Exercise 7: dead hidden units (of 256) on the test set after training")
    for lr in (0.2, 1.0, 5.0):
        key = ("width", 256) if lr == LR else ("lr", lr)
        try:
            net, history = once(key, lr=lr)
        except d2l.TrainingDiverged as err:
            print(f"  lr {lr}: diverged ({err})")
            continue
        print(f"  lr {lr}: {dead_on_test(net, test_iter)} dead units, {accs(history)}")


if __name__ == "__main__":
    main()
