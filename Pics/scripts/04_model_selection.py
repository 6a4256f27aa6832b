"""Figures for notebooks/04_model_selection: the k-fold split and a network with dropped units.

Run through `python Pics/make_figures.py 04`, which sets the Agg backend and stable SVG ids."""

from pathlib import Path

import matplotlib.pyplot as plt
from matplotlib.patches import Rectangle

PICS = Path(__file__).resolve().parents[1]
TRAIN, VALID = "#9ecae1", "#fd8d3c"


def draw_kfold(k: int = 5) -> None:
    """k rows, one per round: the data cut into k blocks, block i held out for validation."""
    fig, ax = plt.subplots(figsize=(5.2, 2.4))
    for row in range(k):
        y = k - 1 - row
        for block in range(k):
            color = VALID if block == row else TRAIN
            ax.add_patch(Rectangle((block, y + 0.12), 0.96, 0.76, facecolor=color, edgecolor="k", lw=0.6))
        ax.text(-0.15, y + 0.5, f"round {row + 1}", ha="right", va="center", fontsize=9)
    for block in range(k):
        ax.text(block + 0.48, k + 0.15, f"fold {block + 1}", ha="center", va="bottom", fontsize=8)
    ax.add_patch(Rectangle((k + 0.3, 3.2), 0.4, 0.4, facecolor=TRAIN, edgecolor="k", lw=0.6))
    ax.text(k + 0.8, 3.4, "train", va="center", fontsize=9)
    ax.add_patch(Rectangle((k + 0.3, 2.2), 0.4, 0.4, facecolor=VALID, edgecolor="k", lw=0.6))
    ax.text(k + 0.8, 2.4, "validate", va="center", fontsize=9)
    ax.text(k + 0.3, 0.9, "score =\nmean of the\nk validation\nlosses", va="center", fontsize=8)
    ax.set_xlim(-1.4, k + 2.3)
    ax.set_ylim(-0.1, k + 0.7)
    ax.axis("off")
    fig.tight_layout()
    fig.savefig(PICS / "04_kfold.svg", metadata={"Date": None})
    plt.close(fig)


def _mlp(ax, dropped: set[int], title: str) -> None:
    """A 4-5-3 network; hidden units listed in `dropped` are crossed out with their edges."""
    layers = [4, 5, 3]
    xs = [0.0, 1.0, 2.0]
    pos = [[(x, (n - 1) / 2 - i) for i in range(n)] for x, n in zip(xs, layers)]
    for left, right, lj in ((0, 1, 1), (1, 2, 1)):
        for i, (x0, y0) in enumerate(pos[left]):
            for j, (x1, y1) in enumerate(pos[right]):
                hidden = j if right == 1 else i
                faded = hidden in dropped
                ax.plot([x0, x1], [y0, y1], color="0.85" if faded else "0.35",
                        lw=0.5 if faded else 0.8, ls=":" if faded else "-", zorder=1)
    for layer, points in enumerate(pos):
        for i, (x, y) in enumerate(points):
            gone = layer == 1 and i in dropped
            ax.scatter([x], [y], s=260, facecolor="white" if gone else "#c6dbef",
                       edgecolor="0.6" if gone else "k", zorder=2)
            if gone:
                ax.plot([x - 0.12, x + 0.12], [y - 0.22, y + 0.22], color="#d62728", lw=1.5, zorder=3)
                ax.plot([x - 0.12, x + 0.12], [y + 0.22, y - 0.22], color="#d62728", lw=1.5, zorder=3)
    for x, name in zip(xs, ("input", "hidden", "output")):
        ax.text(x, -3.0, name, ha="center", fontsize=8)
    ax.set_title(title, fontsize=9)
    ax.set_xlim(-0.4, 2.4)
    ax.set_ylim(-3.3, 2.6)
    ax.axis("off")


def draw_dropout() -> None:
    fig, axes = plt.subplots(1, 2, figsize=(5.2, 2.4))
    _mlp(axes[0], set(), "evaluation: every unit")
    _mlp(axes[1], {1, 3}, "one training step, p = 0.4")
    fig.tight_layout()
    fig.savefig(PICS / "04_dropout.svg", metadata={"Date": None})
    plt.close(fig)


if __name__ == "__main__":
    draw_kfold()
    draw_dropout()
