"""show_images, show_fashion_mnist and semilogy: what they draw and what they refuse, by name."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

import d2lmini as d2l  # noqa: E402
from d2lmini import plotting  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def drawn(axes) -> list[np.ndarray]:
    """The picture each axes shows, in order; axes left blank are skipped."""
    return [ax.images[0].get_array() for ax in axes if ax.images]


@pytest.mark.parametrize("shape", [(6, 5, 7), (6, 1, 5, 7)])
def test_grey_images_are_drawn_in_a_grid_with_titles(shape):
    imgs = torch.rand(shape)
    axes = d2l.show_images(imgs, 2, 3, titles=list("abcdef"), scale=1.0)
    assert len(axes) == 6
    pictures = drawn(axes)
    assert [p.shape for p in pictures] == [(5, 7)] * 6
    np.testing.assert_allclose(pictures[4], imgs.reshape(6, 5, 7)[4].numpy())
    assert [ax.get_title() for ax in axes] == list("abcdef")
    assert tuple(axes[0].figure.get_size_inches()) == (3.0, 2.0)  # num_cols * scale, num_rows * scale


def test_colour_images_are_drawn_channels_last():
    imgs = torch.rand(2, 3, 4, 5)
    pictures = drawn(d2l.show_images(imgs, 1, 2))
    assert pictures[0].shape == (4, 5, 3)
    np.testing.assert_allclose(pictures[1], imgs[1].permute(1, 2, 0).numpy())


def test_uint8_numpy_and_grad_tensors_are_accepted():
    uint8 = np.full((1, 3, 2, 2), 255, dtype=np.uint8)
    np.testing.assert_allclose(drawn(d2l.show_images(uint8, 1, 1))[0], np.ones((2, 2, 3)))
    needs_grad = torch.rand(2, 4, 4, requires_grad=True)
    assert len(drawn(d2l.show_images(needs_grad, 1, 2))) == 2


def test_more_images_than_places_draws_the_first_ones_and_fewer_leave_blanks():
    imgs = torch.rand(5, 4, 4)
    axes = d2l.show_images(imgs, 1, 3, titles=list("abcde"))
    assert len(drawn(axes)) == 3 and [ax.get_title() for ax in axes] == list("abc")
    axes = d2l.show_images(imgs[:2], 2, 2)
    assert len(axes) == 4 and len(drawn(axes)) == 2


@pytest.mark.parametrize("kwargs, error, message", [
    ({"imgs": [torch.rand(4, 4)]}, TypeError, r"imgs must be a tensor or numpy array.*torch\.stack"),
    ({"imgs": torch.rand(4, 4)}, ValueError, r"imgs must be images of shape \(N, H, W\)"),
    ({"imgs": torch.rand(2, 2, 4, 4)}, ValueError, "imgs must be images of shape"),
    ({"imgs": torch.randint(0, 9, (2, 4, 4))}, TypeError, "imgs must be float or uint8 images"),
    ({"imgs": torch.randn(2, 3, 4, 4) * 3}, ValueError,
     r"imgs must be colour images with values in \[0, 1\].*got values from .*undo the normalisation"),
    ({"titles": ["a"]}, ValueError, r"titles must be one string per image \(2 images\), got 1"),
    ({"titles": "ab"}, TypeError, "titles must be None or a list of strings"),
    ({"titles": torch.tensor([3, 4])}, TypeError, "titles must be.*get_fashion_mnist_labels"),
    ({"titles": ["a", 4]}, TypeError, r"titles\[1\] must be a string, got 4"),
    ({"num_rows": 0}, ValueError, "num_rows must be a positive int"),
    ({"num_cols": 2.0}, TypeError, "num_cols must be a positive int"),
    ({"scale": -1}, ValueError, "scale must be a finite positive number"),
])
def test_show_images_refuses_bad_arguments_by_name(kwargs, error, message):
    args = {"imgs": torch.rand(2, 4, 4), "num_rows": 1, "num_cols": 2, **kwargs}
    with pytest.raises(error, match=message):
        d2l.show_images(**args)


@pytest.mark.parametrize("labels", [torch.tensor([3, 0]), np.array([3, 0]), [3, 0]])
def test_show_fashion_mnist_titles_integer_labels_with_class_names(labels):
    axes = d2l.show_fashion_mnist(torch.rand(2, 1, 28, 28), labels)
    assert [ax.get_title() for ax in axes] == ["dress", "t-shirt"]


def test_show_fashion_mnist_keeps_string_titles_and_checks_the_count():
    axes = d2l.show_fashion_mnist(torch.rand(2, 28, 28), ["dress\nshirt", "bag\nbag"])
    assert [ax.get_title() for ax in axes] == ["dress\nshirt", "bag\nbag"]
    with pytest.raises(ValueError, match=r"labels must be one string per image \(2 images\), got 3"):
        d2l.show_fashion_mnist(torch.rand(2, 28, 28), ["a", "b", "c"])
    with pytest.raises(ValueError, match="labels must be integers in 0..9, got 12"):
        d2l.show_fashion_mnist(torch.rand(1, 28, 28), torch.tensor([12]))


def test_semilogy_takes_one_name_as_a_string():
    ax = d2l.semilogy([1, 2, 3], [1.0, 0.1, 0.01], "epoch", "loss", legend="loss")
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["loss"]
    ax = d2l.semilogy([1, 2], [1.0, 0.1], "x", "y", [1, 2], [2.0, 0.2], legend=["train", "test"])
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["train", "test"]
    assert d2l.semilogy([1, 2], [1.0, 0.1], "x", "y").get_legend() is None


@pytest.mark.parametrize("legend, error, message", [
    (["train", "test"], ValueError, r"legend must be one name per curve \(1 here\)"),
    ([1], TypeError, "legend must be None, a string or a list of strings"),
])
def test_semilogy_refuses_a_legend_that_does_not_fit(legend, error, message):
    with pytest.raises(error, match=message):
        d2l.semilogy([1, 2], [1.0, 0.1], "x", "y", legend=legend)


def test_d2l_plt_is_pyplot_imported_only_on_first_use():
    """The classic package re-exports pyplot; notebooks draw with d2l.plt.plot(...) (issue 18)."""
    import subprocess
    import sys
    code = ("import sys, d2lmini as d2l; before = 'matplotlib.pyplot' in sys.modules; "
            "import matplotlib.pyplot as plt; print(before, d2l.plt is plt)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.stdout.split() == ["False", "True"], out.stderr


# ---- round 2 (issue 18): nothing silently wrong in semilogy and Animator ----

def test_semilogy_with_half_of_the_second_curve_is_refused():
    x = [1, 2, 3]
    with pytest.raises(ValueError, match="y2_vals must be given too, since x2_vals is"):
        d2l.semilogy(x, x, "x", "y", x2_vals=x)
    with pytest.raises(ValueError, match="x2_vals must be given too, since y2_vals is"):
        d2l.semilogy(x, x, "x", "y", y2_vals=x)


class Handle:
    def __init__(self):
        self.updates = 0

    def update(self, fig):
        self.updates += 1


@pytest.fixture
def notebook(monkeypatch):
    """Pretend to be inside Jupyter: the display handle only counts its updates."""
    import IPython.display
    monkeypatch.setattr(plotting, "_in_notebook", lambda: True)
    monkeypatch.setattr(IPython.display, "display", lambda fig, display_id: Handle())


def test_animator_outside_jupyter_says_so():
    with pytest.raises(RuntimeError, match="Animator draws live curves in a Jupyter notebook"):
        d2l.Animator(3)
    assert d2l.Animator.in_notebook(3) is None


def test_animator_takes_one_legend_string_as_one_curve(notebook):
    animator = d2l.Animator(3, legend="loss")
    assert [line.get_label() for line in animator.lines] == ["loss"]
    animator.add(1, 0.5)  # a bare number for the one curve
    animator.add(2, np.float32(float("inf")))  # drawn as a gap, the axes stay finite
    assert animator.ys == [[0.5, float("inf")]] and animator.handle.updates == 2
    assert all(np.isfinite(animator.ax.get_ylim()))


def test_animator_refuses_values_that_do_not_match_its_curves(notebook):
    animator = d2l.Animator(3)
    with pytest.raises(ValueError, match=r"ys must be one value per curve \(3: train loss, train "
                                         r"acc, test acc\), got 2 value"):
        animator.add(1, (0.5, 0.9))
    with pytest.raises(TypeError, match=r"ys\[0\] must be a real number"):
        animator.add(1, ("0.5", 0.9, 0.8))
    with pytest.raises(TypeError, match="num_epochs must be a positive int, got '10'"):
        d2l.Animator("10")
    with pytest.raises(TypeError, match="legend must be a string or a non-empty list"):
        d2l.Animator(3, legend=[1, 2])


def test_class_names_of_one_hot_rows_are_refused():
    y = torch.tensor([3, 7])
    with pytest.raises(ValueError, match=r"labels must be class indices, one per example.*"
                                         r"argmax\(dim=1\)"):
        d2l.get_fashion_mnist_labels(torch.nn.functional.one_hot(y, 10))  # 20 names before
    assert d2l.get_fashion_mnist_labels(y) == ["dress", "sneaker"]
