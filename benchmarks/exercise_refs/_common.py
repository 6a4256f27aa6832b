"""What several reference-result scripts share: the same fixed training batches and validation
images, drawn from Fashion-MNIST's training file (the test set is never looked at)."""

from __future__ import annotations

import torch

import d2lmini as d2l


def fixed_batches(steps: int, batch: int, side: int
                  ) -> tuple[list[tuple[torch.Tensor, torch.Tensor]], d2l.InMemoryLoader]:
    """`steps` minibatches of `batch` images resized to `side` (200 per class from the first
    50 000 training images, seed 0), and a loader of 500 validation images (50 per class from
    the last 10 000), so every run of a script sees the same data."""
    images, labels, _, _ = d2l.read_fashion_mnist()
    train = d2l.balanced_subset(labels[:50_000], 200)
    val = 50_000 + d2l.balanced_subset(labels[50_000:], 50)
    d2l.set_seed(0)
    loader = d2l.InMemoryLoader(images[train], labels[train], batch, shuffle=True, resize=side)
    batches = [b for _, b in zip(range(steps), loader)]
    return batches, d2l.InMemoryLoader(images[val], labels[val], 250, shuffle=False, resize=side)


def train_steps(net: torch.nn.Module, optimizer: torch.optim.Optimizer,
                batches: list[tuple[torch.Tensor, torch.Tensor]]) -> list[float]:
    """One optimizer step per batch with cross-entropy, in order; the loss of every step."""
    losses = []
    for X, y in batches:
        loss = torch.nn.functional.cross_entropy(net(X), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses
