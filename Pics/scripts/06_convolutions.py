"""Figures of notebooks/06_convolutions: a cross-correlation step, padding with stride, and how
the receptive field grows through a stack of convolutions. Run `python Pics/make_figures.py 06`."""

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Rectangle

from diagram import save

HIGHLIGHT = "#f4b942"
PAD = "#dddddd"


def grid(ax, values, x0, y0, title, marked=(), fill=None, fmt="{:g}"):
    """Draw a matrix as a grid of labelled cells with its top-left corner at (x0, y0).
    `marked` cells are highlighted; `fill` maps a cell to its own colour."""
    rows, cols = len(values), len(values[0])
    for i in range(rows):
        for j in range(cols):
            colour = HIGHLIGHT if (i, j) in marked else (fill or {}).get((i, j), "white")
            ax.add_patch(Rectangle((x0 + j, y0 - i - 1), 1, 1, facecolor=colour, edgecolor="black"))
            ax.text(x0 + j + 0.5, y0 - i - 0.5, fmt.format(values[i][j]), ha="center",
                    va="center", fontsize=11)
    ax.text(x0 + cols / 2, y0 + 0.35, title, ha="center", va="bottom", fontsize=11)


def cross_correlation():
    X = np.arange(12).reshape(3, 4)
    K = np.array([[1, 0], [-1, 2]])
    Y = np.array([[sum(X[i + a, j + b] * K[a, b] for a in range(2) for b in range(2))
                   for j in range(3)] for i in range(2)])
    fig, ax = plt.subplots(figsize=(7.5, 2.4))
    window = {(0, 1), (0, 2), (1, 1), (1, 2)}
    grid(ax, X, 0, 3, "input X (3×4)", marked=window)
    ax.text(4.7, 1.5, "⋆", fontsize=22, ha="center", va="center")
    grid(ax, K, 5.5, 2.5, "kernel K (2×2)", marked={(0, 0), (0, 1), (1, 0), (1, 1)})
    ax.text(8.2, 1.5, "=", fontsize=20, ha="center", va="center")
    grid(ax, Y, 9, 2.5, "output Y (2×3)", marked={(0, 1)})
    ax.text(5.9, -0.9, "Y[0,1] = 1·1 + 2·0 + 5·(−1) + 6·2 = 8", ha="center", fontsize=10)
    assert Y[0, 1] == 8
    ax.set_xlim(-0.3, 12.3)
    ax.set_ylim(-1.3, 3.9)
    ax.set_aspect("equal")
    ax.axis("off")
    save(fig, "06_cross_correlation.svg")


def padding_stride():
    """A 4×4 input padded by 1 on each side, a 3×3 kernel with stride 2: a 2×2 output."""
    n, p, k, s = 4, 1, 3, 2
    size = n + 2 * p
    values = [["0" if not (p <= i < p + n and p <= j < p + n) else "x" for j in range(size)]
              for i in range(size)]
    pad = {(i, j): PAD for i in range(size) for j in range(size) if values[i][j] == "0"}
    fig, axes = plt.subplots(1, 2, figsize=(8, 3.6))
    starts = [(0, 0), (0, s)]
    for ax, (r, c) in zip(axes, starts):
        window = {(r + a, c + b) for a in range(k) for b in range(k)}
        grid(ax, values, 0, size, f"window at output ({r // s}, {c // s})", marked=window,
             fill=pad, fmt="{}")
        ax.set_xlim(-0.3, size + 0.3)
        ax.set_ylim(-1.2, size + 1.2)
        ax.set_aspect("equal")
        ax.axis("off")
    out = (n + 2 * p - k) // s + 1
    fig.suptitle(f"n = {n}, padding p = {p} (grey zeros), kernel k = {k}, stride s = {s}: "
                 f"output ⌊(4 + 2 − 3)/2⌋ + 1 = {out}", fontsize=11)
    axes[1].text(size / 2, -0.8, "the window jumps s = 2 columns", ha="center", fontsize=10)
    axes[0].text(size / 2, -0.8, "first window covers padding", ha="center", fontsize=10)
    save(fig, "06_padding_stride.svg")


def receptive_field():
    """One output unit at the top; the input units it depends on, layer by layer (1-D view)."""
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.2))
    stacks = [("three 3-wide convolutions, stride 1", [1, 1, 1]),
              ("dilations 1, 2, 4", [1, 2, 4])]
    width = 17
    for ax, (title, dilations) in zip(axes, stacks):
        depth = len(dilations)
        centre = width // 2
        reached = {depth: {centre}}
        for layer in range(depth, 0, -1):  # walk down from the output
            d = dilations[layer - 1]
            reached[layer - 1] = {u + o * d for u in reached[layer] for o in (-1, 0, 1)}
            for u in reached[layer]:
                for o in (-1, 0, 1):
                    ax.plot([u, u + o * d], [layer, layer - 1], color="#888888", lw=0.8, zorder=1)
        for layer in range(depth + 1):
            xs = np.arange(width)
            on = np.array([x in reached[layer] for x in xs])
            ax.scatter(xs[~on], [layer] * (~on).sum(), s=40, facecolor="white", edgecolor="black",
                       zorder=2)
            ax.scatter(xs[on], [layer] * on.sum(), s=40, color=HIGHLIGHT, edgecolor="black",
                       zorder=2)
            label = "input" if layer == 0 else f"layer {layer}"
            ax.text(-1.0, layer, f"{label}: {len(reached[layer])}", ha="right", va="center",
                    fontsize=9)
        ax.set_title(title, fontsize=11)
        ax.set_xlim(-6.5, width)
        ax.set_ylim(-0.5, depth + 0.5)
        ax.axis("off")
    save(fig, "06_receptive_field.svg")


if __name__ == "__main__":
    cross_correlation()
    padding_stride()
    receptive_field()
