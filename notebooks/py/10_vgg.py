# %% [markdown]
# # 10 · VGG: networks built from repeated blocks
#
# AlexNet (chapter 09) was designed layer by layer: an 11 × 11 convolution here, a 5 × 5 there,
# pools wherever they fit. The VGG networks (Simonyan and Zisserman, 2014, from Oxford's Visual
# Geometry Group) replaced that hand tuning with one rule: build the network from identical
# **blocks**, each a few 3 × 3 convolutions followed by a pool that halves the image. Depth and
# width then become two lists of numbers, and VGG-11, -13, -16 and -19 differ only in those lists.
#
# In this notebook we
# - write `vgg_block` and check that it halves height and width;
# - see why stacks of small 3 × 3 kernels are preferred to one large kernel;
# - assemble VGG-11 at full width, walk a 224 × 224 image through it, and count its parameters
#   with a formula that must agree with PyTorch (and with torchvision's VGG-11);
# - train a narrower VGG-11, with a quarter of the channels, on Fashion-MNIST.

# %%
import torch
from torch import nn
import d2lmini as d2l

d2l.set_seed(0)
print(d2l.profile_summary())

# %% [markdown]
# ## 1. The VGG block
#
# A block is $n$ convolutions with $3 \times 3$ kernels and padding 1, each followed by ReLU, then
# a $2 \times 2$ max-pool with stride 2. With the output-size formula
# $n_{\text{out}} = \lfloor (n + 2p - k)/s \rfloor + 1$, a padded $3\times 3$ convolution keeps the
# side, $\lfloor (n + 2 - 3)/1 \rfloor + 1 = n$, and the pool halves it,
# $\lfloor (n - 2)/2 \rfloor + 1 = \lfloor n/2 \rfloor$. So the convolutions decide *what* is
# computed and only the pool changes *where*: every block maps
# $c_{\text{in}} \times h \times w$ to $c_{\text{out}} \times \lfloor h/2 \rfloor \times \lfloor w/2 \rfloor$.

# %%
def vgg_block(num_convs, in_channels, out_channels):
    layers = []
    for _ in range(num_convs):
        layers += [nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1), nn.ReLU()]
        in_channels = out_channels
    layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
    return nn.Sequential(*layers)


block = vgg_block(2, 3, 8)
for side in (224, 32, 17, 9):
    out = block(torch.rand(2, 3, side, side))
    print(f"(2, 3, {side}, {side}) -> {tuple(out.shape)}")
    assert out.shape == (2, 8, side // 2, side // 2)

# a rectangle: height and width are halved independently
assert block(torch.rand(1, 3, 40, 24)).shape == (1, 8, 20, 12)

# %% [markdown]
# ## 2. Why 3 × 3 kernels?
#
# Two stacked $3\times 3$ convolutions let each output pixel see a $5 \times 5$ patch of the
# input; three of them see $7 \times 7$. With $c$ channels in and out, two $3\times3$ layers hold
# $2 \cdot 9c^2 = 18c^2$ weights where one $5\times5$ layer would hold $25c^2$, and they put an
# extra ReLU in between. Simonyan and Zisserman tested the trade on ImageNet: replacing each pair
# of $3 \times 3$ layers in one of their networks by a single $5 \times 5$ layer, with the same
# receptive field, raised its top-1 error by 7 % (their Section 4.1).
#
# We can *measure* the region an output pixel depends on: take the gradient of the centre output
# with respect to the input. It is non-zero exactly on the pixels that can influence it. (The
# weights are set to 1 so that no contribution can cancel by chance.)

# %%
def receptive_field(num_convs, side=11):
    convs = nn.Sequential(*[nn.Conv2d(1, 1, 3, padding=1, bias=False) for _ in range(num_convs)])
    for conv in convs:
        nn.init.ones_(conv.weight)
    X = torch.zeros(1, 1, side, side, requires_grad=True)
    convs(X)[0, 0, side // 2, side // 2].backward()
    seen = X.grad[0, 0] != 0
    rows, cols = seen.any(dim=1).sum().item(), seen.any(dim=0).sum().item()
    return rows, cols, seen


for n in (1, 2, 3):
    rows, cols, seen = receptive_field(n)
    print(f"{n} stacked 3x3 convolutions: the centre output sees a {rows} x {cols} patch")
    assert (rows, cols) == (2 * n + 1, 2 * n + 1)
    assert seen.sum() == (2 * n + 1) ** 2  # a full square, no holes

c = 64
two_small = d2l.num_params(vgg_block(2, c, c))
one_large = sum(p.numel() for p in nn.Conv2d(c, c, 5, padding=2).parameters())
print(f"two 3x3 layers: {two_small:,} parameters, one 5x5 layer: {one_large:,}")
assert two_small == 2 * (9 * c * c + c) and one_large == 25 * c * c + c
assert two_small < one_large

# %% [markdown]
# ## 3. VGG-11
#
# VGG-11 has five blocks with 1, 1, 2, 2 and 2 convolutions (eight in all) and 64, 128, 256, 512,
# 512 channels: the channels double as the image halves, until they stop at 512. After five
# halvings a 224 × 224 image is 7 × 7. The head is AlexNet's: two dense layers of 4096 units with
# dropout, then one output per class. Eight convolutions plus three dense layers make the 11.
# Unlike AlexNet, VGG-11 has no local response normalisation: the authors also trained it with
# that normalisation (their network A-LRN), found that it did not lower the ImageNet error while
# it cost memory and computation time (their Sections 2.1 and 4.1), and left it out of the
# deeper networks.
#
# ![One VGG block, and VGG-11 as five blocks and a dense head](../Pics/10_vgg.svg)
#
# The whole architecture is the list `conv_arch` of (number of convolutions, channels) pairs.

# %%
def vgg(conv_arch, in_channels=1, num_classes=10, side=224):
    blocks = []
    for num_convs, out_channels in conv_arch:
        blocks.append(vgg_block(num_convs, in_channels, out_channels))
        in_channels = out_channels
    final_side = side // 2 ** len(conv_arch)
    net = nn.Sequential(
        *blocks, d2l.FlattenLayer(),
        nn.Linear(in_channels * final_side * final_side, 4096), nn.ReLU(), nn.Dropout(0.5),
        nn.Linear(4096, 4096), nn.ReLU(), nn.Dropout(0.5),
        nn.Linear(4096, num_classes))
    for layer in list(net.modules())[:-1]:  # every layer a ReLU follows; not the output layer
        if isinstance(layer, (nn.Conv2d, nn.Linear)):
            nn.init.kaiming_normal_(layer.weight, nonlinearity="relu")
            nn.init.zeros_(layer.bias)
    return net


vgg11_arch = ((1, 64), (1, 128), (2, 256), (2, 512), (2, 512))

# %% [markdown]
# ### Shape walk at full width
#
# We build VGG-11 at full width (we will not train it here) and pass one 224 × 224 image
# through it. `d2l.layer_shapes` visits the top-level children, so each block shows up as one
# step.

# %%
net = vgg(vgg11_arch)
walk = d2l.layer_shapes(net, torch.rand(1, 1, 224, 224))
shapes = [shape for _, shape in walk]

assert shapes[:5] == [(1, 64, 112, 112), (1, 128, 56, 56), (1, 256, 28, 28),
                      (1, 512, 14, 14), (1, 512, 7, 7)]
assert shapes[5] == (1, 512 * 7 * 7)
assert shapes[6:] == [(1, 4096)] * 6 + [(1, 10)]

# A colour version reads 3 channels and otherwise walks the same way. PyTorch's `meta` device
# gives tensors with shapes but no memory or values: enough to check shapes.
with torch.device("meta"):
    colour_net = vgg(vgg11_arch, in_channels=3)
    colour_walk = d2l.layer_shapes(colour_net, torch.empty(1, 3, 224, 224), verbose=False)
assert colour_net[0][0].weight.shape == (64, 3, 3, 3)
assert [shape for _, shape in colour_walk] == shapes

# %% [markdown]
# ### Counting the parameters
#
# A $3\times3$ convolution from $c_i$ to $c_o$ channels has $c_o(9c_i + 1)$ parameters and a dense
# layer from $n_i$ to $n_o$ units has $n_o(n_i + 1)$. The function below adds these up from
# `conv_arch` alone, without building anything. Two independent checks:
# its count for our 1-channel, 10-class network must equal PyTorch's, and its count for the
# original 3-channel, 1000-class ImageNet network must equal that of `torchvision.models.vgg11`,
# which we build on the `meta` device (a parameter count needs only shapes).

# %%
def vgg_param_count(conv_arch, in_channels, num_classes, side=224):
    count, c_in = 0, in_channels
    for num_convs, c_out in conv_arch:
        for _ in range(num_convs):
            count += c_out * (9 * c_in + 1)
            c_in = c_out
    flat = c_in * (side // 2 ** len(conv_arch)) ** 2
    for n_i, n_o in [(flat, 4096), (4096, 4096), (4096, num_classes)]:
        count += n_o * (n_i + 1)
    return count


import torchvision

with torch.device("meta"):
    imagenet_vgg11 = torchvision.models.vgg11()  # architecture only, no weights downloaded

ours = d2l.num_params(net)
theirs = d2l.num_params(imagenet_vgg11)
print(f"{'our VGG-11 (1 channel, 10 classes):':<48}{ours:>12,} parameters")
print(f"{'torchvision VGG-11 (3 channels, 1000 classes):':<48}{theirs:>12,} parameters")

assert ours == vgg_param_count(vgg11_arch, 1, 10)
assert 128.5e6 < ours < 129.5e6  # about 129 million
assert theirs == vgg_param_count(vgg11_arch, 3, 1000) == 132_863_336

conv_part = sum(p.numel() for block in net[:5] for p in block.parameters())
print(f"convolutions: {conv_part:,} ({conv_part / ours:.1%}), dense head: {ours - conv_part:,}")
assert (ours - conv_part) / ours > 0.9

# %% [markdown]
# About 129 million parameters, and again over nine in ten of them sit in the dense head: the
# first dense layer alone maps $512 \cdot 7 \cdot 7 = 25\,088$ numbers to 4096 units. The
# convolutions hold few parameters but do almost all of the arithmetic, because each weight is
# used at every pixel position. We count the multiply-adds of one forward pass with forward
# hooks: an output value of a convolution costs $c_i k^2$ of them, one of a dense layer $n_i$.

# %%
def multiply_adds(net, X):
    """Multiply-adds of one forward pass of `net` on `X`, summed over its convolutions and dense
    layers: (number of outputs) x (inputs each output reads)."""
    counts = {}

    def count(layer, inputs, output):
        if isinstance(layer, nn.Conv2d):
            per_output = layer.in_channels // layer.groups * layer.kernel_size[0] * layer.kernel_size[1]
        else:
            per_output = layer.in_features
        counts[layer] = output.numel() * per_output

    hooks = [m.register_forward_hook(count) for m in net.modules()
             if isinstance(m, (nn.Conv2d, nn.Linear))]
    try:
        with torch.no_grad():
            net(X)
    finally:
        for hook in hooks:
            hook.remove()
    convs = sum(n for layer, n in counts.items() if isinstance(layer, nn.Conv2d))
    return convs, sum(counts.values())


with torch.device("meta"):
    conv_macs, all_macs = multiply_adds(vgg(vgg11_arch), torch.empty(1, 1, 224, 224))
print(f"VGG-11 forward pass: {all_macs / 1e9:.2f} billion multiply-adds per image, "
      f"{conv_macs / all_macs:.1%} of them in the convolutions")
# the first block by hand: 224 x 224 outputs, 64 channels, 9 inputs each (one channel)
with torch.device("meta"):
    assert multiply_adds(vgg_block(1, 1, 64), torch.empty(1, 1, 224, 224))[0] == 224 * 224 * 64 * 9
assert 7.4e9 < all_macs < 7.6e9 and conv_macs / all_macs > 0.98  # about 7.5 billion

# %% [markdown]
# About 7.5 billion multiply-adds per image, eight times the 0.94 billion that chapter 09 counted
# for AlexNet, and almost all of them in the convolutions, which hold under a tenth of the
# parameters. Chapter 11 (NiN) removes the huge head altogether.
#
# We free the full-width network before going on.

# %%
del net, walk

# %% [markdown]
# ## 4. Training a narrower VGG-11
#
# To train in reasonable time we divide every block's channels by 4 (64 → 16, ..., 512 → 128).
# A convolution's cost scales with $c_i \cdot c_o$, so every convolution but the first (whose
# input stays one channel) does 16 times fewer multiply-adds, while the depth, the blocks and the
# input size stay those of VGG-11. The parameters shrink far less. The head keeps its two dense
# layers of 4096 units; only the input of the first one shrinks, from $512 \cdot 7 \cdot 7 =
# 25\,088$ to $128 \cdot 7 \cdot 7 = 6272$ numbers. So the narrow network still holds about 43
# million parameters, a third of the full width's 129 million, nearly all of them in the head.
# What makes a training step slow is the arithmetic, and that is what the narrowing cuts. The
# counts below confirm both.
#
# Optimiser: SGD with learning rate 0.01, momentum 0.9 and weight decay 0.0005, the VGG paper's
# settings (it used batches of 256; we keep 128), for ten epochs. The network has no batch
# normalisation (chapter 07). The VGG authors trained their deeper networks by starting them
# from the trained layers of the 11-layer one, and noted afterwards that Glorot's random
# initialisation (chapter 05's Xavier) works without that step; `vgg` uses Kaiming's, the variant
# derived for ReLU, on every layer a ReLU follows. The output layer has no ReLU after it, so it
# keeps PyTorch's default, as in chapters 09, 12 and 13.
#
# Before training we keep a fixed **probe batch** of 32 training images, the network's loss on
# it (dropout off) and a copy of the first convolution's weights; after training they tell
# whether the optimiser did its job. The batch is drawn inside `torch.random.fork_rng()`, which
# restores the random state afterwards, so the training run starts exactly as it would without
# it.

# %%
ratio = 4
small_arch = tuple((num_convs, channels // ratio) for num_convs, channels in vgg11_arch)
print("narrow VGG-11:", small_arch)
d2l.set_seed(0)
net = vgg(small_arch)

walk = d2l.layer_shapes(net, torch.rand(1, 1, 224, 224), verbose=False)
assert [shape for _, shape in walk][:6] == [(1, 16, 112, 112), (1, 32, 56, 56), (1, 64, 28, 28),
                                            (1, 128, 14, 14), (1, 128, 7, 7), (1, 128 * 7 * 7)]
assert d2l.num_params(net) == vgg_param_count(small_arch, 1, 10)

with torch.device("meta"):
    small_conv_macs, small_macs = multiply_adds(vgg(small_arch), torch.empty(1, 1, 224, 224))
print(f"narrow VGG-11: {small_macs / 1e9:.2f} billion multiply-adds per image; its convolutions "
      f"are {conv_macs / small_conv_macs:.1f} times cheaper than the full-width ones")
assert 15 < conv_macs / small_conv_macs < 16  # 16 for all but the first convolution

small_params = d2l.num_params(net)
small_head = sum(p.numel() for p in net[5:].parameters())  # flatten and the three dense layers
print(f"narrow VGG-11: {small_params:,} parameters, {ours / small_params:.1f} times fewer than at "
      f"full width, {small_head / small_params:.1%} of them in the head")
assert 43.0e6 < small_params < 43.2e6  # about 43.1 million: not 16 times fewer than 129 million
assert 2.9 < ours / small_params < 3.1 and small_head / small_params > 0.98

# %%
lr, num_epochs, batch_size = 0.01, 10, 128
train_iter, test_iter = d2l.load_data_fashion_mnist(batch_size, resize=224)

with torch.random.fork_rng():  # the training run below starts in the same random state
    probe_X, probe_y = next(iter(train_iter))
probe_X, probe_y = probe_X[:32], probe_y[:32]
first_conv = net[0][0].weight.detach().clone()

loss_before = d2l.batch_loss(net, probe_X, probe_y)
optimizer = torch.optim.SGD(net.parameters(), lr=lr, momentum=0.9, weight_decay=5e-4)
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
if history.steps:
    assert beyond_decay > 1e-4  # the first layer learned from its gradient, not only decayed
if history.steps >= 100:
    assert loss_after < loss_before  # training lowered the loss on these fixed images
d2l.check_accuracy(history, quick=0.84, target=0.92);

# %% [markdown]
# The curves above show the loss with the training and test accuracy per epoch. The check on the
# first convolution is chapter 09's: its weights must end more than 0.01 % of their norm away
# from where weight decay alone would have put them, which a first layer that got no gradient
# would not (in the smoke profile's two steps decay alone moved them by 0.0015 % of their norm,
# and they ended 0.18 % away from that point).
#
# `d2l.check_accuracy` compares the final test accuracy with the floor measured for the profile
# that runs (each floor sits a stated margin below an accuracy that `benchmarks/full_results.py`
# measured in that profile; the README lists them). No run of this chapter in the full profile
# has been measured yet, so there a target of 0.92 is printed, not checked. It is the figure the
# classic PyTorch edition of Dive into Deep Learning reports for its narrow VGG-11: a test
# accuracy of 0.918 after 5 epochs (`code/chapter05_CNN/5.7_vgg.ipynb`), for a network with an
# eighth of the channels and a head narrowed by 8 as well (512 units), trained with Adam at
# learning rate 0.001 on batches of 64. Another network and another recipe, so a figure to
# compare with, not a prediction. In the smoke profile the accuracy is only reported. The quick
# profile (all the data, one epoch) reached 0.872 on two
# cores of an Intel Xeon with native bf16, in 13.6 minutes of training, so its floor is 0.84.
# The accuracy is a test of this run, not a comparison with chapter 09: AlexNet and this
# network differ in depth, width, kernel sizes and head all at once, so their accuracies would
# not tell which of these mattered (chapter 09 lists what else differs between the recipes of
# chapters 09 to 14).
#
# ## Summary
#
# - A VGG block is $n$ padded 3 × 3 convolutions with ReLU and a 2 × 2 max-pool; it keeps the
#   channels' job (features) apart from the pool's (halving height and width).
# - Stacked 3 × 3 convolutions cover the receptive field of a bigger kernel with fewer parameters
#   and more non-linearities.
# - A VGG network is a list of (convolutions, channels) pairs; VGG-11 has about 129 million
#   parameters for our 10 classes, over 90 % of them in the dense head, while over 98 % of its
#   7.5 billion multiply-adds per image are in the convolutions.
# - Dividing the channels by 4 cuts the convolution cost almost 16-fold, but the parameters only
#   3-fold, to 43.1 million: the 4096-wide head, which holds 98.7 % of them, stays.
#
# ## Exercises
#
# The first three are checked: replace the stub, run the cell, and the check says whether your
# answer is right and, if not, what is off.
#
# **1.** VGG's configuration C puts $1 \times 1$ convolutions into some blocks. Generalise
# `vgg_block` to `vgg_block(num_convs, in_channels, out_channels, kernel_size=3)` for any odd
# kernel size: the convolutions must keep height and width, so that only the pool halves them.

# %% tags=["exercise"]
def vgg_block_any_kernel(num_convs, in_channels, out_channels, kernel_size=3):
    # your code here
    raise NotImplementedError


d2l.exercises.check_vgg_block_any_kernel(vgg_block_any_kernel)

# %% [markdown]
# **2.** Count the parameters of VGG-16 for ImageNet (3 channels, 1000 classes; blocks of 2, 2,
# 3, 3, 3 convolutions with VGG-11's channels). `vgg_param_count` helps; compare your result with
# `torchvision.models.vgg16()` built on the meta device.

# %% tags=["exercise"]
vgg16_params = None  # replace None with your count (an int)

d2l.exercises.check_vgg16_params(vgg16_params)

# %% [markdown]
# **3.** Section 2 measured that $n$ stacked $3 \times 3$ convolutions see a $(2n+1) \times (2n+1)$
# patch. Pools and strides widen this faster. Write `receptive_field_side(layers)` for a list of
# `(kernel_size, stride)` windows (convolutions or pools, from input to output) that returns the
# side of the input patch one output pixel depends on. Hint: after a layer with stride $s$, one
# step of the next layer moves $s$ pixels in that layer's input. Then use it on VGG-11's
# convolutions and pools.

# %% tags=["exercise"]
def receptive_field_side(layers):
    # your code here
    raise NotImplementedError


d2l.exercises.check_receptive_field_side(receptive_field_side)

# %% [markdown]
# Open questions:
#
# 4. The shape walk of VGG-11 prints one line per block. Call `d2l.layer_shapes(net[2], X)`
#    with a suitable `X` to walk inside the third block, and explain which layers change the
#    shape.
# 5. Use `multiply_adds` on each block of full-width VGG-11 (each block's input is the previous
#    block's output). Which block is the most expensive? Why does a convolution cost the same
#    when the side is halved and the channels are doubled?
# 6. What is the smallest input side the five blocks accept? Why does `vgg(vgg11_arch)` still
#    fail on a 96 × 96 image (the size chapter 12 uses), and what argument fixes it?
# 7. Train the narrow network with `ratio = 8` and with `ratio = 2` (a GPU run: ten epochs of the
#    full profile). How do accuracy and time per epoch change?
