# %% [markdown]
# # 14 · DenseNet: keep every feature map
#
# A residual block *adds* its input to what its layers compute. DenseNet (Huang et al., 2017)
# *concatenates* instead: every layer of a dense block receives the feature maps of all the
# layers before it, stacked along the channel axis, and contributes a few new channels of its
# own. Nothing is overwritten, features are reused, and each layer can stay narrow. In this
# chapter you will
#
# * write the dense block (BN → ReLU → convolution layers joined by concatenation) and check how
#   its channels grow;
# * write the transition layer (1×1 convolution and 2×2 average pooling) that keeps the growth in
#   check, and check what it does to the shape;
# * assemble a DenseNet for 96×96 Fashion-MNIST, walk an image through it, and train it with
#   `d2l.train_ch5`;
# * build the ImageNet DenseNet-121 from the same parts and compare it with
#   `torchvision.models.densenet121`, parameter for parameter and output for output.

# %%
import copy
import math
from collections import OrderedDict

import torch
from torch import nn
import d2lmini as d2l

d2l.set_seed(0)
print(d2l.profile_summary())

# %% [markdown]
# ## 1. From adding to concatenating
#
# Write $[\mathbf{a}, \mathbf{b}]$ for the concatenation of two stacks of feature maps along the
# channel axis. A residual network computes $\mathbf{x}_{l} = \mathbf{x}_{l-1} + g_l(\mathbf{x}_{l-1})$,
# so after a few layers the original input and every intermediate result are mixed into a single
# sum. A dense block keeps them apart:
#
# $$\mathbf{x}_l = \big[\mathbf{x}_{l-1},\ H_l(\mathbf{x}_{l-1})\big]
#   = \big[\mathbf{x}_0,\ H_1(\mathbf{x}_0),\ H_2(\mathbf{x}_1),\ \dots,\ H_l(\mathbf{x}_{l-1})\big].$$
#
# Each layer $H_l$ sees every earlier output directly, and every layer's output is itself a slice
# of the block's output. A concatenation passes each slice's gradient back unchanged, so the
# gradient arriving at the block's output reaches every layer's output directly, much as ResNet's
# identity shortcut passes it on; the later layers that read that output add their own terms. If
# every $H_l$ makes $k$ new channels (the **growth rate**) and the block receives $c_0$ channels,
# layer $l$ reads $c_0 + (l-1)k$ channels and a block of $L$ layers outputs
#
# $$c_0 + L\,k \text{ channels, at the input's height and width.}$$
#
# ![A dense block of four layers followed by a transition layer; each layer reads all earlier outputs](../Pics/14_dense_block.svg)
#
# ## 2. The dense block
#
# DenseNet orders each layer as batch norm → ReLU → 3×3 convolution ("pre-activation", the
# order of ResNet's later variant). The output of the convolution is concatenated and then
# normalized by the next layer's batch norm, so, as chapter 13 showed, a bias would be cancelled:
# the convolutions have `bias=False`.

# %%
def conv_block(in_channels, out_channels):
    """BN -> ReLU -> 3x3 convolution (padding 1, so height and width are kept)."""
    return nn.Sequential(nn.BatchNorm2d(in_channels), nn.ReLU(),
                         nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=False))


class DenseBlock(nn.Module):
    """`num_layers` layers, each reading the concatenation of the block input and all earlier
    outputs and adding `growth_rate` channels. `make_layer(in_channels, growth_rate)` builds one
    layer (a `conv_block` unless told otherwise)."""

    def __init__(self, num_layers, in_channels, growth_rate, make_layer=conv_block):
        super().__init__()
        self.layers = nn.ModuleList(
            make_layer(in_channels + i * growth_rate, growth_rate) for i in range(num_layers))
        self.out_channels = in_channels + num_layers * growth_rate

    def forward(self, x):
        for layer in self.layers:
            x = torch.cat([x, layer(x)], dim=1)
        return x


# %% [markdown]
# Checks: the channel count follows $c_0 + Lk$ and the size is unchanged (on an odd, non-square
# input too); the input survives unchanged as the first $c_0$ channels of the output (a
# concatenation never modifies what it keeps); and layer $l$'s convolution reads
# $c_0 + (l-1)k$ channels.

# %%
for num_layers, c0, k, (h, w) in [(2, 3, 10, (8, 8)), (4, 64, 32, (7, 5))]:
    blk = DenseBlock(num_layers, c0, k)
    X = torch.randn(4, c0, h, w)
    Y = blk(X)
    print(f"{num_layers} layers, growth {k}: {tuple(X.shape)} -> {tuple(Y.shape)}")
    assert Y.shape == (4, c0 + num_layers * k, h, w) == (4, blk.out_channels, h, w)
    torch.testing.assert_close(Y[:, :c0], X)
    assert [layer[2].in_channels for layer in blk.layers] == [c0 + i * k for i in range(num_layers)]

# %% [markdown]
# Each layer's new channels sit in their own slice of the output. Layer 1's slice must be exactly
# what layer 1 computes from the block input alone:

# %%
blk.eval()  # fixed batch-norm statistics, so separate calls agree
Y = blk(X)
torch.testing.assert_close(Y[:, c0:c0 + k], blk.layers[0](X))
torch.testing.assert_close(Y[:, c0 + k:c0 + 2 * k], blk.layers[1](Y[:, :c0 + k]))

# %% [markdown]
# ## 3. The transition layer
#
# Stack dense blocks and the channels pile up: each block adds $Lk$. Between blocks DenseNet puts
# a **transition layer**: batch norm, ReLU, a 1×1 convolution that sets the number of channels
# (in the paper's DenseNet-BC models half of them: the "compression" $\theta = 0.5$), and a 2×2
# average pooling with stride 2 that halves height and width (rounding down for odd sizes,
# $\lfloor h/2 \rfloor$). The paper's text lists batch norm, the 1×1 convolution and the pooling;
# its authors' code and torchvision also apply the ReLU, and so do we.

# %%
def transition(in_channels, out_channels):
    """BN -> ReLU -> 1x1 convolution to `out_channels` -> 2x2 average pooling, stride 2."""
    return nn.Sequential(nn.BatchNorm2d(in_channels), nn.ReLU(),
                         nn.Conv2d(in_channels, out_channels, 1, bias=False),
                         nn.AvgPool2d(kernel_size=2, stride=2))


for c_in, c_out, (h, w) in [(23, 10, (8, 8)), (192, 96, (24, 24)), (16, 5, (7, 9))]:
    Y = transition(c_in, c_out)(torch.randn(2, c_in, h, w))
    print(f"transition({c_in}, {c_out}) on {h}x{w}: {tuple(Y.shape)}")
    assert Y.shape == (2, c_out, h // 2, w // 2)

# %% [markdown]
# The 1×1 convolution and the average pooling are both linear and act on different axes
# (channels versus positions), so their order does not matter: pooling first gives the same
# result with at least 4 times fewer multiplications for the convolution. (DenseNet's description
# puts the convolution first; torchvision keeps that order, and so do we.)

# %%
conv1x1, pool = nn.Conv2d(16, 5, 1), nn.AvgPool2d(2, 2)
Z = torch.randn(2, 16, 8, 8)
torch.testing.assert_close(pool(conv1x1(Z)), conv1x1(pool(Z)))

# %% [markdown]
# ## 4. DenseNet for 96×96 Fashion-MNIST
#
# Like ResNet, the network opens with a 7×7 convolution of stride 2 and a 3×3 max pooling of
# stride 2 (96 → 48 → 24). Then come four dense blocks of four layers each with growth rate
# $k = 32$, so each block adds $4 \cdot 32 = 128$ channels; transitions between them halve the
# channels and the resolution. A final batch norm and ReLU (the layers are pre-activation, so the
# last block's output is not yet normalized), global average pooling and a dense layer finish it.
# `in_channels` and `num_classes` are arguments, so `densenet(in_channels=3)` is the network for
# 3-channel colour images such as CIFAR-10's.
# Like chapter 13's `resnet18`, `densenet` keeps PyTorch's default initialization for every
# layer (the paper used He et al.'s). Here too every convolution's output reaches the loss only
# through batch norms, which normalize it channel by channel (a concatenation or an average
# pooling in between passes a scale through unchanged), so in training mode the network's output
# does not depend on the scale of the convolution weights: it is *forward-invariant*. Its
# training is not: as chapter 13 (section 4) showed, weights $\alpha$ times as large get
# gradients $1/\alpha$ times as large and relative SGD steps $1/\alpha^2$ times as large, so the
# initialization's scale acts like a learning rate; PyTorch's default, with a standard deviation
# $\sqrt 6$ times smaller than Kaiming's rule with the fan-in, starts with relative steps 6 times
# larger. The cell after the code checks both on this network, as chapter 13 did on ResNet-18.
#
# ![DenseNet for 96x96 Fashion-MNIST: stem, four dense blocks with transitions, head](../Pics/14_densenet.svg)

# %%
def densenet(in_channels=1, num_classes=10, growth_rate=32, layers_per_block=(4, 4, 4, 4)):
    """DenseNet for `in_channels`-channel images: stem, dense blocks with halving transitions,
    head."""
    parts = OrderedDict(stem=nn.Sequential(
        nn.Conv2d(in_channels, 64, kernel_size=7, stride=2, padding=3, bias=False),
        nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(kernel_size=3, stride=2, padding=1)))
    channels = 64
    for i, num_layers in enumerate(layers_per_block):
        block = DenseBlock(num_layers, channels, growth_rate)
        parts[f"dense{i + 1}"] = block
        channels = block.out_channels
        if i < len(layers_per_block) - 1:  # no transition after the last block
            parts[f"transition{i + 1}"] = transition(channels, channels // 2)
            channels //= 2
    parts.update(head=nn.Sequential(nn.BatchNorm2d(channels), nn.ReLU(),
                                    d2l.GlobalAvgPool2d(), d2l.FlattenLayer()),
                 fc=nn.Linear(channels, num_classes))
    return nn.Sequential(parts)


net = densenet()

# %%
def loss_and_conv_grads(model, X, y):
    """Cross-entropy of `model` on (X, y) in training mode, each convolution's weights and the
    gradients of the loss with respect to them."""
    model.train()
    model.zero_grad()
    loss = nn.functional.cross_entropy(model(X), y)
    loss.backward()
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    return loss.item(), [c.weight.detach() for c in convs], [c.weight.grad for c in convs]


def check_forward_invariant(model, X, y, alpha):
    """Assert that scaling every convolution's weights of `model` by `alpha` leaves the loss as
    it is, divides each gradient by `alpha` and the relative SGD step by `alpha` squared."""
    scaled = copy.deepcopy(model)
    with torch.no_grad():
        for m in scaled.modules():
            if isinstance(m, nn.Conv2d):
                m.weight.mul_(alpha)
    loss_1, W_1, G_1 = loss_and_conv_grads(copy.deepcopy(model), X, y)
    loss_a, W_a, G_a = loss_and_conv_grads(scaled, X, y)
    grad = torch.stack([ga.norm() / g.norm() for g, ga in zip(G_1, G_a)])
    step = torch.stack([(ga.norm() / wa.norm()) / (g.norm() / w.norm())
                        for w, g, wa, ga in zip(W_1, G_1, W_a, G_a)])
    print(f"loss {loss_1:.4f} as built, {loss_a:.4f} with the convolution weights x {alpha:.3g}; "
          f"over the {len(grad)} convolutions, gradients x {grad.min():.4f} to {grad.max():.4f} "
          f"(1/alpha = {1 / alpha:.4f}), relative SGD steps x {step.min():.4f} to "
          f"{step.max():.4f} (1/alpha^2 = {1 / alpha ** 2:.4f})")
    assert math.isclose(loss_a, loss_1, rel_tol=1e-3)
    torch.testing.assert_close(grad, torch.full_like(grad, 1 / alpha), rtol=0.02, atol=0)
    torch.testing.assert_close(step, torch.full_like(step, 1 / alpha ** 2), rtol=0.03, atol=0)


check_forward_invariant(net, torch.rand(8, 1, 32, 32), torch.arange(8), alpha=math.sqrt(6))

# %% [markdown]
# ### The shape walk
#
# Predict the channels first: $64 + 128 = 192$, halved to 96; $96 + 128 = 224$, halved to 112;
# $112 + 128 = 240$, halved to 120; $120 + 128 = 248$. The resolution goes 24, 12, 6, 3. As in
# chapter 13, `d2l.layer_shapes` walks in eval mode and restores the modes afterwards, so the
# random probe does not touch batch norm's running statistics; the 3-channel net, called
# directly on one 32×32 image, is put in eval mode by hand (in training mode its last batch
# norms would get a single value per channel).

# %%
shapes = d2l.layer_shapes(net, torch.rand(1, 1, 96, 96))
assert [shape for _, shape in shapes] == [
    (1, 64, 24, 24), (1, 192, 24, 24), (1, 96, 12, 12), (1, 224, 12, 12), (1, 112, 6, 6),
    (1, 240, 6, 6), (1, 120, 3, 3), (1, 248, 3, 3), (1, 248), (1, 10)]

colour = densenet(in_channels=3).eval()  # one argument changes for 3-channel images
assert colour(torch.rand(1, 3, 32, 32)).shape == (1, 10)
assert colour.stem[0].weight.shape == (64, 3, 7, 7)
del colour

# %% [markdown]
# How many parameters does it have, and where is its widest convolution?

# %%
largest_conv = max(m.weight.numel() for m in net.modules() if isinstance(m, nn.Conv2d))
print(f"DenseNet for Fashion-MNIST: {d2l.num_params(net):,} parameters; "
      f"largest convolution: {largest_conv:,} weights")
assert d2l.num_params(net) == 757_322
assert largest_conv == 9 * (120 + 3 * 32) * 32 == 62_208

# %% [markdown]
# About 0.76 million parameters, against 11.2 million for chapter 13's ResNet-18 (built, like
# this net, for 1-channel 96×96 images and 10 classes). Every 3×3 convolution of a dense block
# outputs only $k = 32$ channels; the largest, the last layer of the last block, reads
# $120 + 3 \cdot 32 = 216$ channels and has $9 \cdot 216 \cdot 32 = 62\,208$ weights, while each
# 3×3 convolution in ResNet-18's last stage maps 512 channels to 512, $9 \cdot 512^2 = 2\,359\,296$
# weights. What DenseNet saves in parameters it does not save in activations: every
# concatenation writes a new, wider tensor, and a block of $L$ layers feeds its layers inputs of
# $c_0, c_0 + k, \dots, c_0 + (L-1)k$ channels, all of which are kept for the backward pass, a
# total that grows with $L^2$.
#
# ## 5. Training
#
# DenseNet has batch normalization throughout, like ResNet. Huang et al. trained it with SGD
# with Nesterov momentum 0.9, weight decay $10^{-4}$ and a learning rate starting at 0.1 (divided
# by 10 twice during training), on batches of 64 on CIFAR and 256 on ImageNet. We take the
# paper's learning rate and weight decay (chapter 13 used 0.05 and $5 \cdot 10^{-4}$), plain
# momentum 0.9, and, as in chapter 13, batches of 128 and a learning rate that falls along a half
# cosine, $\eta_t = \tfrac{\eta_0}{2}\big(1 + \cos(\pi t/T)\big)$ after $t$ of $T$ steps (the
# cosine annealing of Loshchilov and Hutter, SGDR, ICLR 2017, with one period and no restarts),
# advanced by a step hook on the optimizer (`d2l.cosine_schedule`) because `d2l.train_ch5` only
# calls `optimizer.step()`; a second hook records the learning rate after every step. The reason
# for letting it fall: with a constant rate the steps stay as large at the end as at the start,
# and since minibatch gradients are noisy they keep moving the weights around a minimum instead
# of into it; a falling rate keeps the large early steps and shrinks the late ones, so the run
# ends settled. (Chapter 15 treats learning-rate schedules in full.)
#
# As in chapter 13, we keep 32 images of a training batch (the kept batch) and the untrained
# net's loss on them, computed in training mode on a copy of the net (so the running statistics
# do not move), to check after training that the loss on them fell; and since that loss would
# fall just as well if the running statistics that eval mode uses were never updated, we check
# those too.

# %%

lr, num_epochs, batch_size = 0.1, 10, 128
train_iter, test_iter = d2l.load_data_fashion_mnist(batch_size, resize=96)
optimizer = torch.optim.SGD(net.parameters(), lr=lr, momentum=0.9, weight_decay=1e-4)
# the schedule spans the epochs that will run: all of them in the full profile, fewer in quick
total_steps = d2l.cap_epochs(num_epochs) * len(train_iter)
schedule = d2l.cosine_schedule(optimizer, total_steps)
lrs = []  # the learning rate after each step, appended by a hook that runs after the schedule's
optimizer.register_step_post_hook(lambda opt, args, kwargs: lrs.append(opt.param_groups[0]["lr"]))

with torch.random.fork_rng():  # the draw leaves the random state training starts from as it was
    X_kept, y_kept = next(iter(train_iter))
X_kept, y_kept = X_kept[:32], y_kept[:32]  # 32 images: enough, and cheap to run twice
loss_before = d2l.batch_loss(net, X_kept, y_kept, train_mode=True)

# %%
history = d2l.train_ch5(net, train_iter, test_iter, batch_size, optimizer, d2l.try_gpu(),
                        num_epochs)

# %% [markdown]
# The curves are drawn live above. The checks, as in chapter 13:
#
# * **The kept batch**: training lowered its loss (in training mode).
# * **The running statistics** that eval mode uses were updated: after any training step every
#   batch norm's running mean and variance must have left their initial 0 and 1 (chapter 13
#   explains the update); with momentum 0 they never do.
# * **The schedule** advanced once per optimizer step and the learning rate after every step was
#   the formula's; checking only the last value would pass a schedule that stepped twice per
#   optimizer step, since both end at 0.
# * **A finite loss** needs no check of ours: `d2l.train_ch5` raises `TrainingDiverged` at the end
#   of an epoch in which some batch's loss was NaN or infinite.
# * **The accuracy**: `d2l.check_accuracy` compares the final test accuracy with the floor
#   measured for the profile that runs (each floor sits a stated margin below an accuracy that
#   `benchmarks/full_results.py` measured in that profile; the README lists them). The full
#   profile (ten epochs) reached 0.939 on two cores of an Intel Xeon on the bf16 fast path, in 30
#   minutes of training, so its floor is 0.90; in the smoke profile the accuracy is only
#   reported. The quick profile (all the data, one epoch, the schedule compressed into it)
#   reached 0.889 on two cores of an AMD EPYC in float32 (channels-last) and 0.894 on two cores
#   of an Intel Xeon on the bf16 fast path; its floor is 0.85, 0.03 below the lower. The quick
#   profile squeezes the whole cosine schedule into its one epoch, which favours chapters 12-14
#   over the constant learning rates of 09-11 when quick results are compared.
#
# `tests/test_trust_ch12_14.py` shows the running-statistics and schedule checks rejecting a
# net with momentum-0 batch norms and a schedule that steps twice per optimizer step. The steps
# are counted by the loop (`history.steps`), so the checks also hold after Ctrl-C, when the
# schedule has moved on during the unfinished epoch; the loss on the kept batch is compared once
# at least one epoch has finished. To train again, run the cell before the training cell first:
# it builds a fresh optimizer and schedule.

# %%
def check_cosine_schedule(lrs, schedule, steps, lr, total_steps):
    """Assert that `schedule` advanced once per optimizer step and that the learning rate after
    each of the `steps` steps, recorded in `lrs`, was lr/2 (1 + cos(pi t / total_steps))."""
    assert schedule.last_epoch == steps == len(lrs), (
        f"the schedule took {schedule.last_epoch} steps and {len(lrs)} learning rates were "
        f"recorded, for {steps} optimizer steps: it must advance once per step")
    for t, got in enumerate(lrs, start=1):
        expected = lr / 2 * (1 + math.cos(math.pi * t / total_steps))
        assert math.isclose(got, expected, rel_tol=1e-6, abs_tol=1e-12), (
            f"after {t} of {total_steps} steps the learning rate is {got:.3g}, "
            f"the formula's {expected:.3g}")


def check_running_stats_updated(net):
    """Assert that every batch norm of `net` has running statistics that left their initial
    values (mean 0, variance 1): training updated what eval mode normalizes with."""
    stale = [name for name, m in net.named_modules() if isinstance(m, nn.BatchNorm2d)
             and bool((m.running_mean == 0).all()) and bool((m.running_var == 1).all())]
    assert not stale, (f"{len(stale)} batch norms still hold their initial running statistics "
                       f"(the first: {stale[0]}): eval mode would normalize with mean 0, variance 1")


loss_after = d2l.batch_loss(net, X_kept, y_kept, train_mode=True)
print(f"loss on the kept batch: {loss_before:.3f} before training, {loss_after:.3f} after "
      f"{history.steps} steps")
if history.epochs_done:  # a few steps of an interrupted first epoch need not lower it yet
    assert loss_after < loss_before
if history.steps:  # before the first step every batch norm holds its initial statistics
    check_running_stats_updated(net)
check_cosine_schedule(lrs, schedule, history.steps, lr, total_steps)
d2l.check_accuracy(history, 0.90, quick=0.85);

# %% [markdown]
# ## 6. DenseNet-121 from the same parts
#
# The paper's ImageNet DenseNets are DenseNet-BC models, with two changes. **B**ottleneck layers:
# before its 3×3 convolution each layer first squeezes its wide input with a 1×1 convolution to
# $4k$ channels (BN → ReLU → 1×1 conv → BN → ReLU → 3×3 conv). **C**ompression: transitions halve
# the channels, as ours already do. DenseNet-121 uses $k = 32$ and blocks of 6, 12, 24 and 16
# layers: $2(6 + 12 + 24 + 16) = 116$ convolutions in the blocks, 3 in the transitions, the stem
# convolution and the dense layer make 121.
#
# Our `DenseBlock` takes the layer builder as an argument, so only the layer changes. We build
# the network for 3 channels and 1000 classes and compare it with torchvision's, built with
# `weights=None` (random weights, nothing downloaded).

# %%
import torchvision


def bottleneck_layer(in_channels, growth_rate, width_factor=4):
    """DenseNet-B layer: BN -> ReLU -> 1x1 conv to 4k channels -> BN -> ReLU -> 3x3 conv to k."""
    width = width_factor * growth_rate
    return nn.Sequential(nn.BatchNorm2d(in_channels), nn.ReLU(),
                         nn.Conv2d(in_channels, width, 1, bias=False),
                         nn.BatchNorm2d(width), nn.ReLU(),
                         nn.Conv2d(width, growth_rate, 3, padding=1, bias=False))


def densenet_bc(layers_per_block=(6, 12, 24, 16), growth_rate=32, in_channels=3,
                num_classes=1000):
    parts = OrderedDict(stem=nn.Sequential(
        nn.Conv2d(in_channels, 64, kernel_size=7, stride=2, padding=3, bias=False),
        nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(kernel_size=3, stride=2, padding=1)))
    channels = 64
    for i, num_layers in enumerate(layers_per_block):
        block = DenseBlock(num_layers, channels, growth_rate, make_layer=bottleneck_layer)
        parts[f"dense{i + 1}"] = block
        channels = block.out_channels
        if i < len(layers_per_block) - 1:
            parts[f"transition{i + 1}"] = transition(channels, channels // 2)
            channels //= 2
    parts.update(head=nn.Sequential(nn.BatchNorm2d(channels), nn.ReLU(),
                                    d2l.GlobalAvgPool2d(), d2l.FlattenLayer()),
                 fc=nn.Linear(channels, num_classes))
    return nn.Sequential(parts)


ours121 = densenet_bc()
tv121 = torchvision.models.densenet121(weights=None)
weight_layers = [m for m in ours121.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
print(f"DenseNet-121: {len(weight_layers)} weight layers; ours {d2l.num_params(ours121):,} "
      f"parameters, torchvision {d2l.num_params(tv121):,}")
assert len(weight_layers) == 121
assert ours121.fc.in_features == tv121.classifier.in_features == 1024
assert d2l.num_params(ours121) == d2l.num_params(tv121) == 7_978_856
assert [p.shape for p in ours121.parameters()] == [p.shape for p in tv121.parameters()]

# %% [markdown]
# Same parameter count and the same list of parameter shapes in the same order. That is
# necessary, not sufficient: a DenseNet-121 that concatenates each layer's new channels *before*
# its input, has no ReLUs inside its layers, pools with max instead of average in its
# transitions, or has a different stem pooling, has exactly the same parameters. What the parts
# compute has to be compared too. As in chapter 13 for ResNet-50, torchvision registers its
# layers in the same order as ours (stem, then per layer batch norm, 1×1 convolution, batch
# norm, 3×3 convolution, then the transitions, the last batch norm and the dense layer), so we
# copy its random weights and batch-norm statistics into our network tensor by tensor, and in
# eval mode (fixed statistics) the two must then give the same outputs. Each of the four
# mis-built networks above fails this comparison (`tests/test_trust_ch12_14.py`). The channel
# count entering the classifier, 1024, is worth predicting by hand (exercise 1).

# %%
def copy_by_order(source, target):
    """Copy every parameter and buffer of `source` into `target`, matched by position."""
    src, dst = list(source.state_dict().values()), list(target.state_dict().values())
    assert len(src) == len(dst)
    with torch.no_grad():
        for s, d in zip(src, dst):
            assert s.shape == d.shape
            d.copy_(s)


def check_same_function(ours, reference, X):
    """Copy `reference`'s weights into `ours` by position and assert that in eval mode both
    compute the same outputs on X."""
    copy_by_order(reference, ours)
    ours.eval()
    reference.eval()
    with torch.no_grad():
        torch.testing.assert_close(ours(X), reference(X))


check_same_function(ours121, tv121, torch.rand(2, 3, 64, 64))
print("DenseNet-121: ours and torchvision's compute the same outputs")
del ours121, tv121

# %% [markdown]
# ## Summary
#
# * A dense block concatenates each layer's output to its input: with growth rate $k$, a block of
#   $L$ layers turns $c_0$ channels into $c_0 + Lk$ at the same height and width.
# * A transition layer (BN, ReLU, 1×1 convolution, 2×2 average pooling) sets the channels, usually
#   halving them, and halves height and width.
# * Each layer adds only $k$ channels, so DenseNets have few parameters (0.76 million for ours,
#   8.0 million for DenseNet-121); the ever wider concatenated activations cost memory instead.
#
# ## Exercises
#
# The first three exercises are checked: replace the stub, run the cell, and the check tells you
# what is right or which case went wrong and why.
#
# **1. Channels through a DenseNet.** Write `densenet_channels(stem_channels, growth_rate,
# layers_per_block)`: the list of channel counts after every dense block and every transition, in
# order, for a network built like `densenet` (transitions halve the channels, rounding down; there
# is none after the last block). For our network, `densenet_channels(64, 32, (4, 4, 4, 4))` is
# `[192, 96, 224, 112, 240, 120, 248]`. Once it passes, the check prints what DenseNet-121's
# classifier receives.

# %% tags=["exercise"]
def densenet_channels(stem_channels, growth_rate, layers_per_block):
    # your code here
    raise NotImplementedError


d2l.exercises.check_densenet_channels(densenet_channels)

# %% [markdown]
# **2. The dense block's forward pass.** Write `dense_forward(x, layers)`, the forward pass of a
# dense block as a function: `layers` is a list of modules, layer $l$ reads the block input
# concatenated with the outputs of layers $1, \dots, l-1$, and the function returns the input
# with every layer's output appended along the channel axis, in order. The check builds the
# layers itself (batch norm, ReLU, 3×3 convolution, in eval mode) and compares your output with
# the reference's, for blocks of 3, 1 and 0 layers.

# %% tags=["exercise"]
def dense_forward(x, layers):
    # your code here
    raise NotImplementedError


d2l.exercises.check_dense_forward(dense_forward)

# %% [markdown]
# **3. A transition that pools first.** Section 3 showed that the 1×1 convolution and the
# average pooling commute. Write `pool_first_transition(in_channels, out_channels)`, returning a
# module that computes exactly what `transition(in_channels, out_channels)` computes, with the
# pooling moved before the convolution (register the batch norm first: the check copies the
# chapter's transition weights into yours by position, compares the outputs in eval and
# training mode, and counts the multiply-adds of your convolution, which must now run on the
# pooled positions). Which of the other layers could move too, and which could not?

# %% tags=["exercise"]
def pool_first_transition(in_channels, out_channels):
    # your code here
    raise NotImplementedError


d2l.exercises.check_pool_first_transition(pool_first_transition)

# %% [markdown]
# The remaining questions are open:
#
# 4. Why does the transition layer use average pooling rather than max pooling? Try max pooling
#    and compare the test accuracy.
# 5. Our network has about 0.76 million parameters, ResNet-18 about 11.2 million. Which of the two
#    trains faster per epoch on your machine, and which needs more memory? Explain with the
#    shapes of the activations.
# 6. Halve the growth rate to 16 and double the blocks to 8 layers each (check with
#    `d2l.num_params` that the parameter count stays close to ours). How do accuracy and time
#    change?
# 7. Implement a memory-saving dense block: recompute each layer's BN → ReLU → conv in the
#    backward pass instead of storing it (hint: `torch.utils.checkpoint`). Check that the
#    gradients equal those of `DenseBlock`.

# %% [markdown]
# <details><summary>Reference results for exercises 4, 5 and 6</summary>
#
# Measured by `python benchmarks/exercise_refs/14_densenet.py` on a 2-core x86_64 CPU with
# torch 2.14.1 (about 4 CPU-minutes).
#
# Exercises 4 and 6: each variant differs from this notebook's net in one thing, and all use the
# notebook's SGD recipe (lr 0.1, momentum 0.9, weight decay 0.0001, held constant). To keep it
# short, every net takes the same 40 steps on shuffled batches of 32 Fashion-MNIST training
# images at 32×32 instead of 96×96, and is scored on 500 validation images taken from the
# training file; two seeds show how much of a difference is noise. This is the start of training
# only, not the accuracy after a few epochs.
#
# | net | parameters | seed 0: mean loss, steps 31-40 | seed 0: validation accuracy | seed 1: mean loss, steps 31-40 | seed 1: validation accuracy |
# |---|---|---|---|---|---|
# | this notebook: growth 32, 4 layers per block, average pooling | 757,322 | 1.334 | 0.436 | 1.531 | 0.370 |
# | exercise 4: max pooling in the transitions | 757,322 | 1.084 | 0.552 | 1.242 | 0.634 |
# | exercise 6: growth 16, 8 layers per block | 799,370 | 1.297 | 0.416 | 1.459 | 0.480 |
#
# In these 40 steps max pooling got ahead with both seeds; whether it stays ahead over a full
# training, this run does not tell. Growth 16 with twice as many layers (about 6 % more
# parameters) is behind with seed 0 and ahead with seed 1: no difference these runs can resolve.
#
# Exercise 5: one training step on a batch of 32 images at 96×96 (CPU time: the median of 3 steps
# after a warm-up step, on a machine shared with other jobs; activations: the tensors autograd
# keeps for the backward pass, each storage counted once, the parameters not counted).
#
# | net | parameters | activations kept for the backward pass | CPU seconds per step |
# |---|---|---|---|
# | DenseNet (this notebook) | 757,322 | 183 MB | 1.74 |
# | ResNet-18 (chapter 13) | 11,175,370 | 122 MB | 3.13 |
#
# With 15 times fewer parameters, DenseNet keeps half as much again in activations: the batch
# norm of every layer keeps that layer's whole concatenated input for the backward pass. On this
# CPU its step took less time than ResNet-18's.
#
# </details>
