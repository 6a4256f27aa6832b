"""Checkpoints of a training run, so that a long run survives a kernel restart (taught in
09_alexnet).

`train_ch3(..., checkpoint=PATH)` and `train_ch5(..., checkpoint=PATH)` write one file after
every finished epoch and, inside an epoch, every `checkpoint_every` seconds of training. It holds
the net's and the optimizer's state, the state of a schedule attached to the optimizer
(`d2l.cosine_schedule`), the fp16 path's loss scaler, every random-number generator's state, the
epoch count, the history and, inside an epoch, the position: the batches done, the random state
when the epoch began and the epoch's running sums. The file is written next to PATH under a
temporary name and then renamed over PATH, so it is always either the old checkpoint or the new
one, never half of one. When PATH exists as a run starts, the run resumes where the file was
taken: after its last finished epoch, or at the saved batch, drawing the same shuffle, so the
resumed run equals a straight one.

A checkpoint also records the run it belongs to: the profile, the data's size (training batches,
batch size, image size), the net's structure (its repr, which shows a changed dropout p), the
optimizer's class and hyperparameters per parameter group, the attached schedule's settings and
the number of epochs. A run whose record differs in any of these is not resumed from the file:
`CheckpointMismatch` names the file, each field that differs (was / now) and the two ways out. A
path where no file can be written (a read-only place such as /proc, a path under a file) is
refused when the run starts, not after its first epoch.

The file holds only tensors, numbers, strings and lists, and is read with
`torch.load(weights_only=True)`, which refuses anything else: loading it runs no code.
"""

from __future__ import annotations

import difflib
import numbers
import os
import random
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

import torch
from torch import nn

from . import validate
from .profile import current_profile

FORMAT = "d2lmini-checkpoint-2"
OLD_FORMATS = ("d2lmini-checkpoint-1",)  # written before checkpoints recorded their run


class CheckpointMismatch(ValueError):
    """A checkpoint file belongs to another net, optimizer or run (09_alexnet)."""


def random_state() -> dict:
    """Every random-number generator's state (python, torch, CUDA, numpy), as a checkpoint holds it."""
    state = {"python": random.getstate(), "torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    try:
        import numpy as np
    except ImportError:
        return state
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    state["numpy"] = [kind, torch.from_numpy(keys.astype("int64")), pos, has_gauss, cached]
    return state


def set_random_state(state: dict) -> None:
    """Put back a state from `random_state()`."""
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
    if "numpy" in state:
        import numpy as np
        kind, keys, pos, has_gauss, cached = state["numpy"]
        np.random.set_state((kind, keys.numpy().astype("uint32"), pos, has_gauss, cached))


def _schedule(optimizer: torch.optim.Optimizer | None):
    return getattr(optimizer, "_d2lmini_schedule", None)


def _plain(value: object) -> object:
    """A hyperparameter as a number, string, bool, None or list of them (what a checkpoint can hold
    and compare); a one-element tensor as its number; anything else (a tensor of many values, an
    object) as None, since it cannot identify the run."""
    if isinstance(value, torch.Tensor):
        return value.item() if value.numel() == 1 else None
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    return None


def _batches(train_iter: Iterable) -> int | None:
    try:
        return len(train_iter)
    except TypeError:  # a generator: no length
        return None


def _batch_size(train_iter: Iterable) -> int | None:
    """The loader's batch size (d2l's loaders and torch's DataLoader say it); for a list of
    batches, the size of the first; None when the loader does not say."""
    size = getattr(train_iter, "batch_size", None)
    if isinstance(size, numbers.Integral):
        return int(size)
    if isinstance(train_iter, Sequence) and len(train_iter) > 0:
        first = train_iter[0]
        if isinstance(first, (tuple, list)) and len(first) == 2 and hasattr(first[1], "__len__"):
            return len(first[1])
    return None


def _schedule_settings(schedule) -> str | None:
    """What identifies an attached schedule besides its base rates (which the parameter groups'
    initial_lr already record): its kind and settings, read from the schedule's `settings` dict
    (`d2l.cosine_schedule` sets {"kind": "cosine", "total_steps": T}); for a schedule without
    one, its class and the numbers its step function was made with."""
    if schedule is None:
        return None
    settings = getattr(schedule, "settings", None)
    if not isinstance(settings, dict):
        settings = {}
        for fn in getattr(schedule, "lr_lambdas", []):
            code, cells = getattr(fn, "__code__", None), getattr(fn, "__closure__", None) or ()
            for name, cell in zip(code.co_freevars if code else (), cells):
                try:
                    value = cell.cell_contents
                except ValueError:  # a cell not filled yet
                    continue
                if isinstance(value, (numbers.Real, str)) and not isinstance(value, bool):
                    settings[name] = _plain(value)
    kind = settings.get("kind")
    described = ", ".join(f"{k}={settings[k]}" for k in sorted(settings) if k != "kind")
    return f"{kind} schedule ({described})" if kind else f"{type(schedule).__name__}({described})"


def describe_run(net: object, optimizer: torch.optim.Optimizer | None,
                 params: list[torch.Tensor], num_epochs: int, train_iter: Iterable | None,
                 lr: float | None = None) -> dict:
    """The record of a run a checkpoint keeps beside its state: every field that makes another
    run of the same net and optimizer a different run (09_alexnet). A field a run cannot tell
    (the batch size of a generator) is None."""
    record = {"profile": current_profile().name}
    if train_iter is not None:
        record["training batches"] = _batches(train_iter)
        record["batch size"] = _batch_size(train_iter)
        resize = getattr(train_iter, "resize", None)
        record["image size"] = _plain(resize)
    # a module's repr may show an object's address (a function it holds): not part of the run
    record["net"] = (re.sub(r" at 0x[0-9a-fA-F]+", " at 0x...", repr(net)) if isinstance(net, nn.Module)
                     else type(net).__name__)
    record["params"] = [list(p.shape) for p in params]
    if optimizer is None and lr is not None:  # a scratch model stepped by d2l.sgd with this lr
        record["lr (d2l.sgd)"] = float(lr)
    record["optimizer"] = type(optimizer).__name__ if optimizer is not None else None
    record["param groups"] = len(optimizer.param_groups) if optimizer is not None else 0
    for i, group in enumerate(optimizer.param_groups if optimizer is not None else []):
        scheduled = "initial_lr" in group  # a schedule rewrites lr as it runs: its start is the setting
        for key in sorted(group):
            if key == "params" or (scheduled and key == "lr"):
                continue
            value = _plain(group[key])
            if value is not None or group[key] is None:
                name = "lr" if key == "initial_lr" else key
                record[f"{name} (param group {i})"] = value
    record["schedule"] = _schedule_settings(_schedule(optimizer))
    record["epochs"] = num_epochs
    return record


def _shown(value: object) -> str:
    if value is None:
        return "none"
    return repr(value)


def _net_difference(was: str, now: str) -> str:
    """The lines in which two nets' reprs differ, e.g. `(3): Dropout(p=0.5, ...)`."""
    was_lines, now_lines = was.splitlines(), now.splitlines()
    old, new = [], []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, was_lines, now_lines).get_opcodes():
        if tag != "equal":
            old += [line.strip() for line in was_lines[i1:i2]]
            new += [line.strip() for line in now_lines[j1:j2]]

    def lines(chosen: list[str]) -> str:
        shown = " | ".join(chosen[:3]) + (f" | ... ({len(chosen) - 3} more lines)" if len(chosen) > 3 else "")
        return f"`{shown}`" if chosen else "(no such lines)"
    return f"was {lines(old)}, now {lines(new)}"


def differences(saved: dict, now: dict) -> list[str]:
    """One line per field in which two run records differ: `field: was X, now Y`."""
    lines = []
    for field in list(saved) + [f for f in now if f not in saved]:
        was, new = saved.get(field), now.get(field)
        if was == new:
            continue
        if field.endswith(")") and "(param group " in field and (field in saved) != (field in now):
            continue  # a setting of one optimizer class only (that the class differs is said once),
            # or of one torch version only (an upgrade added it): not a difference of its own
        if field == "net" and isinstance(was, str) and isinstance(new, str) and "\n" in was + new:
            lines.append(f"net: {_net_difference(was, new)}")
        else:
            lines.append(f"{field}: was {_shown(was)}, now {_shown(new)}")
    return lines


def _writable(path: Path) -> None:
    """Refuse, naming the path, a checkpoint path where no file can be written: a folder on the
    way that is a file, a read-only or virtual file system (/proc). Found by writing and removing
    a probe file next to it, the way a save writes; the folder is made, as a save would."""
    expected = "a path where a checkpoint file can be written"
    hint = "pass a path in a folder you can write, e.g. checkpoint='runs/alexnet.pt'"
    for parent in path.parents:
        if parent.exists():
            if not parent.is_dir():
                validate.fail("checkpoint", expected, str(path), got=f"{str(path)!r}: {parent} is a "
                              "file, not a folder", hint=hint)
            break
    if path.exists() and not path.is_file():
        validate.fail("checkpoint", expected, str(path), got=f"{str(path)!r}, which is not a "
                      "regular file", hint=hint)
    probe = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(probe, "wb") as f:
            f.write(b"d2lmini")
    except OSError as error:
        validate.fail("checkpoint", expected, str(path), got=f"{str(path)!r}: writing in "
                      f"{path.parent} fails ({type(error).__name__}: {error.strerror or error})",
                      hint=hint)
    finally:
        try:
            probe.unlink(missing_ok=True)
        except OSError:
            pass


class Checkpoint:
    """The checkpoint file of one training run (09_alexnet). `train_iter` is the run's training
    loader (its size goes into the run's record), `lr` a scratch model's d2l.sgd rate; the
    profile is read from the environment."""

    def __init__(self, path: str | os.PathLike, net: object,
                 optimizer: torch.optim.Optimizer | None, params: list[torch.Tensor] | None,
                 num_epochs: int, *, train_iter: Iterable | None, lr: float | None = None):
        if not isinstance(path, (str, os.PathLike)):
            validate.fail("checkpoint", "a file path (str or pathlib.Path)", path, error=TypeError)
        self.path = Path(path).expanduser()
        if self.path.is_dir():
            validate.fail("checkpoint", "a file path", str(self.path), got=f"the folder {self.path}",
                          hint="name a file in it, e.g. checkpoint='runs/alexnet.pt'")
        _writable(self.path)
        self.net, self.optimizer, self.num_epochs = net, optimizer, num_epochs
        self.params = list(params) if params is not None else []  # a scratch model's tensors
        # taken now, before any step changes the optimizer: what this run is
        self.run = describe_run(net, optimizer, self.params, num_epochs, train_iter, lr)

    def _state(self, epoch: int, history: dict, steps: int, position: dict | None,
               scaler: torch.amp.GradScaler | None) -> dict:
        schedule = _schedule(self.optimizer)
        return {
            "format": FORMAT,
            "run": self.run,
            "net_class": type(self.net).__name__,
            "net": self.net.state_dict() if isinstance(self.net, nn.Module) else None,
            "params": [p.detach().cpu() for p in self.params],
            "optimizer_class": type(self.optimizer).__name__ if self.optimizer else None,
            "optimizer": self.optimizer.state_dict() if self.optimizer else None,
            "schedule": schedule.state_dict() if schedule is not None else None,
            "random": random_state(),
            "epoch": epoch,
            "num_epochs": self.num_epochs,
            "steps": steps,
            "history": {key: list(values) for key, values in history.items()},
            "position": position,
            "scaler": scaler.state_dict() if scaler is not None else None,
        }

    def save(self, epoch: int, history: dict, steps: int, position: dict | None = None,
             scaler: torch.amp.GradScaler | None = None) -> None:
        """Write the state after `epoch` finished epochs, atomically. Inside an epoch, `position`
        says where: the batches done, the random state when the epoch began (so a resume draws
        the same shuffle) and the epoch's running sums; `scaler` is the fp16 path's loss scaler."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f".{self.path.name}.tmp{os.getpid()}")
        try:
            torch.save(self._state(epoch, history, steps, position, scaler), tmp)
            os.replace(tmp, self.path)
        finally:
            tmp.unlink(missing_ok=True)

    def _refuse(self, *differing: str) -> None:
        fields = "\n".join(f"  {line}" for line in differing)
        raise CheckpointMismatch(
            f"checkpoint {self.path} belongs to another run, so this run does not resume from it:\n"
            f"{fields}\npass another checkpoint= path for this run, or delete {self.path} to start "
            "it over")

    def _check_state_shapes(self, state: dict) -> None:
        """What a net's repr may not show (a custom module's own parameters): the state's names
        and shapes, and the optimizer's groups."""
        if isinstance(self.net, nn.Module):
            own = self.net.state_dict()
            saved = state["net"]
            missing, extra = sorted(set(own) - set(saved)), sorted(set(saved) - set(own))
            if missing or extra:
                self._refuse(f"the net's parameters: missing from the file {missing[:3] or 'none'}, "
                             f"not in the net {extra[:3] or 'none'}")
            for key, value in own.items():
                if tuple(value.shape) != tuple(saved[key].shape):
                    self._refuse(f"{key}: was {tuple(saved[key].shape)}, now {tuple(value.shape)}")
        if self.optimizer is not None:
            sizes = [len(g["params"]) for g in self.optimizer.param_groups]
            saved_sizes = [len(g["params"]) for g in state["optimizer"]["param_groups"]]
            if sizes != saved_sizes:
                self._refuse(f"tensors in the optimizer's param groups: was {saved_sizes}, now {sizes}")

    def load(self, scaler: torch.amp.GradScaler | None = None
             ) -> tuple[int, dict, int, dict | None] | None:
        """Restore the net, optimizer, schedule, loss scaler and random state from the file, if
        there is one, and return `(finished epochs, history, steps, position)`, where `position`
        is None for a checkpoint taken between epochs (see `save`); None when there is no file.
        A scaler is restored only when the file has one (a run may resume on another path)."""
        if not self.path.exists():
            return None
        try:
            state = torch.load(self.path, map_location="cpu", weights_only=True)
        except Exception as error:  # a truncated or foreign file: say which, never guess
            raise CheckpointMismatch(f"checkpoint {self.path} cannot be read as a d2lmini "
                                     f"checkpoint ({type(error).__name__}: {error}); delete it "
                                     "to start over") from None
        found = state.get("format") if isinstance(state, dict) else None
        if found in OLD_FORMATS:
            raise CheckpointMismatch(
                f"checkpoint {self.path} was written by an earlier d2lmini ({found}), which did not "
                "record the run it belongs to (profile, data size, hyperparameters), so it cannot "
                f"be resumed safely: delete {self.path} to start the run over, or pass another "
                "checkpoint= path")
        if found != FORMAT:
            raise CheckpointMismatch(f"checkpoint {self.path} is not a d2lmini checkpoint (format "
                                     f"{found!r}, expected {FORMAT!r}); pass another checkpoint= "
                                     f"path, or delete {self.path}")
        differing = differences(state["run"], self.run)
        if differing:
            self._refuse(*differing)
        self._check_state_shapes(state)
        if isinstance(self.net, nn.Module):
            self.net.load_state_dict(state["net"])
        with torch.no_grad():
            for p, saved in zip(self.params, state["params"]):
                p.copy_(saved)
        schedule = _schedule(self.optimizer)
        if self.optimizer is not None:
            self.optimizer.load_state_dict(state["optimizer"])
        if schedule is not None:
            schedule.load_state_dict(state["schedule"])
        if scaler is not None and state["scaler"] is not None:
            scaler.load_state_dict(state["scaler"])
        set_random_state(state["random"])
        return state["epoch"], state["history"], state["steps"], state["position"]
