"""Figure for notebooks/05_numerical_stability: why identical initial weights keep hidden units
identical. Run through `python Pics/make_figures.py 05`."""

from pathlib import Path

import matplotlib.pyplot as plt

PICS = Path(__file__).resolve().parents[1]


def _net(ax, colors: list[str], title: str) -> None:
    """A 3-2-1 network; the edges into hidden unit j are drawn in colors[j]."""
    inputs = [(0.0, y) for y in (1.0, 0.0, -1.0)]
    hidden = [(1.0, 0.5), (1.0, -0.5)]
    output = (2.0, 0.0)
    for j, (xh, yh) in enumerate(hidden):
        for xi, yi in inputs:
            ax.plot([xi, xh], [yi, yh], color=colors[j], lw=1.6, zorder=1)
        ax.plot([xh, output[0]], [yh, output[1]], color=colors[j], lw=1.6, ls="--", zorder=1)
    for (x, y), label in zip(inputs + hidden + [output],
                             ["$x_1$", "$x_2$", "$x_3$", "$h_1$", "$h_2$", "$o$"]):
        ax.scatter([x], [y], s=420, facecolor="white", edgecolor="k", zorder=2)
        ax.text(x, y, label, ha="center", va="center", fontsize=9, zorder=3)
    ax.set_title(title, fontsize=9)
    ax.set_xlim(-0.4, 2.4)
    ax.set_ylim(-1.5, 1.5)
    ax.axis("off")


def draw_symmetry() -> None:
    fig, axes = plt.subplots(1, 2, figsize=(5.4, 2.3))
    _net(axes[0], ["#3182bd", "#3182bd"], "same initial weights:\n$h_1 = h_2$ forever")
    _net(axes[1], ["#3182bd", "#e6550d"], "random initial weights:\n$h_1 \\neq h_2$")
    fig.tight_layout()
    fig.savefig(PICS / "05_symmetry.svg", metadata={"Date": None})
    plt.close(fig)


if __name__ == "__main__":
    draw_symmetry()
