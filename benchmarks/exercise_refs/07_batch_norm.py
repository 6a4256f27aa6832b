"""Reference results for exercises 4 to 7 of notebooks/07_batch_norm:

* 4: the sigmoid and average-pooling net without normalization, with batch norm before the
  activation, and with batch norm after it;
* 5: BN-LeNet and the same net without batch norm, trained with SGD at learning rate 1.0;
* 6: a trained BN-LeNet evaluated in evaluation mode and in training mode on batches of 2;
* 7: group norm (2 groups) in the convolutional part and layer norm in the dense part, against
  batch norm, at batch 256 and at batch 8.

Everything not named is the chapter's: Adam, learning rate 0.01, batch 256, PyTorch's default
initialization. To keep the run short, every net trains for 3 epochs on 10 000 training images
(1 000 per class, from the first 50 000) and is scored on a validation split of 5 000 images (500
per class, from the last 10 000 training images); the test set is not used. The batch-8 runs of
exercise 7 train for 1 epoch (1 250 steps) with Adam at learning rate 0.001.

Usage: `OMP_NUM_THREADS=1 python benchmarks/exercise_refs/07_batch_norm.py` (a few minutes on 2
CPU cores).
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

EPOCHS, BATCH, LR, SEEDS = 3, 256, 0.01, (0, 1)


def split(batch_size: int) -> tuple[d2l.InMemoryLoader, d2l.InMemoryLoader]:
    """1 000 training and 500 validation images per class, both from the training file."""
    images, labels, _, _ = d2l.read_fashion_mnist()
    train = d2l.balanced_subset(labels[:50_000], 1000)
    val = 50_000 + d2l.balanced_subset(labels[50_000:], 500)
    return (d2l.InMemoryLoader(images[train], labels[train], batch_size, shuffle=True),
            d2l.InMemoryLoader(images[val], labels[val], BATCH, shuffle=False))


def bn_lenet(activation=nn.ReLU, pooling=nn.MaxPool2d, norm2d=nn.BatchNorm2d,
             norm1d=nn.BatchNorm1d, after_activation: bool = False) -> nn.Sequential:
    """The chapter's BN-LeNet; with `after_activation` each norm follows its activation."""
    def unit(norm: nn.Module) -> list[nn.Module]:
        return [activation(), norm] if after_activation else [norm, activation()]

    return nn.Sequential(
        nn.Conv2d(1, 6, kernel_size=5, padding=2, bias=False), *unit(norm2d(6)),
        pooling(kernel_size=2, stride=2),
        nn.Conv2d(6, 16, kernel_size=5, bias=False), *unit(norm2d(16)),
        pooling(kernel_size=2, stride=2),
        d2l.FlattenLayer(),
        nn.Linear(16 * 5 * 5, 120, bias=False), *unit(norm1d(120)),
        nn.Linear(120, 84, bias=False), *unit(norm1d(84)),
        nn.Linear(84, 10))


def train(net: nn.Module, optimizer: torch.optim.Optimizer, train_iter, val_iter,
          epochs: int = EPOCHS) -> list[float]:
    """Train quietly with `train_ch5`; the validation accuracy after every epoch."""
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        history = d2l.train_ch5(net, train_iter, val_iter, BATCH, optimizer, "cpu", epochs)
    return history["test_acc"]


def accuracy_in_train_mode(net: nn.Module, images: torch.Tensor, labels: torch.Tensor,
                           batch_size: int) -> float:
    """Accuracy with batch statistics (training mode), batches of `batch_size`; the running
    statistics are restored afterwards."""
    saved = {k: v.clone() for k, v in net.state_dict().items()}
    net.train()
    correct = 0
    with torch.no_grad():
        for start in range(0, len(images), batch_size):
            X = images[start:start + batch_size].unsqueeze(1).float() / 255
            correct += (net(X).argmax(dim=1) == labels[start:start + batch_size]).sum().item()
    net.load_state_dict(saved)
    return correct / len(images)


def adam(net: nn.Module, lr: float = LR) -> torch.optim.Optimizer:
    return torch.optim.Adam(net.parameters(), lr=lr)


def main() -> None:
    train_iter, val_iter = split(BATCH)
    print(f"torch {torch.__version__}, {platform.machine()}, {os.cpu_count()} CPUs; {EPOCHS} epochs "
          f"on 10 000 training images, accuracy on 5 000 validation images\n")

    print("Exercise 4: sigmoid and average pooling, Adam 0.01\n")
    print("| net | " + " | ".join(f"val acc, seed {s}" for s in SEEDS) + " |")
    print("|---|" + "---|" * len(SEEDS))
    no_norm = {"norm2d": nn.Identity, "norm1d": nn.Identity}
    for name, norms, after in [("no normalization (nn.Identity)", no_norm, False),
                               ("batch norm before the sigmoid", {}, False),
                               ("batch norm after the sigmoid", {}, True)]:
        accs = []
        for seed in SEEDS:
            d2l.set_seed(seed)
            net = bn_lenet(nn.Sigmoid, nn.AvgPool2d, after_activation=after, **norms)
            accs.append(train(net, adam(net), train_iter, val_iter)[-1])
        print(f"| {name} | " + " | ".join(f"{a:.3f}" for a in accs) + " |")

    print("\nExercise 5: SGD at learning rate 1.0, seed 0, validation accuracy per epoch\n")
    print("| net | " + " | ".join(f"epoch {e + 1}" for e in range(EPOCHS)) + " |")
    print("|---|" + "---|" * EPOCHS)
    for name, norms in [("BN-LeNet", {}), ("without batch norm", no_norm)]:
        d2l.set_seed(0)
        net = bn_lenet(**norms)
        accs = train(net, torch.optim.SGD(net.parameters(), lr=1.0), train_iter, val_iter)
        print(f"| {name} | " + " | ".join(f"{a:.3f}" for a in accs) + " |")

    print("\nExercise 6: BN-LeNet (ReLU, max), Adam 0.01, seed 0, then evaluated two ways\n")
    d2l.set_seed(0)
    net = bn_lenet()
    bn_acc = train(net, adam(net), train_iter, val_iter)[-1]
    images, labels = val_iter.images, val_iter.labels
    print("| evaluation | val acc |\n|---|---|")
    print(f"| eval mode (running statistics) | {bn_acc:.3f} |")
    print(f"| training mode, batches of 2 | {accuracy_in_train_mode(net, images, labels, 2):.3f} |")
    print(f"| training mode, batches of 256 | {accuracy_in_train_mode(net, images, labels, 256):.3f} |")

    print("\nExercise 7: group norm (2 groups) + layer norm against batch norm, seed 0\n")
    print("| normalization | batch 256, Adam 0.01, 3 epochs | batch 8, Adam 0.001, 1 epoch |")
    print("|---|---|---|")
    small_train, small_val = split(8)
    group = {"norm2d": lambda c: nn.GroupNorm(2, c), "norm1d": nn.LayerNorm}
    for name, norms in [("batch norm", {}), ("group norm + layer norm", group)]:
        if norms:
            d2l.set_seed(0)
            net = bn_lenet(**norms)
            large = train(net, adam(net), train_iter, val_iter)[-1]
        else:
            large = bn_acc  # the run of exercise 6
        d2l.set_seed(0)
        net = bn_lenet(**norms)
        small = train(net, adam(net, 0.001), small_train, small_val, epochs=1)[-1]
        print(f"| {name} | {large:.3f} | {small:.3f} |")


if __name__ == "__main__":
    main()
