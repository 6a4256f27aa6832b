"""Chapter 09 (AlexNet): the network drawn as a column of layer boxes, input at the bottom.

Writes Pics/09_alexnet.svg. Run through `python Pics/make_figures.py 09`.
"""

from pathlib import Path

import matplotlib.pyplot as plt
from matplotlib.patches import FancyBboxPatch

OUT = Path(__file__).resolve().parents[1]

# Colours by kind of layer, shared by the legend.
KINDS = {"input": "#e8e8e8", "conv": "#9ecae1", "pool": "#fdd0a2", "dense": "#a1d99b",
         "dropout": "#fcbba1"}

# (text in the box, output shape printed beside it, kind), from input to output.
ALEXNET = [
    ("input image", "1 × 224 × 224", "input"),
    ("11×11 conv, 96, stride 4, pad 1 + ReLU", "96 × 54 × 54", "conv"),
    ("3×3 max-pool, stride 2", "96 × 26 × 26", "pool"),
    ("5×5 conv, 256, pad 2 + ReLU", "256 × 26 × 26", "conv"),
    ("3×3 max-pool, stride 2", "256 × 12 × 12", "pool"),
    ("3×3 conv, 384, pad 1 + ReLU", "384 × 12 × 12", "conv"),
    ("3×3 conv, 384, pad 1 + ReLU", "384 × 12 × 12", "conv"),
    ("3×3 conv, 256, pad 1 + ReLU", "256 × 12 × 12", "conv"),
    ("3×3 max-pool, stride 2", "256 × 5 × 5", "pool"),
    ("flatten → dense 4096 + ReLU", "4096", "dense"),
    ("dropout p = 0.5", "4096", "dropout"),
    ("dense 4096 + ReLU", "4096", "dense"),
    ("dropout p = 0.5", "4096", "dropout"),
    ("dense 10 (class scores)", "10", "dense"),
]


def draw_column(ax, layers, width=4.2, height=0.62, gap=0.28):
    """Stack one box per layer from the bottom up, joined by arrows; shapes go to the right."""
    for i, (text, shape, kind) in enumerate(layers):
        y = i * (height + gap)
        ax.add_patch(FancyBboxPatch((0, y), width, height, boxstyle="round,pad=0.02,rounding_size=0.1",
                                    facecolor=KINDS[kind], edgecolor="#444444", linewidth=0.8))
        ax.text(width / 2, y + height / 2, text, ha="center", va="center", fontsize=8.5)
        ax.text(width + 0.15, y + height / 2, shape, ha="left", va="center", fontsize=8,
                color="#555555")
        if i:
            ax.annotate("", xy=(width / 2, y), xytext=(width / 2, y - gap),
                        arrowprops=dict(arrowstyle="->", color="#444444", lw=0.8))
    top = len(layers) * (height + gap)
    ax.set_xlim(-0.2, width + 1.6)
    ax.set_ylim(-0.2, top)
    ax.axis("off")
    return top


def main():
    fig, ax = plt.subplots(figsize=(5.4, 7.4))
    top = draw_column(ax, ALEXNET)
    ax.text(4.2 + 0.15, top - 0.1, "output shape", fontsize=8, color="#555555", va="top")
    ax.set_title("AlexNet for 1-channel 224 × 224 Fashion-MNIST", fontsize=10)
    handles = [plt.Rectangle((0, 0), 1, 1, facecolor=c, edgecolor="#444444") for c in KINDS.values()]
    ax.legend(handles, list(KINDS), loc="lower center", bbox_to_anchor=(0.5, -0.06), ncol=5,
              fontsize=7.5, frameon=False)
    fig.tight_layout()
    fig.savefig(OUT / "09_alexnet.svg", metadata={"Date": None})
    plt.close(fig)


if __name__ == "__main__":
    main()
