"""Layers and operations the CNN chapters build from."""

from __future__ import annotations

import torch
from torch import nn


class FlattenLayer(nn.Module):
    """Reshape (N, ...) to (N, -1), keeping the batch axis (03_mlp)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.reshape(x.shape[0], -1)


class GlobalAvgPool2d(nn.Module):
    """Average every channel over its whole map: (N, C, H, W) -> (N, C, 1, 1) (11_nin)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim != 4:
            raise ValueError(f"GlobalAvgPool2d expects input (N, C, H, W), got shape {tuple(x.shape)}")
        return x.mean(dim=(2, 3), keepdim=True)


def corr2d(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    """2-D cross-correlation of a matrix X with a kernel K, written out as loops over the output
    (06_convolutions)."""
    if X.ndim != 2 or K.ndim != 2:
        raise ValueError(f"corr2d expects 2-D X and K, got X {tuple(X.shape)} and K {tuple(K.shape)}")
    h, w = K.shape
    if h > X.shape[0] or w > X.shape[1]:
        raise ValueError(f"kernel K {tuple(K.shape)} is larger than X {tuple(X.shape)}")
    Y = torch.zeros(X.shape[0] - h + 1, X.shape[1] - w + 1, dtype=torch.result_type(X, K))
    for i in range(Y.shape[0]):
        for j in range(Y.shape[1]):
            Y[i, j] = (X[i:i + h, j:j + w] * K).sum()
    return Y


def layer_shapes(net: nn.Sequential, X: torch.Tensor, verbose: bool = True
                 ) -> list[tuple[str, tuple[int, ...]]]:
    """Pass X through the top-level layers of `net` one by one and return (and print) each
    layer's name and output shape: the shape walk of every CNN chapter (08_lenet).

    The walk runs in eval mode without gradients, so a probe input neither updates batch-norm
    statistics nor needs more than one example; the net's mode is restored afterwards."""
    shapes = []
    was_training = net.training
    net.eval()
    try:
        with torch.no_grad():
            for name, layer in net.named_children():
                X = layer(X)
                shapes.append((f"{name}:{type(layer).__name__}", tuple(X.shape)))
                if verbose:
                    print(f"{shapes[-1][0]:<24} output shape {shapes[-1][1]}")
    finally:
        net.train(was_training)
    return shapes


def num_params(net: nn.Module) -> int:
    """The number of parameters (weights and biases) of a module (06_convolutions)."""
    return sum(p.numel() for p in net.parameters())
