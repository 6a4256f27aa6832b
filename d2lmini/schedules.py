"""Learning-rate schedules that follow an optimizer's steps (taught in 12_googlenet)."""

from __future__ import annotations

import math
import warnings

import torch

from . import validate


def cosine_schedule(optimizer: torch.optim.Optimizer, total_steps: int
                    ) -> torch.optim.lr_scheduler.LambdaLR:
    """Lower the learning rate along half a cosine, lr_t = lr_0 (1 + cos(pi t / T)) / 2, advancing
    after every `optimizer.step()`, so loops that only call `step()` (such as `train_ch5`) follow
    it. Past `total_steps` the rate stays at 0 (with one warning), never climbs back; an optimizer
    can follow only one schedule. The schedule's `settings` ({"kind": "cosine", "total_steps": T})
    say what it is, for checkpoints (12_googlenet)."""
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
    schedule.settings = {"kind": "cosine", "total_steps": total_steps}
    optimizer.register_step_post_hook(lambda opt, args, kwargs: schedule.step())
    optimizer._d2lmini_schedule = schedule  # found by checkpoints, refused a second time
    return schedule
