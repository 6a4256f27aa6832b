"""Plotting conveniences built on matplotlib; matplotlib is imported only when a plot is drawn."""

from __future__ import annotations

from collections.abc import Sequence

import torch


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
             legend: Sequence[str] | None = None, figsize: tuple[float, float] = (3.5, 2.5)):
    """Plot one or two curves with a logarithmic y axis; returns the axes
    (04_model_selection)."""
    import matplotlib.pyplot as plt
    set_figsize(figsize)
    fig, ax = plt.subplots()
    ax.semilogy(x_vals, y_vals)
    if x2_vals is not None and y2_vals is not None:
        ax.semilogy(x2_vals, y2_vals, linestyle=":")
    ax.set_xlabel(x_label)
    ax.set_ylabel(y_label)
    if legend:
        ax.legend(legend)
    return ax


def show_fashion_mnist(images: torch.Tensor, labels: Sequence[str]):
    """Draw images (N, 28, 28) or (N, 1, H, W) in one row, each titled by its label; returns the
    axes (02_softmax_regression)."""
    import matplotlib.pyplot as plt
    if len(images) != len(labels):
        raise ValueError(f"images and labels differ in length: {len(images)} vs {len(labels)}")
    use_svg_display()
    fig, axes = plt.subplots(1, len(images), figsize=(1.2 * len(images), 1.6), squeeze=False)
    for ax, img, label in zip(axes[0], images, labels):
        ax.imshow(img.detach().cpu().reshape(img.shape[-2:]).numpy(), cmap="gray_r")
        ax.set_title(label, fontsize=8)
        ax.axis("off")
    return axes[0]


class Animator:
    """Training curves redrawn in place after every epoch, inside Jupyter (02_softmax_regression).

    The axes, their labels and the legend are drawn at once, before the first epoch ends; the
    legend sits outside the axes, so it neither moves nor hides a curve.
    `Animator.in_notebook(num_epochs)` returns None outside Jupyter, so scripts only print."""

    def __init__(self, num_epochs: int, legend: Sequence[str] = ("train loss", "train acc", "test acc")):
        import matplotlib.pyplot as plt
        from IPython.display import display
        use_svg_display()
        self.xs: list[float] = []
        self.ys: list[list[float]] = [[] for _ in legend]
        self.fig, self.ax = plt.subplots(figsize=(4.8, 2.5), layout="constrained")
        self.lines = [self.ax.plot([], [], marker="o", markersize=3, label=name)[0] for name in legend]
        self.ax.set_xlabel("epoch")
        self.ax.set_xlim(0.5, max(num_epochs, 1) + 0.5)
        self.ax.set_ylim(0, 1)
        self.ax.grid(True)
        self.ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1), borderaxespad=0, fontsize=8)
        plt.close(self.fig)  # shown through the display handle only, not again at cell end
        self.handle = display(self.fig, display_id=True)

    @classmethod
    def in_notebook(cls, num_epochs: int) -> Animator | None:
        return cls(num_epochs) if _in_notebook() else None

    def add(self, x: float, ys: Sequence[float]) -> None:
        self.xs.append(x)
        for line, series, y in zip(self.lines, self.ys, ys):
            series.append(y)
            line.set_data(self.xs, series)
        top = max(max(series) for series in self.ys if series)
        self.ax.set_ylim(0, max(1.0, 1.05 * top))  # accuracies fit in [0, 1]; a loss may need more
        self.handle.update(self.fig)
