"""Figures of notebooks/13_resnet: the residual block with an identity shortcut, with a 1×1
projection shortcut, and the bottleneck block of ResNet-50/152. Run
`python Pics/make_figures.py 13`."""

import matplotlib.pyplot as plt
from matplotlib.patches import Circle, FancyBboxPatch

import diagram
from diagram import save, stage_row

CONV, NORM, ACT, SKIP = "#9ecae1", "#fdd0a2", "#c7e9c0", "#dadaeb"
BOX_W, BOX_H, STEP = 3.4, 0.55, 0.85
SKIP_W, SKIP_H = 2.1, 1.3  # the projection's box on the shortcut: three lines of text


def box(ax, x, y, text, colour):
    """A rounded box centred at (x, y)."""
    ax.add_patch(FancyBboxPatch((x - BOX_W / 2, y - BOX_H / 2), BOX_W, BOX_H,
                                boxstyle="round,pad=0.03", facecolor=colour, edgecolor="black"))
    ax.text(x, y, text, ha="center", va="center", fontsize=9)


def arrow(ax, start, end):
    diagram.arrow(ax, start, end, lw=1.2)


def block(ax, title, layers, shortcut=None):
    """Draw the main branch `layers` (text, colour) top to bottom, a skip connection on the right
    (with an optional box on it), the addition and the final ReLU."""
    x, top = 0.0, 0.0
    ax.text(x, top + 0.55, "input x", ha="center", va="bottom", fontsize=10)
    y = top
    previous = (x, top + 0.5)
    for text, colour in layers:
        y -= STEP
        arrow(ax, previous, (x, y + BOX_H / 2))
        box(ax, x, y, text, colour)
        previous = (x, y - BOX_H / 2)
    y_add = y - STEP
    arrow(ax, previous, (x, y_add + 0.2))
    ax.add_patch(Circle((x, y_add), 0.2, facecolor="white", edgecolor="black"))
    ax.text(x, y_add, "+", ha="center", va="center", fontsize=13)
    # The skip path: right from the input, down the side, back into the addition.
    side = x + BOX_W / 2 + 0.3 + SKIP_W / 2
    ax.plot([x, side], [top + 0.35, top + 0.35], color="black", lw=1.2)
    if shortcut is None:
        ax.plot([side, side], [top + 0.35, y_add], color="black", lw=1.2)
        ax.text(side + 0.12, (top + y_add) / 2, "identity", rotation=90, va="center", fontsize=9)
    else:
        mid = (top + y_add) / 2
        ax.plot([side, side], [top + 0.35, mid + SKIP_H / 2], color="black", lw=1.2)
        ax.add_patch(FancyBboxPatch((side - SKIP_W / 2, mid - SKIP_H / 2), SKIP_W, SKIP_H,
                                    boxstyle="round,pad=0.03", facecolor=SKIP, edgecolor="black"))
        ax.text(side, mid, shortcut, ha="center", va="center", fontsize=8)
        ax.plot([side, side], [mid - SKIP_H / 2, y_add], color="black", lw=1.2)
    arrow(ax, (side, y_add), (x + 0.2, y_add))
    y_relu = y_add - STEP
    arrow(ax, (x, y_add - 0.2), (x, y_relu + BOX_H / 2))
    box(ax, x, y_relu, "ReLU", ACT)
    arrow(ax, (x, y_relu - BOX_H / 2), (x, y_relu - 0.75))
    ax.text(x, y_relu - 0.8, "output", ha="center", va="top", fontsize=10)
    ax.set_title(title, fontsize=11)
    ax.set_xlim(-BOX_W / 2 - 0.2, side + SKIP_W / 2 + 0.2)
    ax.set_ylim(y_relu - 1.2, top + 1.0)
    ax.set_aspect("equal")
    ax.axis("off")


def residual_blocks():
    basic = [("3×3 conv, c", CONV), ("batch norm", NORM), ("ReLU", ACT),
             ("3×3 conv, c", CONV), ("batch norm", NORM)]
    strided = [("3×3 conv, c, stride s", CONV), ("batch norm", NORM), ("ReLU", ACT),
               ("3×3 conv, c", CONV), ("batch norm", NORM)]
    bottleneck = [("1×1 conv, c", CONV), ("batch norm", NORM), ("ReLU", ACT),
                  ("3×3 conv, c, stride s", CONV), ("batch norm", NORM), ("ReLU", ACT),
                  ("1×1 conv, 4c", CONV), ("batch norm", NORM)]
    fig, axes = plt.subplots(1, 3, figsize=(12, 6.2), gridspec_kw={"width_ratios": [1, 1, 1]})
    block(axes[0], "identity shortcut", basic)
    block(axes[1], "1×1 projection shortcut", strided, shortcut="1×1 conv,\nstride s,\nbatch norm")
    block(axes[2], "bottleneck (expansion 4)", bottleneck, shortcut="1×1 conv, 4c,\nstride s,\nbatch norm")
    save(fig, "13_residual_blocks.svg")


def resnet18_stages():
    """ResNet-18 for 96×96 Fashion-MNIST: the stem, four stages of two blocks, the head."""
    stages = [("input\n1×96×96", "white"),
              ("7×7 conv, 64\nstride 2\nBN, ReLU", CONV), ("3×3\nmax pool\nstride 2", NORM),
              ("stage 1:\n2 residual\nblocks, 64", SKIP),
              ("stage 2:\n2 residual\nblocks, 128", SKIP),
              ("stage 3:\n2 residual\nblocks, 256", SKIP),
              ("stage 4:\n2 residual\nblocks, 512", SKIP),
              ("global\naverage pool", NORM), ("dense\n512 → 10", ACT)]
    sizes = ["", "64×48×48", "64×24×24", "64×24×24", "128×12×12", "256×6×6", "512×3×3",
             "512×1×1", "10"]
    fig, ax = plt.subplots(figsize=(12, 2.0))
    width, gap = 1.45, 0.3
    stage_row(ax, stages, sizes, width, gap, arrow_lw=1.2)
    ax.text(0, 1.25, "stages 2–4 open with a stride-2 block and a 1×1 projection shortcut; "
            "the sizes below are channels × height × width", fontsize=8, va="bottom")
    ax.axis("off")
    save(fig, "13_resnet18.svg")


if __name__ == "__main__":
    residual_blocks()
    resnet18_stages()
