"""The fast path against plain fp32, in one run: for each CNN chapter's own net at its own input
size (built by `chapter_nets.py` from the chapter's code), the seconds per training step of

- `fp32`: what `precision="fp32"` runs (float32, default memory format);
- `default`: what `train_ch5` runs by default here (bf16 autocast + channels_last where this
  machine computes bf16 natively, fp32 + channels_last otherwise;
  `D2LMINI_PRECISION=bf16` makes it the bf16 path even where bf16 is only emulated);
- `fp32 + channels_last`: float32 in channels-last memory, what the layout alone does (the
  default where bf16 is not native).

Each step is the loop's own step (forward under the chosen precision, cross-entropy, backward,
SGD with momentum) on a random batch of the chapter's batch size; one warm-up step, then
`--steps` timed steps. Usage: `python benchmarks/fast_path.py [--steps 3] [chapter ...]`.
Close other programs first: the numbers are only comparable within one run on a quiet machine.
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import torch

import d2lmini as d2l
from d2lmini import precision as precisions

from chapter_nets import TRAINED, chapter_net

CNN_CHAPTERS = ["09_alexnet", "10_vgg", "11_nin", "12_googlenet", "13_resnet", "14_densenet"]


def seconds_per_step(stem: str, mode: str | None, steps: int, batch_size: int = 128) -> float:
    """Mean seconds of `steps` training steps on `mode`'s path: "fp32", "bf16",
    "fp32 + channels_last", or None for the default (`$D2LMINI_PRECISION`, else auto)."""
    device = torch.device("cpu")
    torch.manual_seed(0)
    net, side = chapter_net(stem)
    X = torch.rand(batch_size, 1, side, side)
    if mode == "fp32 + channels_last":
        chosen = precisions.choose("fp32", device, net)
        net = net.to(memory_format=torch.channels_last)
        X = X.contiguous(memory_format=torch.channels_last)
    else:
        chosen = precisions.choose(mode, device, net)
        net, X = chosen.prepare(net), chosen.batch(X)
    y = torch.randint(0, 10, (batch_size,))
    optimizer = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9)

    def step() -> None:
        with chosen.autocast():
            scores = net(X)
        loss = torch.nn.functional.cross_entropy(scores.float(), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    step()  # warm-up: memory and kernel selection
    start = time.perf_counter()
    for _ in range(steps):
        step()
    return (time.perf_counter() - start) / steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("chapters", nargs="*", default=CNN_CHAPTERS,
                        help=f"any of {', '.join(sorted(TRAINED))} (default: 09-14)")
    parser.add_argument("--steps", type=int, default=3)
    args = parser.parse_args()
    unknown = sorted(set(args.chapters) - set(TRAINED))
    if unknown:
        parser.error(f"no such chapter {', '.join(unknown)}; choose from {', '.join(sorted(TRAINED))}")
    cpu = torch.device("cpu")
    native = d2l.bf16_native(cpu)
    default_path = precisions.choose(None, cpu, torch.nn.Conv2d(1, 1, 1))  # as for any conv net
    default_fast = default_path.fast
    print(f"{platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}, "
          f"CPU capability {torch.backends.cpu.get_cpu_capability()}, native bf16: {native}; "
          f"the default path here: {default_path.describe()}")
    print(f"seconds per training step of 128 images, mean of {args.steps} after one warm-up\n")
    print("| chapter | side | fp32 s | default s | fp32 / default | fp32 + channels_last s |")
    print("|---|---|---|---|---|---|")
    for stem in args.chapters:
        fp32 = seconds_per_step(stem, "fp32", args.steps)
        default = seconds_per_step(stem, None, args.steps) if default_fast else fp32
        same = default_path.name == "fp32" and default_path.channels_last
        layout = default if same else seconds_per_step(stem, "fp32 + channels_last", args.steps)
        print(f"| {stem} | {TRAINED[stem][1]} | {fp32:.2f} | {default:.2f}"
              f"{'' if default_fast else ' (= fp32)'} | {fp32 / default:.2f} | {layout:.2f}"
              f"{' (= default)' if same else ''} |",
              flush=True)


if __name__ == "__main__":
    main()
