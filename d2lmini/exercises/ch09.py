"""Exercise checks for 09_alexnet.ipynb."""

from __future__ import annotations

import random
from collections.abc import Callable

import numpy as np
import torch
from torch import nn

from ._core import ExerciseFailed, call, close, exercise, in_place, number, require, value  # noqa: F401

__all__: list[str] = ["check_alexnet_min_side", "check_imagenet_alexnet_params",
                      "check_random_flip", "check_predict_without_dropout"]

# The windows of the notebook's alexnet(), in order: (kernel, stride, padding).
_ALEXNET_WINDOWS = [(11, 4, 1), (3, 2, 0), (5, 1, 2), (3, 2, 0),
                    (3, 1, 1), (3, 1, 1), (3, 1, 1), (3, 2, 0)]


def _whole(answer: object, what: str) -> int:
    """The learner's answer as an int: one number (the course's one rule, `number`) that is whole."""
    got = number(value(answer), what)
    require(got.is_integer(), f"{what} is a count, a whole number; got {got:g}")
    return int(got)


def _alexnet_last_side(side: int) -> int:
    """The side of alexnet()'s last pooled maps for a `side` x `side` input; 0 if a layer's
    window no longer fits."""
    for k, s, p in _ALEXNET_WINDOWS:
        if side + 2 * p < k:
            return 0
        side = (side + 2 * p - k) // s + 1
    return side


@exercise("09.1 smallest input side of AlexNet")
def check_alexnet_min_side(answer: int) -> str:
    """Check the smallest input side for which the notebook's `alexnet()` runs (09_alexnet)."""
    side = _whole(answer, "your answer (a number of pixels)")
    valid = [n for n in range(1, 400) if _alexnet_last_side(n) == 5]
    smallest, largest = valid[0], valid[-1]
    nonempty = next(n for n in range(1, 400) if _alexnet_last_side(n) >= 1)
    last = _alexnet_last_side(side)
    if side == nonempty:
        raise ExerciseFailed(
            f"with side {side} the convolutions and pools still produce 1 x 1 maps, but the "
            f"flatten then gives 256 numbers and the first dense layer, nn.Linear(256 * 5 * 5, "
            f"4096), expects exactly 6400: the last maps must be 5 x 5")
    require(last == 5,
            f"with side {side} the last max-pool gives {last} x {last} maps"
            + (" (a window no longer fits)" if last == 0 else "")
            + f", so the flatten has 256 * {last}^2 = {256 * last * last} numbers, not the 6400 "
            "the first dense layer expects; apply n_out = floor((n + 2p - k) / s) + 1 layer by layer")
    require(side == smallest,
            f"side {side} works (5 x 5 maps at the end), but a smaller side does too: keep going "
            "down until the last maps stop being 5 x 5 (the floor in the formula lets several "
            "sides give the same output)")
    return f"every side from {smallest} to {largest} gives 5 x 5 maps; {smallest} is the smallest"


# The original two-GPU AlexNet (Krizhevsky et al., 2012): (c_in, c_out, k, groups) per convolution
# and (n_in, n_out) per dense layer; the last maps are 6 x 6 (the paper's sizes fit 227 x 227).
_IMAGENET_CONVS = [(3, 96, 11, 1), (96, 256, 5, 2), (256, 384, 3, 1), (384, 384, 3, 2),
                   (384, 256, 3, 2)]


def _alexnet_count(in_channels: int = 3, num_classes: int = 1000, last_side: int = 6,
                   grouped: bool = True, biases: bool = True) -> int:
    count = 0
    for c_in, c_out, k, groups in _IMAGENET_CONVS:
        c_in = in_channels if c_in == 3 else c_in
        count += c_out * (c_in // (groups if grouped else 1) * k * k + biases)
    for n_in, n_out in [(256 * last_side ** 2, 4096), (4096, 4096), (4096, num_classes)]:
        count += n_out * (n_in + biases)
    return count


@exercise("09.2 parameters of the original AlexNet")
def check_imagenet_alexnet_params(answer: int) -> str:
    """Check the parameter count of the original two-GPU ImageNet AlexNet (09_alexnet)."""
    count = _whole(answer, "your count")
    want = _alexnet_count()
    mistakes = {
        _alexnet_count(grouped=False):
            "that counts every filter of the second, fourth and fifth convolutions over all the "
            "input channels; on two GPUs each of them saw only the half on its own GPU "
            "(groups=2), so their weights are c_o * (c_i / 2) * k * k",
        _alexnet_count(biases=False): "you left out the biases: one per output channel or unit",
        _alexnet_count(last_side=5):
            "you used our network's 5 x 5 final maps; the original's last maps are 6 x 6, so the "
            "first dense layer has 256 * 6 * 6 = 9216 inputs",
        _alexnet_count(in_channels=1): "the original reads 3-channel colour images, not 1 channel",
        _alexnet_count(num_classes=10): "the original predicts 1000 ImageNet classes, not 10",
        61_100_840:
            "that is torchvision's alexnet(), a later single-GPU variant with 64, 192, 384, 256, "
            "256 channels; count the paper's 96, 256, 384, 384, 256",
        60_000_000: "the paper rounds to 60 million; count exactly, layer by layer",
    }
    require(count not in mistakes, mistakes.get(count, ""))
    require(count == want,
            f"{count:,} is not the count: a convolution has c_o * (c_i / groups * k * k + 1) "
            "parameters, a dense layer n_o * (n_i + 1); go layer by layer (convolutions 3 -> 96 "
            "-> 256 -> 384 -> 384 -> 256, dense 9216 -> 4096 -> 4096 -> 1000)")
    return f"{want:,} parameters, the paper's '60 million'"


def _seeded_call(fn: Callable, X: torch.Tensor, seed: int) -> torch.Tensor:
    """Call the learner's function with every random generator it might use seeded, restoring
    the caller's generators afterwards."""
    py_state, np_state = random.getstate(), np.random.get_state()
    try:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            random.seed(seed)
            np.random.seed(seed)
            # mirroring the batch it is given, in place, is allowed: the task says "mirrors
            # each image of a batch"; the check hands it a copy
            return call(fn, in_place(X.clone()))
    finally:
        random.setstate(py_state)
        np.random.set_state(np_state)


def _flip_pattern(X: torch.Tensor, out: object, shape: tuple[int, ...]) -> list[bool]:
    """Which images of `X` the learner's output `out` mirrored, with feedback for an output that
    is not, image by image, either the original or its left-right mirror."""
    require(isinstance(out, torch.Tensor) and tuple(out.shape) == shape,
            f"for a batch of shape {shape} return a tensor of the same shape, got "
            + (f"shape {tuple(out.shape)}" if isinstance(out, torch.Tensor) else type(out).__name__))
    if len(X) > 1 and torch.equal(out, X.flip(0)):
        raise ExerciseFailed("you reversed the order of the images in the batch (dim 0); "
                             "mirror each image left to right: its last dim, the width")
    flips = []
    for i, (img, new) in enumerate(zip(X, out)):
        if torch.equal(new, img):
            flips.append(False)
        elif torch.equal(new, img.flip(-1)):
            flips.append(True)
        elif torch.equal(new, img.flip(-2)):
            raise ExerciseFailed(
                f"image {i} of a batch of shape {shape} is upside down: you flipped the height "
                "(dim -2); a left-right mirror flips the width (dim -1)")
        else:
            raise ExerciseFailed(
                f"image {i} of a batch of shape {shape} is neither the original nor its mirror "
                "image: flip all channels of an image together, along the width (dim -1), and "
                "change nothing else")
    return flips


@exercise("09.3 a random flip per image")
def check_random_flip(random_flip: Callable[[torch.Tensor], torch.Tensor]) -> str:
    """Check a function that mirrors each image of a batch left to right with probability 1/2,
    with a fresh, independent random choice per image on every call (09_alexnet). The check
    calls it several times on the same batches and tests the choices statistically: about half
    flipped, different images on different calls, no dependence on an image's position."""
    g = torch.Generator().manual_seed(9)
    seeds = iter(range(100))
    X = torch.rand(1, 2, 4, 4, generator=g)  # a batch of one: any valid output will do
    _flip_pattern(X, _seeded_call(random_flip, X, next(seeds)), (1, 2, 4, 4))
    flipped = seen = same_as_left = pairs = 0
    half_share = {"first": [0, 0], "second": [0, 0]}
    for shape in [(64, 1, 6, 8), (63, 3, 5, 7)]:
        X = torch.rand(shape, generator=g)
        patterns = []
        for _ in range(6):
            flips = _flip_pattern(X, _seeded_call(random_flip, X, next(seeds)), shape)
            require(0 < sum(flips) < len(flips),
                    f"all {len(flips)} images of a batch got the same choice "
                    f"({'all flipped' if flips[0] else 'none flipped'}): draw one random choice "
                    "per image, not one for the whole batch")
            patterns.append(flips)
            flipped, seen = flipped + sum(flips), seen + len(flips)
            same_as_left += sum(a == b for a, b in zip(flips, flips[1:]))
            pairs += len(flips) - 1
            for i, f in enumerate(flips):
                half = half_share["first" if i < len(flips) // 2 else "second"]
                half[0], half[1] = half[0] + f, half[1] + 1
        for a in range(len(patterns)):
            for b in range(a):
                require(patterns[a] != patterns[b],
                        f"calls {b + 1} and {a + 1} on the same batch of shape {shape} flipped "
                        f"exactly the same {sum(patterns[a])} images: the choice must be random "
                        "and new on every call. Do not reseed inside the function (torch."
                        "manual_seed, random.seed or a fresh torch.Generator with a fixed seed "
                        "repeat the same draws every time), and do not pick images by position "
                        "or by content")
    share = flipped / seen
    require(0.4 <= share <= 0.6,
            f"{share:.0%} of {seen} images were flipped: flip each with probability 1/2")
    first, second = (k / n for k, n in half_share.values())
    require(abs(first - second) <= 0.2,
            f"{first:.0%} of the images in the first half of a batch were flipped but {second:.0%} "
            "in the second half: every image, wherever it sits, must be flipped with probability 1/2")
    agree = same_as_left / pairs
    require(0.35 <= agree <= 0.65,
            f"neighbouring images got the same choice in {agree:.0%} of {pairs} pairs, not about "
            "half: your choices follow the images' positions in the batch (such as every other "
            "image); draw an independent coin for each image")
    return (f"{seen} images in 12 calls on 1- and 3-channel batches: each mirrored or kept, "
            f"{share:.0%} mirrored, new choices on every call, none tied to a position")


def _dropout_net(g: torch.Generator) -> nn.Module:
    """A small classifier whose dropout layers sit one level down, in sub-networks, as in a real
    net: setting only the outer module's flag does not reach them. `net[0]` is the body, `net[1]`
    the head."""
    body = nn.Sequential(nn.Linear(8, 64), nn.ReLU(), nn.Dropout(0.5))
    head = nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Dropout(0.5), nn.Linear(64, 5))
    net = nn.Sequential(body, head)
    with torch.no_grad():
        for p in net.parameters():
            p.copy_(torch.randn(p.shape, generator=g))
    return net


def _mode(training: bool) -> str:
    return "training" if training else "evaluation"


def _all(training: bool) -> Callable[[nn.Module], None]:
    return lambda net: net.train(training)


def _body_frozen(net: nn.Module) -> None:
    """Training, with the body frozen in evaluation mode (as when fine-tuning only the head)."""
    net.train()
    net[0].eval()


def _head_sampling(net: nn.Module) -> None:
    """Evaluation, with the head's dropout kept on (as when sampling predictions with dropout)."""
    net.eval()
    net[1][2].train()


# (how the net is set before predict, how feedback describes it): one mode throughout, then
# layers in mixed modes, which `net.train(was_training)` would not restore
_MODE_CASES = [(_all(True), "training mode"), (_all(False), "evaluation mode"),
               (_all(True), "training mode"),
               (_body_frozen, "training mode with its body net[0] frozen in evaluation mode"),
               (_head_sampling, "evaluation mode with its head's dropout net[1][2] in training "
                                "mode")]

_RESTORE = ("remember every module's own flag before net.eval(), modes = [(m, m.training) for m "
            "in net.modules()], and give each its flag back afterwards, for m, was in modes: "
            "m.training = was (net.train(was_training) would set every submodule to one mode, "
            "and assigning net.training changes only the outer module)")


def _name(key: str) -> str:
    """`net[1][2]` for the submodule named "1.2"."""
    return "net" + "".join(f"[{part}]" for part in key.split(".")) if key else "net"


@exercise("09.4 predictions without dropout")
def check_predict_without_dropout(predict: Callable[[nn.Module, torch.Tensor], torch.Tensor]) -> str:
    """Check a `predict(net, X)` that returns class labels with dropout switched off and leaves
    the net, every submodule included, in the mode it found it, also when its layers were in
    different modes (09_alexnet)."""
    g = torch.Generator().manual_seed(4)
    for arrange, described in _MODE_CASES:
        net, X = _dropout_net(g), torch.randn(200, 8, generator=g)
        net.eval()
        with torch.no_grad():
            want = net(X).argmax(dim=1)
        arrange(net)
        before = {key: m.training for key, m in net.named_modules()}
        mixed = len(set(before.values())) > 1
        dropouts = [m for m in net.modules() if isinstance(m, nn.Dropout)]
        came = f"the net came in {described}"
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(0)
            got = call(predict, net, X)
        require(isinstance(got, torch.Tensor), f"return a tensor of labels, got {type(got).__name__}")
        require(got.shape == want.shape,
                f"for 200 examples and 5 classes return 200 labels, got shape {tuple(got.shape)}: "
                "turn the scores into labels with argmax over the class dim (dim 1)")
        require(not got.is_floating_point(),
                f"labels are integers, got {got.dtype}: use argmax, not max or softmax")
        require(all(m.p == 0.5 for m in dropouts),
                "you changed the dropout probability p of the net's Dropout layers: leave the "
                "net's settings alone and switch dropout off with net.eval()")
        agree = (got.cpu() == want).float().mean().item()
        require(agree == 1,
                f"{came}, and only {agree:.0%} of your labels match those of the net with dropout "
                "off: dropout was still zeroing units; call net.eval() first, which switches "
                "every submodule")
        after = {key: m.training for key, m in net.named_modules()}
        if after == before:
            continue
        if not mixed and after[""] != before[""]:
            raise ExerciseFailed(f"{came} and left in {_mode(after[''])} mode: {_RESTORE}")
        left = [key for key in before if after[key] != before[key]]
        modules = dict(net.named_modules())
        if not mixed:
            which = ("its Dropout layers" if all(isinstance(modules[k], nn.Dropout) for k in left)
                     else "its Dropout layers and other submodules"
                     if {k for k, m in modules.items() if isinstance(m, nn.Dropout)} <= set(left)
                     else "some of its submodules")
            raise ExerciseFailed(
                f"{came}, and its own flag says so again, but {which} were left in "
                f"{_mode(not before[''])} mode"
                + (", so dropout stays off in training" if before[""] else "") + f": {_RESTORE}")
        # each changed subtree named by its top module
        tops = [k for k in left if not any(k.startswith(f"{p}.") for p in left if p)]
        shown = ", ".join(f"{_name(k)} ({type(modules[k]).__name__}) came in "
                          f"{_mode(before[k])} mode and left in {_mode(after[k])} mode"
                          for k in tops[:3]) + (", ..." if len(tops) > 3 else "")
        raise ExerciseFailed(f"{came}, and not every module got its own mode back: {shown}; "
                             f"{_RESTORE}")
    return ("labels equal the dropout-free ones, and the net and each of its submodules end in "
            "the mode they started in: training, evaluation, or a mix of the two")
