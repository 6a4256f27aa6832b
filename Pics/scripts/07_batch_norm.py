"""Figures of notebook 07_batch_norm: which values each normalization averages over
(Pics/07_norm_axes.svg).

A tensor of shape (N, C, H, W) is drawn as a grid with one column per example n and one row per
channel c; each cell is one H x W feature map (a small 3 x 3 grid of pixels). The cells shaded in
a panel form ONE set of values that share a mean and a variance.

Run through `python Pics/make_figures.py 07`, which sets the Agg backend and stable SVG ids.
"""

from pathlib import Path

import matplotlib.pyplot as plt
from matplotlib.patches import Rectangle

PICS = Path(__file__).resolve().parents[1]
N, C, PIX = 4, 6, 3  # examples, channels, pixels per side of a drawn feature map
GROUPS = 3           # group norm, as in the notebook: 3 groups of C // GROUPS = 2 channels

# panel title, axes averaged over, and which (n, c) cells form one normalization set
PANELS = [
    ("batch norm", "mean over N, H, W\n(one set per channel)", lambda n, c: c == 1),
    ("layer norm", "mean over C, H, W\n(one set per example)", lambda n, c: n == 1),
    ("instance norm", "mean over H, W\n(one set per example and channel)",
     lambda n, c: n == 1 and c == 1),
    ("group norm", f"mean over H, W and {C // GROUPS} channels\n(one set per example and group)",
     lambda n, c: n == 1 and c // (C // GROUPS) == 0),
]


def draw_panel(ax, title: str, subtitle: str, chosen) -> None:
    cell, pad = 1.0, 0.18
    grid_x, grid_y = [], []  # pixel lines of every map, as one path (NaN breaks the line)
    for n in range(N):
        for c in range(C):
            x, y = n * (cell + pad), (C - 1 - c) * (cell + pad)
            color = "#3182bd" if chosen(n, c) else "#f0f0f0"
            ax.add_patch(Rectangle((x, y), cell, cell, facecolor=color, edgecolor="#636363",
                                   linewidth=0.8))
            for k in range(1, PIX):
                t = k * cell / PIX
                grid_x += [x + t, x + t, float("nan"), x, x + cell, float("nan")]
                grid_y += [y, y + cell, float("nan"), y + t, y + t, float("nan")]
    ax.plot(grid_x, grid_y, color="#bdbdbd", linewidth=0.4)
    width, height = N * (cell + pad) - pad, C * (cell + pad) - pad
    ax.annotate("", xy=(width, -0.35), xytext=(0, -0.35),
                arrowprops=dict(arrowstyle="->", color="#333333", linewidth=0.8))
    ax.text(width / 2, -0.5, "examples n (N)", ha="center", va="top", fontsize=8)
    ax.annotate("", xy=(-0.35, 0), xytext=(-0.35, height),
                arrowprops=dict(arrowstyle="->", color="#333333", linewidth=0.8))
    ax.text(-0.5, height / 2, "channels c (C)", ha="right", va="center", rotation=90, fontsize=8)
    ax.text(width / 2, height + 1.25, title, ha="center", va="bottom", fontsize=10,
            fontweight="bold")
    ax.text(width / 2, height + 0.2, subtitle, ha="center", va="bottom", fontsize=7.5)
    ax.set_xlim(-1.3, width + 0.3)
    ax.set_ylim(-1.2, height + 1.9)
    ax.set_aspect("equal")
    ax.axis("off")


def draw_norm_axes(path: Path) -> None:
    fig, axes = plt.subplots(1, len(PANELS), figsize=(10, 3.6))
    for ax, (title, subtitle, chosen) in zip(axes, PANELS):
        draw_panel(ax, title, subtitle, chosen)
    fig.text(0.5, 0.01, "each cell is one H×W feature map; the shaded cells share one mean and "
             "one variance", ha="center", fontsize=8, style="italic", color="#555555")
    fig.savefig(path, bbox_inches="tight", metadata={"Date": None})
    plt.close(fig)


if __name__ == "__main__":
    draw_norm_axes(PICS / "07_norm_axes.svg")
