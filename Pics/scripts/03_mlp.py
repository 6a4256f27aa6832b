"""Figures of notebooks/03_mlp: the one-hidden-layer network and a living vs a dead ReLU unit.
Run through `python Pics/make_figures.py 03`."""

import matplotlib.pyplot as plt
import numpy as np

from diagram import save


def layer(ax, x, names, top, bottom, color):
    """Draw a column of neurons; an empty name draws a vertical ellipsis. Returns their heights."""
    ys = np.linspace(top, bottom, len(names))
    for y, name in zip(ys, names):
        if name:
            ax.add_patch(plt.Circle((x, y), 0.32, facecolor=color, edgecolor="k", zorder=2))
            ax.text(x, y, name, ha="center", va="center", fontsize=9, zorder=3)
        else:
            ax.text(x, y, r"$\vdots$", ha="center", va="center", fontsize=14)
    return ys


def wire(ax, x0, ys0, names0, x1, ys1, names1):
    for y0, n0 in zip(ys0, names0):
        for y1, n1 in zip(ys1, names1):
            if n0 and n1:
                ax.plot([x0 + 0.32, x1 - 0.32], [y0, y1], color="0.65", lw=0.7, zorder=1)


def network():
    """784 inputs -> 256 hidden ReLU units -> 10 scores."""
    fig, ax = plt.subplots(figsize=(7.5, 4.4))
    inputs = ["$x_1$", "$x_2$", "$x_3$", "", "$x_{784}$"]
    hidden = ["$h_1$", "$h_2$", "$h_3$", "$h_4$", "", "$h_{256}$"]
    outputs = ["$o_1$", "$o_2$", "", "$o_{10}$"]
    y_in = layer(ax, 0, inputs, 3.6, 0.0, "#cfe2f3")
    y_hid = layer(ax, 2.2, hidden, 4.0, -0.4, "#ead1dc")
    y_out = layer(ax, 4.4, outputs, 3.0, 0.6, "#fce5cd")
    wire(ax, 0, y_in, inputs, 2.2, y_hid, hidden)
    wire(ax, 2.2, y_hid, hidden, 4.4, y_out, outputs)
    captions = [(0, "input layer\n784 pixels"),
                (2.2, "hidden layer\n256 units, ReLU"),
                (4.4, "output layer\n10 scores")]
    for x, text in captions:
        ax.text(x, -1.35, text, ha="center", fontsize=9)
    ax.text(0.8, 4.55, r"$\mathbf{H} = \mathrm{ReLU}(\mathbf{X}\mathbf{W}_1 + \mathbf{b}_1)$",
            ha="center", fontsize=9)
    ax.text(3.9, 4.55, r"$\mathbf{O} = \mathbf{H}\mathbf{W}_2 + \mathbf{b}_2$", ha="center",
            fontsize=9)
    ax.set_xlim(-0.8, 5.0)
    ax.set_ylim(-1.5, 4.9)
    ax.set_aspect("equal")
    ax.axis("off")
    save(fig, "03_mlp_network.svg")


def dead_relu():
    """Where a batch's pre-activations fall on the ReLU, for a living and for a dead unit."""
    rng = np.random.default_rng(0)
    z = np.linspace(-6, 4, 200)
    cases = [("a living unit", rng.normal(0.5, 1.5, 40)),
             ("a dead unit", rng.normal(-3.5, 0.9, 40))]
    fig, axes = plt.subplots(1, 2, figsize=(8.0, 2.8), sharey=True)
    for ax, (title, pre) in zip(axes, cases):
        ax.plot(z, np.maximum(z, 0), color="k", lw=1.2, label="ReLU(z)")
        on = pre > 0
        ax.scatter(pre[on], np.maximum(pre[on], 0), color="#38761d", s=18, zorder=3,
                   label="gradient 1: weights learn")
        ax.scatter(pre[~on], np.zeros((~on).sum()), color="#cc0000", marker="x", s=22, zorder=3,
                   label="gradient 0: no signal")
        ax.axvline(0, color="0.6", lw=0.6)
        ax.set_title(f"{title}: {on.sum()} of {len(pre)} examples pass", fontsize=9)
        ax.set_xlabel("pre-activation $z = \\mathbf{x}\\mathbf{w} + b$ of one unit, per example")
        ax.set_xlim(-6, 4)
    axes[0].set_ylabel("output")
    axes[0].legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    save(fig, "03_dead_relu.svg")


if __name__ == "__main__":
    network()
    dead_relu()
