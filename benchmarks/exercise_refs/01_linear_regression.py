"""Reference results for the open exercises of 01_linear_regression (zero initialization, a mean
loss with d2l.sgd, learning rates, Huber loss against outliers).

Usage: `python benchmarks/exercise_refs/01_linear_regression.py` (about 10 s of CPU time).
Uses the chapter's data set (1000 synthetic examples, w = [2, -3.4], b = 4.2, seed 0) and its
training loop; every comparison changes one thing and keeps the data and minibatch order.
"""

from __future__ import annotations

import torch
from torch import nn

import d2lmini as d2l

TRUE_W, TRUE_B = torch.tensor([2.0, -3.4]), 4.2


def data() -> tuple[torch.Tensor, torch.Tensor]:
    d2l.set_seed(0)
    return d2l.synthetic_data(TRUE_W, TRUE_B, 1000)


def train_scratch(features, labels, lr=0.03, num_epochs=3, batch_size=10, zero_init=False,
                  mean_loss=False, stop_below=None):
    """The chapter's scratch loop; returns (w, b, per-epoch mean training losses)."""
    d2l.set_seed(1)
    w = torch.zeros(2, 1) if zero_init else torch.normal(0, 0.01, size=(2, 1))
    w.requires_grad_(True)
    b = torch.zeros(1, requires_grad=True)
    losses = []
    for _ in range(num_epochs):
        for X, y in d2l.data_iter(batch_size, features, labels):
            l = d2l.squared_loss(d2l.linreg(X, w, b), y)
            (l.mean() if mean_loss else l.sum()).backward()
            d2l.sgd([w, b], lr, batch_size)
            w.grad.zero_()
            b.grad.zero_()
        with torch.no_grad():
            losses.append(d2l.squared_loss(d2l.linreg(features, w, b), labels).mean().item())
        if stop_below is not None and losses[-1] < stop_below:
            break
    return w.detach().reshape(-1), b.item(), losses


def errors(w, b) -> str:
    return f"max |w error| {(w - TRUE_W).abs().max():.4f}, |b error| {abs(b - TRUE_B):.4f}"


def main() -> None:
    features, labels = data()

    print("Exercise 5: zero initialization (3 epochs, lr 0.03)")
    for zero in (False, True):
        w, b, losses = train_scratch(features, labels, zero_init=zero)
        print(f"  {'w = 0            ' if zero else 'w ~ N(0, 0.01^2) '}: final loss {losses[-1]:.2e}, "
              f"{errors(w, b)}")

    print("Exercise 6: mean instead of summed loss, still d2l.sgd(params, lr, batch_size)")
    for mean in (False, True):
        _, _, losses = train_scratch(features, labels, num_epochs=100, mean_loss=mean,
                                     stop_below=1e-4)
        print(f"  {'mean' if mean else 'sum '} loss: after 3 epochs {losses[min(2, len(losses) - 1)]:.2e}; "
              f"epochs until the loss is below 1e-4: {len(losses) if losses[-1] < 1e-4 else '> 100'}")

    print("Exercise 7: learning rates (3 epochs, batch 10)")
    for lr in (0.003, 0.03, 0.3, 3.0):
        w, b, losses = train_scratch(features, labels, lr=lr)
        print(f"  lr {lr:<5}: losses per epoch {', '.join(f'{v:.3g}' for v in losses)}")

    print("Exercise 8: 50 of the 1000 labels raised by 20 (outliers); concise model, SGD lr 0.03,"
          " 5 epochs")
    d2l.set_seed(2)
    corrupted = labels.clone()
    corrupted[torch.randperm(len(labels))[:50]] += 20
    for name, loss in (("MSELoss  ", nn.MSELoss()), ("HuberLoss", nn.HuberLoss(delta=1.0))):
        d2l.set_seed(3)
        net = nn.Linear(2, 1)
        nn.init.zeros_(net.weight)
        nn.init.zeros_(net.bias)
        optimizer = torch.optim.SGD(net.parameters(), lr=0.03)
        for _ in range(5):
            for X, y in d2l.data_iter(10, features, corrupted):
                optimizer.zero_grad()
                loss(net(X), y).backward()
                optimizer.step()
        w, b = net.weight.detach().reshape(-1), net.bias.item()
        print(f"  {name}: w = {[round(v, 3) for v in w.tolist()]}, b = {b:.3f}; {errors(w, b)}")


if __name__ == "__main__":
    main()
