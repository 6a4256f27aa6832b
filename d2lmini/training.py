"""Training loops: accuracy, the softmax/MLP loop (`train_ch3`) and the CNN loop (`train_ch5`).

Both loops keep their running sums on the device and read them once per epoch, so a GPU is
never stalled by a per-batch `.item()`. A non-finite loss is tracked the same way and reported,
with its epoch and batch, at the end of the epoch in which it appeared. Arguments are checked
once per call and the first batch once per pass (shapes and dtypes only, no device sync). Ctrl-C,
or Jupyter's stop button, ends training between batches and returns the finished epochs.

Two concerns live in modules of their own and are called from the one shared epoch loop `_fit`:
the precision (`precision.py`: bf16 autocast and channels-last where the hardware has native
bf16) and checkpoints (`checkpoint.py`: save after every epoch, resume from the file).
"""

from __future__ import annotations

import copy
import inspect
import math
import os
import time
import warnings
from collections.abc import Callable, Iterable

import torch
from torch import nn

from . import precision as precisions
from . import validate
from .checkpoint import Checkpoint
from .device import get_device
from .linear import sgd
from .plotting import Animator
from .profile import cap_epochs, current_profile, plural
from .progress import RunProgress


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite during training (02_softmax_regression)."""


class History(dict):
    """What `train_ch3`/`train_ch5` return: a dict of per-epoch lists (`train_loss`, `train_acc`,
    `test_acc`, `seconds`) of the finished epochs, plus `epochs_planned` (the epochs the run was
    to have, after the profile's cap), `steps` (the optimizer steps really taken, those of an
    interrupted epoch included) and `interrupted` (True after Ctrl-C or Jupyter's stop button)
    (02_softmax_regression)."""

    def __init__(self, epochs_planned: int) -> None:
        super().__init__(train_loss=[], train_acc=[], test_acc=[], seconds=[])
        self.epochs_planned = epochs_planned
        self.steps = 0
        self.interrupted = False

    @property
    def epochs_done(self) -> int:
        return len(self["test_acc"])

    def __repr__(self) -> str:  # one line, so a cell ending in train_ch5(...) shows no wall of lists
        last = f", last test acc {self['test_acc'][-1]:.3f}" if self["test_acc"] else ""
        stopped = ", interrupted" if self.interrupted else ""
        return (f"History({self.epochs_done} of {self.epochs_planned} epochs{last}{stopped}; "
                f"keys {list(self)}, dict(history) shows the lists)")


class Timer:
    """Wall-clock stopwatch that records each lap (02_softmax_regression)."""

    def __init__(self) -> None:
        self.times: list[float] = []
        self.start()

    def start(self) -> None:
        self._t0 = time.perf_counter()

    def stop(self) -> float:
        self.times.append(time.perf_counter() - self._t0)
        return self.times[-1]


def _moved(data_iter: Iterable, device: torch.device) -> Iterable:
    """d2lmini's loaders make their batches on `device` directly; others are moved per batch."""
    mover = getattr(data_iter, "to", None)
    return mover(device) if callable(mover) else data_iter


def _net_device(net) -> torch.device:
    if isinstance(net, nn.Module):
        for tensor in net.parameters():
            return tensor.device
        for tensor in net.buffers():
            return tensor.device
    return torch.device("cpu")


def _correct(y_hat: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return (y_hat.argmax(dim=1) == y).sum()


def _check_batch(X: object, y: object, iter_name: str) -> None:
    """Refuse, on the first batch of a pass, what would give silently wrong numbers: labels shaped
    (B, 1) broadcast against (B,) predictions and count B correct answers per example."""
    if not isinstance(X, torch.Tensor) or not isinstance(y, torch.Tensor):
        validate.fail(f"each batch of {iter_name}", "a pair (X, y) of tensors", (X, y), error=TypeError)
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


def _pair(item: object, iter_name: str) -> tuple[torch.Tensor, torch.Tensor]:
    """A batch as its (X, y) pair; anything else is refused by name (cheap: a length check)."""
    if isinstance(item, (tuple, list)) and len(item) == 2:
        return item[0], item[1]
    count = f"{len(item)} items" if isinstance(item, (tuple, list)) else validate.describe(item)
    validate.fail(f"each batch of {iter_name}", "a pair (X, y)", item, error=TypeError, got=count,
                  hint="yield (X, y) only; keep other values out of the batches")


def _check_scores(y_hat: object, y: torch.Tensor) -> None:
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


def _check_labels(y: torch.Tensor, y_hat: torch.Tensor, iter_name: str, batch: int) -> None:
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


def evaluate_accuracy(data_iter: Iterable, net: Callable,
                      device: torch.device | str | None = None, *,
                      precision: str | None = None) -> float:
    """Fraction of correct predictions over `data_iter`, in eval mode and without gradients; the
    net's train/eval mode is restored afterwards. `device` defaults to the net's. `precision`
    (keyword only) is chosen as in `train_ch5`, so the result agrees with the loop's own test
    accuracy. A function-style net with an `is_training` parameter (the classic scratch dropout
    net) is called with `is_training=False`, as the classic helper did (02_softmax_regression)."""
    _check_net(net)
    _check_iterable("data_iter", data_iter)
    device = _net_device(net) if device is None else get_device(device)
    return _accuracy(data_iter, net, device, "data_iter", precisions.choose(precision, device, net))


def batch_loss(net: nn.Module, X: torch.Tensor, y: torch.Tensor, *, train_mode: bool = False
               ) -> float:
    """Mean cross-entropy of `net` on one batch `(X, y)`, without gradients, computed where the
    net is; the net (mode, weights, batch-norm statistics) and the random state are left as they
    were, so a training run started afterwards is the same as without the call. By default in eval
    mode (dropout off, batch norm on its running statistics: the kept batch of
    04_model_selection); `train_mode=True` runs a copy of the net in training mode, so batch norm
    normalises with the batch's own statistics and the net's running statistics stay untouched
    (07_batch_norm)."""
    validate.module("net", net)
    validate.tensor("X", X, floating=True)
    validate.integer_tensor("y", y, ndim=1)
    validate.boolean("train_mode", train_mode)
    if len(X) != len(y):
        validate.fail("y", f"one label per image of X ({len(X)})", y)
    device = _net_device(net)
    model = copy.deepcopy(net) if train_mode else net
    was_training = net.training
    model.train(train_mode)
    try:
        with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []), \
                torch.no_grad():
            scores = model(X.to(device))
    finally:
        net.train(was_training)
    _check_scores(scores, y)
    return nn.functional.cross_entropy(scores.float(), y.to(device)).item()


def _accuracy(data_iter: Iterable, net: Callable, device: torch.device, iter_name: str,
              precision: precisions.Precision) -> float:
    was_training = getattr(net, "training", None)
    if isinstance(net, nn.Module):
        net.eval()
    # The classic helper tests a function-style net that takes `is_training` (a scratch dropout
    # net) with is_training=False, so dropout is off while testing; so does this one.
    extra = {"is_training": False} if _takes_is_training(net) else {}
    correct = torch.zeros((), dtype=torch.int64, device=device)
    out_of_range = torch.zeros((), dtype=torch.int64, device=device)
    count = 0
    try:
        with torch.no_grad():
            for batch, item in enumerate(_moved(data_iter, device)):
                X, y = _pair(item, iter_name)
                if batch == 0:
                    _check_batch(X, y, iter_name)
                X, y = precision.batch(X.to(device)), y.to(device)
                with precision.autocast():
                    y_hat = net(X, **extra)
                if batch == 0:
                    _check_scores(y_hat, y)
                    _check_labels(y, y_hat, iter_name, batch)
                correct += _correct(y_hat, y)
                out_of_range += ((y < 0) | (y >= y_hat.shape[1])).sum()
                count += len(y)
    finally:
        if isinstance(net, nn.Module):
            net.train(was_training)
    if count == 0:
        validate.fail(iter_name, "an iterable that yields at least one batch", data_iter,
                      hint="it yielded none (an empty list, or a generator already used up?)")
    if int(out_of_range):
        validate.fail(f"the labels y of {iter_name}", f"class indices in 0..{y_hat.shape[1] - 1} "
                      f"(the net gives {y_hat.shape[1]} scores)", None,
                      got=f"{int(out_of_range)} labels outside that range",
                      hint="an accuracy over them would mean nothing")
    return correct.item() / count


def _takes_is_training(net: object) -> bool:
    if isinstance(net, nn.Module):
        return False
    try:
        return "is_training" in inspect.signature(net).parameters
    except (TypeError, ValueError):  # a builtin or C function: no keyword of ours
        return False


def _check_net(net: object) -> None:
    if not callable(net):
        validate.fail("net", "a callable model (an nn.Module or a function of X)", net, error=TypeError)


def _check_iterable(name: str, data: object) -> None:
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


# train_ch3 refuses an lr this large with a mean-reducing loss and d2l.sgd: it is the classic
# helper's lr, meant to be divided by the batch size (see train_ch3).
CLASSIC_LR = 10.0
EXPLODED = 100  # an epoch's mean loss this many times the first batch's (at least 0.1) diverged


class _EpochStats:
    """Device-side sums for one epoch, plus the first batch whose loss was not finite."""

    def __init__(self, device: torch.device, first_loss: torch.Tensor | None):
        self.first_loss = first_loss  # the run's first batch's mean loss, once there is one
        self.loss = torch.zeros((), device=device)
        self.correct = torch.zeros((), dtype=torch.int64, device=device)
        self.first_bad = torch.full((), -1, dtype=torch.int64, device=device)
        self.count = 0

    def add(self, batch: int, loss_sum: torch.Tensor, y_hat: torch.Tensor, y: torch.Tensor):
        loss_sum = loss_sum.detach()
        self.loss += loss_sum
        self.correct += _correct(y_hat.detach(), y)
        self.count += len(y)
        bad = (self.first_bad < 0) & ~torch.isfinite(loss_sum)
        self.first_bad = torch.where(bad, batch, self.first_bad)
        if self.first_loss is None:
            self.first_loss = loss_sum / len(y)

    def finish(self, epoch: int, num_batches: int) -> tuple[float, float]:
        """Read the sums once; raise if some batch's loss was not finite."""
        first_bad = int(self.first_bad)
        if first_bad >= 0:
            raise TrainingDiverged(
                f"training diverged: the loss became NaN or inf at epoch {epoch}, batch "
                f"{first_bad + 1} of {num_batches}; lower the learning rate or check the loss")
        if self.count == 0:
            validate.fail("train_iter", "an iterable that yields at least one batch", None,
                          hint="it yielded none (a generator already used up?)")
        mean_loss = self.loss.item() / self.count
        start = max(float(self.first_loss), 0.1)
        if mean_loss > EXPLODED * start:
            raise TrainingDiverged(
                f"training diverged: the mean loss of epoch {epoch} is {mean_loss:.4g}, over "
                f"{EXPLODED} times the first batch's {float(self.first_loss):.4g}; the loss "
                "explodes without becoming NaN: lower the learning rate")
        return mean_loss, self.correct.item() / self.count


def _check_dtype(X: torch.Tensor, net: object, params: list[torch.Tensor] | None) -> None:
    """The images must have the floating dtype of the net's weights (e.g. float64 data for a
    float32 net is refused here, not deep inside a matmul)."""
    weights = params if params is not None else (
        list(net.parameters()) if isinstance(net, nn.Module) else [])
    dtype = next((w.dtype for w in weights if w.is_floating_point()), None)
    if dtype is not None and X.dtype != dtype:
        validate.fail("the images X of train_iter", f"{dtype}, the dtype of the net's weights", X,
                      error=TypeError, hint="convert the data with X.float() (or the net with "
                      "net.float(): float64 only makes training slower)" if dtype == torch.float32
                      else f"convert the data with X.to({dtype}) or the net with net.float()")


def _forward(net: Callable, X: torch.Tensor, precision: precisions.Precision, batch: int,
             train_examples: int | None) -> torch.Tensor:
    """`net(X)` under the chosen precision; batch norm's refusal of a one-example batch is said
    with the batch and what to do."""
    try:
        with precision.autocast():
            return net(X)
    except ValueError as err:
        if "Expected more than 1 value per channel" not in str(err):
            raise
        of = f" of the {train_examples} training examples" if train_examples else ""
        raise ValueError(
            f"batch {batch + 1} of train_iter holds {len(X)} example, and the net's batch norm "
            f"needs at least two per channel in training mode; choose a batch size that leaves no "
            f"last batch of one{of}, or drop the short last batch (drop_last=True in a "
            "torch.utils.data.DataLoader)") from None


def _loss_sum_and_mean(loss: Callable, y_hat: torch.Tensor, y: torch.Tensor):
    """The minibatch loss both summed and averaged over its examples, whatever `loss` returns."""
    value = loss(y_hat, y)
    if not isinstance(value, torch.Tensor):
        validate.fail("loss(y_hat, y)", "a tensor (one loss per example, or their mean or sum)",
                      value, error=TypeError)
    n = len(y)
    if value.ndim > 0:  # one loss per example
        if value.numel() != n:
            raise ValueError(f"loss returned shape {tuple(value.shape)} for a batch of {n}")
        return value.sum(), value.mean()
    reduction = getattr(loss, "reduction", None)
    if reduction == "mean":
        return value * n, value
    if reduction == "sum":
        return value, value / n
    raise ValueError("loss returned a single number and has no reduction='mean' or 'sum' "
                     "attribute, so train_ch3 cannot tell a mean from a sum; return one loss per "
                     "example (e.g. nn.CrossEntropyLoss(reduction='none')) or pass an nn loss module")


def _check_classification_loss(loss: Callable, y_hat: torch.Tensor) -> None:
    """`nn.NLLLoss` wants log-probabilities: on raw scores it reports a loss that can be negative
    and trains nothing sensible. Checked on the first batch."""
    if isinstance(loss, nn.NLLLoss):
        total = torch.logsumexp(y_hat.detach().float(), dim=1)
        if not torch.allclose(total, torch.zeros_like(total), atol=1e-3):
            validate.fail("loss", "a loss that takes raw class scores", loss,
                          got="nn.NLLLoss() on scores that are not log-probabilities",
                          hint="use nn.CrossEntropyLoss() (it applies log-softmax itself), or end "
                               "the net with nn.LogSoftmax(dim=1)")


def _fit(net, train_iter: Iterable, test_iter: Iterable, device: torch.device,
         num_epochs: int, update: Callable, precision: precisions.Precision,
         optimizer: torch.optim.Optimizer | None, params: list[torch.Tensor] | None,
         checkpoint: str | os.PathLike | None) -> History:
    """The epoch loop shared by train_ch3 and train_ch5. `update(y_hat, y)` updates the parameters
    from one batch's scores and returns the summed loss. The callers have checked the arguments;
    the first batch of each pass and the net's first output are checked here, before any loss.

    Ctrl-C (KeyboardInterrupt, also what Jupyter's stop button sends) ends the run at once: one
    line says so, and the history of the epochs that finished is returned, marked `interrupted`;
    the net keeps the weights it has."""
    run = cap_epochs(num_epochs)
    if run < num_epochs:
        print(f"({current_profile().name} profile: {run} of {num_epochs} epochs)")
    history = History(run)
    saver = None if checkpoint is None else Checkpoint(checkpoint, net, optimizer, params, run,
                                                       train_iter=train_iter)
    resumed = saver.load() if saver is not None else None
    first = 1
    if resumed is not None:
        done, old_history, history.steps = resumed
        for key in history:
            history[key].extend(old_history[key])
        first = done + 1
        print(f"resuming from checkpoint {saver.path}: {done} of {run} epochs already done")
    animator = Animator.in_notebook(run)
    if animator is not None:
        for epoch in range(1, first):
            animator.add(epoch, tuple(history[k][epoch - 1]
                                      for k in ("train_loss", "train_acc", "test_acc")))
    progress = RunProgress(run, train_iter, test_iter, device, first_epoch=first)
    num_batches = progress.num_batches or "?"
    first_loss = None
    epoch = first - 1
    try:
        for epoch in range(first, run + 1):
            if isinstance(net, nn.Module):
                net.train()
            timer, stats = Timer(), _EpochStats(device, first_loss)
            progress.start_epoch(epoch)
            batch = -1
            for batch, item in enumerate(_moved(train_iter, device)):
                X, y = _pair(item, "train_iter")
                if batch == 0:
                    _check_batch(X, y, "train_iter")
                    _check_dtype(X, net, params)
                X = precision.batch(X.to(device, non_blocking=True))
                y = y.to(device, non_blocking=True).long()  # int32 labels too; a no-op for int64
                y_hat = _forward(net, X, precision, batch, progress.train_examples)
                if batch == 0:
                    _check_scores(y_hat, y)
                    _check_labels(y, y_hat, "train_iter", batch)
                try:
                    loss_sum = update(y_hat, y)
                except (IndexError, RuntimeError):
                    _check_labels(y, y_hat, "train_iter", batch)  # names a label out of range
                    raise
                history.steps += 1
                stats.add(batch, loss_sum, y_hat, y)
                progress.batch_done(batch, len(y))
            progress.end_epoch(batch + 1)
            train_loss, train_acc = stats.finish(epoch, num_batches)
            first_loss = stats.first_loss
            test_acc = _accuracy(test_iter, net, device, "test_iter", precision)
            seconds = timer.stop()
            print(f"epoch {epoch}/{run}, loss {train_loss:.4f}, train acc {train_acc:.3f}, "
                  f"test acc {test_acc:.3f}, {seconds:.1f} sec, "
                  f"{stats.count / seconds:.0f} examples/sec")
            for key, value in zip(history, (train_loss, train_acc, test_acc, seconds)):
                history[key].append(value)
            if saver is not None:
                saver.save(epoch, history, history.steps)
            if animator is not None:
                animator.add(epoch, (train_loss, train_acc, test_acc))
    except KeyboardInterrupt:
        progress.close()
        history.interrupted = True
        done = history.epochs_done
        kept = (f"returning the history of the {plural(done, 'finished epoch')}" if done else
                "no epoch finished, so the history is empty")
        print(f"training interrupted during epoch {epoch} of {run}: {kept}; the net keeps its "
              "current weights"
              + (f"; the checkpoint {saver.path} holds the last finished epoch, run the cell "
                 "again to resume" if saver is not None else ""))
    finally:
        progress.close()
    return history


def train_ch3(net: Callable, train_iter: Iterable, test_iter: Iterable, loss: Callable,
              num_epochs: int, batch_size: int, params: list[torch.Tensor] | None = None,
              lr: float | None = None, optimizer: torch.optim.Optimizer | None = None, *,
              precision: str | None = None, checkpoint: str | os.PathLike | None = None
              ) -> History:
    """Train a classifier for softmax regression and MLPs, on the net's device (the CPU for
    scratch models).

    With `params` and `lr` it steps with `d2l.sgd` on the gradient of the *summed* minibatch loss;
    with `optimizer` it steps that optimizer on the gradient of the *mean* loss. Either way the
    loss may be per-example or an nn loss with reduction 'mean'/'sum': it is converted, never
    divided twice. `batch_size` is kept for the classic signature; the real size of each batch is
    used. Prints one line per epoch (examples/sec counts training examples over the epoch's whole
    time), draws live curves in Jupyter, returns the per-epoch `History` (02_softmax_regression).

    The classic helper summed a loss that averages over the batch and divided by `batch_size`
    again in `sgd`, so its notebooks pass lr = 100 with `nn.CrossEntropyLoss()`; here that is a
    step 256 times larger. With `params` and a mean-reducing loss, an lr of `CLASSIC_LR` or more
    is therefore refused at the call with the lr that gives the book's step (lr / batch_size).
    An epoch whose mean loss is over `EXPLODED` times the first batch's is reported as
    divergence, as a NaN loss is.

    Keyword only: `precision` ("auto", "bf16", "fp32"; see `train_ch5`) and `checkpoint`, a file
    saved after every epoch and resumed from when it exists (09_alexnet)."""
    _check_net(net)
    _check_iterable("train_iter", train_iter)
    _check_iterable("test_iter", test_iter)
    if isinstance(loss, type):
        validate.fail("loss", "a loss function or an instance of an nn loss", loss,
                      error=TypeError, got=f"the class {loss.__name__}",
                      hint=f"create one: loss={loss.__name__}()")
    if not callable(loss):
        validate.fail("loss", "a callable loss (e.g. d2l's cross_entropy or nn.CrossEntropyLoss())",
                      loss, error=TypeError)
    if isinstance(loss, (nn.MSELoss, nn.L1Loss, nn.SmoothL1Loss, nn.HuberLoss)):
        validate.fail("loss", "a classification loss (train_ch3 trains a classifier on class "
                      "labels)", loss, got=f"a regression loss, {type(loss).__name__}()",
                      hint="use nn.CrossEntropyLoss() (or d2l's cross_entropy on probabilities)")
    validate.positive_int("num_epochs", num_epochs)
    validate.positive_int("batch_size", batch_size)
    if optimizer is not None:
        if params is not None or lr is not None:
            raise ValueError("train_ch3 takes either optimizer=... or params=... and lr=..., got "
                             "both; the optimizer has its own parameters and learning rate, so "
                             "drop params and lr (or drop optimizer to step with d2l.sgd)")
        _check_optimizer(optimizer, net)
    else:
        if params is None or lr is None:
            missing = " and ".join(n for n, v in (("params", params), ("lr", lr)) if v is None)
            raise ValueError(f"train_ch3 needs optimizer=... or both params=... and lr=...; "
                             f"{missing} missing")
        params = validate.parameter_list("params", params)
        lr = validate.positive_number("lr", lr)
        if getattr(loss, "reduction", None) == "mean" and lr >= CLASSIC_LR:
            raise ValueError(
                f"lr={lr:g} with a loss that averages over the batch ({type(loss).__name__} with "
                f"reduction='mean'): d2lmini steps lr x the mean gradient, so this step is far too "
                f"large. The classic d2l helper summed that mean loss and then divided by "
                f"batch_size again in sgd, stepping lr x mean gradient / batch_size; the book "
                f"chose its large lr for that. For the book's step here pass "
                f"lr={lr:g} / {batch_size} = {lr / batch_size:.4g}")
        for i, p in enumerate(params):
            if not p.requires_grad:
                validate.fail(f"params[{i}]", "a tensor with requires_grad=True", p,
                              hint="create it with requires_grad=True or call .requires_grad_()")

    device = _net_device(net)
    chosen = precisions.choose(precision, device, net)
    checked = []

    def update(y_hat, y):
        if not checked:
            _check_classification_loss(loss, y_hat)
            checked.append(True)
        loss_sum, loss_mean = _loss_sum_and_mean(loss, y_hat.float(), y)
        if optimizer is not None:
            optimizer.zero_grad()
            loss_mean.backward()
            optimizer.step()
        else:
            for p in params:
                p.grad = None
            loss_sum.backward()
            for i, p in enumerate(params):
                if p.grad is None:
                    validate.fail(f"params[{i}]", "a tensor the net's output depends on", p,
                                  error=RuntimeError, got="a tensor that loss.backward() gave no "
                                  "gradient", hint="train_ch3 ran backward on the loss, so net "
                                  "does not use this tensor: is it another net's, or was the net "
                                  "rebuilt after params was made?")
            sgd(params, lr, len(y))
        return loss_sum

    net = chosen.prepare(net)  # as in train_ch5: the layout follows the chosen path
    return _fit(net, train_iter, test_iter, device, num_epochs, update, chosen, optimizer, params,
                checkpoint)


def train_ch5(net: nn.Module, train_iter: Iterable, test_iter: Iterable, batch_size: int,
              optimizer: torch.optim.Optimizer, device: torch.device | str | None,
              num_epochs: int, *, precision: str | None = None,
              checkpoint: str | os.PathLike | None = None) -> History:
    """Train a CNN with cross-entropy on `device` (None: the best available): moves the net and
    the batches there, prints one line per epoch (loss, train acc, test acc, seconds,
    examples/s), draws live curves in Jupyter and returns the per-epoch `History` (06_convolutions).

    Keyword only (09_alexnet): `precision` "auto" (the default, or `$D2LMINI_PRECISION`) runs a
    conv net with bf16 autocast and channels-last batches where the device computes bf16
    natively, and in fp32 elsewhere; "fp32" turns the fast path off, "bf16" forces it. The
    "training on ..." line says which runs. `checkpoint=PATH` saves the run after every finished
    epoch and, when PATH exists, resumes after its last finished epoch."""
    validate.module("net", net)
    _check_iterable("train_iter", train_iter)
    _check_iterable("test_iter", test_iter)
    validate.positive_int("batch_size", batch_size)
    _check_optimizer(optimizer, net)
    validate.positive_int("num_epochs", num_epochs)
    device = get_device(device)
    chosen = precisions.choose(precision, device, net)
    net = chosen.prepare(net.to(device))
    loss = nn.CrossEntropyLoss()
    print(f"training on {device}, {chosen.describe()}")

    def update(y_hat, y):
        l = loss(y_hat.float(), y)
        optimizer.zero_grad()
        l.backward()
        optimizer.step()
        return l * len(y)

    return _fit(net, train_iter, test_iter, device, num_epochs, update, chosen, optimizer, None,
                checkpoint)


def _check_optimizer(optimizer: object, net: object) -> None:
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


def check_accuracy(history: dict[str, list[float]], floor: float | None = None, *,
                   quick: float | None = None, target: float | None = None) -> float:
    """Assert that the last epoch's test accuracy reaches the floor measured for the current
    profile, and return the accuracy (NaN for a run interrupted before its first epoch ended)
    (02_softmax_regression).

    `floor` is the full profile's floor and `quick` the quick profile's; each is set a margin
    below an accuracy that a repo command (`benchmarks/full_results.py`) measured in that profile.
    `target` is what the full profile should reach where no full run has been measured yet: it is
    printed as a target, never asserted. The smoke profile trains on a few hundred images, where
    no floor means anything, so it only reports. A history whose run was interrupted is reported
    with how many epochs finished, not checked."""
    if not isinstance(history, dict) or not isinstance(history.get("test_acc"), list):
        validate.fail("history", "the dict that train_ch3/train_ch5 returned", history, error=TypeError)
    floors = {"full": floor, "quick": quick}
    for name, value in (("floor", floor), ("quick", quick), ("target", target)):
        if value is not None:
            validate.fraction(name, value)
    if floor is not None and target is not None:
        raise ValueError("check_accuracy takes a measured floor or an unmeasured target for the "
                         "full profile, got both; drop target once the floor is measured")
    if getattr(history, "interrupted", False):
        done = len(history["test_acc"])
        acc = history["test_acc"][-1] if done else math.nan
        reached = f"test accuracy {acc:.3f} after" if done else "no test accuracy yet:"
        print(f"{reached} {done} of {history.epochs_planned} epochs finished: the run was "
              "interrupted, so no floor is checked (run the training cell again to train in full)")
        return acc
    if not history["test_acc"]:
        validate.fail("history", "the history of at least one finished epoch", history,
                      hint="its test_acc list is empty")
    acc = history["test_acc"][-1]
    name = current_profile().name
    measured = floors.get(name)
    if measured is not None:
        if not acc >= measured:  # raised, not asserted: `python -O` must not skip the check
            raise AssertionError(f"test accuracy {acc:.3f} is below the floor {measured:.3f} "
                                 f"measured for the {name} profile")
        print(f"test accuracy {acc:.3f} >= floor {measured:.3f} ({name} profile)")
    elif name == "smoke":
        print(f"test accuracy {acc:.3f} (smoke profile: a few hundred images, no floor checked)")
    else:
        wanted = f"; target {target:.3f}, not yet measured" if name == "full" and target else ""
        print(f"test accuracy {acc:.3f} ({name} profile: no floor measured in this profile yet, "
              f"so none is checked{wanted})")
    return acc


def cosine_schedule(optimizer: torch.optim.Optimizer, total_steps: int
                    ) -> torch.optim.lr_scheduler.LambdaLR:
    """Lower the learning rate along half a cosine, lr_t = lr_0 (1 + cos(pi t / T)) / 2, advancing
    after every `optimizer.step()`, so loops that only call `step()` (such as `train_ch5`) follow
    it. Past `total_steps` the rate stays at 0 (with one warning), never climbs back; an optimizer
    can follow only one schedule (12_googlenet)."""
    if not isinstance(optimizer, torch.optim.Optimizer):
        validate.fail("optimizer", "a torch.optim.Optimizer", optimizer, error=TypeError)
    total_steps = validate.positive_int("total_steps", total_steps)
    if getattr(optimizer, "_d2lmini_schedule", None) is not None:
        validate.fail("optimizer", "an optimizer without a cosine schedule yet", optimizer,
                      hint="it already follows one; a second would apply the decay twice. Build a "
                           "new optimizer to start a new schedule")

    def factor(step: int) -> float:
        if step > total_steps and not warned:
            warned.append(step)
            warnings.warn(f"cosine_schedule: step {step} is past total_steps={total_steps}; "
                          "the learning rate stays 0 (did the run get longer than planned?)",
                          stacklevel=2)
        return 0.5 * (1 + math.cos(math.pi * min(step, total_steps) / total_steps))

    warned: list[int] = []
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, factor)
    optimizer.register_step_post_hook(lambda opt, args, kwargs: schedule.step())
    optimizer._d2lmini_schedule = schedule  # found by checkpoints, refused a second time
    return schedule
