"""What a learner sees while a model trains: a progress bar inside each epoch and, after the first
batches, an estimate of the whole run.

The bar is tqdm's text bar, a single line redrawn in place, in Jupyter (on stdout, the stream the
loops print to) as in a terminal (on stderr): unlike
tqdm's widget it needs no widget state, so a saved chapter reopens without "Error displaying
widget", and a viewer outside the browser shows text, not a bar frozen at 0 %. Each epoch's bar
clears its line when the epoch ends (the epoch's printed line replaces it). Its per-batch cost is
one counter update; tqdm redraws at most a few times a second (every 5 s into a log file). The estimate is
taken once, so the loop never waits on the device to time a batch more than once per run.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable

import torch

from .plotting import _in_notebook
from .profile import PROFILES, current_profile, plural

# A run longer than this on a CPU gets one line pointing at the faster alternatives.
LONG_RUN_SECONDS = 30 * 60
# The first batch pays one-off costs (memory, kernel selection) and is not timed. The estimate is
# taken once at least this many batches and this many seconds have followed it, or at the end of
# the first epoch if that comes sooner.
ESTIMATE_AFTER_BATCHES = 5
ESTIMATE_AFTER_SECONDS = 2.0


def num_examples(data_iter: Iterable) -> int | None:
    """How many examples one pass over `data_iter` yields, when the loader can tell without
    iterating (d2lmini's loaders and torch DataLoaders can); None otherwise."""
    images = getattr(data_iter, "images", None)
    if isinstance(images, torch.Tensor):
        return len(images)
    dataset = getattr(data_iter, "dataset", None)
    try:
        return len(dataset) if dataset is not None else None
    except TypeError:
        return None


def _about(seconds: float) -> str:
    """A duration as the estimate says it: "under 1 s", "about 40 s", "about 12 min", "about 2.5 h"."""
    if seconds < 1:
        return "under 1 s"
    if seconds < 90:
        return f"about {seconds:.0f} s"
    if seconds < 90 * 60:
        return f"about {seconds / 60:.0f} min"
    return f"about {seconds / 3600:.1f} h"


class RunProgress:
    """The bar of the current epoch and the one-off estimate of the whole run
    (02_softmax_regression)."""

    def __init__(self, num_epochs: int, train_iter: Iterable, test_iter: Iterable,
                 device: torch.device, checkpoint: float | None = None):
        self.num_epochs, self.device, self.checkpoint = num_epochs, device, checkpoint
        self.epochs_left: float = num_epochs  # less when a checkpoint resumes (the loop sets it)
        self.saved = ""  # where the last checkpoint inside this epoch was taken, for the bar
        self.num_batches = len(train_iter) if hasattr(train_iter, "__len__") else None
        self.train_examples = num_examples(train_iter)
        self.test_examples = num_examples(test_iter)
        self.bar = None
        self._estimated = False
        self._t0 = 0.0  # when the first epoch began
        self._warm: float | None = None  # when the first batch had finished
        self._batches = 0  # batches trained by this call, until the estimate

    def start_epoch(self, epoch: int, examples_done: int = 0) -> None:
        """A new bar; `examples_done` of the epoch were trained before a checkpoint resumed it."""
        from tqdm.std import tqdm
        self.saved = ""
        # In Jupyter the bar shares stdout with the printed lines: one output stream, in which a
        # redraw replaces the line, so no bar line freezes above the estimate and no blank stderr
        # line is left when the bar clears. In a terminal or a log the bar stays on stderr.
        notebook = _in_notebook()
        self.stream = sys.stdout if notebook else sys.stderr
        interval = 0.1 if sys.stderr.isatty() else 0.5 if notebook else 5.0
        if not self._estimated:
            self._t0 = time.perf_counter()
        self.bar = tqdm(total=self.train_examples, desc=f"epoch {epoch}/{self.num_epochs}",
                        unit="ex", unit_scale=(self.train_examples or 0) >= 10_000,  # 60.0k, not 0.00/200
                        initial=examples_done, leave=False, dynamic_ncols=True,
                        mininterval=interval, file=self.stream)

    def batch_done(self, batch: int, batch_examples: int) -> None:
        """Advance the bar; after the first few batches, print the estimate (one time only)."""
        self.bar.set_postfix_str(f"batch {batch + 1}/{self.num_batches or '?'}{self.saved}",
                                 refresh=False)
        self.bar.update(batch_examples)
        if self._estimated:
            return
        self._batches += 1
        if self._warm is None:  # the run's first batch (a resumed run's may be batch 312)
            self._sync()
            self._warm = time.perf_counter()
        elif (self._batches > ESTIMATE_AFTER_BATCHES
              and time.perf_counter() - self._warm >= ESTIMATE_AFTER_SECONDS):
            self._estimate(self._batches)

    def end_epoch(self) -> None:
        self.close()
        if not self._estimated:  # an epoch shorter than the estimate window
            self._estimate(self._batches)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None

    def _sync(self) -> None:
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)  # twice per run, so the timing is real

    def _estimate(self, batches_done: int) -> None:
        """Print the projected duration of the whole run from the batches timed so far (those after
        the first, when there are any). Evaluation is counted at a third of a training step per
        example (a forward pass, no backward)."""
        self._estimated = True
        if self.num_batches is None or batches_done == 0:
            return
        self._sync()
        if self._warm is not None and batches_done > 1:
            per_batch = (time.perf_counter() - self._warm) / (batches_done - 1)
        else:
            per_batch = (time.perf_counter() - self._t0) / batches_done
        per_epoch = per_batch * self.num_batches
        if self.train_examples and self.test_examples:
            # evaluation: a third of a training step per example (a forward pass, no backward)
            per_epoch += per_batch * self.num_batches / self.train_examples / 3 * self.test_examples
        total = per_epoch * self.epochs_left
        left = (plural(int(self.epochs_left), "epoch") if self.epochs_left == int(self.epochs_left)
                else f"the {self.epochs_left:.2f} epochs left")
        message = (f"estimated time for {left} on {self.device}: "
                   f"{_about(total)} (timed on the first "
                   f"{plural(batches_done, 'batch', 'batches')})")
        if total > LONG_RUN_SECONDS and self.device.type == "cpu":
            message += ("\nthat is long on a CPU. A GPU takes minutes (device=d2l.try_gpu() picks "
                        "one when there is one)")
            if current_profile().name == "full":
                message += ("; or the quick profile, `%env D2LMINI_PROFILE=quick` before the first"
                            f" import: all the data, {plural(PROFILES['quick'].max_epochs, 'epoch')}, "
                            f"{_about(per_epoch * PROFILES['quick'].max_epochs)} here")
            message += (f"; this run saves a checkpoint after every epoch and every "
                        f"{self.checkpoint:g} s of training inside one, so it resumes after a "
                        "restart" if self.checkpoint else
                        "; checkpoint=PATH lets a run survive a restart")
            message += ("; Ctrl-C (or Jupyter's stop button) ends training early and keeps the "
                        "finished epochs")
        self._write(message)

    def _write(self, message: str) -> None:
        if self.bar is not None:
            self.bar.write(message, file=self.stream)
        else:
            print(message)
