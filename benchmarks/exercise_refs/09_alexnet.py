"""Reference results for exercise 5 of 09_alexnet: AlexNet with ReLU against the same network
with sigmoids, same seed, same initialisation (the notebook's: Kaiming for every layer but the
output layer, which keeps PyTorch's default), same data. Prints the gradient norm of each
convolution's weights on one batch of 32 training images, then the mean training loss over blocks
of 10 of the first 30 SGD steps (batches of 32, lr 0.01, momentum 0.9, weight decay 5e-4).

Usage: `python benchmarks/exercise_refs/09_alexnet.py` (about 5 CPU-minutes)."""

from __future__ import annotations

import platform

import torch
from torch import nn

import d2lmini as d2l


def alexnet(activation: type[nn.Module]) -> nn.Sequential:
    net = nn.Sequential(
        nn.Conv2d(1, 96, kernel_size=11, stride=4, padding=1), activation(),
        nn.MaxPool2d(kernel_size=3, stride=2),
        nn.Conv2d(96, 256, kernel_size=5, padding=2), activation(),
        nn.MaxPool2d(kernel_size=3, stride=2),
        nn.Conv2d(256, 384, kernel_size=3, padding=1), activation(),
        nn.Conv2d(384, 384, kernel_size=3, padding=1), activation(),
        nn.Conv2d(384, 256, kernel_size=3, padding=1), activation(),
        nn.MaxPool2d(kernel_size=3, stride=2), nn.Flatten(),
        nn.Linear(256 * 5 * 5, 4096), activation(), nn.Dropout(0.5),
        nn.Linear(4096, 4096), activation(), nn.Dropout(0.5),
        nn.Linear(4096, 10))
    for layer in net[:-1]:  # the output layer keeps PyTorch's default, as in the notebook
        if isinstance(layer, (nn.Conv2d, nn.Linear)):
            nn.init.kaiming_normal_(layer.weight, nonlinearity="relu")
            nn.init.zeros_(layer.bias)
    return net


def main() -> None:
    print(f"machine: {platform.machine()}, {torch.get_num_threads()} threads, torch {torch.__version__}")
    d2l.set_seed(0)
    train_iter, _ = d2l.load_data_fashion_mnist(32, resize=224)
    batches = []
    for X, y in train_iter:
        batches.append((X, y))
        if len(batches) == 30:
            break
    loss = nn.CrossEntropyLoss()
    print("data: the first 30 shuffled batches of 32 Fashion-MNIST training images at 224 x 224")
    for activation in (nn.ReLU, nn.Sigmoid):
        d2l.set_seed(0)
        net = alexnet(activation)
        X, y = batches[0]
        loss(net(X), y).backward()
        norms = [f"{m.weight.grad.norm():.1e}" for m in net if isinstance(m, nn.Conv2d)]
        print(f"{activation.__name__:8} gradient norm of conv1..conv5 weights: {', '.join(norms)}")
        net.zero_grad()
        optimizer = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)
        losses = []
        for X, y in batches:
            l = loss(net(X), y)
            optimizer.zero_grad()
            l.backward()
            optimizer.step()
            losses.append(l.item())
        blocks = [sum(losses[i:i + 10]) / 10 for i in (0, 10, 20)]
        print(f"{activation.__name__:8} mean loss, steps 1-10, 11-20, 21-30: "
              + ", ".join(f"{b:.3f}" for b in blocks))


if __name__ == "__main__":
    main()
