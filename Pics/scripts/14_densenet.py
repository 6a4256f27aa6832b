"""Figures of notebooks/14_densenet: a dense block (every layer reads the concatenation of all
earlier outputs) followed by a transition layer, and DenseNet's stages for 96×96 Fashion-MNIST.
Run `python Pics/make_figures.py 14`."""

import matplotlib.pyplot as plt
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

from diagram import save, stage_row

LAYER, TRANS, DATA, HEAD = "#9ecae1", "#fdd0a2", "#f0f0f0", "#c7e9c0"
COLOURS = ["#636363", "#3182bd", "#e6550d", "#31a354", "#756bb1"]


def box(ax, x, y, w, h, text, colour, size=9):
    ax.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h, boxstyle="round,pad=0.03",
                                facecolor=colour, edgecolor="black"))
    ax.text(x, y, text, ha="center", va="center", fontsize=size)


def dense_block():
    """Input, four BN-ReLU-conv layers, the transition; arcs show which outputs each layer reads;
    a stacked bar under each step shows the channels it reads."""
    fig, ax = plt.subplots(figsize=(11, 4.4))
    xs = [0, 2, 4, 6, 8]
    names = ["input:\nc₀\nchannels", "BN, ReLU,\n3×3 conv\n→ k", "BN, ReLU,\n3×3 conv\n→ k",
             "BN, ReLU,\n3×3 conv\n→ k", "BN, ReLU,\n3×3 conv\n→ k"]
    for i, (x, name) in enumerate(zip(xs, names)):
        box(ax, x, 0, 1.45, 1.15, name, DATA if i == 0 else LAYER)
    # Each output (coloured like its producer) feeds every later layer and the transition.
    targets = xs[1:] + [10.3]
    for i, x in enumerate(xs):
        for t in targets:
            if t <= x:
                continue
            ax.add_patch(FancyArrowPatch((x + 0.3, 0.575), (t - 0.3, 0.575),
                                         connectionstyle=f"arc3,rad={-0.35 + 0.02 * i}",
                                         arrowstyle="->", mutation_scale=9, lw=1.0,
                                         color=COLOURS[i]))
    box(ax, 10.3, 0, 1.9, 1.45, "transition:\nBN, ReLU,\n1×1 conv to\nfewer channels,\n2×2 avg pool", TRANS,
        size=8)
    # Channels each layer reads: a stacked bar of c0 and then k per earlier layer.
    for j, t in enumerate(targets):
        y = -0.95
        for i in range(j + 1):
            height = 0.45 if i == 0 else 0.2
            ax.add_patch(FancyBboxPatch((t - 0.18, y - height), 0.36, height,
                                        boxstyle="square,pad=0", facecolor=COLOURS[i],
                                        edgecolor="white"))
            y -= height
        label = "c₀" if j == 0 else f"c₀ + {j}k" if j > 1 else "c₀ + k"
        ax.text(t, y - 0.12, f"reads\n{label}", ha="center", va="top", fontsize=8)
    ax.text(-0.7, 2.6, "a dense block of L = 4 layers with growth rate k: every layer's output is "
            "concatenated to its input,\nso layer l reads c₀ + (l−1)k channels, and the block "
            "outputs c₀ + Lk = c₀ + 4k",
            fontsize=9, va="center", ha="left")
    ax.set_xlim(-1.0, 11.5)
    ax.set_ylim(-3.25, 3.1)
    ax.set_aspect("equal")
    ax.axis("off")
    save(fig, "14_dense_block.svg")


def densenet_stages():
    stages = [("input\n1×96×96", "white"),
              ("7×7 conv, 64\nstride 2\nBN, ReLU\n3×3 max pool", LAYER),
              ("dense block\n4 layers\nk = 32", DATA), ("transition\n→ 96\nchannels", TRANS),
              ("dense block\n4 layers\nk = 32", DATA), ("transition\n→ 112\nchannels", TRANS),
              ("dense block\n4 layers\nk = 32", DATA), ("transition\n→ 120\nchannels", TRANS),
              ("dense block\n4 layers\nk = 32", DATA),
              ("BN, ReLU\nglobal\naverage pool", HEAD), ("dense\n248 → 10", HEAD)]
    sizes = ["", "64×24×24", "192×24×24", "96×12×12", "224×12×12", "112×6×6", "240×6×6",
             "120×3×3", "248×3×3", "248×1×1", "10"]
    fig, ax = plt.subplots(figsize=(14, 1.9))
    width, gap = 1.45, 0.25
    stage_row(ax, stages, sizes, width, gap, fontsize=7.5)
    ax.text(0, 1.2, "channels × height × width after each step: every dense block adds "
            "4 × 32 = 128 channels, every transition halves channels, height and width",
            fontsize=8, va="bottom")
    ax.axis("off")
    save(fig, "14_densenet.svg")


if __name__ == "__main__":
    dense_block()
    densenet_stages()
