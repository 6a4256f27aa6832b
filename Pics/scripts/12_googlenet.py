"""Figures of notebooks/12_googlenet: the Inception block's four parallel paths, and GoogLeNet's
stages for 96×96 Fashion-MNIST. Run `python Pics/make_figures.py 12`."""

import matplotlib.pyplot as plt
from matplotlib.patches import FancyBboxPatch

from diagram import arrow, save, stage_row

CONV1, CONV, POOL, JOIN = "#c6dbef", "#9ecae1", "#fdd0a2", "#c7e9c0"


def box(ax, x, y, text, colour, w=1.9, h=0.6, size=9):
    """A rounded box centred at (x, y)."""
    ax.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h, boxstyle="round,pad=0.03",
                                facecolor=colour, edgecolor="black"))
    ax.text(x, y, text, ha="center", va="center", fontsize=size)


def inception_block():
    paths = [[("1×1 conv, c1", CONV1)],
             [("1×1 conv, c2[0]", CONV1), ("3×3 conv, c2[1]\npadding 1", CONV)],
             [("1×1 conv, c3[0]", CONV1), ("5×5 conv, c3[1]\npadding 2", CONV)],
             [("3×3 max pool\nstride 1, padding 1", POOL), ("1×1 conv, c4", CONV1)]]
    fig, ax = plt.subplots(figsize=(9, 4.6))
    xs = [0, 2.4, 4.8, 7.2]
    centre = sum(xs) / len(xs)
    top, bottom = 3.2, -0.4
    box(ax, centre, top + 0.9, "input (c_in × h × w)", "white", w=3.2)
    for x, path in zip(xs, paths):
        arrow(ax, (centre, top + 0.6), (x, top + 0.3 if len(path) == 2 else 1.9 + 0.3))
        ys = [top, 1.9] if len(path) == 2 else [1.9]
        for y, (text, colour) in zip(ys, path):
            box(ax, x, y, text, colour)
        for y0, y1 in zip(ys, ys[1:]):
            arrow(ax, (x, y0 - 0.3), (x, y1 + 0.3))
        arrow(ax, (x, ys[-1] - 0.3), (centre + 0.35 * (x - centre), bottom + 0.38))
    box(ax, centre, bottom, "concatenate along channels:\nc1 + c2[1] + c3[1] + c4 channels, h × w",
        JOIN, w=4.4, h=0.75)
    ax.text(xs[0] - 1.0, bottom, "every convolution\nis followed by ReLU", fontsize=8,
            color="#444444", ha="left", va="center")
    ax.set_xlim(-1.2, 8.4)
    ax.set_ylim(-1.0, 4.5)
    ax.axis("off")
    save(fig, "12_inception_block.svg")


def googlenet_stages():
    stages = [("input\n1×96×96", "white"),
              ("b1: 7×7 conv, 64\nstride 2\n3×3 max pool", CONV),
              ("b2: 1×1 conv, 64\n3×3 conv, 192\n3×3 max pool", CONV),
              ("b3: 2 Inception\nblocks\n3×3 max pool", JOIN),
              ("b4: 5 Inception\nblocks\n3×3 max pool", JOIN),
              ("b5: 2 Inception\nblocks\nglobal avg pool", JOIN),
              ("dense\n1024 → 10", POOL)]
    sizes = ["", "64×24×24", "192×12×12", "480×6×6", "832×3×3", "1024×1×1", "10"]
    fig, ax = plt.subplots(figsize=(12, 1.9))
    width, gap = 1.75, 0.3
    stage_row(ax, stages, sizes, width, gap)
    ax.text(0, 1.2, "channels × height × width after each stage; every max pool has stride 2",
            fontsize=8, va="bottom")
    ax.axis("off")
    save(fig, "12_googlenet.svg")


if __name__ == "__main__":
    inception_block()
    googlenet_stages()
