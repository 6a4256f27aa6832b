"""The training loops' checks of what a learner hands them: the arguments, once per call, and the
first batch of every pass with the net's first output on it (used by `training.py`).

Everything here runs once per call or once per pass, never per batch, so the loops stay as fast
as a bare loop. Each refusal goes through `validate.fail`, in the one voice of the package:
`name must be ..., got ...; what to do`. Where a mistake trains without any error (class scores
that are already probabilities fed to a cross-entropy, a regression loss on class labels), the
check names the mistake; where torch's own error would be unclear (a mis-sized layer, swapped
batches, float64 data), it says what came and what to change.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable

import torch
from torch import nn

from . import validate
from .linear import squared_loss

_REGRESSION_LOSSES = (nn.MSELoss, nn.L1Loss, nn.SmoothL1Loss, nn.HuberLoss)
_BINARY_LOSSES = (nn.BCELoss, nn.BCEWithLogitsLoss)


def net(net: object) -> None:
    """A net is anything callable on X."""
    if not callable(net):
        validate.fail("net", "a callable model (an nn.Module or a function of X)", net,
                      error=TypeError)


def iterable(name: str, data: object) -> None:
    """`data` must be an iterable of (X, y) batches, not one pair and not empty."""
    if isinstance(data, torch.Tensor) or not isinstance(data, Iterable):
        validate.fail(name, "an iterable of (X, y) batches, such as a d2l.load_data_* loader", data,
                      error=TypeError)
    if (isinstance(data, (tuple, list)) and len(data) == 2
            and all(isinstance(t, torch.Tensor) for t in data)):
        validate.fail(name, "an iterable of (X, y) batches", data, error=TypeError,
                      got="a single pair (X, y) of tensors",
                      hint="for one batch wrap it in a list, [(X, y)]; for minibatches use "
                           "d2l.data_iter or d2l.InMemoryLoader")
    if hasattr(data, "__len__") and len(data) == 0:
        validate.fail(name, "an iterable that yields at least one batch", data, hint="it is empty")


def optimizer(optimizer: object, net: object) -> None:
    """An optimizer that steps none of the net's parameters trains nothing: refuse it by name."""
    if not isinstance(optimizer, torch.optim.Optimizer):
        validate.fail("optimizer", "a torch.optim.Optimizer, e.g. torch.optim.SGD(net.parameters(), "
                      "lr=0.1)", optimizer, error=TypeError)
    if isinstance(net, nn.Module):
        own = {id(p) for p in net.parameters()}
        stepped = [p for group in optimizer.param_groups for p in group["params"]]
        if own and not any(id(p) in own for p in stepped):
            validate.fail("optimizer", "built over this net's parameters", optimizer,
                          hint="none of the tensors it steps belongs to net (was it built for "
                               "another net, or before the net was rebuilt?)")


def classification_loss(loss: object) -> None:
    """`train_ch3`'s loss must be a callable classification loss (checked at the call)."""
    if isinstance(loss, type):
        validate.fail("loss", "a loss function or an instance of an nn loss", loss,
                      error=TypeError, got=f"the class {loss.__name__}",
                      hint=f"create one: loss={loss.__name__}()")
    if not callable(loss):
        validate.fail("loss", "a callable loss (e.g. d2l's cross_entropy or nn.CrossEntropyLoss())",
                      loss, error=TypeError)
    expected = "a classification loss (train_ch3 trains a classifier on class labels)"
    hint = "use nn.CrossEntropyLoss() (or a cross-entropy of your own on softmax probabilities)"
    if isinstance(loss, _REGRESSION_LOSSES) or loss is squared_loss:
        name = "d2l.squared_loss" if loss is squared_loss else f"{type(loss).__name__}()"
        validate.fail("loss", expected, loss, got=f"a regression loss, {name}", hint=hint)
    if isinstance(loss, _BINARY_LOSSES):
        validate.fail("loss", expected + " over num_classes scores", loss,
                      got=f"{type(loss).__name__}(), a loss for yes/no (binary or multi-label) "
                          "targets", hint=hint)


def pair(item: object, iter_name: str) -> tuple[torch.Tensor, torch.Tensor]:
    """A batch as its (X, y) pair; anything else is refused by name (cheap: a length check)."""
    if isinstance(item, (tuple, list)) and len(item) == 2:
        return item[0], item[1]
    count = f"{len(item)} items" if isinstance(item, (tuple, list)) else validate.describe(item)
    validate.fail(f"each batch of {iter_name}", "a pair (X, y)", item, error=TypeError, got=count,
                  hint="yield (X, y) only; keep other values out of the batches")


def _looks_swapped(X: object, y: object) -> bool:
    return (isinstance(X, torch.Tensor) and isinstance(y, torch.Tensor) and X.ndim == 1
            and not X.is_floating_point() and y.ndim >= 2)


def first_batch(X: object, y: object, iter_name: str, net: object,
                params: list[torch.Tensor] | None = None) -> None:
    """Refuse, on the first batch of a pass, what would fail obscurely or give silently wrong
    numbers: swapped pairs, integer images, labels shaped (B, 1) (they broadcast against (B,)
    predictions and count B correct answers per example), images whose dtype is not the net's,
    and images that hold NaN or inf. One host sync, once per pass."""
    if not isinstance(X, torch.Tensor) or not isinstance(y, torch.Tensor):
        validate.fail(f"each batch of {iter_name}", "a pair (X, y) of tensors", (X, y), error=TypeError)
    if _looks_swapped(X, y):
        validate.fail(f"each batch of {iter_name}", "a pair (X, y), the images first", (X, y),
                      got=f"X of shape {tuple(X.shape)} ({X.dtype}) and y of shape "
                          f"{tuple(y.shape)} ({y.dtype})",
                      hint="the pair looks swapped (labels first, images second): yield (X, y)")
    if not X.is_floating_point():
        validate.fail(f"the images X of {iter_name}", "a floating-point tensor", X, error=TypeError,
                      hint="scale uint8 images with X.float() / 255 (d2l.load_data_* loaders do)")
    if y.ndim != 1 or y.is_floating_point() or y.dtype == torch.bool:
        validate.fail(f"the labels y of {iter_name}", "a 1-D integer tensor of class indices, shape "
                      "(batch,)", y, hint="flatten (B, 1) labels with y.reshape(-1)"
                      if y.ndim == 2 and y.shape[1] == 1 else "")
    if len(X) != len(y):
        validate.fail(f"the batches of {iter_name}", "pairs with as many images as labels",
                      (X, y), hint=f"got {len(X)} images and {len(y)} labels")
    _dtype(X, net, params, iter_name)
    finite(X, f"the images X of {iter_name}", "batch 1")


def finite(X: torch.Tensor, name: str, where: str) -> None:
    """Refuse images that hold NaN or inf values, counting them."""
    good = torch.isfinite(X)
    if not bool(good.all()):
        nan = int(torch.isnan(X).sum())
        validate.fail(name, "finite numbers", X, got=f"{nan} NaN and {int((~good).sum()) - nan} "
                      f"infinite values in {where}",
                      hint="every loss and gradient computed from them would be NaN; fix the data "
                           "(e.g. drop those images, or torch.nan_to_num)")


def _dtype(X: torch.Tensor, net: object, params: list[torch.Tensor] | None, iter_name: str) -> None:
    """The images must have the floating dtype of the net's weights (e.g. float64 data for a
    float32 net is refused here, not deep inside a matmul)."""
    weights = params if params is not None else (
        list(net.parameters()) if isinstance(net, nn.Module) else [])
    dtype = next((w.dtype for w in weights if w.is_floating_point()), None)
    if dtype is not None and X.dtype != dtype:
        validate.fail(f"the images X of {iter_name}", f"{dtype}, the dtype of the net's weights", X,
                      error=TypeError, hint="convert the data with X.float() (or the net with "
                      "net.float(): float64 only makes training slower)" if dtype == torch.float32
                      else f"convert the data with X.to({dtype}) or the net with net.float()")


def empty(X: torch.Tensor, iter_name: str, batch: int) -> None:
    """An empty batch has no mean loss (it would be NaN); refused by name. A shape test: free."""
    if len(X) == 0:
        validate.fail(f"batch {batch + 1} of {iter_name}", "at least one example", X,
                      hint="the iterable yields an empty batch (a slice past the end of the data?)")


def scores(y_hat: object, y: torch.Tensor) -> None:
    """The net's output on the first batch, before any loss sees it: one row of at least two class
    scores per example."""
    if isinstance(y_hat, (tuple, list)):
        validate.fail("net(X)", f"class scores shaped (batch, num_classes) = ({len(y)}, ...)", y_hat,
                      error=TypeError, got=f"a {type(y_hat).__name__} of {len(y_hat)}",
                      hint="the net returns several values (e.g. auxiliary outputs): return the "
                           "scores alone, or wrap the net so it does")
    if not isinstance(y_hat, torch.Tensor) or y_hat.ndim != 2 or len(y_hat) != len(y):
        hint = "end the net with a layer of num_classes outputs (and flatten first)"
        if isinstance(y_hat, torch.Tensor) and y_hat.ndim == 4 and y_hat.shape[2:] == (1, 1):
            hint = "the scores still have 1 x 1 spatial axes: end the net with nn.Flatten()"
        validate.fail("net(X)", f"class scores shaped (batch, num_classes) = ({len(y)}, ...)", y_hat,
                      hint=hint)
    if y_hat.shape[1] < 2:
        validate.fail("net(X)", "at least two class scores per example", y_hat,
                      hint="with one score the argmax is always class 0; give the last layer "
                           "num_classes outputs")
    if not y_hat.is_floating_point():
        validate.fail("net(X)", "floating-point class scores", y_hat, error=TypeError)


def labels(y: torch.Tensor, y_hat: torch.Tensor, iter_name: str, batch: int) -> None:
    """Labels must be class indices of the net's scores: refused by name, with the batch. Reads the
    labels on the host: called on a pass's first batch, and where the loss refused a batch."""
    num_classes = y_hat.shape[1]
    low, high = int(y.min()), int(y.max())
    if low < 0 or high >= num_classes:
        bad = low if low < 0 else high
        validate.fail(f"the labels y of {iter_name}", f"class indices in 0..{num_classes - 1} "
                      f"(the net gives {num_classes} scores)", y,
                      got=f"label {bad} in batch {batch + 1}",
                      hint="give the net's last layer one output per class, or fix the labels")


def _are_probabilities(y_hat: torch.Tensor) -> bool:
    scores = y_hat.detach().float()
    return bool((scores >= 0).all()) and torch.allclose(scores.sum(dim=1),
                                                         torch.ones(len(scores)), atol=1e-3)


def loss_inputs(loss: Callable, y_hat: torch.Tensor) -> None:
    """On the first batch: the net's scores must be what `loss` takes. `nn.NLLLoss` wants
    log-probabilities (on raw scores it reports a loss that can be negative and trains nothing
    sensible); `nn.CrossEntropyLoss` wants raw scores (on probabilities, a net ending in a softmax,
    it applies a second softmax and the net barely learns)."""
    if isinstance(loss, nn.NLLLoss):
        total = torch.logsumexp(y_hat.detach().float(), dim=1)
        if not torch.allclose(total, torch.zeros_like(total), atol=1e-3):
            validate.fail("loss", "a loss that takes raw class scores", loss,
                          got="nn.NLLLoss() on scores that are not log-probabilities",
                          hint="use nn.CrossEntropyLoss() (it applies log-softmax itself), or end "
                               "the net with nn.LogSoftmax(dim=1)")
    if (isinstance(loss, nn.CrossEntropyLoss) or loss is nn.functional.cross_entropy) and \
            _are_probabilities(y_hat):
        validate.fail("net(X)", "raw class scores (logits) for nn.CrossEntropyLoss", y_hat,
                      got="rows that are already probabilities (non-negative, each summing to 1)",
                      hint="the net ends in a softmax and the cross-entropy applies another, so "
                           "it barely learns: drop the final nn.Softmax (train_ch5 always uses "
                           "nn.CrossEntropyLoss)")


def first_loss(loss: Callable, y_hat: torch.Tensor, value: torch.Tensor) -> None:
    """On the first batch, before any step: a loss that is not finite there comes from the loss
    and the scores, not from training. A cross-entropy written for probabilities
    (-log of the true class's entry) fed raw scores takes the log of negative numbers."""
    if bool(torch.isfinite(value)):
        return
    raw = not _are_probabilities(y_hat)
    validate.fail("loss(y_hat, y)", "a finite number on the first batch, before any training",
                  value, got=f"{float(value.detach())}",
                  hint="net(X) gives raw scores (not rows of probabilities), and a cross-entropy "
                       "written for probabilities takes the log of the true class's entry, which "
                       "is NaN for a negative score: apply softmax to net(X) first, or use "
                       "nn.CrossEntropyLoss(), which takes raw scores" if raw else
                       "the loss is NaN or infinite before any step: a probability of exactly 0 "
                       "under a log? Look at the loss function")


def far_above_chance(mean_loss: float, accuracy: float, num_classes: int) -> bool:
    """An epoch whose mean loss is far above ln(num_classes), what a net scoring every class the
    same gets, while its accuracy is at chance, has diverged though no loss was NaN."""
    return mean_loss > 4 * math.log(num_classes) and accuracy <= 1.5 / num_classes


class _LayerWatch:
    """Forward hooks on every submodule, for one forward pass: the innermost one running when
    the forward raised, with its input's shape."""

    def __init__(self, net: nn.Module):
        self.stack: list[tuple[str, nn.Module, tuple[int, ...] | None]] = []
        self.failed: tuple[str, nn.Module, tuple[int, ...] | None] | None = None
        self.handles = []
        for name, module in net.named_modules():
            if module is net:
                continue
            self.handles.append(module.register_forward_pre_hook(self._enter(name)))
            self.handles.append(module.register_forward_hook(self._leave))

    def _enter(self, name: str):
        def hook(module, inputs):
            first = next((t for t in inputs if isinstance(t, torch.Tensor)), None)
            self.stack.append((name, module, tuple(first.shape) if first is not None else None))
        return hook

    def _leave(self, module, inputs, output):
        self.stack.pop()

    def close(self) -> None:
        if self.stack and self.failed is None:
            self.failed = self.stack[-1]
        for handle in self.handles:
            handle.remove()


def _layer_hint(module: nn.Module, shape: tuple[int, ...] | None) -> str:
    if shape is None:
        return ""
    if isinstance(module, nn.Linear) and shape[-1] != module.in_features:
        return (f"it takes {module.in_features} features per example and got {shape[-1]}: set "
                f"in_features={shape[-1]}, or change the layers before it")
    if isinstance(module, nn.Conv2d) and len(shape) >= 3 and shape[-3] != module.in_channels:
        return (f"it takes {module.in_channels} input channels and got {shape[-3]}: set "
                f"in_channels={shape[-3]}, or change the layer before it")
    return ""


def named_forward(net: Callable, call: Callable[[], torch.Tensor]) -> torch.Tensor:
    """Run `call()` (the net's forward on the first batch); if a layer raises, the error names
    the layer, its input shape and, for a mis-sized Linear or Conv2d, the size to give it. Hooks
    only for this one call."""
    if not isinstance(net, nn.Module):
        return call()
    watch = _LayerWatch(net)
    try:
        return call()
    except RuntimeError as err:
        watch.close()
        if watch.failed is None:
            raise
        name, module, shape = watch.failed
        hint = _layer_hint(module, shape)
        raise RuntimeError(
            f"net(X) failed in layer {name} ({module!r}) on an input of shape {shape}: {err}"
            + (f"; {hint}" if hint else "")
            + "; d2l.layer_shapes(net, X) prints every layer's output shape") from err
    finally:
        watch.close()
