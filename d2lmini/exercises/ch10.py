"""Exercise checks for 10_vgg.ipynb."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from ._core import (ExerciseFailed, attempt, call, close, exercise, matches, number,  # noqa: F401
                    require, value, whole_number)

__all__: list[str] = ["check_vgg_block_any_kernel", "check_vgg16_params",
                      "check_receptive_field_side"]


def _block_output(convs: Sequence[nn.Conv2d], X: torch.Tensor, k: int, pool: str = "max",
                  relu: str = "after") -> torch.Tensor:
    """What a VGG block built from these convolutions' weights computes: each convolution with
    zero padding (k - 1) // 2, a ReLU after it, then 2 x 2 pooling with stride 2. `pool` and
    `relu` give the variants learners write by mistake ("avg"; "before", "none", "last")."""
    for i, conv in enumerate(convs):
        if relu == "before":
            X = F.relu(X)
        X = F.conv2d(X, conv.weight, conv.bias, padding=(k - 1) // 2)
        if relu == "after" or relu == "last" and i == len(convs) - 1:
            X = F.relu(X)
    return F.max_pool2d(X, 2, 2) if pool == "max" else F.avg_pool2d(X, 2, 2)


def _run_block(block: nn.Module, X: torch.Tensor, args: str) -> torch.Tensor:
    """The learner's block on `X`; a missing `forward` or a crash becomes feedback, a bare
    `raise NotImplementedError` left in the learner's own code means "not attempted"."""
    def run() -> torch.Tensor:
        try:
            with torch.no_grad():
                return block(X)
        except NotImplementedError:
            raise
        except Exception as err:
            raise ExerciseFailed(
                f"{args} failed on an input of shape {tuple(X.shape)}: {type(err).__name__}: "
                f"{err}. Does each convolution take the previous one's output channels "
                "(in_channels = out_channels after the first)?") from None

    try:
        return attempt(run)
    except NotImplementedError as err:
        raise ExerciseFailed(
            f"{args} returned a module that cannot run: PyTorch says \"{err}\". A module class "
            "needs a method named exactly `forward(self, X)`; or build the block as an "
            "nn.Sequential of layers") from None


@exercise("10.1 a VGG block for any odd kernel size")
def check_vgg_block_any_kernel(vgg_block: Callable[..., nn.Module]) -> str:
    """Check `vgg_block(num_convs, in_channels, out_channels, kernel_size)` by what it computes:
    convolutions that keep the side, each followed by ReLU, then a 2 x 2 max-pool with stride 2
    (10_vgg). The block's own convolution weights are run through a reference block, on inputs
    with negative values (where ReLU placement matters) and uneven maps (where max and average
    pooling differ); how the learner writes the ReLUs (one module each, one shared module,
    F.relu in a forward) does not matter."""
    g = torch.Generator().manual_seed(10)
    cases = [(1, 3, 8, 3), (2, 3, 8, 3), (3, 4, 6, 1), (2, 2, 5, 5)]
    for num_convs, c_in, c_out, k in cases:
        args = f"vgg_block({num_convs}, {c_in}, {c_out}, kernel_size={k})"
        block = call(vgg_block, num_convs, c_in, c_out, kernel_size=k)
        require(isinstance(block, nn.Module), f"{args} must return an nn.Module such as "
                f"nn.Sequential, got {type(block).__name__}")
        listed = [m for _, m in block.named_modules(remove_duplicate=False)
                  if isinstance(m, nn.Conv2d)]
        convs = list(dict.fromkeys(listed))  # each distinct convolution once, in order
        if len(listed) > len(convs):
            raise ExerciseFailed(
                f"{args} uses one nn.Conv2d object in several places, so those convolutions "
                "share their weights; create a new nn.Conv2d for every convolution")
        require(len(convs) == num_convs,
                f"{args} holds {len(convs)} convolutions, it should hold {num_convs}")
        require(all(m.kernel_size == (k, k) for m in convs),
                f"{args}: every convolution needs a {k} x {k} kernel, got "
                f"{[m.kernel_size for m in convs]}")
        for h, w in [(8, 8), (9, 9), (13, 13), (10, 6)]:
            X = torch.randn(2, c_in, h, w, generator=g)
            Y = _run_block(block, X, args)
            require(isinstance(Y, torch.Tensor),
                    f"{args} returned a module whose output is a {type(Y).__name__}, not a tensor")
            got = tuple(Y.shape)
            want = (2, c_out, h // 2, w // 2)
            if got == want:
                continue
            pad1 = ((h + num_convs * (3 - k)) // 2, (w + num_convs * (3 - k)) // 2)
            pad0 = ((h - num_convs * (k - 1)) // 2, (w - num_convs * (k - 1)) // 2)
            hint = ""
            if got[2:] == (h, w):
                hint = "the side did not change: the 2 x 2 max-pool with stride 2 is missing"
            elif k != 3 and got[2:] == pad1:
                hint = (f"padding 1 keeps the side only for 3 x 3 kernels; a {k} x {k} kernel "
                        f"needs padding {(k - 1) // 2}, i.e. (kernel_size - 1) // 2")
            elif k != 1 and got[2:] == pad0:
                hint = (f"the convolutions shrink the side: pad each by (kernel_size - 1) // 2 = "
                        f"{(k - 1) // 2} so that only the pool halves it")
            elif got[1] != c_out:
                hint = f"the block must end with {c_out} channels"
            raise ExerciseFailed(f"{args} maps {tuple(X.shape)} to {got}, expected {want}"
                                 + (f": {hint}" if hint else ""))
        params = sum(p.numel() for p in block.parameters())
        want_params = c_out * (c_in * k * k + 1) + (num_convs - 1) * c_out * (c_out * k * k + 1)
        require(params == want_params,
                f"{args} has {params} parameters, expected {want_params}: each convolution has "
                "c_out * (c_in * k * k + 1), with a bias, and nothing else has parameters")
        for h, w in [(9, 9), (10, 6)]:
            X = torch.randn(2, c_in, h, w, generator=g) + 0.5  # mostly positive, some negative
            got = _run_block(block, X, args)
            with torch.no_grad():
                want = _block_output(convs, X, k)
                if matches(got, want):
                    continue
                variants = {
                    ("avg", "after"): "you pooled with the average; a VGG block takes the "
                                      "maximum of each 2 x 2 window (nn.MaxPool2d(2, stride=2))",
                    ("max", "before"): "the ReLU comes after each convolution, not before it",
                    ("max", "none"): "the convolutions are not followed by ReLUs: put one after "
                                     "every convolution",
                    ("max", "last"): "only the last convolution is followed by a ReLU: put one "
                                     "after every convolution",
                }
                hint = next((text for (pool, relu), text in variants.items()
                             if matches(got, _block_output(convs, X, k, pool, relu))), "")
            raise ExerciseFailed(
                f"{args} computes other values than a VGG block with the same convolution "
                f"weights on an input of shape {tuple(X.shape)}: "
                + (hint or "each convolution (zero padding (kernel_size - 1) // 2) must be "
                   "followed by a ReLU, and the block must end with a 2 x 2 max-pool of stride 2, "
                   "in that order"))
    return ("outputs equal to a reference block with your weights, for 1 x 1, 3 x 3 and 5 x 5 "
            "kernels, odd sides and rectangles; parameter counts")


def _vgg_count(conv_arch: Sequence[tuple[int, int]], in_channels: int = 3,
               num_classes: int = 1000, biases: bool = True) -> int:
    count, c_in = 0, in_channels
    for num_convs, c_out in conv_arch:
        for _ in range(num_convs):
            count += c_out * (9 * c_in + biases)
            c_in = c_out
    for n_in, n_out in [(c_in * 7 * 7, 4096), (4096, 4096), (4096, num_classes)]:
        count += n_out * (n_in + biases)
    return count


_VGG = {11: (1, 1, 2, 2, 2), 13: (2, 2, 2, 2, 2), 16: (2, 2, 3, 3, 3), 19: (2, 2, 4, 4, 4)}
_CHANNELS = (64, 128, 256, 512, 512)


def _arch(depth: int) -> list[tuple[int, int]]:
    return list(zip(_VGG[depth], _CHANNELS))


@exercise("10.2 parameters of VGG-16")
def check_vgg16_params(answer: int) -> str:
    """Check the parameter count of the ImageNet VGG-16, 3 channels and 1000 classes (10_vgg)."""
    count = number(value(answer), "your count")
    require(count.is_integer(), f"your count is a count, a whole number; got {count:g}")
    count = int(count)
    want = _vgg_count(_arch(16))
    mistakes = {
        _vgg_count(_arch(11)): "that is VGG-11's count: VGG-16 has blocks of 2, 2, 3, 3, 3 "
                               "convolutions",
        _vgg_count(_arch(13)): "that is VGG-13's count: VGG-16 has blocks of 2, 2, 3, 3, 3 "
                               "convolutions",
        _vgg_count(_arch(19)): "that is VGG-19's count: VGG-16 has blocks of 2, 2, 3, 3, 3 "
                               "convolutions",
        _vgg_count(_arch(16), 1, 10): "that is VGG-16 for 1 channel and 10 classes; the ImageNet "
                                      "network reads 3 channels and predicts 1000 classes",
        _vgg_count(_arch(16), 3, 10): "the ImageNet network predicts 1000 classes, not 10",
        _vgg_count(_arch(16), 1, 1000): "the ImageNet network reads 3 colour channels, not 1",
        _vgg_count(_arch(16), biases=False): "you left out the biases: one per output channel "
                                             "or unit",
    }
    require(count not in mistakes, mistakes.get(count, ""))
    require(count == want,
            f"{count:,} is not the count: VGG-16 is conv_arch ((2, 64), (2, 128), (3, 256), "
            "(3, 512), (3, 512)) with the dense head 512 * 7 * 7 -> 4096 -> 4096 -> 1000; a 3 x 3 "
            "convolution has c_out * (9 * c_in + 1) parameters, a dense layer n_out * (n_in + 1)")
    return f"{want:,} parameters, as torchvision.models.vgg16() has"


def _receptive_field(layers: Sequence[tuple[int, int]]) -> int:
    side, jump = 1, 1
    for k, s in layers:
        side += (k - 1) * jump
        jump *= s
    return side


def _rf_ignoring_strides(layers: Sequence[tuple[int, int]]) -> int:
    return 1 + sum(k - 1 for k, _ in layers)


def _rf_stride_too_early(layers: Sequence[tuple[int, int]]) -> int:
    side, jump = 1, 1
    for k, s in layers:
        jump *= s
        side += (k - 1) * jump
    return side


@exercise("10.3 receptive field of a stack of windows")
def check_receptive_field_side(receptive_field_side: Callable[[list], int]) -> str:
    """Check `receptive_field_side(layers)`: the side of the input patch that one output pixel of
    a stack of (kernel, stride) windows sees (10_vgg)."""
    vgg11 = [(3, 1), (2, 2), (3, 1), (2, 2)] + [(3, 1), (3, 1), (2, 2)] * 3
    cases = [[(3, 1)], [(3, 1)] * 2, [(3, 1)] * 3, [(5, 1), (5, 1)], [(2, 2)], [(3, 1), (2, 2)],
             [(3, 1), (2, 2), (3, 1)], [(11, 4), (3, 2), (5, 1)], vgg11, []]
    for layers in cases:
        want = _receptive_field(layers)
        name = "VGG-11's 13 windows" if layers is vgg11 else str(layers)
        got = whole_number(call(receptive_field_side, list(layers)),
                           f"receptive_field_side for {name}")
        if got == want:
            continue
        hint = ""
        if not layers:
            hint = "with no layers at all an output pixel is an input pixel: the side is 1"
        elif got == _rf_ignoring_strides(layers):
            hint = ("you added k - 1 per layer and ignored the strides: after a stride-s layer, "
                    "one step of the next layer moves s times as far in the input, so multiply "
                    "k - 1 by the product of the strides of the layers before it")
        elif got == _rf_stride_too_early(layers):
            hint = ("you multiplied k - 1 by a product that includes the layer's own stride; "
                    "only the strides of the layers *before* it count")
        elif got == want - 1:
            hint = "off by one: a single pixel sees a 1 x 1 patch, start from 1"
        raise ExerciseFailed(f"for {name} you return {got}, expected {want}"
                             + (f": {hint}" if hint else ""))
    return (f"{len(cases)} stacks, strided ones included; a pixel of VGG-11's last pooled maps "
            f"sees {_receptive_field(vgg11)} x {_receptive_field(vgg11)} input pixels")
