"""Figures of 01_linear_regression: the model as a one-neuron network, and what squared loss
measures (vertical residuals of a line fitted to noisy points)."""

import matplotlib.pyplot as plt
import numpy as np

from diagram import save


def single_neuron() -> None:
    fig, ax = plt.subplots(figsize=(4, 2.4))
    inputs = [(0.0, 1.6, "$x_1$"), (0.0, 0.8, "$x_2$"), (0.0, -0.2, "$x_d$")]
    for x, y, label in inputs:
        ax.add_patch(plt.Circle((x, y), 0.22, fill=False, lw=1.5))
        ax.text(x, y, label, ha="center", va="center", fontsize=11)
        ax.annotate("", xy=(2.28, 0.8), xytext=(x + 0.22, y),
                    arrowprops=dict(arrowstyle="->", lw=1.2))
    ax.text(0.0, 0.33, r"$\vdots$", ha="center", va="center", fontsize=12)
    ax.add_patch(plt.Circle((2.5, 0.8), 0.22, fill=False, lw=1.5))
    ax.text(2.5, 0.8, "$o$", ha="center", va="center", fontsize=11)
    ax.text(1.2, 1.55, "weights $w_1,\\ldots,w_d$", ha="center", fontsize=9)
    ax.text(2.5, 0.3, r"$o = \mathbf{w}^\top \mathbf{x} + b$", ha="center", fontsize=10)
    ax.text(0.0, -0.75, "input layer", ha="center", fontsize=9)
    ax.text(2.5, -0.75, "output layer", ha="center", fontsize=9)
    ax.set_xlim(-0.6, 3.3)
    ax.set_ylim(-1.0, 2.0)
    ax.set_aspect("equal")
    ax.axis("off")
    save(fig, "01_single_neuron.svg")


def squared_loss() -> None:
    rng = np.random.default_rng(0)
    x = np.sort(rng.uniform(0, 4, 12))
    y = 0.8 * x + 0.5 + rng.normal(0, 0.45, x.size)
    slope, intercept = np.polyfit(x, y, 1)
    fit = slope * x + intercept
    fig, ax = plt.subplots(figsize=(3.8, 2.6))
    ax.vlines(x, fit, y, colors="tab:red", lw=1, label=r"residual $\hat y - y$")
    ax.scatter(x, y, s=14, color="tab:blue", zorder=3, label="examples $(x, y)$")
    grid = np.linspace(0, 4, 50)
    ax.plot(grid, slope * grid + intercept, color="k", lw=1.2, label=r"model $\hat y = wx + b$")
    ax.set_xlabel("$x$")
    ax.set_ylabel("$y$")
    ax.legend(fontsize=8, loc="upper left")
    save(fig, "01_squared_loss.svg")


if __name__ == "__main__":
    single_neuron()
    squared_loss()
