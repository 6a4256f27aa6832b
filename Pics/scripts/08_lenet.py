"""Figures of notebook 08_lenet: LeNet as a block diagram (Pics/08_lenet_blocks.svg).

Run through `python Pics/make_figures.py 08`, which sets the Agg backend and stable SVG ids.
"""

from pathlib import Path

import matplotlib.pyplot as plt
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

PICS = Path(__file__).resolve().parents[1]

COLORS = {"data": "#e8e8e8", "conv": "#9ecae1", "pool": "#fdd0a2", "flat": "#e8e8e8",
          "dense": "#a1d99b"}

# (kind, text inside the box, shape of the box's output)
STAGES = [
    ("data", "image", "1×28×28"),
    ("conv", "conv 5×5\n6 channels\npad 2\nsigmoid", "6×28×28"),
    ("pool", "avg pool\n2×2\nstride 2", "6×14×14"),
    ("conv", "conv 5×5\n16 channels\nsigmoid", "16×10×10"),
    ("pool", "avg pool\n2×2\nstride 2", "16×5×5"),
    ("flat", "flatten", "400"),
    ("dense", "dense\n120\nsigmoid", "120"),
    ("dense", "dense\n84\nsigmoid", "84"),
    ("dense", "dense\n10", "10 scores"),
]


def draw_blocks(path: Path) -> None:
    width, height, gap = 1.5, 1.5, 0.45
    fig, ax = plt.subplots(figsize=(12, 3.0))
    xs = [i * (width + gap) for i in range(len(STAGES))]
    for x, (kind, text, shape) in zip(xs, STAGES):
        ax.add_patch(FancyBboxPatch((x, 0), width, height, boxstyle="round,pad=0.02,rounding_size=0.08",
                                    facecolor=COLORS[kind], edgecolor="#333333", linewidth=1))
        ax.text(x + width / 2, height / 2, text, ha="center", va="center", fontsize=8.5)
        ax.text(x + width / 2, -0.22, shape, ha="center", va="top", fontsize=8.5, color="#333333")
    for left, right in zip(xs, xs[1:]):
        ax.add_patch(FancyArrowPatch((left + width + 0.04, height / 2), (right - 0.04, height / 2),
                                     arrowstyle="-|>", mutation_scale=11, color="#333333"))
    # brackets naming the two halves of the network
    for first, last, name in [(1, 4, "convolutional encoder"), (6, 8, "dense head")]:
        x0, x1, y = xs[first], xs[last] + width, height + 0.2
        ax.plot([x0, x0, x1, x1], [y - 0.08, y, y, y - 0.08], color="#555555", linewidth=1)
        ax.text((x0 + x1) / 2, y + 0.08, name, ha="center", va="bottom", fontsize=9.5)
    ax.text(xs[0] - 0.15, -0.22, "output:", ha="right", va="top", fontsize=8.5, color="#333333")
    ax.text(xs[-1] + width, -0.62, "modern variant: ReLU in place of sigmoid, max in place of "
            "average pooling; same shapes", ha="right", va="top", fontsize=8, style="italic",
            color="#555555")
    ax.set_xlim(xs[0] - 0.85, xs[-1] + width + 0.1)
    ax.set_ylim(-0.95, height + 0.65)
    ax.set_aspect("equal")
    ax.axis("off")
    fig.savefig(path, bbox_inches="tight", metadata={"Date": None})
    plt.close(fig)


if __name__ == "__main__":
    draw_blocks(PICS / "08_lenet_blocks.svg")
