"""Plotting conveniences built on matplotlib; matplotlib is imported only when a plot is drawn."""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch

from . import validate
from .data import get_fashion_mnist_labels


def _in_notebook() -> bool:
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and type(shell).__name__ == "ZMQInteractiveShell"


def use_svg_display() -> None:
    """Show inline figures as SVG, sharp at any zoom (01_linear_regression)."""
    if _in_notebook():
        from matplotlib_inline.backend_inline import set_matplotlib_formats
        set_matplotlib_formats("svg")


def set_figsize(figsize: tuple[float, float] = (3.5, 2.5)) -> None:
    """SVG display and a default figure size in inches (01_linear_regression)."""
    import matplotlib.pyplot as plt
    use_svg_display()
    plt.rcParams["figure.figsize"] = figsize


def semilogy(x_vals, y_vals, x_label: str, y_label: str, x2_vals=None, y2_vals=None,
             legend: str | Sequence[str] | None = None, figsize: tuple[float, float] = (3.5, 2.5)):
    """Plot one or two curves with a logarithmic y axis; returns the axes. `legend` names the
    curves, one name each; a single string is the name of a single curve (04_model_selection)."""
    import matplotlib.pyplot as plt
    if (x2_vals is None) != (y2_vals is None):
        given, missing = ("x2_vals", "y2_vals") if y2_vals is None else ("y2_vals", "x2_vals")
        validate.fail(missing, f"given too, since {given} is (the second curve needs both)", None)
    curves = 2 if x2_vals is not None else 1
    if isinstance(legend, str):
        legend = [legend]
    if legend is not None:
        if not isinstance(legend, Sequence) or any(not isinstance(n, str) for n in legend):
            validate.fail("legend", "None, a string or a list of strings", legend, error=TypeError)
        if legend and len(legend) != curves:
            validate.fail("legend", f"one name per curve ({curves} here)", list(legend))
    set_figsize(figsize)
    fig, ax = plt.subplots()
    ax.semilogy(x_vals, y_vals)
    if curves == 2:
        ax.semilogy(x2_vals, y2_vals, linestyle=":")
    ax.set_xlabel(x_label)
    ax.set_ylabel(y_label)
    if legend:
        ax.legend(list(legend))
    return ax


def _pictures(imgs: object) -> list:
    """`imgs` as a list of numpy pictures matplotlib can draw: (H, W) floats for one channel,
    (H, W, 3) floats in [0, 1] for three."""
    shapes = "(N, H, W), (N, 1, H, W) or (N, 3, H, W)"
    if isinstance(imgs, torch.Tensor):
        imgs = imgs.detach().cpu()
        if imgs.dtype == torch.bfloat16 or imgs.dtype == torch.float16:
            imgs = imgs.float()
        imgs = imgs.numpy()
    elif type(imgs).__module__ != "numpy" or not hasattr(imgs, "shape"):
        validate.fail("imgs", f"a tensor or numpy array of images {shapes}", imgs,
                      hint="stack a list of images with torch.stack(...)"
                      if isinstance(imgs, (list, tuple)) else "", error=TypeError)
    if imgs.ndim not in (3, 4) or imgs.ndim == 4 and imgs.shape[1] not in (1, 3):
        validate.fail("imgs", f"images of shape {shapes}", imgs)
    kind = imgs.dtype.kind
    if kind not in "fub" or kind == "u" and imgs.dtype.itemsize != 1:
        validate.fail("imgs", "float or uint8 images", imgs, error=TypeError)
    pictures = imgs.astype("float32") / (255 if kind == "u" else 1)
    if pictures.ndim == 4 and pictures.shape[1] == 1:
        pictures = pictures[:, 0]
    if pictures.ndim == 4:  # colour: matplotlib wants (H, W, 3) with values in [0, 1]
        low, high = (float(pictures.min()), float(pictures.max())) if pictures.size else (0, 0)
        if low < -1e-6 or high > 1 + 1e-6:
            validate.fail("imgs", "colour images with values in [0, 1] (or uint8)", imgs,
                          got=f"values from {low:.3g} to {high:.3g}",
                          hint="undo the normalisation first: X * std + mean")
        pictures = pictures.clip(0, 1).transpose(0, 2, 3, 1)
    return list(pictures)


def _titles(titles: object, count: int, name: str = "titles") -> list[str] | None:
    if titles is None:
        return None
    if isinstance(titles, str) or not isinstance(titles, Sequence):
        validate.fail(name, "None or a list of strings, one per image", titles,
                      hint="for class names use d2l.get_fashion_mnist_labels(labels)"
                      if isinstance(titles, torch.Tensor) else "", error=TypeError)
    if len(titles) != count:
        validate.fail(name, f"one string per image ({count} images)", titles, got=f"{len(titles)}")
    for i, title in enumerate(titles):
        if not isinstance(title, str):
            validate.fail(f"{name}[{i}]", "a string", title, error=TypeError)
    return list(titles)


def _draw(pictures: list, num_rows: int, num_cols: int, titles: list[str] | None,
          figsize: tuple[float, float]):
    import matplotlib.pyplot as plt
    use_svg_display()
    _, axes = plt.subplots(num_rows, num_cols, figsize=figsize, squeeze=False)
    axes = axes.flatten()
    for i, ax in enumerate(axes):
        ax.axis("off")
        if i < len(pictures):
            ax.imshow(pictures[i], cmap="gray_r" if pictures[i].ndim == 2 else None)
            if titles is not None:
                ax.set_title(titles[i], fontsize=8)
    return axes


def show_images(imgs, num_rows: int, num_cols: int, titles: Sequence[str] | None = None,
                scale: float = 1.5):
    """Draw images in a `num_rows` x `num_cols` grid, each `scale` inches wide; returns the axes,
    flattened row by row (the grid behind 02_softmax_regression's `show_fashion_mnist`).

    `imgs` is a tensor (on any device) or numpy array of shape (N, H, W) or (N, 1, H, W), drawn
    in grey, or (N, 3, H, W), drawn in colour; floats (colour ones within [0, 1]) or uint8.
    `titles`, if given, holds one string per image. Only the first `num_rows * num_cols` images
    are drawn, as in the classic helper; fewer leave blank places."""
    validate.positive_int("num_rows", num_rows)
    validate.positive_int("num_cols", num_cols)
    validate.positive_number("scale", scale)
    pictures = _pictures(imgs)
    titles = _titles(titles, len(pictures))
    places = num_rows * num_cols
    return _draw(pictures[:places], num_rows, num_cols, titles and titles[:places],
                 (num_cols * scale, num_rows * scale))


def show_fashion_mnist(images: torch.Tensor, labels: Sequence[str] | Sequence[int] | torch.Tensor):
    """Draw images (N, 28, 28) or (N, 1, H, W) in one row, each titled by its label; returns the
    axes (02_softmax_regression). `labels` are titles (strings) or Fashion-MNIST class indices
    (ints, or an integer tensor), which are drawn as their class names."""
    if isinstance(labels, torch.Tensor) or type(labels).__module__ == "numpy" or (
            isinstance(labels, Sequence) and not isinstance(labels, str)
            and any(not isinstance(label, str) for label in labels)):
        labels = get_fashion_mnist_labels(labels)
    pictures = _pictures(images)
    titles = _titles(labels, len(pictures), name="labels")
    return _draw(pictures, 1, len(pictures), titles, (1.2 * len(pictures), 1.6))


class Animator:
    """Training curves redrawn in place after every epoch, inside Jupyter (02_softmax_regression).

    The axes, their labels and the legend are drawn at once, before the first epoch ends; the
    legend sits outside the axes, so it neither moves nor hides a curve. `legend` names the
    curves, one string each (a single string is one curve); `add(x, ys)` takes one value per
    curve (a bare number when there is one curve), or None for a curve with no point at x (the
    training loops add the running training loss and accuracy at fractions of an epoch, the test
    accuracy once per epoch); an infinite or NaN value is left out of the drawing. Outside Jupyter there is nothing to draw on: the constructor says so, and
    `Animator.in_notebook(num_epochs)` returns None there, so scripts only print."""

    def __init__(self, num_epochs: int, legend: str | Sequence[str] = ("train loss", "train acc",
                                                                       "test acc")):
        num_epochs = validate.positive_int("num_epochs", num_epochs)
        if isinstance(legend, str):
            legend = [legend]
        if (not isinstance(legend, Sequence) or not legend
                or any(not isinstance(name, str) for name in legend)):
            validate.fail("legend", "a string or a non-empty list of strings, one per curve", legend,
                          error=TypeError)
        if not _in_notebook():
            raise RuntimeError("Animator draws live curves in a Jupyter notebook, and this is not "
                               "one (no notebook kernel); print the values instead, or use "
                               "Animator.in_notebook(num_epochs), which returns None here")
        import matplotlib.pyplot as plt
        from IPython.display import display
        use_svg_display()
        self.xs: list[list[float]] = [[] for _ in legend]  # each curve's own points
        self.ys: list[list[float]] = [[] for _ in legend]
        self.fig, self.ax = plt.subplots(figsize=(4.8, 2.5), layout="constrained")
        self.lines = [self.ax.plot([], [], marker="o", markersize=3, label=name)[0] for name in legend]
        self.ax.set_xlabel("epoch")
        self.ax.set_xlim(0, num_epochs + 0.2)
        self.ax.set_ylim(0, 1)
        self.ax.grid(True)
        self.ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1), borderaxespad=0, fontsize=8)
        plt.close(self.fig)  # shown through the display handle only, not again at cell end
        self.handle = display(self.fig, display_id=True)

    @classmethod
    def in_notebook(cls, num_epochs: int) -> Animator | None:
        return cls(num_epochs) if _in_notebook() else None

    def add(self, x: float, ys: float | Sequence[float]) -> None:
        x = validate.finite_number("x", x)
        if not isinstance(ys, (Sequence, torch.Tensor)) or isinstance(ys, str):
            ys = [ys]
        ys = [None if y is None else validate.real_number(f"ys[{i}]", y) for i, y in enumerate(ys)]
        if len(ys) != len(self.lines):
            validate.fail("ys", f"one value per curve ({len(self.lines)}: "
                          f"{', '.join(line.get_label() for line in self.lines)})", ys,
                          got=f"{len(ys)} value(s)")
        for line, xs, series, y in zip(self.lines, self.xs, self.ys, ys):
            if y is not None:
                xs.append(x)
                series.append(y)
                line.set_data(xs, series)  # matplotlib leaves a gap at a NaN or infinite value
        finite = [y for series in self.ys for y in series if math.isfinite(y)]
        top = max(finite, default=1.0)
        self.ax.set_ylim(0, max(1.0, 1.05 * top))  # accuracies fit in [0, 1]; a loss may need more
        self.handle.update(self.fig)
