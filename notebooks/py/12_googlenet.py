# %% [markdown]
# # 12 · GoogLeNet: several kernel sizes at once
#
# Which kernel size should a convolution use: 1×1, 3×3, 5×5? GoogLeNet (Szegedy et al., 2015, the
# network that won the classification task of the ImageNet challenge ILSVRC 2014) declined to
# choose. Its **Inception block** runs several convolutions of different sizes side by side on
# the same input and stacks their outputs along the channel axis, so the next layer can use
# whichever scale is informative. Cheap 1×1 convolutions keep this affordable. In this chapter
# you will
#
# * write the Inception block and check what its output shape must be;
# * count its parameters with a formula and see how much the 1×1 "reductions" save;
# * assemble GoogLeNet for 96×96 Fashion-MNIST, walk an image through it, and see why a deep net
#   without batch normalization needs a careful initialization;
# * train it with `d2l.train_ch5`.

# %%
import math
from collections import OrderedDict

import torch
from torch import nn
import d2lmini as d2l

d2l.set_seed(0)
print(d2l.profile_summary())

# %% [markdown]
# ## 1. The Inception block
#
# The block has four paths that all read the same input:
#
# 1. a 1×1 convolution with $c_1$ output channels;
# 2. a 1×1 convolution down to $c_2[0]$ channels, then a 3×3 convolution to $c_2[1]$;
# 3. a 1×1 convolution down to $c_3[0]$ channels, then a 5×5 convolution to $c_3[1]$;
# 4. a 3×3 max pooling with stride 1, then a 1×1 convolution to $c_4$ channels.
#
# Every convolution is followed by a ReLU. The padding is chosen so that no path changes the
# height or width: a $k\times k$ window with stride 1 needs $(k-1)/2$ pixels of padding on each
# side (1 for 3×3, 2 for 5×5). The four results can then be **concatenated along the channel
# axis**.
#
# ![The Inception block: four parallel paths concatenated along the channel axis](../Pics/12_inception_block.svg)
#
# The 1×1 convolutions in front of the 3×3 and 5×5 ones shrink the number of channels those
# expensive layers read; the one after the pooling sets how many channels the pooling path
# contributes.

# %%
class Inception(nn.Module):
    """Four parallel paths over the same input, concatenated along channels: 1x1; 1x1 -> 3x3;
    1x1 -> 5x5; 3x3 max pool -> 1x1. `c2` and `c3` are pairs (reduced, output) channels."""

    def __init__(self, in_channels, c1, c2, c3, c4):
        super().__init__()
        self.path1 = nn.Sequential(nn.Conv2d(in_channels, c1, 1), nn.ReLU())
        self.path2 = nn.Sequential(
            nn.Conv2d(in_channels, c2[0], 1), nn.ReLU(),
            nn.Conv2d(c2[0], c2[1], 3, padding=1), nn.ReLU())
        self.path3 = nn.Sequential(
            nn.Conv2d(in_channels, c3[0], 1), nn.ReLU(),
            nn.Conv2d(c3[0], c3[1], 5, padding=2), nn.ReLU())
        self.path4 = nn.Sequential(
            nn.MaxPool2d(3, stride=1, padding=1),
            nn.Conv2d(in_channels, c4, 1), nn.ReLU())

    def forward(self, x):
        return torch.cat([self.path1(x), self.path2(x), self.path3(x), self.path4(x)], dim=1)


# %% [markdown]
# So an Inception block's output has $c_1 + c_2[1] + c_3[1] + c_4$ channels and the same height
# and width as its input, whatever those are. We check it on two configurations and on an odd,
# non-square input, and check that the output really is the four paths side by side, in order.

# %%
def inception_out_channels(c1, c2, c3, c4):
    return c1 + c2[1] + c3[1] + c4


for in_ch, config, (h, w) in [(192, (64, (96, 128), (16, 32), 32), (12, 12)),
                              (8, (3, (4, 5), (2, 7), 1), (7, 9))]:
    blk = Inception(in_ch, *config)
    X = torch.randn(2, in_ch, h, w)
    Y = blk(X)
    print(f"in {tuple(X.shape)} -> out {tuple(Y.shape)}")
    assert Y.shape == (2, inception_out_channels(*config), h, w)

c1, c2, c3, c4 = config
paths = [blk.path1(X), blk.path2(X), blk.path3(X), blk.path4(X)]
assert [p.shape[1] for p in paths] == [c1, c2[1], c3[1], c4]
torch.testing.assert_close(torch.split(Y, [c1, c2[1], c3[1], c4], dim=1), tuple(paths))

# %% [markdown]
# ### What the 1×1 reductions save
#
# A $k\times k$ convolution from $c_i$ to $c_o$ channels has $c_o(c_i k^2 + 1)$ parameters and,
# on an $h\times w$ output, $h w\, c_o c_i k^2$ multiply-adds. Take GoogLeNet's first Inception
# block: 192 input channels, $c_1 = 64$, $c_2 = (96, 128)$, $c_3 = (16, 32)$, $c_4 = 32$.
# Its 5×5 path reads only 16 channels instead of 192; without the reductions, the 3×3 and 5×5
# convolutions would read all 192.

# %%
def conv_params(c_in, c_out, k):
    return c_out * (c_in * k * k + 1)


def inception_params(c_in, c1, c2, c3, c4):
    return (conv_params(c_in, c1, 1)
            + conv_params(c_in, c2[0], 1) + conv_params(c2[0], c2[1], 3)
            + conv_params(c_in, c3[0], 1) + conv_params(c3[0], c3[1], 5)
            + conv_params(c_in, c4, 1))


block3a = Inception(192, 64, (96, 128), (16, 32), 32)
with_reductions = inception_params(192, 64, (96, 128), (16, 32), 32)
without_reductions = (conv_params(192, 64, 1) + conv_params(192, 128, 3)
                      + conv_params(192, 32, 5) + conv_params(192, 32, 1))
print(f"with 1x1 reductions: {with_reductions:,} parameters; "
      f"without: {without_reductions:,} ({without_reductions / with_reductions:.1f}x)")
assert d2l.num_params(block3a) == with_reductions == 163_696
assert round(without_reductions / with_reductions, 1) == 2.4

# %% [markdown]
# ## 2. GoogLeNet for 96×96 images
#
# GoogLeNet stacks nine Inception blocks between a plain convolutional stem and a global average
# pooling (chapter 11's NiN idea: no big dense layers at the end). Max poolings with stride 2
# between the stages halve the height and width. We use the channel numbers of the original
# paper, a 1-channel input, 10 classes, and 96×96 images instead of 224×224 to keep training
# affordable. Three parts of the paper's network are left out: the two local response
# normalizations in the stem, the dropout before the dense layer, and the two auxiliary
# classifiers the paper attached to intermediate layers during training.
# `in_channels` and `num_classes` are arguments, so `googlenet(in_channels=3)` is the network for
# 3-channel colour images such as CIFAR-10's.
#
# ![GoogLeNet for 96x96 Fashion-MNIST: two convolutional stages, three Inception stages, a dense layer](../Pics/12_googlenet.svg)

# %%
def max_pool():
    return nn.MaxPool2d(kernel_size=3, stride=2, padding=1)


def googlenet(in_channels=1, num_classes=10):
    """GoogLeNet as in section 2 (no LRN, dropout or auxiliary classifiers) for `in_channels`-channel
    images."""
    return nn.Sequential(OrderedDict([
        ("b1", nn.Sequential(nn.Conv2d(in_channels, 64, 7, stride=2, padding=3), nn.ReLU(),
                             max_pool())),
        ("b2", nn.Sequential(nn.Conv2d(64, 64, 1), nn.ReLU(),
                             nn.Conv2d(64, 192, 3, padding=1), nn.ReLU(), max_pool())),
        ("b3", nn.Sequential(Inception(192, 64, (96, 128), (16, 32), 32),
                             Inception(256, 128, (128, 192), (32, 96), 64), max_pool())),
        ("b4", nn.Sequential(Inception(480, 192, (96, 208), (16, 48), 64),
                             Inception(512, 160, (112, 224), (24, 64), 64),
                             Inception(512, 128, (128, 256), (24, 64), 64),
                             Inception(512, 112, (144, 288), (32, 64), 64),
                             Inception(528, 256, (160, 320), (32, 128), 128), max_pool())),
        ("b5", nn.Sequential(Inception(832, 256, (160, 320), (32, 128), 128),
                             Inception(832, 384, (192, 384), (48, 128), 128),
                             d2l.GlobalAvgPool2d(), d2l.FlattenLayer())),
        ("fc", nn.Linear(1024, num_classes)),
    ]))


net = googlenet()

# %% [markdown]
# ### The shape walk
#
# Every Inception block's input channels must equal the previous block's
# $c_1 + c_2[1] + c_3[1] + c_4$ (for example $64 + 128 + 32 + 32 = 256$ after the first one), or
# the next convolution fails. The spatial size goes 96 → 48 (the stride-2 convolution) → 24 → 12
# → 6 → 3 (the four max poolings) → 1 (global pooling).

# %%
shapes = d2l.layer_shapes(net, torch.rand(1, 1, 96, 96))
assert [shape for _, shape in shapes] == [
    (1, 64, 24, 24), (1, 192, 12, 12), (1, 480, 6, 6), (1, 832, 3, 3), (1, 1024), (1, 10)]

colour = googlenet(in_channels=3)  # one argument changes for 3-channel images
assert colour(torch.rand(1, 3, 32, 32)).shape == (1, 10)
assert colour.b1[0].weight.shape == (64, 3, 7, 7)
del colour

# %% [markdown]
# Inside a stage, each Inception block sets the width the next one reads. Walking through `b3`
# alone:

# %%
inner = d2l.layer_shapes(net.b3, torch.rand(1, 192, 12, 12))
assert [shape for _, shape in inner] == [(1, 256, 12, 12), (1, 480, 12, 12), (1, 480, 6, 6)]
blocks = [m for m in net.modules() if isinstance(m, Inception)]
assert len(blocks) == 9
for before, after in zip(blocks, blocks[1:]):  # each block reads what the previous one wrote
    assert after.path1[0].in_channels == before.path1[0].out_channels + \
        before.path2[2].out_channels + before.path3[2].out_channels + before.path4[1].out_channels
print(f"GoogLeNet for Fashion-MNIST: {d2l.num_params(net):,} parameters")

# %% [markdown]
# ## 3. Initialization matters without batch normalization
#
# GoogLeNet predates batch normalization, so nothing rescales the activations on their way
# through its 22 weight layers (counted, as the paper does, along the deepest path: the stem's
# three convolutions, two per Inception block, and the dense layer, $3 + 9 \cdot 2 + 1$). A
# convolution with $n_\text{in}$ inputs per output and zero-mean weights of variance $v$
# multiplies the mean square of its input by about $n_\text{in} v$ and then adds its bias; a ReLU
# halves the mean square of what it receives (at initialization that is symmetric about zero).
# PyTorch's default initialization draws the weights *and the biases* uniformly with variance
# $1/(3 n_\text{in})$. Two things follow:
#
# * the part of the signal that comes from the image shrinks by a factor of about $3 \cdot 2 = 6$
#   at every convolution and ReLU it passes. A path from the input to the dense layer passes
#   between 12 of them (the stem's three, then one per block through path 1 or 4) and 21 (two
#   per block), so that part ends between $6^{12} \approx 2 \cdot 10^{9}$ and
#   $6^{21} \approx 2 \cdot 10^{16}$ times smaller;
# * every layer adds its own bias, which does not depend on the image at all. Once the image's
#   part has faded, a layer outputs its bias (mean square $1/(3 n_\text{in})$, halved by the ReLU)
#   plus a sixth of what it received, so the features reaching the dense layer settle between
#   $1/(6 n_\text{in})$ and $1.2/(6 n_\text{in}) = 1/(5 n_\text{in})$, for the last block's
#   $n_\text{in}$ from 832 (its 1×1 convolutions) to 1728 (its 3×3 one), *whatever the input*.
#
# So under the default the classifier receives small features, and worse, nearly the same
# features for every image. Kaiming initialization (chapter 05) uses $v = 2/n_\text{in}$ and zero
# biases: each convolution and ReLU keep the mean square roughly constant. We measure the mean
# square of the features that reach the dense layer, changing one thing at a time: PyTorch's
# default; the same weights with the convolutions' biases set to zero; Kaiming weights, biases
# still zero. For the default we also compare with the features of a black image. Only the
# convolutions are re-initialized; the final dense layer keeps PyTorch's default, whose small
# weights make the initial class scores small, so the first loss is close to $\ln 10$.

# %%
def init_kaiming(module):
    """Kaiming-normal weights and zero biases for every convolution; other layers untouched."""
    if isinstance(module, nn.Conv2d):
        nn.init.kaiming_normal_(module.weight, nonlinearity="relu")
        nn.init.zeros_(module.bias)


def features(model, X):
    """What reaches the dense layer: the output of everything before it."""
    with torch.no_grad():
        return model[:-1](X)


def mean_square(t):
    return (t ** 2).mean().item()


X = torch.rand(8, 1, 96, 96)
input_ms = mean_square(X)
default_features = features(net, X)
default_ms = mean_square(default_features)
# how far the features of these images are from those of a black image
from_black = mean_square(default_features - features(net, torch.zeros_like(X)))
with torch.no_grad():  # change one thing: the convolutions' biases
    for m in net.modules():
        if isinstance(m, nn.Conv2d):
            m.bias.zero_()
no_bias_ms = mean_square(features(net, X))
net.apply(init_kaiming)  # change the other: the weights (the biases are zero already)
kaiming_ms = mean_square(features(net, X))
print(f"input mean square {input_ms:.3f}; features: default init {default_ms:.2e} "
      f"(differing from a black image's by {from_black:.1e}), default weights without biases "
      f"{no_bias_ms:.1e} ({input_ms / no_bias_ms:.1e} times below the input), "
      f"Kaiming weights without biases {kaiming_ms:.2f}")
assert 1 / (6 * 1728) < default_ms < 1 / (5 * 832)  # the level the last biases set ...
assert from_black < 1e-6 * default_ms  # ... the same for a black image: the input is lost
assert 6 ** 12 < input_ms / no_bias_ms < 6 ** 21  # what the weights alone do to the image
assert input_ms / 10 < kaiming_ms < 10 * input_ms  # Kaiming: the same order as the input

with torch.no_grad():
    first_loss = nn.functional.cross_entropy(net(X), torch.arange(8)).item()
print(f"loss of the untrained net {first_loss:.3f}, ln 10 = {math.log(10):.3f}")
assert abs(first_loss - math.log(10)) < 0.5

# %% [markdown]
# With the default initialization the features are made by the last layers' biases: their mean
# square is where the reasoning above puts it, and they differ from a black image's by less
# than a millionth of it, so at first the classifier sees nearly the same features for every
# image (exercise 5 asks what that does to training). Without the biases, the same weights leave
# a signal that does come from the image, weakened as much as the factor 6 per layer predicts.
# With Kaiming weights it stays within a factor 10 of the input. We train the
# Kaiming-initialized net.
#
# ## 4. Training
#
# Without batch normalization, the gradients of different layers can differ a lot in size, and
# plain SGD's step is the learning rate times the gradient, whatever its size. **Adam** divides
# each parameter's step by a running estimate of the size of that parameter's recent gradients,
# so one learning rate gives steps of comparable size in every layer.
#
# **A learning rate that falls.** With a constant learning rate the steps stay as large at the end
# of training as at the start, and since every minibatch gradient is noisy they keep moving the
# weights around a minimum instead of into it. Lowering the rate as training goes on keeps the
# large early steps that make fast progress and shrinks the late ones, so the run ends settled
# near a minimum. We let it fall along a half cosine,
#
# $$\eta_t = \frac{\eta_0}{2}\left(1 + \cos\frac{\pi t}{T}\right)$$
#
# after $t$ of $T$ optimizer steps, from $\eta_0$ to $\eta_0/2$ halfway and 0 at the end. This is
# the *cosine annealing* of Loshchilov and Hutter (SGDR, ICLR 2017), in its simplest form: one
# period, down to 0, without the warm restarts their paper adds. Chapters 13 and 14 use the same
# schedule, and chapter 15 (optimization algorithms) treats learning-rate schedules in full.
# `d2l.train_ch5` calls only `optimizer.step()`, so a step hook on the optimizer advances the
# schedule; `d2l.cosine_schedule(optimizer, total_steps)` attaches one and returns it. A second
# hook, registered after it, records the learning rate each step leaves for the next, so that
# after training we can check the whole schedule the run followed, not just where it ended.
#
# Before training we keep 32 images of a training batch (the kept batch) and the untrained net's
# loss on them. After training the loss on those same images must be lower: a check that fails
# if training did nothing (with a learning rate of 0, say) or went wrong. The batch is drawn
# inside `torch.random.fork_rng()`, so the draw leaves the random state that training starts
# from as it was.

# %%
lr, num_epochs, batch_size = 0.001, 10, 128
train_iter, test_iter = d2l.load_data_fashion_mnist(batch_size, resize=96)
optimizer = torch.optim.Adam(net.parameters(), lr=lr)
# the schedule spans the epochs that will run: all of them in the full profile, fewer in quick
total_steps = d2l.cap_epochs(num_epochs) * len(train_iter)
schedule = d2l.cosine_schedule(optimizer, total_steps)
lrs = []  # the learning rate after each step, appended by a hook that runs after the schedule's
optimizer.register_step_post_hook(lambda opt, args, kwargs: lrs.append(opt.param_groups[0]["lr"]))

with torch.random.fork_rng():
    X_kept, y_kept = next(iter(train_iter))
X_kept, y_kept = X_kept[:32], y_kept[:32]  # 32 images: enough, and cheap to run twice
loss_before = d2l.batch_loss(net, X_kept, y_kept)

# %%
history = d2l.train_ch5(net, train_iter, test_iter, batch_size, optimizer, d2l.try_gpu(),
                        num_epochs)

# %% [markdown]
# The curves are drawn live above. The checks: training lowered the loss on the kept batch, the
# learning rate followed the schedule, and `d2l.check_accuracy` compares the final test accuracy
# with the floor measured for the profile that runs.
#
# * **The schedule.** It must have advanced exactly once per optimizer step (its own count,
#   `schedule.last_epoch`, equals the loop's, `history.steps`), and after step $t$ the learning
#   rate must be the formula's $\eta_t$, for every $t$ the run took: $\eta_0/2$ at $t = T/2$, for
#   instance. Checking only the last value would not do: at $t = T$ the formula gives 0, and so
#   would a schedule that stepped twice per optimizer step (it reaches $T$ halfway and stays at
#   0), or any other schedule that ends at 0. `tests/test_trust_ch12_14.py` shows this check
#   rejecting both.
# * **A finite loss** needs no check of ours: `d2l.train_ch5` raises `TrainingDiverged` at the end
#   of an epoch in which some batch's loss was NaN or infinite, so every loss in a history it
#   returns is finite.
# * **The accuracy.** Each floor sits a stated margin below an accuracy that
#   `benchmarks/full_results.py` measured in that profile (the README lists them). No run of this
#   chapter in the full profile has been measured yet, so there 90 % is printed as a target, not
#   checked. The target is the test accuracy that the classic Chinese PyTorch edition of *Dive
#   into Deep Learning* reports for the same network at 96×96 (its section 5.9: 0.896 after five
#   epochs of Adam at our learning rate of 0.001, batches of 128, PyTorch's default
#   initialization, no schedule, on a GPU), rounded to the hundredth; the book's second edition
#   reports 0.886 after ten epochs of plain SGD at a learning rate of 0.1. In the smoke profile
#   the accuracy is only reported. The quick profile (all the data, one epoch, the schedule
#   compressed into it) reached 0.855 on two cores of an AMD EPYC in plain float32 and 0.852 on
#   two cores of an Intel Xeon on the bf16 fast path; its floor is 0.82, 0.03 below the lower.
#
# Mind the schedule when comparing quick results between chapters: the quick profile squeezes the
# whole cosine schedule of chapters 12-14 into its one epoch, so those runs end with the learning
# rate near 0, settled, while chapters 09-11 keep theirs constant and stop with it still high.
# That favours 12-14; their quick accuracies do not rank the networks.
#
# The steps are counted by the loop (`history.steps`), so the checks also hold after Ctrl-C, when
# the schedule has moved on during the unfinished epoch; the loss on the kept batch is compared
# once at least one epoch has finished. To train again, run the cell before the training cell
# first: it builds a fresh optimizer and schedule.

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


loss_after = d2l.batch_loss(net, X_kept, y_kept)
print(f"loss on the kept batch: {loss_before:.3f} before training, {loss_after:.3f} after "
      f"{history.steps} steps")
if history.epochs_done:  # a few steps of an interrupted first epoch need not lower it yet
    assert loss_after < loss_before
check_cosine_schedule(lrs, schedule, history.steps, lr, total_steps)
half = total_steps // 2
if history.steps >= half:
    print(f"learning rate after {half} of {total_steps} steps: {lrs[half - 1]:.2e} "
          f"(eta_0 / 2 = {lr / 2:.2e}); after the last step: {lrs[-1]:.1e}")
d2l.check_accuracy(history, quick=0.82, target=0.90);

# %% [markdown]
# ## Summary
#
# * An Inception block runs 1×1, 3×3 and 5×5 convolutions and a max pooling in parallel and
#   concatenates the results: $c_1 + c_2[1] + c_3[1] + c_4$ channels at the input's height and
#   width.
# * 1×1 convolutions in front of the large kernels cut the parameters and the arithmetic; the
#   first block's parameters by a factor of 2.4.
# * GoogLeNet stacks nine such blocks, halving the resolution between stages, and ends with global
#   average pooling and a single dense layer.
# * Without batch normalization, the initialization decides whether the image's signal survives
#   22 layers: under PyTorch's default the features reaching the classifier are set by the
#   biases, nearly the same for every image; Kaiming weights keep the signal's size.
#
# ## Exercises
#
# The first three exercises are checked: replace the stub, run the cell, and the check tells you
# what is right or which case went wrong and why.
#
# **1. The arithmetic of an Inception block.** Section 1 counted parameters; the cost of running
# a block is another matter. A $k\times k$ convolution from $c_i$ to $c_o$ channels computes
# $c_o c_i k^2$ multiply-adds at each of its $h w$ output positions. Write
# `inception_macs(c_in, c1, c2, c3, c4, h, w)`, the number of multiply-adds of the six
# convolutions of an Inception block on an $h\times w$ input (biases, ReLUs and the max pooling
# not counted). Once it passes, the check prints the first block's count on a 12×12 input with
# and without the 1×1 reductions: is the saving the same as for the parameters?

# %% tags=["exercise"]
def inception_macs(c_in, c1, c2, c3, c4, h, w):
    # your code here
    raise NotImplementedError


d2l.exercises.check_inception_macs(inception_macs)

# %% [markdown]
# **2. Two 3×3 convolutions instead of a 5×5.** Later Inception versions (BN-Inception, 2015,
# and Inception-v3, 2016) replaced the 5×5 convolution of path 3 by two stacked 3×3
# convolutions. Write `InceptionFactorized(in_channels, c1, c2, c3, c4)`, an `nn.Module` like
# `Inception` whose path 3 is a 1×1 convolution to $c_3[0]$ channels, a 3×3 convolution to
# $c_3[1]$ and another 3×3 convolution to $c_3[1]$, each followed by a ReLU (paths 1, 2 and 4 as
# before, with biases). The check counts the parameters, runs the block on odd and non-square
# inputs, then gives your convolutions known weights (it tells them apart by their shapes) and
# compares the output with that of its own block, so the padding, every ReLU, the max pooling
# and the order of the paths matter (build each convolution as its own `nn.Conv2d`). Then
# compare with `Inception`: how many parameters does path 3 have in each for $c_3 = (16, 32)$,
# and how large is the input window one of its outputs sees?

# %% tags=["exercise"]
class InceptionFactorized(nn.Module):
    def __init__(self, in_channels, c1, c2, c3, c4):
        super().__init__()
        # your code here
        raise NotImplementedError

    def forward(self, x):
        # your code here
        raise NotImplementedError


d2l.exercises.check_inception_factorized(InceptionFactorized)

# %% [markdown]
# **3. Why the pooling path has a 1×1 convolution.** Suppose path 4 were the 3×3 max pooling
# alone. Write `stacked_out_channels(in_channels, configs)`: for blocks stacked one after the
# other, each reading the previous block's output, with `configs` a list of $(c_1, c_2, c_3)$
# triples, return the list of the blocks' output channel counts. What does the 1×1 convolution
# after the pooling buy?

# %% tags=["exercise"]
def stacked_out_channels(in_channels, configs):
    # your code here
    raise NotImplementedError


d2l.exercises.check_stacked_pool_channels(stacked_out_channels)

# %% [markdown]
# The remaining questions are open:
#
# 4. Add a `nn.BatchNorm2d` after every convolution (Ioffe and Szegedy's BN-Inception, 2015, did
#    this; pass `bias=False` to the convolutions, see chapter 13). Does training still need Adam
#    and Kaiming initialization?
# 5. Train with the PyTorch default initialization instead of Kaiming's. What happens in the first
#    epoch?
# 6. Which of GoogLeNet's layers hold most of its parameters? Compare with AlexNet and VGG, whose
#    dense layers dominated.

# %% [markdown]
# <details><summary>Reference results for exercises 4 and 5</summary>
#
# Measured by `python benchmarks/exercise_refs/12_googlenet.py` on a 2-core x86_64 CPU with
# torch 2.14.1 (about 9 CPU-minutes). To keep it short, every run takes the same 40 SGD or Adam
# steps on shuffled batches of 32 Fashion-MNIST training images at 48×48 instead of 96×96 (the
# same network), and is scored on 500 validation images taken from the training file; the numbers
# describe the start of training only. Runs A and B differ only in the initialization
# (exercise 5), C and D only in the batch norms (exercise 4); C differs from B only in the
# optimizer (SGD with lr 0.05 and momentum 0.9 instead of Adam with lr 0.001).
#
# | run | first loss | mean loss, steps 1-10 | steps 31-40 | validation accuracy after 40 steps |
# |---|---|---|---|---|
# | A: no BN, Kaiming init, Adam (this notebook) | 2.481 | 2.501 | 1.749 | 0.254 |
# | B: no BN, default init, Adam | 2.300 | 2.305 | 2.304 | 0.100 |
# | C: no BN, default init, SGD | 2.300 | 2.302 | 2.308 | 0.100 |
# | D: BN, default init, SGD | 2.328 | 2.554 | 2.334 | 0.166 |
#
# With PyTorch's default initialization (B, C) the features reaching the classifier are set by
# the biases, nearly the same for every image (section 3 measured that at 96×96), the first loss is 2.300, next to $\ln 10 \approx 2.303$, and in 40 steps neither
# Adam nor SGD moves the loss or the accuracy off the uniform guess (0.100). With batch norms (D)
# the same default initialization and SGD do get off the ground (0.166), though in these 40 steps
# its loss is still above $\ln 10$ and the run is far behind the notebook's recipe (A).
#
# </details>
