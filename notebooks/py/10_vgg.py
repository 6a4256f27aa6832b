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
# extra ReLU in between. Deep and narrow beats shallow and wide at the same cost.
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
    for layer in net.modules():
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

# %% [markdown]
# ### Counting the parameters
#
# A $3\times3$ convolution from $c_i$ to $c_o$ channels has $c_o(9c_i + 1)$ parameters and a dense
# layer from $n_i$ to $n_o$ units has $n_o(n_i + 1)$. The function below adds these up from
# `conv_arch` alone, without building anything. Two independent checks:
# its count for our 1-channel, 10-class network must equal PyTorch's, and its count for the
# original 3-channel, 1000-class ImageNet network must equal that of `torchvision.models.vgg11`.
# We build torchvision's model on PyTorch's `meta` device: its tensors have shapes but no
# memory and no values, which is all a parameter count needs.

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
assert theirs == vgg_param_count(vgg11_arch, 3, 1000) == 132_863_336

conv_part = sum(p.numel() for block in net[:5] for p in block.parameters())
print(f"convolutions: {conv_part:,} ({conv_part / ours:.1%}), dense head: {ours - conv_part:,}")
assert (ours - conv_part) / ours > 0.9

# %% [markdown]
# About 129 million parameters, and again over nine in ten of them sit in the dense head: the
# first dense layer alone maps $512 \cdot 7 \cdot 7 = 25\,088$ numbers to 4096 units. The
# convolutions hold few parameters but do almost all of the arithmetic, because each weight is
# used at every pixel position. Chapter 11 (NiN) removes that huge head altogether.
#
# We free the full-width network before going on.

# %%
del net, walk

# %% [markdown]
# ## 4. Training a narrower VGG-11
#
# Full-width VGG-11 needs about 7.6 billion multiply-adds per 224 × 224 image, eight times
# AlexNet. To train in reasonable time we divide every block's channels by 4 (64 → 16, ...,
# 512 → 128). A convolution's cost scales with $c_i \cdot c_o$, so the convolutions become about
# 16 times cheaper, while the depth, the blocks and the input size stay those of VGG-11.
#
# Optimiser: SGD with learning rate 0.01, momentum 0.9 and weight decay 0.0005 (the VGG paper's
# settings), batches of 128, ten epochs. The network has no batch normalisation (chapter 07), so
# the Kaiming initialisation inside `vgg` is what lets eleven layers start training at this
# learning rate.

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

# %%
lr, num_epochs, batch_size = 0.01, 10, 128
train_iter, test_iter = d2l.load_data_fashion_mnist(batch_size, resize=224)
optimizer = torch.optim.SGD(net.parameters(), lr=lr, momentum=0.9, weight_decay=5e-4)
history = d2l.train_ch5(net, train_iter, test_iter, batch_size, optimizer, d2l.try_gpu(),
                        num_epochs)

# %%
assert all(torch.isfinite(torch.tensor(history["train_loss"])))
assert len(history["test_acc"]) == len(history["train_loss"]) >= 1
d2l.check_accuracy(history, 0.92)

# %% [markdown]
# The curves above show the loss with the training and test accuracy per epoch. The floor
# checked in the full profile, 92 %, is above AlexNet's 90 %: with a quarter of the channels and
# no hand-tuned layer sizes at all, depth built from simple blocks pays off.
#
# ## Summary
#
# - A VGG block is $n$ padded 3 × 3 convolutions with ReLU and a 2 × 2 max-pool; it keeps the
#   channels' job (features) apart from the pool's (halving height and width).
# - Stacked 3 × 3 convolutions cover the receptive field of a bigger kernel with fewer parameters
#   and more non-linearities.
# - A VGG network is a list of (convolutions, channels) pairs; VGG-11 has about 129 million
#   parameters for our 10 classes, over 90 % of them in the dense head.
# - Dividing the channels by 4 cuts the convolution cost about 16-fold and still trains well.
#
# ## Exercises
#
# 1. Write `conv_arch` for VGG-16 (blocks of 2, 2, 3, 3, 3 convolutions) and compare
#    `vgg_param_count` with `torchvision.models.vgg16()` built on the meta device.
# 2. The shape walk of VGG-11 prints one line per block. Call `d2l.layer_shapes(net[2], X)`
#    with a suitable `X` to walk inside the third block, and explain which layers change the
#    shape.
# 3. Count the multiply-adds of one forward pass of full-width VGG-11 at 224 × 224: each
#    convolution costs $h \cdot w \cdot c_o \cdot 9 c_i$. Which block is the most expensive?
# 4. What is the smallest input side the five blocks accept? Why does `vgg(vgg11_arch)` still
#    fail on a 96 × 96 image (the size chapter 12 uses), and what argument fixes it?
# 5. Train the narrow network with `ratio = 8` and with `ratio = 2` (on a GPU). How do accuracy
#    and time per epoch change?
