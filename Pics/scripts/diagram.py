"""Drawing pieces shared by the architecture figures: an arrow, a row of stages with the tensor
size under each, and saving a figure reproducibly into Pics/."""

from pathlib import Path

import matplotlib.pyplot as plt
from matplotlib.patches import FancyBboxPatch

PICS = Path(__file__).resolve().parents[1]


def arrow(ax, start, end, lw=1.1):
    ax.annotate("", xy=end, xytext=start, arrowprops=dict(arrowstyle="->", lw=lw))


def stage_row(ax, stages, sizes, width, gap, fontsize=8, arrow_lw=1.1):
    """Boxes (text, colour) left to right joined by arrows, each with its output size below."""
    for i, ((text, colour), size) in enumerate(zip(stages, sizes)):
        x = i * (width + gap)
        ax.add_patch(FancyBboxPatch((x, 0), width, 1.0, boxstyle="round,pad=0.03",
                                    facecolor=colour, edgecolor="black"))
        ax.text(x + width / 2, 0.5, text, ha="center", va="center", fontsize=fontsize)
        ax.text(x + width / 2, -0.2, size, ha="center", va="top", fontsize=8, color="#444444")
        if i:
            arrow(ax, (x - gap, 0.5), (x, 0.5), lw=arrow_lw)
    ax.set_xlim(-0.1, len(stages) * (width + gap))
    ax.set_ylim(-0.6, 1.15)


def save(fig, name):
    """Write Pics/<name> with no date stamp, so an unchanged figure redraws byte for byte."""
    fig.savefig(PICS / name, bbox_inches="tight", metadata={"Date": None})
    plt.close(fig)
