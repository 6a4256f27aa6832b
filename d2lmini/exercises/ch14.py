"""Exercise checks for 14_densenet.ipynb: the channel counts through a DenseNet, the forward pass
of a dense block, and a transition layer that pools before its 1x1 convolution."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import nn

from ._core import (ExerciseFailed, call, entries, exercise, matches, require, value,  # noqa: F401
                    whole_number)

__all__: list[str] = ["check_densenet_channels", "check_dense_forward",
                      "check_pool_first_transition"]


# ---------------------------------------------------------------------------------------------
# 14.1 channels through a DenseNet

def _walk(stem: int, growth: int, layers: Sequence[int], *, keep_input: bool = True,
          last_transition: bool = False, halve: Callable[[int], int] = lambda c: c // 2,
          per_block: Callable[[int, int], int] = lambda n, k: n * k) -> list[int]:
    """Channels after each dense block and transition; the keywords build the typical slips."""
    channels, walk = stem, []
    for i, n in enumerate(layers):
        channels = (channels if keep_input else 0) + per_block(n, growth)
        walk.append(channels)
        if i < len(layers) - 1 or last_transition:
            channels = halve(channels)
            walk.append(channels)
    return walk


# (stem channels, growth rate, layers per block): the chapter's net, DenseNet-121, the CIFAR
# DenseNet-BC with k = 12, two cases with odd channel counts, and a single block. The odd counts
# that reach a transition are 13 and 9, where round(c / 2) (Python rounds halves to even) agrees
# with c // 2, and 7 and 11, where it does not
_WALK_CASES = [(64, 32, (4, 4, 4, 4)), (64, 32, (6, 12, 24, 16)), (24, 12, (16, 16, 16)),
               (7, 3, (2, 1, 2)), (3, 4, (1, 2, 1)), (16, 4, (3,))]


@exercise("14.1 channels through a DenseNet")
def check_densenet_channels(densenet_channels: Callable[[int, int, Sequence[int]], list[int]]
                            ) -> str:
    """Check `densenet_channels(stem_channels, growth_rate, layers_per_block)`: the channel count
    after every dense block and every transition (which halves it, rounding down; none after the
    last block), in order (14_densenet)."""
    for stem, growth, layers in _WALK_CASES:
        case = f"densenet_channels({stem}, {growth}, {layers})"
        want = _walk(stem, growth, layers)
        got = entries(call(densenet_channels, stem, growth, tuple(layers)), case,
                      "a list of channel counts")
        got = [whole_number(g, case) for g in got]
        if got == want:
            continue
        if got == _walk(stem, growth, layers, keep_input=False):
            hint = ("a dense block keeps its input: it outputs c0 + L * k channels, not L * k "
                    "(the input is the first slice of the concatenation)")
        elif got == _walk(0, growth, layers):
            hint = f"the first block reads the stem's {stem} channels: start the count from them"
        elif got == _walk(stem, growth, layers, last_transition=True):
            hint = ("there is no transition after the last block: the last entry is the last "
                    "block's output")
        elif got == _walk(stem, growth, layers, halve=lambda c: round(c / 2)):
            hint = ("round(c / 2) is not c // 2: Python rounds a half to the even neighbour "
                    "(round(6.5) = 6 but round(3.5) = 4), so some odd counts are rounded up; the "
                    "transition halves with rounding down, channels // 2 (as "
                    "torchvision does)")
        elif got == _walk(stem, growth, layers, halve=lambda c: (c + 1) // 2):
            hint = "the transition halves with rounding down, channels // 2 (as torchvision does)"
        elif got == _walk(stem, growth, layers, per_block=lambda n, k: (n - 1) * k) or \
                got == _walk(stem, growth, layers, per_block=lambda n, k: (n + 1) * k):
            hint = "off by one: each of the L layers adds k channels, L * k in all"
        elif len(got) != len(want):
            hint = (f"return {len(want)} counts: one after each of the {len(layers)} blocks and one "
                    f"after each of the {len(layers) - 1} transitions between them")
        else:
            hint = "a block turns c channels into c + L * k; a transition turns c into c // 2"
        raise ExerciseFailed(f"{case} returned {got}, expected {want}: {hint}")
    return (f"{len(_WALK_CASES)} networks, odd channel counts included; DenseNet-121 hands "
            f"{_walk(64, 32, (6, 12, 24, 16))[-1]} channels to its classifier")


# ---------------------------------------------------------------------------------------------
# 14.2 the forward pass of a dense block

def _conv_block(in_channels: int, out_channels: int) -> nn.Sequential:
    return nn.Sequential(nn.BatchNorm2d(in_channels), nn.ReLU(),
                         nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=False))


def _layers(c0: int, k: int, num_layers: int, gen: torch.Generator) -> nn.ModuleList:
    """A dense block's layers with fixed random weights and batch-norm statistics, in eval mode."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(14)
        layers = nn.ModuleList(_conv_block(c0 + i * k, k) for i in range(num_layers))
    with torch.no_grad():
        for m in layers.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.weight.uniform_(0.5, 1.5, generator=gen)
                m.bias.uniform_(-0.5, 0.5, generator=gen)
                m.running_mean.uniform_(-0.2, 0.2, generator=gen)
                m.running_var.uniform_(0.5, 1.5, generator=gen)
    return layers.eval()


def _dense(x: torch.Tensor, layers: Sequence[nn.Module], *, new_first: bool = False
           ) -> torch.Tensor:
    """The dense block's forward pass; `new_first` puts each new output before the old channels
    (a typical slip)."""
    out = x
    for layer in layers:
        new = layer(out)
        out = torch.cat([new, out] if new_first else [out, new], dim=1)
    return out


# (input channels, growth rate, layers, height, width)
_DENSE_CASES = [(3, 4, 3, 5, 6), (8, 2, 1, 4, 4), (5, 3, 0, 3, 2)]


@exercise("14.2 the forward pass of a dense block")
def check_dense_forward(dense_forward: Callable[[torch.Tensor, Sequence[nn.Module]], torch.Tensor]
                        ) -> str:
    """Check `dense_forward(x, layers)`: each layer reads the concatenation of the block input and
    all earlier layers' outputs, and the block returns that concatenation with every output
    appended along the channel axis (14_densenet)."""
    gen = torch.Generator().manual_seed(14)
    for c0, k, num_layers, h, w in _DENSE_CASES:
        layers = _layers(c0, k, num_layers, gen)
        x = torch.randn(2, c0, h, w, generator=gen)
        case = f"a block of {num_layers} layer(s) with growth rate {k} on a {tuple(x.shape)} input"
        with torch.no_grad():
            want = _dense(x, layers)
            try:
                got = call(dense_forward, x.clone(), layers)
            except ExerciseFailed as err:
                if "channels" in str(err) or "running_mean" in str(err):
                    raise ExerciseFailed(
                        f"on {case} a layer received the wrong number of channels: layer l reads "
                        f"the concatenation of the input and every earlier output, "
                        f"c0 + (l - 1) * k channels, not only the previous layer's output "
                        f"({err})") from None
                if "Sizes of tensors must match" in str(err):
                    raise ExerciseFailed(
                        f"on {case}: concatenate along the channel axis, dim=1 ({err})") from None
                raise
        require(isinstance(got, torch.Tensor),
                f"on {case} dense_forward returned a {type(got).__name__}: return the tensor")
        if matches(got, want):
            continue
        if num_layers and tuple(got.shape) == (2, num_layers * k, h, w):
            hint = ("the block input is missing from the output: return the concatenation of x "
                    "and every layer's output, c0 + L * k channels")
        elif matches(got, _dense(x, layers, new_first=True)):
            hint = ("the channels are in the wrong order: append each new output after what is "
                    "there, torch.cat([x, new], dim=1), so the block input stays first")
        elif tuple(got.shape) != tuple(want.shape):
            hint = (f"expected shape {tuple(want.shape)}: c0 + L * k channels at the input's "
                    f"height and width")
        else:
            hint = ("the values differ: layer l must read torch.cat of the input and the outputs "
                    "of layers 1 .. l-1, in that order")
        raise ExerciseFailed(f"on {case}: {hint}")
    return "blocks of 3, 1 and 0 layers, against the reference in eval mode"


# ---------------------------------------------------------------------------------------------
# 14.3 a transition that pools before its 1x1 convolution

def _transition(c_in: int, c_out: int) -> nn.Sequential:
    """The chapter's transition layer: BN -> ReLU -> 1x1 conv -> 2x2 average pooling."""
    return nn.Sequential(nn.BatchNorm2d(c_in), nn.ReLU(), nn.Conv2d(c_in, c_out, 1, bias=False),
                         nn.AvgPool2d(kernel_size=2, stride=2))


def _variants(ref: nn.Sequential) -> dict[str, Callable[[torch.Tensor], torch.Tensor]]:
    """Typical wrong pool-first transitions, built on the reference's own layers."""
    bn, conv = ref[0], ref[2]
    avg, mx = nn.AvgPool2d(2, 2), nn.MaxPool2d(2, 2)
    max_pool = ("use average pooling (nn.AvgPool2d(2, 2)): only an average commutes with the "
                "linear 1x1 convolution, so a max changes what the layer computes")
    pool_first = ("pool after the batch norm and the ReLU: ReLU(avg(x)) differs from "
                  "avg(ReLU(x)); only the 1x1 convolution moves")
    return {
        max_pool: lambda x: conv(mx(torch.relu(bn(x)))),
        pool_first: lambda x: conv(torch.relu(bn(avg(x)))),
        "keep the ReLU between the batch norm and the pooling": lambda x: conv(avg(bn(x))),
    }


@exercise("14.3 transition that pools first")
def check_pool_first_transition(pool_first_transition: Callable[[int, int], nn.Module]) -> str:
    """Check `pool_first_transition(in_channels, out_channels)`: a module computing the chapter's
    transition layer (BN, ReLU, 1x1 convolution, 2x2 average pooling) with the pooling moved
    before the convolution; batch norm registered before the convolution (14_densenet)."""
    gen = torch.Generator().manual_seed(14)
    for c_in, c_out, (h, w) in ((8, 4, (8, 8)), (6, 3, (7, 9)), (5, 5, (2, 3))):
        case = f"pool_first_transition({c_in}, {c_out})"
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(14)
            module = call(pool_first_transition, c_in, c_out)
            ref = _transition(c_in, c_out)
        require(isinstance(module, nn.Module),
                f"{case} returned a {type(module).__name__}: return an nn.Module such as an "
                f"nn.Sequential of the four layers")
        require(type(module).forward is not nn.Module.forward,
                f"{case} returned a {type(module).__name__} without a forward method (nn.Module "
                f"calls only a method named exactly forward): define forward(self, x), or return "
                f"an nn.Sequential of the four layers")
        got = sum(p.numel() for p in module.parameters())
        want = sum(p.numel() for p in ref.parameters())
        if got == want + c_out:
            raise ExerciseFailed(f"{case} has {got} parameters: the 1x1 convolution takes "
                                 f"bias=False (the next layer's batch norm cancels a bias)")
        require(got == want, f"{case} has {got} parameters, expected {want}: a batch norm over the "
                             f"{c_in} input channels and a {c_in} -> {c_out} 1x1 convolution")
        mine = [tuple(t.shape) for t in module.state_dict().values()]
        theirs = [tuple(t.shape) for t in ref.state_dict().values()]
        require(mine == theirs,
                f"{case}: register the batch norm (over {c_in} channels) before the 1x1 "
                f"convolution; the check copies the chapter's transition weights by position")
        with torch.no_grad():
            bn = ref[0]
            bn.weight.uniform_(0.5, 1.5, generator=gen)
            bn.bias.uniform_(-0.5, 0.5, generator=gen)
            bn.running_mean.uniform_(-0.2, 0.2, generator=gen)
            bn.running_var.uniform_(0.5, 1.5, generator=gen)
            for s, t in zip(ref.state_dict().values(), module.state_dict().values()):
                t.copy_(s)
        X = torch.randn(3, c_in, h, w, generator=gen)
        for mode in ("eval", "train"):
            module.train(mode == "train")
            ref.train(mode == "train")
            with torch.no_grad():
                want_y = ref(X)
                got_y = call(module, X)
                require(isinstance(got_y, torch.Tensor) and got_y.shape == want_y.shape,
                        f"{case} maps a {tuple(X.shape)} input to "
                        f"{tuple(got_y.shape) if isinstance(got_y, torch.Tensor) else got_y!r}, "
                        f"expected {tuple(want_y.shape)}: 2x2 average pooling with stride 2 halves "
                        f"height and width, rounding down")
                if matches(got_y, want_y):
                    continue
                for hint, variant in _variants(ref).items():
                    if matches(got_y, variant(X)):
                        raise ExerciseFailed(f"{case} in {mode} mode: {hint}")
            raise ExerciseFailed(f"{case} in {mode} mode computes something else than "
                                 f"conv1x1(avgpool(relu(bn(x)))): check the order of the layers")
        # Same output; now where does the convolution run? Count its multiply-adds.
        macs = _conv_macs(module, X)
        pooled = X.shape[0] * c_out * c_in * (h // 2) * (w // 2)
        full = X.shape[0] * c_out * c_in * h * w
        if macs != pooled:
            where = ("still runs before the pooling, on all" if macs == full else
                     f"does {macs:,} multiply-adds, not the {pooled:,} of a 1x1 convolution on the")
            raise ExerciseFailed(
                f"{case} computes the right values, but its 1x1 convolution {where} {h}x{w} "
                f"positions: move the 2x2 average pooling before the convolution, so that it runs "
                f"on the {h // 2}x{w // 2} pooled positions")
        if (h, w) == (8, 8):
            counts = (pooled, full)
    return ("same output as the chapter's transition on even, odd and tiny inputs, in eval and "
            f"train mode, with the 1x1 convolution on the pooled map: on three 8x8 inputs it does "
            f"{counts[0]:,} multiply-adds instead of the {counts[1]:,} of the chapter's "
            f"transition, a quarter")


def _conv_macs(module: nn.Module, X: torch.Tensor) -> int:
    """Multiply-adds of the convolutions and matrix products `module` runs on X (half the
    floating-point operations PyTorch's FlopCounterMode counts)."""
    from torch.utils.flop_counter import FlopCounterMode  # imported here: it takes a second

    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        call(module, X)
    return counter.get_total_flops() // 2
