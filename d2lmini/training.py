"""Training loops: accuracy, the softmax/MLP loop (`train_ch3`) and the CNN loop (`train_ch5`).

Both loops share one epoch loop, `_fit`. It keeps its running sums on the device and reads them
once per epoch, so a GPU is never stalled by a per-batch `.item()`; a non-finite loss is tracked
the same way and reported, with its epoch and batch, at the end of the epoch in which it appeared.
Ctrl-C, or Jupyter's stop button, ends training between batches and returns the finished epochs.

Three concerns live in modules of their own and are called from `_fit`: the checks of the
arguments and of each pass's first batch (`checks.py`), the arithmetic (`precision.py`: bf16 or
fp16 autocast and channels-last, by device) and checkpoints (`checkpoint.py`).
"""

from __future__ import annotations

import copy
import inspect
import itertools
import math
import os
import time
from collections.abc import Callable, Iterable

import torch
from torch import nn

from . import checks
from . import precision as precisions
from . import validate
from .checkpoint import Checkpoint, random_state, set_random_state
from .data import InMemoryLoader
from .device import get_device
from .linear import sgd
from .plotting import Animator
from .profile import cap_epochs, current_profile, plural
from .progress import RunProgress


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite during training, or grew far past where it started
    (02_softmax_regression)."""


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

    def elapsed(self) -> float:
        """Seconds since the last start, without recording a lap."""
        return time.perf_counter() - self._t0

    def stop(self) -> float:
        self.times.append(self.elapsed())
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


def _first_forward(net: Callable, X: torch.Tensor, precision: precisions.Precision,
                   forward: Callable[[torch.Tensor], torch.Tensor]
                   ) -> tuple[precisions.Precision, torch.Tensor, torch.Tensor]:
    """The forward pass on a run's first batch, where the layout is decided: if the net fails on
    channels-last activations (a `.view` of them) but works in the default layout, the run goes on
    in the default layout, said in one line. The failed try leaves no trace: the random state and
    the net's buffers (batch norm's statistics) are put back first, so the run is the one a start
    in the default layout gives. A layer that fails in both layouts is named (`checks`)."""
    if not (precision.channels_last and isinstance(net, nn.Module)):
        return precision, X, checks.named_forward(net, lambda: forward(X))
    buffers = [(b, b.detach().clone()) for b in net.buffers()]
    cuda = X.device if X.device.type == "cuda" else None
    rng = torch.get_rng_state(), torch.cuda.get_rng_state(cuda) if cuda else None
    try:
        return precision, X, forward(X)
    except RuntimeError as err:
        with torch.no_grad():
            for buffer, saved in buffers:
                buffer.copy_(saved)
        torch.set_rng_state(rng[0])
        if cuda:
            torch.cuda.set_rng_state(rng[1], cuda)
        plain = precision.default_layout()
        plain.prepare(net)
        X = X.contiguous()
        y_hat = checks.named_forward(net, lambda: forward(X))  # the net's own error, if any
        reason = str(err).split("\n")[0]
        print(f"the net's forward fails on channels_last activations ({type(err).__name__}: "
              f"{reason[:90]}{'...' if len(reason) > 90 else ''}), so this run uses the default "
              "layout (the same numbers, slower); for the fast layout, flatten with "
              ".reshape(...), torch.flatten(x, 1) or nn.Flatten() instead of .view(...)")
        return plain, X, y_hat


def evaluate_accuracy(data_iter: Iterable, net: Callable,
                      device: torch.device | str | None = None, *,
                      precision: str | None = None) -> float:
    """Fraction of correct predictions over `data_iter`, in eval mode and without gradients; the
    net's train/eval mode is restored afterwards. `device` defaults to the net's. `precision`
    (keyword only) is chosen as in `train_ch5`, and a net whose forward fails on channels-last
    activations is evaluated in the default layout, as the loop falls back to, so the result
    agrees with the loop's own test accuracy. A function-style net with an `is_training`
    parameter (the classic scratch dropout net) is called with `is_training=False`, as the
    classic helper did (02_softmax_regression)."""
    checks.net(net)
    checks.iterable("data_iter", data_iter)
    device = _net_device(net) if device is None else get_device(device)
    return _accuracy(data_iter, net, device, "data_iter",
                     precisions.choose(precision, device, net), settled=False)


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
    checks.scores(scores, y)
    return nn.functional.cross_entropy(scores.float(), y.to(device)).item()


def _accuracy(data_iter: Iterable, net: Callable, device: torch.device, iter_name: str,
              precision: precisions.Precision, settled: bool = True) -> float:
    """The accuracy over one pass; `settled=False` decides the layout on the first batch first."""
    was_training = getattr(net, "training", None)
    if isinstance(net, nn.Module):
        net.eval()
    # The classic helper tests a function-style net that takes `is_training` (a scratch dropout
    # net) with is_training=False, so dropout is off while testing; so does this one.
    extra = {"is_training": False} if _takes_is_training(net) else {}

    def forward(X):
        with precision.autocast():
            return net(X, **extra)

    correct = torch.zeros((), dtype=torch.int64, device=device)
    out_of_range = torch.zeros((), dtype=torch.int64, device=device)
    count = 0
    try:
        with torch.no_grad():
            for batch, item in enumerate(_moved(data_iter, device)):
                X, y = checks.pair(item, iter_name)
                if batch == 0:
                    checks.first_batch(X, y, iter_name, net)
                checks.empty(X, iter_name, batch)
                X, y = precision.batch(X.to(device)), y.to(device)
                if batch == 0 and not settled:
                    precision, X, y_hat = _first_forward(net, X, precision, forward)
                else:
                    y_hat = forward(X)
                if batch == 0:
                    checks.scores(y_hat, y)
                    checks.labels(y, y_hat, iter_name, batch)
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


# train_ch3 refuses an lr this large with a mean-reducing loss and d2l.sgd: it is the classic
# helper's lr, meant to be divided by the batch size (see train_ch3).
CLASSIC_LR = 10.0
EXPLODED = 100  # an epoch's mean loss this many times the first batch's (at least 0.1) diverged
CURVE_POINTS = 10  # points per epoch of the running training loss and accuracy on the live curves
# Seconds of training between checkpoints inside an epoch. `benchmarks/checkpoint_cost.py` on 2
# AMD EPYC cores: the largest save, AlexNet with Adam's state (561 MB), took 4.3 s, 1.4 % of it.
CHECKPOINT_EVERY = 300.0


def _checkpoint_note(saver: Checkpoint | None, saved_at: str | None) -> str:
    """What the interrupt line says of the checkpoint: only what is in the file."""
    if saver is None:
        return ""
    if saved_at is not None and saver.path.exists():
        return (f"; the checkpoint {saver.path} holds the run {saved_at}: run the cell again to "
                "resume from there")
    return (f"; no checkpoint was written yet ({saver.path} is written when an epoch ends and "
            "every few minutes inside one), so running the cell again starts the run over")


def _where(epoch: int, batches: int, num_batches: int | str) -> str:
    return f"after epoch {epoch}" if not batches else \
        f"at epoch {epoch + 1}, batch {batches} of {num_batches}"


def _pass(train_iter: Iterable, device: torch.device, skip: int,
          random_now: dict | None) -> Iterable:
    """One pass over the training data; resumed mid-epoch, from batch `skip` with the shuffle the
    pass drew (the random state is the epoch's start until the first batch is made), then the
    random state the checkpoint was taken with."""
    batches = _moved(train_iter, device)
    if not skip:
        return batches
    rest = (batches.batches(skip) if isinstance(batches, InMemoryLoader)
            else itertools.islice(iter(batches), skip, None))
    first = next(rest, None)
    set_random_state(random_now)
    return rest if first is None else itertools.chain([first], rest)


def _nonfinite_images(train_iter: Iterable, device: torch.device) -> str:
    """After a NaN loss: whether the training images themselves hold NaN or inf, found by one
    more pass over them (only here, never while training). d2lmini's loaders make their images
    from uint8 pixels, which are always finite, so they are not scanned; nor is a generator, which
    a second pass would find empty."""
    if isinstance(train_iter, InMemoryLoader) or iter(train_iter) is train_iter:
        return ""
    for batch, item in enumerate(_moved(train_iter, device)):
        X = item[0] if isinstance(item, (tuple, list)) and item else None
        if isinstance(X, torch.Tensor) and X.is_floating_point() and not bool(torch.isfinite(X).all()):
            return (f"; the training images hold NaN or inf values (batch {batch + 1} of a new "
                    "pass over train_iter has some): fix the data, the learning rate is not the "
                    "cause")
    return ""


class _EpochStats:
    """Device-side sums for one epoch, plus the first batch whose loss was not finite."""

    def __init__(self, device: torch.device, first_loss: torch.Tensor | None):
        self.first_loss = first_loss  # the run's first batch's mean loss, once there is one
        self.loss = torch.zeros((), device=device)
        self.correct = torch.zeros((), dtype=torch.int64, device=device)
        self.first_bad = torch.full((), -1, dtype=torch.int64, device=device)
        self.count = 0
        self.num_classes = 0

    def add(self, batch: int, loss_sum: torch.Tensor, y_hat: torch.Tensor, y: torch.Tensor):
        loss_sum = loss_sum.detach()
        self.loss += loss_sum
        self.correct += _correct(y_hat.detach(), y)
        self.count += len(y)
        self.num_classes = y_hat.shape[1]
        bad = (self.first_bad < 0) & ~torch.isfinite(loss_sum)
        self.first_bad = torch.where(bad, batch, self.first_bad)
        if self.first_loss is None:
            self.first_loss = loss_sum / len(y)

    def state(self) -> dict:
        """The sums so far, for a checkpoint inside the epoch."""
        return {"loss": self.loss, "correct": self.correct, "first_bad": self.first_bad,
                "count": self.count, "num_classes": self.num_classes,
                "first_loss": self.first_loss}

    def restore(self, state: dict) -> None:
        device = self.loss.device
        self.loss, self.correct = state["loss"].to(device), state["correct"].to(device)
        self.first_bad, self.count = state["first_bad"].to(device), state["count"]
        self.num_classes = state["num_classes"]
        first = state["first_loss"]
        self.first_loss = first.to(device) if first is not None else None

    def running(self) -> tuple[float, float]:
        """The epoch's mean loss and accuracy so far (one read of the device, for the curves)."""
        return self.loss.item() / self.count, self.correct.item() / self.count

    def finish(self, epoch: int, num_batches: int | str, explain: Callable[[str], str]
               ) -> tuple[float, float]:
        """Read the sums once; raise if some batch's loss was not finite, or if the epoch's loss
        exploded. `explain(kind)` says what to look at, "nan" or "large"."""
        first_bad = int(self.first_bad)
        if first_bad >= 0:
            raise TrainingDiverged(
                f"training diverged: the loss became NaN or inf at epoch {epoch}, batch "
                f"{first_bad + 1} of {num_batches}" + explain("nan"))
        if self.count == 0:
            validate.fail("train_iter", "an iterable that yields at least one batch", None,
                          hint="it yielded none (a generator already used up?)")
        mean_loss, accuracy = self.loss.item() / self.count, self.correct.item() / self.count
        start = max(float(self.first_loss), 0.1)
        if mean_loss > EXPLODED * start:
            raise TrainingDiverged(
                f"training diverged: the mean loss of epoch {epoch} is {mean_loss:.4g}, over "
                f"{EXPLODED} times the first batch's {float(self.first_loss):.4g}; the loss "
                "explodes without becoming NaN" + explain("large"))
        if checks.far_above_chance(mean_loss, accuracy, self.num_classes):
            c = self.num_classes
            raise TrainingDiverged(
                f"training diverged: the mean loss of epoch {epoch} is {mean_loss:.4g}, far above "
                f"ln({c}) = {math.log(c):.3g} (what scoring every class the same gives), and the "
                f"train accuracy {accuracy:.3f} is at chance (1/{c})" + explain("large"))
        return mean_loss, accuracy


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


def _optimizer_step(optimizer: torch.optim.Optimizer, objective: torch.Tensor,
                    scaler: torch.amp.GradScaler | None) -> bool:
    """One step of `optimizer` on the gradient of `objective`; on the fp16 path through the
    loss scaler, which skips the step when a gradient overflowed. Returns whether it stepped."""
    optimizer.zero_grad()
    if scaler is None:
        objective.backward()
        optimizer.step()
        return True
    scale = scaler.get_scale()
    scaler.scale(objective).backward()
    scaler.step(optimizer)
    scaler.update()
    return scaler.get_scale() >= scale  # the scale drops exactly when the step was skipped


def _setting(optimizer: torch.optim.Optimizer | None, lr: float | None) -> str:
    if optimizer is None:
        return f"d2l.sgd with lr={lr:g}"
    rates = sorted({group["lr"] for group in optimizer.param_groups})
    return f"{type(optimizer).__name__} with lr={', '.join(f'{r:g}' for r in rates)}"


def _fit(net, train_iter: Iterable, test_iter: Iterable, device: torch.device,
         num_epochs: int, loss: Callable, losses: Callable, step: Callable,
         precision: precisions.Precision, optimizer: torch.optim.Optimizer | None,
         params: list[torch.Tensor] | None, checkpoint: str | os.PathLike | None,
         checkpoint_every: float, scaler: torch.amp.GradScaler | None = None,
         lr: float | None = None) -> History:
    """The epoch loop shared by train_ch3 and train_ch5. `losses(y_hat, y)` gives one batch's
    summed loss and the objective to differentiate; `step(objective, batch_size)` updates the
    parameters and says whether it stepped. The callers have checked the arguments; each pass's
    first batch and the net's first output are checked here (`checks`), and the layout is settled
    on the run's first batch, before any step. With a checkpoint, the run is saved after every
    epoch and every `checkpoint_every` seconds inside one, and resumes where the file was taken.

    Ctrl-C (KeyboardInterrupt, also what Jupyter's stop button sends) ends the run at once: one
    line says so, and the history of the epochs that finished is returned, marked `interrupted`;
    the net keeps the weights it has."""
    run = cap_epochs(num_epochs)
    if run < num_epochs:
        print(f"({current_profile().name} profile: {run} of {num_epochs} epochs)")
    history = History(run)
    saver = None if checkpoint is None else Checkpoint(checkpoint, net, optimizer, params, run,
                                                       train_iter=train_iter, lr=lr)
    resumed = saver.load(scaler) if saver is not None else None
    progress = RunProgress(run, train_iter, test_iter, device,
                           checkpoint=checkpoint_every if saver is not None else None)
    num_batches = progress.num_batches or "?"
    first, position, saved_at = 1, None, None
    if resumed is not None:
        done, old_history, history.steps, position = resumed
        for key in history:
            history[key].extend(old_history[key])
        first = done + 1
        saved_at = _where(done, position["batch"] if position else 0, num_batches)
        print(f"resuming from checkpoint {saver.path}: " + (
            f"epoch {first}, batch {position['batch'] + 1} of {num_batches} (of "
            f"{plural(run, 'epoch')})" if position else f"{done} of {run} epochs already done"))
        progress.epochs_left = run - done - (
            position["batch"] / progress.num_batches if position and progress.num_batches else 0)
    animator = Animator.in_notebook(run)
    if animator is not None:
        for epoch in range(1, first):
            animator.add(epoch, tuple(history[k][epoch - 1]
                                      for k in ("train_loss", "train_acc", "test_acc")))
    # the live curves get the running training loss and accuracy about 10 times per epoch
    every = max(1, progress.num_batches // CURVE_POINTS) if progress.num_batches else 0
    first_loss, image_range = None, (0.0, 0.0)

    def forward(X):
        return _forward(net, X, precision, batch, progress.train_examples)

    def explain(kind: str) -> str:
        if kind == "nan":
            return _nonfinite_images(train_iter, device) or (
                f"; lower the learning rate ({_setting(optimizer, lr)}) or check the loss")
        low, high = image_range
        return (f"; look at the learning rate ({_setting(optimizer, lr)}: lower it) and at the "
                f"input scale (the first batch's images range from {low:.3g} to {high:.3g}; the "
                "course's nets expect pixels in [0, 1] or standardised)")

    epoch = first - 1
    try:
        for epoch in range(first, run + 1):
            if isinstance(net, nn.Module):
                net.train()
            timer, stats = Timer(), _EpochStats(device, first_loss)
            head, carried, random_now = 0, 0.0, None  # where this pass starts
            if position is not None and epoch == first:  # resumed inside this epoch
                head, carried = position["batch"], position["seconds"]
                stats.restore(position["sums"])
                if animator is not None and progress.num_batches:  # the curves go on from here
                    animator.add(epoch - 1 + head / progress.num_batches, (*stats.running(), None))
                random_now = random_state()  # the state when the checkpoint was taken
                set_random_state(position["epoch_random"])  # so the pass draws the same shuffle
            epoch_random = random_state() if saver is not None else None
            progress.start_epoch(epoch, stats.count)
            last_save, batch = time.perf_counter(), head - 1
            for batch, item in enumerate(_pass(train_iter, device, head, random_now), start=head):
                X, y = checks.pair(item, "train_iter")
                if batch == head:
                    checks.first_batch(X, y, "train_iter", net, params)
                    image_range = float(X.min()), float(X.max())
                checks.empty(X, "train_iter", batch)
                X = precision.batch(X.to(device, non_blocking=True))
                y = y.to(device, non_blocking=True).long()  # int32 labels too; a no-op for int64
                if batch == head and epoch == first:
                    precision, X, y_hat = _first_forward(net, X, precision, forward)
                else:
                    y_hat = forward(X)
                if batch == head:
                    checks.scores(y_hat, y)
                    checks.labels(y, y_hat, "train_iter", batch)
                    checks.loss_inputs(loss, y_hat)
                try:
                    loss_sum, objective = losses(y_hat, y)
                    if batch == head and epoch == first:
                        checks.first_loss(loss, y_hat, loss_sum)
                    stepped = step(objective, len(y))
                except (IndexError, RuntimeError):
                    checks.labels(y, y_hat, "train_iter", batch)  # names a label out of range
                    raise
                history.steps += stepped
                stats.add(batch, loss_sum, y_hat, y)
                progress.batch_done(batch, len(y))
                if animator is not None and every and (batch + 1) % every == 0 \
                        and batch + 1 < progress.num_batches:
                    animator.add(epoch - 1 + (batch + 1) / progress.num_batches,
                                 (*stats.running(), None))
                if (saver is not None and time.perf_counter() - last_save >= checkpoint_every
                        and progress.num_batches and batch + 1 < progress.num_batches):
                    saver.save(epoch - 1, history, history.steps, scaler=scaler, position={
                        "batch": batch + 1, "epoch_random": epoch_random, "sums": stats.state(),
                        "seconds": carried + timer.elapsed()})
                    saved_at, last_save = _where(epoch - 1, batch + 1, num_batches), \
                        time.perf_counter()
                    progress.saved = f", checkpoint at batch {batch + 1}"
            progress.end_epoch()
            train_loss, train_acc = stats.finish(epoch, num_batches, explain)
            first_loss = stats.first_loss
            test_acc = _accuracy(test_iter, net, device, "test_iter", precision)
            seconds = carried + timer.stop()
            print(f"epoch {epoch}/{run}, loss {train_loss:.4f}, train acc {train_acc:.3f}, "
                  f"test acc {test_acc:.3f}, {seconds:.1f} sec, "
                  f"{stats.count / seconds:.0f} examples/sec")
            for key, value in zip(history, (train_loss, train_acc, test_acc, seconds)):
                history[key].append(value)
            if saver is not None:
                saver.save(epoch, history, history.steps, scaler=scaler)
                saved_at = _where(epoch, 0, num_batches)
            if animator is not None:
                animator.add(epoch, (train_loss, train_acc, test_acc))
    except KeyboardInterrupt:
        progress.close()
        history.interrupted = True
        done = history.epochs_done
        kept = (f"returning the history of the {plural(done, 'finished epoch')}" if done else
                "no epoch finished, so the history is empty")
        print(f"training interrupted during epoch {epoch} of {run}: {kept}; the net keeps its "
              f"current weights{_checkpoint_note(saver, saved_at)}")
    finally:
        progress.close()
    return history


def train_ch3(net: Callable, train_iter: Iterable, test_iter: Iterable, loss: Callable,
              num_epochs: int, batch_size: int, params: list[torch.Tensor] | None = None,
              lr: float | None = None, optimizer: torch.optim.Optimizer | None = None, *,
              precision: str | None = None, checkpoint: str | os.PathLike | None = None,
              checkpoint_every: float = CHECKPOINT_EVERY) -> History:
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
    An epoch whose mean loss is over `EXPLODED` times the first batch's, or far above
    ln(number of classes) at chance accuracy, is reported as divergence, as a NaN loss is.

    Keyword only: `precision` ("auto", "bf16", "fp16", "fp32"; see `train_ch5`; "fp16" needs
    `optimizer`) and `checkpoint`, a file saved after every epoch and every `checkpoint_every`
    seconds inside one, and resumed from when it exists (09_alexnet)."""
    checks.net(net)
    checks.iterable("train_iter", train_iter)
    checks.iterable("test_iter", test_iter)
    checks.classification_loss(loss)
    checkpoint_every = validate.positive_number("checkpoint_every", checkpoint_every)
    validate.positive_int("num_epochs", num_epochs)
    validate.positive_int("batch_size", batch_size)
    if optimizer is not None:
        if params is not None or lr is not None:
            raise ValueError("train_ch3 takes either optimizer=... or params=... and lr=..., got "
                             "both; the optimizer has its own parameters and learning rate, so "
                             "drop params and lr (or drop optimizer to step with d2l.sgd)")
        checks.optimizer(optimizer, net)
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
    if chosen.name == "fp16" and optimizer is None:
        validate.fail("precision", "'fp32', 'bf16' or 'auto' when training with params= and lr=",
                      "fp16", hint="fp16's loss scaler steps a torch optimizer: pass "
                      "optimizer=torch.optim.SGD(params, lr=...) instead of params and lr")
    scaler = chosen.grad_scaler()

    def losses(y_hat, y):
        loss_sum, loss_mean = _loss_sum_and_mean(loss, y_hat.float(), y)
        return loss_sum, loss_mean if optimizer is not None else loss_sum

    def step(objective: torch.Tensor, size: int) -> bool:
        if optimizer is not None:
            return _optimizer_step(optimizer, objective, scaler)
        for p in params:
            p.grad = None
        objective.backward()
        for i, p in enumerate(params):
            if p.grad is None:
                validate.fail(f"params[{i}]", "a tensor the net's output depends on", p,
                              error=RuntimeError, got="a tensor that loss.backward() gave no "
                              "gradient", hint="train_ch3 ran backward on the loss, so net "
                              "does not use this tensor: is it another net's, or was the net "
                              "rebuilt after params was made?")
        sgd(params, lr, size)
        return True

    net = chosen.prepare(net)  # as in train_ch5: the layout follows the chosen path
    return _fit(net, train_iter, test_iter, device, num_epochs, loss, losses, step, chosen,
                optimizer, params, checkpoint, checkpoint_every, scaler, lr)


def train_ch5(net: nn.Module, train_iter: Iterable, test_iter: Iterable, batch_size: int,
              optimizer: torch.optim.Optimizer, device: torch.device | str | None,
              num_epochs: int, *, precision: str | None = None,
              checkpoint: str | os.PathLike | None = None,
              checkpoint_every: float = CHECKPOINT_EVERY) -> History:
    """Train a CNN with cross-entropy on `device` (None: the best available): moves the net and
    the batches there, prints one line per epoch (loss, train acc, test acc, seconds,
    examples/s), draws live curves in Jupyter and returns the per-epoch `History` (06_convolutions).

    Keyword only (09_alexnet): `precision` "auto" (the default, or `$D2LMINI_PRECISION`) picks
    the fastest correct arithmetic the device has for a conv net: bf16 autocast where bf16 is
    native (CUDA compute capability 8.0 and up, CPUs with AVX512-BF16 or AMX), fp16 autocast with
    a GradScaler on CUDA 7.x (V100, T4), float32 elsewhere, each with channels-last batches;
    "fp32" turns the fast path off, "bf16" and "fp16" force those paths. The "training on ..."
    line names the device and says which path runs and why. A net whose forward fails on
    channels-last activations (a `.view` of them) trains in the default layout instead, said in
    one line. `checkpoint=PATH` saves the run after every finished epoch and every
    `checkpoint_every` seconds of training inside one (default `CHECKPOINT_EVERY`, 5 minutes),
    and, when PATH exists, resumes where it was taken: after the last finished epoch or at the
    saved batch, with the same batch order and random state, so the result equals a straight run."""
    validate.module("net", net)
    checks.iterable("train_iter", train_iter)
    checks.iterable("test_iter", test_iter)
    validate.positive_int("batch_size", batch_size)
    checks.optimizer(optimizer, net)
    validate.positive_int("num_epochs", num_epochs)
    checkpoint_every = validate.positive_number("checkpoint_every", checkpoint_every)
    device = get_device(device)
    chosen = precisions.choose(precision, device, net)
    net = chosen.prepare(net.to(device))
    loss = nn.CrossEntropyLoss()
    scaler = chosen.grad_scaler()
    print(f"training on {precisions.device_name(device)}, {chosen.describe()}")

    def losses(y_hat, y):
        mean = loss(y_hat.float(), y)
        return mean * len(y), mean

    return _fit(net, train_iter, test_iter, device, num_epochs, loss, losses,
                lambda objective, size: _optimizer_step(optimizer, objective, scaler), chosen,
                optimizer, None, checkpoint, checkpoint_every, scaler)


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
