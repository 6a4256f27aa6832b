"""Figures of notebooks/02_softmax_regression: the one-layer network and what softmax and
cross-entropy do to a row of scores. Run through `python Pics/make_figures.py 02`."""

import matplotlib.pyplot as plt
import numpy as np

from diagram import save


def network():
    """784 pixel inputs, every one wired to each of the 10 outputs, then softmax."""
    fig, ax = plt.subplots(figsize=(7.0, 4.2))
    inputs = ["$x_1$", "$x_2$", "$x_3$", "", "$x_{784}$"]
    outputs = ["$o_1$", "$o_2$", "", "$o_{10}$"]
    y_in = np.linspace(3.6, 0.0, len(inputs))
    y_out = np.linspace(3.0, 0.6, len(outputs))
    for yi, name_i in zip(y_in, inputs):
        for yo, name_o in zip(y_out, outputs):
            if name_i and name_o:
                ax.plot([0.3, 1.7], [yi, yo], color="0.65", lw=0.8, zorder=1)
    for x, ys, names, color in ((0, y_in, inputs, "#cfe2f3"), (2, y_out, outputs, "#fce5cd")):
        for y, name in zip(ys, names):
            if name:
                ax.add_patch(plt.Circle((x, y), 0.32, facecolor=color, edgecolor="k", zorder=2))
                ax.text(x, y, name, ha="center", va="center", fontsize=9, zorder=3)
            else:
                ax.text(x, y, r"$\vdots$", ha="center", va="center", fontsize=14)
    ax.annotate("", xy=(3.4, 1.8), xytext=(2.45, 1.8), arrowprops=dict(arrowstyle="->", lw=1.5))
    ax.text(2.92, 1.95, "softmax", ha="center", fontsize=10)
    ax.add_patch(plt.Rectangle((3.45, 0.6), 1.5, 2.4, facecolor="#d9ead3", edgecolor="k"))
    ax.text(4.2, 1.8, r"$\hat{\mathbf{y}}$" + "\n10 class\nprobabilities", ha="center",
            va="center", fontsize=9)
    ax.text(0, -0.95, "input layer\n(784 pixels)", ha="center", fontsize=9)
    ax.text(2, -0.95, "output layer\n(10 scores)", ha="center", fontsize=9)
    ax.text(1.6, 4.15, r"$\mathbf{o} = \mathbf{x}\mathbf{W} + \mathbf{b}$,  "
            r"$\mathbf{W}\in\mathbb{R}^{784\times 10}$", ha="center", fontsize=10)
    ax.set_xlim(-0.5, 5.1)
    ax.set_ylim(-1.1, 4.4)
    ax.set_aspect("equal")
    ax.axis("off")
    save(fig, "02_softmax_network.svg")


def softmax_and_loss():
    """Scores -> probabilities, and the loss -log p of the true class."""
    scores = np.array([1.0, -0.5, 2.5, 0.2, 1.8])
    probs = np.exp(scores - scores.max())
    probs /= probs.sum()
    classes = np.arange(len(scores))
    fig, axes = plt.subplots(1, 3, figsize=(9.0, 2.6))
    axes[0].bar(classes, scores, color="#6fa8dc")
    axes[0].axhline(0, color="k", lw=0.6)
    axes[0].set_title("scores $o_j$ (any real numbers)", fontsize=9)
    axes[1].bar(classes, probs, color="#93c47d")
    axes[1].set_ylim(0, 1)
    axes[1].set_title(r"softmax: $\hat y_j \geq 0$, $\sum_j \hat y_j = 1$", fontsize=9)
    for ax in axes[:2]:
        ax.set_xticks(classes)
        ax.set_xlabel("class $j$")
    p = np.linspace(0.005, 1, 200)
    axes[2].plot(p, -np.log(p), color="#cc4125")
    axes[2].set_xlabel(r"probability $\hat y_y$ given to the true class")
    axes[2].set_title(r"cross-entropy $-\log \hat y_y$", fontsize=9)
    axes[2].set_ylim(0, 5.5)
    axes[2].grid(True, lw=0.4)
    fig.tight_layout()
    save(fig, "02_softmax_and_loss.svg")


if __name__ == "__main__":
    network()
    softmax_and_loss()
