"""Chapter 11 (NiN): one NiN block on the left, the whole network on the right.

Writes Pics/11_nin.svg. Run through `python Pics/make_figures.py 11`.
"""

from pathlib import Path

import matplotlib.pyplot as plt
from matplotlib.patches import FancyBboxPatch

OUT = Path(__file__).resolve().parents[1]

KINDS = {"input": "#e8e8e8", "conv": "#9ecae1", "1×1 conv": "#dadaeb", "block": "#c6dbef",
         "pool": "#fdd0a2", "dropout": "#fcbba1", "global avg": "#a1d99b"}

# One block: an ordinary convolution, then two 1x1 convolutions (a per-pixel MLP).
BLOCK = [
    ("c_in × h × w", "input"),
    ("k×k conv, c_out (stride s, pad p) + ReLU", "conv"),
    ("1×1 conv, c_out + ReLU", "1×1 conv"),
    ("1×1 conv, c_out + ReLU", "1×1 conv"),
    ("c_out × h' × w'", "input"),
]

# The network for 224 x 224 Fashion-MNIST images, input at the bottom.
NIN = [
    ("input image", "1 × 224 × 224", "input"),
    ("NiN block: 11×11, 96, stride 4", "96 × 54 × 54", "block"),
    ("3×3 max-pool, stride 2", "96 × 26 × 26", "pool"),
    ("NiN block: 5×5, 256, pad 2", "256 × 26 × 26", "block"),
    ("3×3 max-pool, stride 2", "256 × 12 × 12", "pool"),
    ("NiN block: 3×3, 384, pad 1", "384 × 12 × 12", "block"),
    ("3×3 max-pool, stride 2", "384 × 5 × 5", "pool"),
    ("dropout p = 0.5", "384 × 5 × 5", "dropout"),
    ("NiN block: 3×3, 10, pad 1, no last ReLU", "10 × 5 × 5", "block"),
    ("global average pool", "10 × 1 × 1", "global avg"),
    ("flatten (class scores)", "10", "input"),
]

HEIGHT, GAP = 0.62, 0.3


def column(ax, rows, width, shapes=True):
    """Boxes from the bottom up, joined by arrows; shapes (if given) to the right."""
    for i, row in enumerate(rows):
        text, kind = row[0], row[-1]
        y = i * (HEIGHT + GAP)
        ax.add_patch(FancyBboxPatch((0, y), width, HEIGHT, boxstyle="round,pad=0.02,rounding_size=0.1",
                                    facecolor=KINDS[kind], edgecolor="#444444", linewidth=0.8))
        ax.text(width / 2, y + HEIGHT / 2, text, ha="center", va="center", fontsize=8.5)
        if shapes:
            ax.text(width + 0.15, y + HEIGHT / 2, row[1], ha="left", va="center", fontsize=8,
                    color="#555555")
        if i:
            ax.annotate("", xy=(width / 2, y), xytext=(width / 2, y - GAP),
                        arrowprops=dict(arrowstyle="->", color="#444444", lw=0.8))
    ax.set_xlim(-0.2, width + (1.7 if shapes else 0.2))
    ax.set_ylim(-0.2, len(NIN) * (HEIGHT + GAP))
    ax.axis("off")


def main():
    fig, (left, right) = plt.subplots(1, 2, figsize=(9.8, 6.2), width_ratios=[1, 1.3])
    column(left, BLOCK, 3.9, shapes=False)
    left.set_title("one NiN block", fontsize=10)
    left.text(3.9 / 2, 5 * (HEIGHT + GAP) + 0.1,
              "the two 1×1 convolutions act as a small\ndense network applied at every pixel",
              ha="center", va="bottom", fontsize=8.5, color="#555555")
    column(right, NIN, 3.9)
    right.set_title("NiN (output shape of each stage)", fontsize=10)
    handles = [plt.Rectangle((0, 0), 1, 1, facecolor=c, edgecolor="#444444") for c in KINDS.values()]
    fig.legend(handles, list(KINDS), loc="lower center", ncol=7, fontsize=8, frameon=False)
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    fig.savefig(OUT / "11_nin.svg", metadata={"Date": None})
    plt.close(fig)


if __name__ == "__main__":
    main()
