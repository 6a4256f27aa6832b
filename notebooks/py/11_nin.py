# %% [markdown]
# # 11 · NiN: 1 × 1 convolutions and global average pooling
#
# AlexNet (chapter 09) and VGG (chapter 10) both end in the same way: flatten the last feature
# maps and feed them to dense layers of 4096 units. That head holds over 90 % of their
# parameters (chapters 09 and 10 counted them), and it accepts feature maps of one size only.
# *Network in Network* (Lin, Chen and Yan, 2013) changed the design in two places:
#
# - each convolution becomes an **mlpconv** layer: after the ordinary convolution come
#   **1 × 1 convolutions**, a small dense network applied separately at every pixel, which
#   mixes the channels without mixing positions;
# - the dense head is gone. The last layer outputs **one map per class**, and **global
#   average pooling** turns each map into a single score.
#
# In this notebook we
# - show that a 1 × 1 convolution *is* a dense layer applied at every pixel (numerically);
# - build the NiN block and the network, and walk a 224 × 224 image through it;
# - check that `d2l.GlobalAvgPool2d` takes per-channel means and replaces the dense head;
# - compare the parameters of NiN's head with VGG's dense head;
# - train NiN on Fashion-MNIST.

# %%
import torch
from torch import nn
import d2lmini as d2l

d2l.set_seed(0)
print(d2l.profile_summary())

# %% [markdown]
# ## 1. A 1 × 1 convolution is a dense layer at every pixel
#
# A convolution with a $1\times1$ kernel, $c_i$ input and $c_o$ output channels computes, at each
# position $(h, w)$,
#
# $$Y_{o,h,w} = b_o + \sum_{i=1}^{c_i} W_{o,i}\, X_{i,h,w} ,$$
#
# that is $\mathbf{y}_{h,w} = W \mathbf{x}_{h,w} + \mathbf{b}$: one matrix $W \in
# \mathbb{R}^{c_o \times c_i}$ applied to the vector of channel values at every pixel, the same
# matrix everywhere. This is exactly a dense layer (`nn.Linear(c_i, c_o)`) whose "examples" are
# the $N \cdot H \cdot W$ pixels. We copy a convolution's weights into a dense layer, move the
# channel axis last so that every pixel becomes a row, and compare.

# %%
conv1x1 = nn.Conv2d(3, 4, kernel_size=1)
dense = nn.Linear(3, 4)
with torch.no_grad():
    dense.weight.copy_(conv1x1.weight.reshape(4, 3))  # (c_o, c_i, 1, 1) -> (c_o, c_i)
    dense.bias.copy_(conv1x1.bias)

X = torch.randn(2, 3, 5, 6)
by_conv = conv1x1(X)
pixels = X.permute(0, 2, 3, 1)  # (N, H, W, c_i): one c_i-vector per pixel
by_dense = dense(pixels).permute(0, 3, 1, 2)  # back to (N, c_o, H, W)

print(by_conv.shape, by_dense.shape)
torch.testing.assert_close(by_conv, by_dense)

# the same thing as one matrix product over all N*H*W pixels at once
as_matrix = (X.permute(0, 2, 3, 1).reshape(-1, 3) @ dense.weight.T + dense.bias)
torch.testing.assert_close(as_matrix.reshape(2, 5, 6, 4).permute(0, 3, 1, 2), by_conv)

# %% [markdown]
# Two consequences. A 1 × 1 convolution has $c_o(c_i + 1)$ parameters whatever the image size,
# and it keeps the height and width. Two of them in a row, with ReLUs, form a two-layer MLP that
# runs at every pixel: the "network in the network".

# %%
assert d2l.num_params(conv1x1) == 4 * (3 + 1)
assert conv1x1(torch.randn(1, 3, 50, 70)).shape == (1, 4, 50, 70)

# %% [markdown]
# ## 2. The NiN block
#
# A NiN block (the paper's mlpconv layer) is a $k \times k$ convolution (with its stride and
# padding) followed by two $1 \times 1$ convolutions with the same number of channels, each with
# a ReLU. Our network has four such blocks. The first three use AlexNet's window sizes and
# channels (11 × 11 / 96, 5 × 5 / 256, 3 × 3 / 384), with 3 × 3 max-pooling of stride 2 after
# each; the fourth, a 3 × 3 block, has one output channel per class, and a single dropout layer
# comes before it.
#
# This layout is not the paper's. The networks Lin, Chen and Yan trained on CIFAR-10,
# CIFAR-100, SVHN and MNIST stack **three** mlpconv layers with max-pooling between them,
# dropout on the outputs of all but the last, and global average pooling on top. The four-block,
# AlexNet-sized design matches the ImageNet model that Min Lin, the paper's first author,
# released for the Caffe framework (the paper does not describe it); its last block widens to
# 1024 channels (a 3 × 3 convolution 384 → 1024, then 1 × 1 convolutions 1024 → 1024 and
# 1024 → 1000 classes). Going straight from 384 to 10 channels in the last block is this
# course's choice, as it is Dive into Deep Learning's. Both of the authors' designs end every
# block with a ReLU; we leave out the one at the very end of the last block. Its outputs are
# averaged straight into class scores, and a ReLU there would forbid negative scores and, if a
# class's map went all-zero, cut that class off from any gradient.
#
# ![A NiN block, and NiN built from four blocks with global average pooling at the end](../Pics/11_nin.svg)

# %%
def nin_block(in_channels, out_channels, kernel_size, stride=1, padding=0, last_relu=True):
    layers = [nn.Conv2d(in_channels, out_channels, kernel_size, stride, padding), nn.ReLU(),
              nn.Conv2d(out_channels, out_channels, kernel_size=1), nn.ReLU(),
              nn.Conv2d(out_channels, out_channels, kernel_size=1)]
    if last_relu:
        layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def nin(in_channels=1, num_classes=10):
    net = nn.Sequential(
        nin_block(in_channels, 96, kernel_size=11, stride=4),
        nn.MaxPool2d(3, stride=2),
        nin_block(96, 256, kernel_size=5, padding=2),
        nn.MaxPool2d(3, stride=2),
        nin_block(256, 384, kernel_size=3, padding=1),
        nn.MaxPool2d(3, stride=2),
        nn.Dropout(0.5),
        nin_block(384, num_classes, kernel_size=3, padding=1, last_relu=False),
        d2l.GlobalAvgPool2d(),  # (N, classes, H, W) -> (N, classes, 1, 1)
        d2l.FlattenLayer(),  # -> (N, classes)
    )
    for layer in net.modules():
        if isinstance(layer, nn.Conv2d):
            nn.init.kaiming_normal_(layer.weight, nonlinearity="relu")
            nn.init.zeros_(layer.bias)
    return net


block = nin_block(3, 8, kernel_size=3, padding=1)
assert block(torch.rand(2, 3, 20, 20)).shape == (2, 8, 20, 20)  # 1x1 convs keep the size
# one k x k convolution plus two 1 x 1 convolutions
assert d2l.num_params(block) == 8 * (3 * 9 + 1) + 2 * 8 * (8 + 1)

# %% [markdown]
# ### Shape walk
#
# With $n_{\text{out}} = \lfloor (n + 2p - k)/s \rfloor + 1$: the 11 × 11 convolution with
# stride 4 takes 224 to 54, the three pools take 54 → 26 → 12 → 5, and the padded blocks keep
# the side. The last block leaves 10 maps of 5 × 5, which global average pooling reduces to 10
# numbers.

# %%
net = nin()
walk = d2l.layer_shapes(net, torch.rand(1, 1, 224, 224))
assert [shape for _, shape in walk] == [
    (1, 96, 54, 54), (1, 96, 26, 26),
    (1, 256, 26, 26), (1, 256, 12, 12),
    (1, 384, 12, 12), (1, 384, 5, 5), (1, 384, 5, 5),
    (1, 10, 5, 5), (1, 10, 1, 1), (1, 10)]

# A colour version reads 3 channels and otherwise walks the same way; built on the `meta`
# device (shapes, no memory, no values), it costs nothing.
with torch.device("meta"):
    colour_net = nin(in_channels=3)
    colour_walk = d2l.layer_shapes(colour_net, torch.empty(1, 3, 224, 224), verbose=False)
assert colour_net[0][0].weight.shape == (96, 3, 11, 11)
assert [shape for _, shape in colour_walk] == [shape for _, shape in walk]

# %% [markdown]
# ## 3. Global average pooling replaces the dense head
#
# For a map $X \in \mathbb{R}^{C \times H \times W}$, global average pooling outputs one number
# per channel,
#
# $$\operatorname{gap}(X)_c = \frac{1}{HW} \sum_{h=1}^{H} \sum_{w=1}^{W} X_{c,h,w} .$$
#
# In NiN the last block already has one channel per class, so these averages *are* the class
# scores: each channel has to learn to light up wherever its class is visible. We check
# `d2l.GlobalAvgPool2d` on the maps the last block really produces.

# %%
gap, flatten = d2l.GlobalAvgPool2d(), d2l.FlattenLayer()
with torch.no_grad():
    maps = net[:8](torch.rand(2, 1, 224, 224))  # everything before the pooling: (2, 10, 5, 5)
    pooled = gap(maps)
    scores = flatten(pooled)

print(maps.shape, "->", pooled.shape, "->", scores.shape)
assert maps.shape == (2, 10, 5, 5) and pooled.shape == (2, 10, 1, 1) and scores.shape == (2, 10)
assert maps.std(dim=(2, 3)).min() > 0  # the maps vary over positions, so the mean is a real test
# every output is the mean of its own channel's 25 values, summed and divided by hand
torch.testing.assert_close(scores, maps.sum(dim=(2, 3)) / (5 * 5))
# The score of class c reads its own map only, every position of it with the same weight
# 1/25: its gradient with respect to the maps, through the network's own last layers, is 1/25
# on map c and 0 on the other maps and the other example.
maps.requires_grad_()
net[8:](maps)[0, 3].backward()
torch.testing.assert_close(maps.grad[0, 3], torch.full((5, 5), 1 / 25))
assert maps.grad[0, :3].abs().sum() == 0 and maps.grad[0, 4:].abs().sum() == 0
assert maps.grad[1].abs().sum() == 0

# the pooling has no parameters and does not care about the map size
assert d2l.num_params(gap) == 0
for side in (3, 5, 11):
    assert gap(torch.rand(2, 10, side, side)).shape == (2, 10, 1, 1)

# %% [markdown]
# Because nothing after the last block depends on the map size, NiN runs on any input large
# enough for its convolutions and pools; a network with a dense head accepts only the few input
# sizes whose last maps have exactly the size its first dense layer was built for.

# %%
with torch.no_grad():
    assert net(torch.rand(1, 1, 256, 256)).shape == (1, 10)  # 256 gives 6 x 6 maps, still fine

# %% [markdown]
# ### How many parameters does the head cost?
#
# VGG-11's head (chapter 10) flattens its $512 \times 7 \times 7$ maps and uses dense layers
# $25\,088 \to 4096 \to 4096 \to 10$. NiN's "head" is its last block, a 3 × 3 convolution
# $384 \to 10$ and two 1 × 1 convolutions $10 \to 10$, followed by the parameter-free pooling.
# How much smaller it is depends on how wide we make that block, so we also count the block of
# the authors' ImageNet model (section 2) with our 10 classes: $384 \to 1024$, $1024 \to 1024$,
# $1024 \to 10$. We count from formulas and from the modules. The VGG head and the wide block are
# built on PyTorch's `meta` device: their tensors have shapes but take no memory, enough for
# counting.

# %%
with torch.device("meta"):
    vgg_head = nn.Sequential(d2l.FlattenLayer(),
                             nn.Linear(512 * 7 * 7, 4096), nn.ReLU(), nn.Dropout(0.5),
                             nn.Linear(4096, 4096), nn.ReLU(), nn.Dropout(0.5),
                             nn.Linear(4096, 10))
    wide_block = nn.Sequential(  # the ImageNet model's widths, our 10 classes, no final ReLU
        nn.Conv2d(384, 1024, kernel_size=3, padding=1), nn.ReLU(),
        nn.Conv2d(1024, 1024, kernel_size=1), nn.ReLU(),
        nn.Conv2d(1024, 10, kernel_size=1))
nin_head = net[7:]  # last NiN block, global average pooling, flatten

vgg_formula = 4096 * (25088 + 1) + 4096 * (4096 + 1) + 10 * (4096 + 1)
nin_formula = 10 * (384 * 9 + 1) + 2 * 10 * (10 + 1)
wide_formula = 1024 * (384 * 9 + 1) + 1024 * (1024 + 1) + 10 * (1024 + 1)
vgg_count, nin_count, wide_count = (d2l.num_params(m) for m in (vgg_head, nin_head, wide_block))
print(f"VGG-11 dense head:                   {vgg_count:>12,} parameters")
print(f"NiN head, our 10-wide last block:    {nin_count:>12,} parameters "
      f"({vgg_count / nin_count:,.0f} times fewer)")
print(f"NiN head, 1024-wide last block:      {wide_count:>12,} parameters "
      f"({vgg_count / wide_count:,.1f} times fewer)")
print(f"whole NiN (ours):                    {d2l.num_params(net):>12,} parameters")

assert vgg_count == vgg_formula == 119_586_826
assert nin_count == nin_formula == 34_790
assert wide_count == wide_formula == 4_599_818
assert 3000 < vgg_count / nin_count < 4000  # our choice of 10 channels: over three thousand
assert 25 < vgg_count / wide_count < 27  # the authors' widths: about 26
assert d2l.num_params(net) < 0.1 * vgg_count  # all of our NiN: under a tenth of VGG's head
assert 1.9e6 < d2l.num_params(net) < 2.1e6  # about 2 million

# %% [markdown]
# With our 10-channel last block the head is over three thousand times smaller than VGG's, and
# the whole network holds about 2 million parameters, against the 46.8 million of chapter 09's
# AlexNet. That factor rests on our narrow last block: with the 1024 channels of the authors'
# ImageNet model the last block holds 4.6 million parameters, and the factor is about 26. What
# global average pooling removes, whatever the width, is the dense head with its fixed input
# size. (How the arithmetic per image compares is exercise 7.)
#
# ## 4. Training
#
# Same data pipeline as chapters 09 and 10 (224 × 224 images, batches of 128, ten epochs), but
# another optimiser: **Adam** (met in chapter 07) at a constant learning rate of 0.001, where 09
# and 10 use SGD with momentum 0.9 and weight decay 0.0005 at 0.01. With that SGD recipe NiN
# learned slowly: one epoch of the quick profile ended at a test accuracy of 0.508 (the
# README's run of 2026-12-04, on two cores of an AMD EPYC in float32 with channels-last), below
# what softmax regression reaches in one epoch (0.79, chapter 02). In the reference runs at the
# end of the notebook (96 × 96 inputs, the same 120 batches of 128 images for every optimiser, one seed) Adam
# at 0.001 ended with a mean loss of 0.903 over the last 20 steps and 0.672 accuracy on held-out
# training images, SGD at 0.01 with 1.510 and 0.450. Adam at half the rate, 0.0005, came close
# (0.952 and 0.666), at twice the rate it was slower (1.378 and 0.397), and SGD at five times the
# rate, 0.05, did worse than at 0.01 (1.922 and 0.228). Why Adam helps is measured in chapter 15
# (section 7, on NiN's gradients over its first steps): Adam divides each weight's step by a
# running root-mean-square of that weight's gradients, so while a weight's gradient keeps its sign
# its step is about the learning rate, however small the gradient is; with PyTorch's defaults
# ($\beta_1=0.9$, $\beta_2=0.999$) no step is larger than about 3.2 times the learning rate
# (Kingma and Ba, 2015, section 2.1). SGD's steps are proportional to the gradients, and NiN has no
# batch norm (chapter 07) to keep their scale even from layer to layer; behind the zero-started
# last layer, the first blocks' gradients are at least a hundred times smaller than the last
# one's there.
#
# At the start, NiN's loss sits near $\ln 10 \approx 2.303$, the loss of uniform guesses, and
# without batch normalisation it can stay there for a while. We start the **last 1 × 1 convolution
# at zero**. Every score is then exactly 0 (the loss starts at exactly $\ln 10$), yet the weights
# of that convolution receive a gradient at once, because their inputs, the maps of the layer
# below, are not zero: the scores grow from zero along the gradient, in the directions that lower
# the loss most. Under Adam the zero start matters a great deal: in the reference runs, with the
# plain Kaiming start the loss went to $\ln 10$ within 40 steps and stayed there (validation
# accuracy 0.100, chance), while the zero start got down to the mean loss of 0.903 above. Runs
# from one seed on small images are a hint, not a law; exercise 5 asks you to compare at full
# size.
#
# Before the first step we also keep a fixed **probe batch** of 32 training images and the
# network's loss on it, computed by `d2l.batch_loss` (chapter 04) with dropout off: exactly
# $\ln 10$, with every score at 0. We also copy the first convolution's weights. After training
# both tell whether the optimiser did its job. The batch is drawn inside
# `torch.random.fork_rng()`, which restores the random state afterwards, so the training run
# starts exactly as it would without it.

# %%
import math

lr, num_epochs, batch_size = 0.001, 10, 128
train_iter, test_iter = d2l.load_data_fashion_mnist(batch_size, resize=224)
d2l.set_seed(0)
net = nin()
last_conv = net[7][-1]  # the 1 x 1 convolution that produces the class maps
nn.init.zeros_(last_conv.weight)
with torch.no_grad():
    assert torch.all(net(torch.rand(2, 1, 224, 224)) == 0)  # every class score starts at 0

with torch.random.fork_rng():  # the training run below starts in the same random state
    probe_X, probe_y = next(iter(train_iter))
probe_X, probe_y = probe_X[:32], probe_y[:32]
first_conv = net[0][0].weight.detach().clone()

loss_before = d2l.batch_loss(net, probe_X, probe_y)
assert abs(loss_before - math.log(10)) < 1e-5  # all ten scores 0: uniform probabilities
optimizer = torch.optim.Adam(net.parameters(), lr=lr)
history = d2l.train_ch5(net, train_iter, test_iter, batch_size, optimizer, d2l.try_gpu(),
                        num_epochs)

# %%
def decay_only(start, optimizer, steps):
    """Where the weights `start` would be after `steps` steps of an optimizer of the same kind and
    settings as `optimizer` had the loss given them no gradient at all: the work of weight decay
    alone (they stay at `start` without weight decay; chapter 09)."""
    w = start.detach().clone().requires_grad_()
    replay = type(optimizer)([w], **optimizer.defaults)
    for _ in range(steps):
        w.grad = torch.zeros_like(w)  # no gradient from the loss; the optimizer adds the decay
        replay.step()
    return w.detach()


loss_after = d2l.batch_loss(net, probe_X, probe_y)
conv_now = net[0][0].weight.detach().cpu()
conv_decayed = decay_only(first_conv, optimizer, history.steps)
start_norm = first_conv.norm()
moved = ((conv_now - first_conv).norm() / start_norm).item()
by_decay = ((conv_decayed - first_conv).norm() / start_norm).item()
beyond_decay = ((conv_now - conv_decayed).norm() / start_norm).item()
print(f"after {history.steps} steps ({history.epochs_done} of {history.epochs_planned} epochs): "
      f"probe loss {loss_before:.3f} -> {loss_after:.3f}; first convolution's weights moved by "
      f"{moved:.3%} of their norm, weight decay alone would have moved them by {by_decay:.4%}, "
      f"and they are {beyond_decay:.3%} of their norm away from where it would have put them")
if history.steps >= 2:  # the first step sends conv1 no gradient: the zero last layer blocks it
    assert beyond_decay > 1e-4  # the first layer learned from its gradient, not only decayed
if history.steps >= 100:
    assert loss_after < loss_before  # training lowered the loss on these fixed images
d2l.check_accuracy(history, quick=0.78, target=0.83);

# %% [markdown]
# `d2l.check_accuracy` compares the final test accuracy with the floor measured for the profile
# that runs (each floor sits a stated margin below an accuracy that `benchmarks/full_results.py`
# measured in that profile; the README lists them). No run of this chapter in the full profile has
# been measured yet, so there a target of 0.83 is printed, not checked. It is the figure the
# classic PyTorch edition of Dive into Deep Learning reports for a NiN of the same layer sizes
# (with the final ReLU that ours leaves out, and PyTorch's default initialisation): a test
# accuracy of 0.831 after 5 epochs of Adam at learning rate 0.002
# (`code/chapter05_CNN/5.8_nin.ipynb`). Our recipe differs, so it is a figure to compare with,
# not a prediction. In the smoke profile the accuracy is only reported. The quick profile (all
# the data, one epoch) reached 0.810 on two cores of an Intel Xeon with native bf16, in 8.8
# minutes of training, so its floor is 0.78 (with the SGD recipe, on two cores of an AMD EPYC in
# float32 with channels-last, the same epoch had reached 0.508). The check on the first
# convolution is chapter 09's: its weights must end more than 0.01 % of their norm away from
# where weight decay alone would have put them. Adam here has no weight decay, so that point is
# the initial weights themselves. The check waits for a second step: in the first, every
# gradient below the last 1 × 1 convolution is exactly zero, since that layer's weights are zero
# and the gradient reaching its input is those weights times the gradient at its output (in
# the smoke profile's two steps the weights ended 0.52 % of their norm away from their
# start). This
# accuracy does not rank NiN against AlexNet or VGG: the networks differ in many ways at once, and
# so does the optimiser (chapter 09 lists how the recipes of chapters 09 to 14 differ).
#
# ## Summary
#
# - A 1 × 1 convolution is a dense layer applied at every pixel with shared weights: it mixes
#   channels, keeps positions, and costs $c_o(c_i+1)$ parameters whatever the image size.
# - A NiN block is a $k\times k$ convolution followed by two 1 × 1 convolutions, a small MLP per
#   pixel.
# - Global average pooling (`d2l.GlobalAvgPool2d`) turns one map per class into one score per
#   class: no parameters, and any input size large enough for the convolutions and pools. The
#   head (the last block) is over three thousand times smaller than VGG-11's with our 10-channel
#   last block, about 26 times with the 1024 channels of the authors' ImageNet model.
# - Our NiN has no batch norm. It trains with Adam at lr 0.001 and its last 1 × 1 convolution
#   started at zero; in the short reference runs it learned more slowly with chapter 09's SGD
#   recipe, and with the plain Kaiming start under Adam it never left the $\ln 10$ loss of chance.
#
# ## Exercises
#
# The first three are checked: replace the stub, run the cell, and the check says whether your
# answer is right and, if not, what is off.
#
# **1.** Write `global_avg_pool(X)` by hand: for `X` of shape (N, C, H, W) return the mean of
# every channel's map, of shape (N, C, 1, 1) like `d2l.GlobalAvgPool2d`.

# %% tags=["exercise"]
def global_avg_pool(X):
    # your code here
    raise NotImplementedError


d2l.exercises.check_global_avg_pool(global_avg_pool)

# %% [markdown]
# **2.** Write `conv1x1_by_matmul(X, weight, bias)` that computes what a convolution with a
# 1 × 1 kernel computes (weight of shape (c_o, c_i, 1, 1), bias of shape (c_o,)), with one matrix
# product over all the pixels of the batch (or with `torch.einsum`), without `nn.Conv2d` or
# `F.conv2d`.

# %% tags=["exercise"]
def conv1x1_by_matmul(X, weight, bias):
    # your code here
    raise NotImplementedError


d2l.exercises.check_conv1x1_by_matmul(conv1x1_by_matmul)

# %% [markdown]
# **3.** What is the smallest input side $n$ for which `nin()` accepts an $n \times n$ image?
# Compare with your answer to chapter 09's first exercise, for AlexNet.

# %% tags=["exercise"]
smallest_nin_side = None  # replace None with your answer

d2l.exercises.check_nin_min_side(smallest_nin_side)

# %% [markdown]
# Open questions:
#
# 4. Remove one or both 1 × 1 convolutions from every block. How does the parameter count
#    change? How does the test accuracy after ten epochs change (a GPU run: ten epochs of the
#    full profile)?
# 5. Train once without the `nn.init.zeros_` line, and once with the final ReLU put back
#    (`last_relu=True`, keeping the zero start). How do the first minibatches' losses differ from
#    the run above? For the ReLU version, count how many of the ten class maps are all-zero for a
#    batch of test images, and explain the count from what ReLU's gradient is at 0.
# 6. Replace global average pooling by global *max* pooling (`torch.amax` over the last two
#    axes). What does each class score then mean?
# 7. Compute the multiply-adds of one NiN forward pass at 224 × 224 (chapter 09's
#    `multiply_adds` counts them) and compare them with AlexNet's. Why are the 1 × 1 convolutions
#    cheap even though they run at every pixel?

# %% [markdown]
# <details><summary>Reference results for section 4 and exercise 5</summary>
#
# Measured by `python benchmarks/exercise_refs/11_nin.py` (seven runs, 13 minutes on one thread of
# a 2-core x86_64 CPU that was running other work, torch 2.14.1): the notebook's `nin()` from
# seed 0, trained on the same first 120 shuffled batches of 128 images from the first 50 000
# Fashion-MNIST training images, resized to 96 × 96 rather than 224 × 224 to keep the runs short,
# each learning rate constant. Mean training loss over each block of 20 steps, and the accuracy
# after the 120 steps on 1000 validation images (100 per class from the last 10 000 training
# images; the test set is not used).
#
# Optimisers, each with the notebook's start (last 1 × 1 convolution at zero, no final ReLU):
#
# | optimiser | 1-20 | 21-40 | 41-60 | 61-80 | 81-100 | 101-120 | validation accuracy |
# |---|---|---|---|---|---|---|---|
# | Adam, lr 0.001 (the notebook) | 2.216 | 1.655 | 1.342 | 1.113 | 1.033 | 0.903 | 0.672 |
# | Adam, lr 0.0005 | 2.245 | 1.648 | 1.312 | 1.141 | 1.044 | 0.952 | 0.666 |
# | Adam, lr 0.002 | 2.306 | 2.115 | 1.905 | 1.693 | 1.497 | 1.378 | 0.397 |
# | SGD, momentum 0.9, weight decay 0.0005, lr 0.01 (chapters 09, 10) | 2.303 | 2.297 | 2.247 | 2.027 | 1.853 | 1.510 | 0.450 |
# | the same SGD, lr 0.05 | 2.299 | 2.279 | 2.219 | 2.269 | 2.064 | 1.922 | 0.228 |
#
# Starts, each with Adam at lr 0.001:
#
# | start | 1-20 | 21-40 | 41-60 | 61-80 | 81-100 | 101-120 | validation accuracy |
# |---|---|---|---|---|---|---|---|
# | last 1 × 1 conv at zero, no final ReLU (the notebook) | 2.216 | 1.655 | 1.342 | 1.113 | 1.033 | 0.903 | 0.672 |
# | Kaiming everywhere, no final ReLU | 2.325 | 2.304 | 2.303 | 2.303 | 2.303 | 2.303 | 0.100 |
# | last 1 × 1 conv at zero, final ReLU | 2.303 | 2.303 | 2.303 | 2.303 | 2.303 | 2.303 | 0.100 |
#
# With the final ReLU and the zero start, all 10 class maps are zero on 256 validation images,
# and the loss never moves from $\ln 10$: every input to that ReLU is exactly 0, where PyTorch
# takes its derivative to be 0, so no gradient ever reaches the network.
#
# </details>
