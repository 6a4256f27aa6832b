"""Checkpoints of a training run, so that a long run survives a kernel restart (taught in
09_alexnet).

`train_ch3(..., checkpoint=PATH)` and `train_ch5(..., checkpoint=PATH)` write, after every
finished epoch, one file holding the net's and the optimizer's state, the state of a schedule
attached to the optimizer (`d2l.cosine_schedule`), every random-number generator's state, the
epoch count and the history. The file is written next to PATH under a temporary name and then
renamed over PATH, so it is always either the old checkpoint or the new one, never half of one.
When PATH exists as a run starts, the run resumes after its last finished epoch.

The file holds only tensors, numbers, strings and lists, and is read with
`torch.load(weights_only=True)`, which refuses anything else: loading it runs no code.
"""

from __future__ import annotations

import os
import random
from pathlib import Path

import torch
from torch import nn

from . import validate

FORMAT = "d2lmini-checkpoint-1"


class CheckpointMismatch(ValueError):
    """A checkpoint file belongs to another net, optimizer or run (09_alexnet)."""


def _random_state() -> dict:
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


def _set_random_state(state: dict) -> None:
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


class Checkpoint:
    """The checkpoint file of one training run (09_alexnet)."""

    def __init__(self, path: str | os.PathLike, net: object,
                 optimizer: torch.optim.Optimizer | None, params: list[torch.Tensor] | None,
                 num_epochs: int):
        if not isinstance(path, (str, os.PathLike)):
            validate.fail("checkpoint", "a file path (str or pathlib.Path)", path, error=TypeError)
        self.path = Path(path).expanduser()
        if self.path.is_dir():
            validate.fail("checkpoint", "a file path", str(self.path), got=f"the folder {self.path}",
                          hint="name a file in it, e.g. checkpoint='runs/alexnet.pt'")
        self.net, self.optimizer, self.num_epochs = net, optimizer, num_epochs
        self.params = list(params) if params is not None else []  # a scratch model's tensors

    def _state(self, epoch: int, history: dict, steps: int) -> dict:
        schedule = _schedule(self.optimizer)
        return {
            "format": FORMAT,
            "net_class": type(self.net).__name__,
            "net": self.net.state_dict() if isinstance(self.net, nn.Module) else None,
            "params": [p.detach().cpu() for p in self.params],
            "optimizer_class": type(self.optimizer).__name__ if self.optimizer else None,
            "optimizer": self.optimizer.state_dict() if self.optimizer else None,
            "schedule": schedule.state_dict() if schedule is not None else None,
            "random": _random_state(),
            "epoch": epoch,
            "num_epochs": self.num_epochs,
            "steps": steps,
            "history": {key: list(values) for key, values in history.items()},
        }

    def save(self, epoch: int, history: dict, steps: int) -> None:
        """Write the state after `epoch` finished epochs, atomically."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f".{self.path.name}.tmp{os.getpid()}")
        try:
            torch.save(self._state(epoch, history, steps), tmp)
            os.replace(tmp, self.path)
        finally:
            tmp.unlink(missing_ok=True)

    def _refuse(self, what: str) -> None:
        raise CheckpointMismatch(f"checkpoint {self.path} does not belong to this run: {what}; "
                                 "pass another checkpoint= path, or delete the file to start over")

    def load(self) -> tuple[int, dict, int] | None:
        """Restore the net, optimizer, schedule and random state from the file, if there is one,
        and return `(finished epochs, history, steps)`; None when there is no file."""
        if not self.path.exists():
            return None
        try:
            state = torch.load(self.path, map_location="cpu", weights_only=True)
        except Exception as error:  # a truncated or foreign file: say which, never guess
            raise CheckpointMismatch(f"checkpoint {self.path} cannot be read as a d2lmini "
                                     f"checkpoint ({type(error).__name__}: {error}); delete it "
                                     "to start over") from None
        if not isinstance(state, dict) or state.get("format") != FORMAT:
            self._refuse("it is not a d2lmini checkpoint")
        if state["net_class"] != type(self.net).__name__:
            self._refuse(f"it holds a {state['net_class']}, the net is a {type(self.net).__name__}")
        if isinstance(self.net, nn.Module):
            own = self.net.state_dict()
            saved = state["net"]
            missing, extra = sorted(set(own) - set(saved)), sorted(set(saved) - set(own))
            if missing or extra:
                self._refuse(f"the net's parameters differ (missing from the file: "
                             f"{missing[:3] or 'none'}, not in the net: {extra[:3] or 'none'})")
            for key, value in own.items():
                if tuple(value.shape) != tuple(saved[key].shape):
                    self._refuse(f"{key} is {tuple(saved[key].shape)} in the file and "
                                 f"{tuple(value.shape)} in the net")
        shapes = [tuple(p.shape) for p in self.params]
        saved_shapes = [tuple(p.shape) for p in state["params"]]
        if shapes != saved_shapes:
            self._refuse(f"params are shaped {saved_shapes} in the file and {shapes} here")
        own_opt = type(self.optimizer).__name__ if self.optimizer else None
        if state["optimizer_class"] != own_opt:
            self._refuse(f"it was trained with {state['optimizer_class']}, this run uses {own_opt}")
        if self.optimizer is not None:
            sizes = [len(g["params"]) for g in self.optimizer.param_groups]
            saved_sizes = [len(g["params"]) for g in state["optimizer"]["param_groups"]]
            if sizes != saved_sizes:
                self._refuse(f"the optimizer's parameter groups hold {saved_sizes} tensors in the "
                             f"file and {sizes} here")
        schedule = _schedule(self.optimizer)
        if (state["schedule"] is None) != (schedule is None):
            self._refuse("a schedule is attached to " + ("this optimizer but not to the saved one"
                                                        if schedule else "the saved optimizer only"))
        if state["num_epochs"] != self.num_epochs:
            self._refuse(f"it was a run of {state['num_epochs']} epochs, this one has "
                         f"{self.num_epochs}")
        if isinstance(self.net, nn.Module):
            self.net.load_state_dict(state["net"])
        with torch.no_grad():
            for p, saved in zip(self.params, state["params"]):
                p.copy_(saved)
        if self.optimizer is not None:
            self.optimizer.load_state_dict(state["optimizer"])
        if schedule is not None:
            schedule.load_state_dict(state["schedule"])
        _set_random_state(state["random"])
        return state["epoch"], state["history"], state["steps"]
