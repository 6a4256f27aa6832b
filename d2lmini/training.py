"""Training loops: accuracy, the softmax/MLP loop (`train_ch3`) and the CNN loop (`train_ch5`).

Both loops keep their running sums on the device and read them once per epoch, so a GPU is
never stalled by a per-batch `.item()`. A non-finite loss is tracked the same way and reported,
with its epoch and batch, at the end of the epoch in which it appeared.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

import torch
from torch import nn

from .device import get_device
from .linear import sgd
from .plotting import Animator
from .profile import cap_epochs, current_profile


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite during training (02_softmax_regression)."""


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


def _check_epochs(num_epochs: object) -> None:
    if isinstance(num_epochs, bool) or not isinstance(num_epochs, int) or num_epochs < 1:
        raise ValueError(f"num_epochs must be a positive int, got {num_epochs!r}")


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


def evaluate_accuracy(data_iter: Iterable, net: Callable,
                      device: torch.device | str | None = None) -> float:
    """Fraction of correct predictions over `data_iter`, in eval mode and without gradients; the
    net's train/eval mode is restored afterwards. `device` defaults to the net's
    (02_softmax_regression)."""
    device = _net_device(net) if device is None else get_device(device)
    was_training = getattr(net, "training", None)
    if isinstance(net, nn.Module):
        net.eval()
    correct = torch.zeros((), dtype=torch.int64, device=device)
    count = 0
    try:
        with torch.no_grad():
            for X, y in _moved(data_iter, device):
                X, y = X.to(device), y.to(device)
                correct += _correct(net(X), y)
                count += len(y)
    finally:
        if isinstance(net, nn.Module):
            net.train(was_training)
    if count == 0:
        raise ValueError("data_iter yielded no examples")
    return correct.item() / count


class _EpochStats:
    """Device-side sums for one epoch, plus the first batch whose loss was not finite."""

    def __init__(self, device: torch.device):
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

    def finish(self, epoch: int, num_batches: int) -> tuple[float, float]:
        """Read the sums once; raise if some batch's loss was not finite."""
        first_bad = int(self.first_bad)
        if first_bad >= 0:
            raise TrainingDiverged(
                f"training diverged: the loss became NaN or inf at epoch {epoch}, batch "
                f"{first_bad + 1} of {num_batches}; lower the learning rate or check the loss")
        if self.count == 0:
            raise ValueError("train_iter yielded no examples")
        return self.loss.item() / self.count, self.correct.item() / self.count


def _loss_sum_and_mean(loss: Callable, y_hat: torch.Tensor, y: torch.Tensor):
    """The minibatch loss both summed and averaged over its examples, whatever `loss` returns."""
    value = loss(y_hat, y)
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


def _fit(net, train_iter: Iterable, test_iter: Iterable, device: torch.device,
         num_epochs: int, step: Callable) -> dict[str, list[float]]:
    """The epoch loop shared by train_ch3 and train_ch5. `step(X, y)` updates the parameters on
    one batch and returns `(summed loss, predictions)`. The callers have checked `num_epochs`."""
    run = cap_epochs(num_epochs)
    if run < num_epochs:
        print(f"({current_profile().name} profile: {run} of {num_epochs} epochs)")
    history = {"train_loss": [], "train_acc": [], "test_acc": [], "seconds": []}
    animator = Animator.in_notebook(run)
    num_batches = len(train_iter) if hasattr(train_iter, "__len__") else "?"
    for epoch in range(1, run + 1):
        if isinstance(net, nn.Module):
            net.train()
        timer, stats = Timer(), _EpochStats(device)
        for batch, (X, y) in enumerate(_moved(train_iter, device)):
            X, y = X.to(device, non_blocking=True), y.to(device, non_blocking=True)
            loss_sum, y_hat = step(X, y)
            stats.add(batch, loss_sum, y_hat, y)
        train_loss, train_acc = stats.finish(epoch, num_batches)
        test_acc = evaluate_accuracy(test_iter, net, device)
        seconds = timer.stop()
        print(f"epoch {epoch}/{run}, loss {train_loss:.4f}, train acc {train_acc:.3f}, "
              f"test acc {test_acc:.3f}, {seconds:.1f} sec, "
              f"{stats.count / seconds:.0f} examples/sec")
        for key, value in zip(history, (train_loss, train_acc, test_acc, seconds)):
            history[key].append(value)
        if animator is not None:
            animator.add(epoch, (train_loss, train_acc, test_acc))
    return history


def train_ch3(net: Callable, train_iter: Iterable, test_iter: Iterable, loss: Callable,
              num_epochs: int, batch_size: int, params: list[torch.Tensor] | None = None,
              lr: float | None = None, optimizer: torch.optim.Optimizer | None = None
              ) -> dict[str, list[float]]:
    """Train a classifier for softmax regression and MLPs, on the net's device (the CPU for
    scratch models).

    With `params` and `lr` it steps with `d2l.sgd` on the gradient of the *summed* minibatch loss;
    with `optimizer` it steps that optimizer on the gradient of the *mean* loss. Either way the
    loss may be per-example or an nn loss with reduction 'mean'/'sum': it is converted, never
    divided twice. `batch_size` is kept for the classic signature; the real size of each batch is
    used. Prints one line per epoch (examples/sec counts training examples over the epoch's whole
    time), draws live curves in Jupyter, returns the per-epoch history (02_softmax_regression)."""
    _check_epochs(num_epochs)
    if optimizer is None and (params is None or lr is None):
        raise ValueError("train_ch3 needs either optimizer=... or both params=... and lr=...")

    def step(X, y):
        y_hat = net(X)
        loss_sum, loss_mean = _loss_sum_and_mean(loss, y_hat, y)
        if optimizer is not None:
            optimizer.zero_grad()
            loss_mean.backward()
            optimizer.step()
        else:
            for p in params:
                p.grad = None
            loss_sum.backward()
            sgd(params, lr, len(y))
        return loss_sum, y_hat

    return _fit(net, train_iter, test_iter, _net_device(net), num_epochs, step)


def train_ch5(net: nn.Module, train_iter: Iterable, test_iter: Iterable, batch_size: int,
              optimizer: torch.optim.Optimizer, device: torch.device | str | None,
              num_epochs: int) -> dict[str, list[float]]:
    """Train a CNN with cross-entropy on `device` (None: the best available): moves the net and
    the batches there, prints one line per epoch (loss, train acc, test acc, seconds,
    examples/s), draws live curves in Jupyter and returns the per-epoch history (08_lenet)."""
    _check_epochs(num_epochs)
    device = get_device(device)
    net = net.to(device)
    loss = nn.CrossEntropyLoss()
    print(f"training on {device}")

    def step(X, y):
        y_hat = net(X)
        l = loss(y_hat, y)
        optimizer.zero_grad()
        l.backward()
        optimizer.step()
        return l * len(y), y_hat

    return _fit(net, train_iter, test_iter, device, num_epochs, step)


def check_accuracy(history: dict[str, list[float]], floor: float) -> float:
    """Assert that the last epoch's test accuracy reaches `floor`, in the full profile only.

    The smoke profile trains on a few hundred images for one epoch, where no accuracy floor is
    meaningful: there it prints the floor it would check and returns. Returns the accuracy
    (02_softmax_regression)."""
    if not 0 <= floor <= 1:
        raise ValueError(f"floor must lie in [0, 1], got {floor!r}")
    if not history.get("test_acc"):
        raise ValueError("history has no test_acc entries: pass what train_ch3/train_ch5 returned")
    acc = history["test_acc"][-1]
    name = current_profile().name
    if name == "full":
        assert acc >= floor, f"test accuracy {acc:.3f} is below the floor {floor:.3f}"
        print(f"test accuracy {acc:.3f} >= floor {floor:.3f}")
    else:
        print(f"test accuracy {acc:.3f} ({name} profile; the floor {floor:.3f} is checked in full)")
    return acc


def cosine_schedule(optimizer: torch.optim.Optimizer, total_steps: int
                    ) -> torch.optim.lr_scheduler.CosineAnnealingLR:
    """Lower the learning rate along half a cosine, lr_t = lr_0 (1 + cos(pi t / T)) / 2, advancing
    after every `optimizer.step()`, so loops that only call `step()` (such as `train_ch5`) follow
    it (12_googlenet)."""
    if isinstance(total_steps, bool) or not isinstance(total_steps, int) or total_steps < 1:
        raise ValueError(f"total_steps must be a positive int, got {total_steps!r}")
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=total_steps)
    optimizer.register_step_post_hook(lambda opt, args, kwargs: schedule.step())
    return schedule
