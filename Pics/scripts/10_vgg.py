"""Chapter 10 (VGG): one VGG block on the left, VGG-11 built from five blocks on the right.

Writes Pics/10_vgg.svg. Run through `python Pics/make_figures.py 10`.
"""

from pathlib import Path

import matplotlib.pyplot as plt
from matplotlib.patches import FancyBboxPatch

OUT = Path(__file__).resolve().parents[1]

KINDS = {"input": "#e8e8e8", "conv": "#9ecae1", "pool": "#fdd0a2", "block": "#c6dbef",
         "dense": "#a1d99b", "dropout": "#fcbba1"}

# One block: n repetitions of a padded 3x3 convolution, then a pool that halves the sides.
BLOCK = [
    ("c_in × h × w", "input"),
    ("3×3 conv, c_out, pad 1 + ReLU", "conv"),
    ("⋮  (n convolutions in all)", None),
    ("3×3 conv, c_out, pad 1 + ReLU", "conv"),
    ("2×2 max-pool, stride 2", "pool"),
    ("c_out × h/2 × w/2", "input"),
]

# VGG-11: (convolutions, channels) per block, then the dense head; shapes for a 224 input.
VGG11 = [
    ("input image", "1 × 224 × 224", "input"),
    ("block 1: 1 conv, 64", "64 × 112 × 112", "block"),
    ("block 2: 1 conv, 128", "128 × 56 × 56", "block"),
    ("block 3: 2 convs, 256", "256 × 28 × 28", "block"),
    ("block 4: 2 convs, 512", "512 × 14 × 14", "block"),
    ("block 5: 2 convs, 512", "512 × 7 × 7", "block"),
    ("flatten → dense 4096 + ReLU", "4096", "dense"),
    ("dropout p = 0.5", "4096", "dropout"),
    ("dense 4096 + ReLU", "4096", "dense"),
    ("dropout p = 0.5", "4096", "dropout"),
    ("dense 10 (class scores)", "10", "dense"),
]

HEIGHT, GAP = 0.62, 0.3


def box(ax, x, y, width, text, kind):
    if kind is None:  # an ellipsis row, no box
        ax.text(x + width / 2, y + HEIGHT / 2, text, ha="center", va="center", fontsize=8.5)
        return
    ax.add_patch(FancyBboxPatch((x, y), width, HEIGHT, boxstyle="round,pad=0.02,rounding_size=0.1",
                                facecolor=KINDS[kind], edgecolor="#444444", linewidth=0.8))
    ax.text(x + width / 2, y + HEIGHT / 2, text, ha="center", va="center", fontsize=8.5)


def arrow(ax, x, y):
    ax.annotate("", xy=(x, y), xytext=(x, y - GAP),
                arrowprops=dict(arrowstyle="->", color="#444444", lw=0.8))


def main():
    fig, (left, right) = plt.subplots(1, 2, figsize=(9.6, 6.2), width_ratios=[1, 1.3])

    width = 3.6
    for i, (text, kind) in enumerate(BLOCK):
        y = i * (HEIGHT + GAP)
        box(left, 0, y, width, text, kind)
        if i:
            arrow(left, width / 2, y)
    left.set_title("one VGG block", fontsize=10)
    left.set_xlim(-0.2, width + 0.2)
    left.set_ylim(-0.2, len(VGG11) * (HEIGHT + GAP))
    left.axis("off")

    width = 3.6
    for i, (text, shape, kind) in enumerate(VGG11):
        y = i * (HEIGHT + GAP)
        box(right, 0, y, width, text, kind)
        right.text(width + 0.15, y + HEIGHT / 2, shape, ha="left", va="center", fontsize=8,
                   color="#555555")
        if i:
            arrow(right, width / 2, y)
    right.set_title("VGG-11 (output shape of each stage)", fontsize=10)
    right.set_xlim(-0.2, width + 1.7)
    right.set_ylim(-0.2, len(VGG11) * (HEIGHT + GAP))
    right.axis("off")

    handles = [plt.Rectangle((0, 0), 1, 1, facecolor=c, edgecolor="#444444") for c in KINDS.values()]
    fig.legend(handles, list(KINDS), loc="lower center", ncol=6, fontsize=8, frameon=False)
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    fig.savefig(OUT / "10_vgg.svg", metadata={"Date": None})
    plt.close(fig)


if __name__ == "__main__":
    main()
