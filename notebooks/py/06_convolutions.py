# %% [markdown]
# # 06 · Convolutions
#
# Up to now every image was flattened into a long vector and fed to dense layers. That throws
# away the one thing we know for sure about pictures: nearby pixels belong together, and a shoe
# is a shoe wherever it sits in the frame. Convolutional layers build that knowledge in.
#
# This chapter covers:
#
# 1. why dense layers do not scale to images (a parameter count);
# 2. the operation a "convolutional" layer really computes, cross-correlation, and how it
#    differs from the convolution of mathematics;
# 3. our loop `d2l.corr2d` against PyTorch's `F.conv2d`, and a kernel *learned* from an image;
# 4. padding, stride and dilation, and the formula for the output size;
# 5. several input and output channels, and the $1\times 1$ convolution;
# 6. max and average pooling, and where their gradients go;
# 7. the receptive field of a stack of layers, computed and then measured with autograd;
# 8. dilated and group convolutions;
# 9. a tiny convolutional network trained on Fashion-MNIST.

# %%
import torch
from torch import nn
import d2lmini as d2l

d2l.set_seed(0)
print(d2l.profile_summary())

# %%
import matplotlib.pyplot as plt
import torch.nn.functional as F

d2l.use_svg_display()

# %% [markdown]
# ## 1. Why not dense layers?
#
# Take a modest colour photo of $200\times 200$ pixels. Flattened, it is a vector of
# $200\cdot 200\cdot 3 = 120\,000$ numbers. A single dense layer with 1000 hidden units needs a
# weight for every (input, unit) pair:
#
# $$120\,000 \times 1000 + 1000 = 120\,001\,000 \text{ parameters},$$
#
# roughly 480 MB in float32, for *one* layer, before the network has learned anything about
# edges or textures. PyTorch's `meta` device lets us build that layer and count its parameters
# without allocating the memory.

# %%
dense = nn.Linear(200 * 200 * 3, 1000, device="meta")  # shapes only, no storage
conv = nn.Conv2d(3, 64, kernel_size=3)
print(f"dense layer:  {d2l.num_params(dense):>12,} parameters")
print(f"conv layer:   {d2l.num_params(conv):>12,} parameters (64 filters of size 3x3x3)")
assert d2l.num_params(dense) == 120_000 * 1000 + 1000
assert d2l.num_params(conv) == 64 * 3 * 3 * 3 + 64

# %% [markdown]
# The convolutional layer has 1792 parameters, and that number does not depend on the image
# size at all. The two layers do not compute the same amount, though: the dense layer has 1000
# outputs, while the convolution, 64 filters at each of the $198 \times 198$ positions where a
# $3\times 3$ window fits, has $64 \cdot 198 \cdot 198 \approx 2.5$ million. For a fair count we
# ask what it takes to produce the convolution's 2.5 million outputs, changing one assumption at
# a time:
#
# * a **dense** layer, every output connected to all 120 000 inputs: $120\,000 + 1$ parameters
#   per output, $3 \cdot 10^{11}$ in all;
# * **locality**: each output looks only at a small window of the input, $3\times 3$ pixels by
#   3 channels. A *locally connected* layer, with its own 27 weights and a bias for every output,
#   needs $28$ per output, 70 million in all;
# * **weight sharing**: the *same* window weights are used at every position. That is the
#   convolution: 28 parameters per filter, 1792 in all, whatever the size of the image.

# %%
outputs = nn.Conv2d(3, 64, kernel_size=3, device="meta")(torch.empty(1, 3, 200, 200, device="meta")).numel()
counts = {"dense, same outputs": outputs * (200 * 200 * 3 + 1),
          "locally connected": outputs * (3 * 3 * 3 + 1),
          "convolution": d2l.num_params(conv)}
for name, count in counts.items():
    print(f"{name:20s} {count:>16,} parameters for {outputs:,} outputs")
assert outputs == 64 * 198 * 198  # 2.5 million
assert round(counts["dense, same outputs"], -11) == 3 * 10**11
assert round(counts["locally connected"], -7) == 7 * 10**7

# %% [markdown]
# Weight sharing has a consequence we can check directly: shifting the input shifts the output
# by the same amount (*translation equivariance*). A feature detector that finds a collar in the
# top-left corner finds it in the bottom-right too.

# %%
X = torch.randn(8, 10)
K = torch.randn(3, 3)
X_shifted = torch.zeros_like(X)
X_shifted[:, 2:] = X[:, :-2]  # move the picture two pixels to the right
Y, Y_shifted = d2l.corr2d(X, K), d2l.corr2d(X_shifted, K)
torch.testing.assert_close(Y_shifted[:, 2:], Y[:, :-2])  # the output moved by two pixels too

# %% [markdown]
# ## 2. Cross-correlation and convolution
#
# A "convolutional" layer slides a kernel $\mathbf K$ of size $k_h\times k_w$ over the input
# $\mathbf X$ and, at every position, takes the sum of the elementwise products with the window
# beneath it:
#
# $$Y_{i,j} = \sum_{a=0}^{k_h-1}\sum_{b=0}^{k_w-1} X_{i+a,\,j+b}\,K_{a,b}.$$
#
# Strictly, this is **cross-correlation**. The output is smaller than the input: an
# $n_h\times n_w$ input gives an $(n_h-k_h+1)\times(n_w-k_w+1)$ output, because the window must
# fit inside the image.
#
# ![A 2x2 kernel slides over a 3x4 input; the highlighted window gives the highlighted output](../Pics/06_cross_correlation.svg)
#
# `d2l.corr2d` writes the formula as two loops over the output. We rebuild the example in the
# figure and compare it with PyTorch's `F.conv2d`, which wants batch and channel axes
# `(N, C, H, W)` for the input and `(C_out, C_in, k_h, k_w)` for the kernel.

# %%
X = torch.arange(12.0).reshape(3, 4)
K = torch.tensor([[1.0, 0.0], [-1.0, 2.0]])
Y = d2l.corr2d(X, K)
print(Y)
assert Y.shape == (3 - 2 + 1, 4 - 2 + 1)
assert Y[0, 1] == 1 * 1 + 2 * 0 + 5 * (-1) + 6 * 2

# the loop and the library agree, also on random data of an odd shape
X, K = torch.randn(7, 9), torch.randn(3, 2)
torch.testing.assert_close(d2l.corr2d(X, K), F.conv2d(X[None, None], K[None, None])[0, 0])

# %% [markdown]
# The **convolution** of signal processing runs the kernel index backwards:
#
# $$(\mathbf X * \mathbf K)_{i,j} = \sum_{a=0}^{k_h-1}\sum_{b=0}^{k_w-1}
#   X_{i+k_h-1-a,\; j+k_w-1-b}\,K_{a,b},$$
#
# which is the same as cross-correlation with the kernel flipped upside down and left to right.
# We write the convolution with its own index arithmetic and check that claim. An *impulse*
# (a single 1 in a sea of zeros) makes the difference visible: convolution reproduces the
# kernel, cross-correlation reproduces it flipped.

# %%
def conv2d_true(X, K):
    """Convolution in the signal-processing sense ('valid' part only), straight from the sum."""
    kh, kw = K.shape
    Y = torch.zeros(X.shape[0] - kh + 1, X.shape[1] - kw + 1)
    for i in range(Y.shape[0]):
        for j in range(Y.shape[1]):
            for a in range(kh):
                for b in range(kw):
                    Y[i, j] += X[i + kh - 1 - a, j + kw - 1 - b] * K[a, b]
    return Y


X, K = torch.randn(6, 7), torch.randn(3, 4)
torch.testing.assert_close(conv2d_true(X, K), d2l.corr2d(X, K.flip(0, 1)))

impulse = torch.zeros(5, 5)
impulse[2, 2] = 1.0
K = torch.arange(1.0, 10.0).reshape(3, 3)
print("convolution of an impulse:\n", conv2d_true(impulse, K))
print("cross-correlation of an impulse:\n", d2l.corr2d(impulse, K))
torch.testing.assert_close(conv2d_true(impulse, K), K)
torch.testing.assert_close(d2l.corr2d(impulse, K), K.flip(0, 1))

# %% [markdown]
# For deep learning the distinction hardly matters: the kernel is *learned*, so a network
# trained with cross-correlation simply learns the flipped version of the kernel a
# convolutional one would learn. Deep-learning libraries, PyTorch included, compute
# cross-correlation and call it convolution; so will we from here on.
#
# ## 3. Detecting and learning an edge
#
# A tiny kernel already does something useful. Our image is a bright rectangle on a dark
# background. The kernel $[1,\,-1]$ subtracts each pixel's right neighbour from it, so it
# answers $+1$ where brightness drops from left to right, $-1$ where it rises, and $0$ on flat
# regions: a detector of vertical edges. Its transpose finds horizontal edges.

# %%
X = torch.zeros(8, 10)
X[2:6, 3:8] = 1.0  # the bright rectangle
K_edge = torch.tensor([[1.0, -1.0]])
Y_vertical = d2l.corr2d(X, K_edge)
Y_horizontal = d2l.corr2d(X, K_edge.T)

fig, axes = plt.subplots(1, 3, figsize=(8, 2.2))
for ax, img, title in zip(axes, (X, Y_vertical, Y_horizontal),
                          ("image", "kernel [1, -1]", "kernel [1, -1] transposed")):
    ax.imshow(img, cmap="coolwarm", vmin=-1, vmax=1)
    ax.set_title(title, fontsize=9)
    ax.axis("off")
plt.show()

# the vertical-edge response lives exactly on the rectangle's left and right sides
assert set(Y_vertical.unique().tolist()) == {-1.0, 0.0, 1.0}
assert (Y_vertical[:, 2] == -X[:, 3]).all() and (Y_vertical[:, 7] == X[:, 7]).all()
assert Y_vertical[:, 3:7].abs().sum() == 0  # flat interior: no response

# %% [markdown]
# Now pretend we only see the image and the edge map, not the kernel. A convolutional layer
# with a $1\times 2$ kernel, started from random weights and trained by plain gradient descent
# on the squared error, should *discover* $[1,-1]$. We do the update by hand (as in chapter 01)
# so nothing is hidden.

# %%
conv = nn.Conv2d(1, 1, kernel_size=(1, 2), bias=False)
X4, Y4 = X.reshape(1, 1, 8, 10), Y_vertical.reshape(1, 1, 8, 9)  # add batch and channel axes
lr = 0.02
losses = []
for step in range(40):
    loss = ((conv(X4) - Y4) ** 2).sum()
    conv.zero_grad()
    loss.backward()
    with torch.no_grad():
        conv.weight -= lr * conv.weight.grad
    losses.append(loss.item())
    if (step + 1) % 10 == 0:
        print(f"step {step + 1}: loss {loss.item():.5f}, kernel {conv.weight.data.flatten().tolist()}")

learned = conv.weight.data.reshape(1, 2)
assert losses[-1] < 1e-3 * losses[0]
torch.testing.assert_close(learned, K_edge, atol=1e-2, rtol=0)

# %% [markdown]
# ## 4. Padding and stride
#
# Two knobs control the output size.
#
# * **Padding** $p$ adds $p$ rows/columns of zeros on each border, so windows can be centred on
#   edge pixels and the output need not shrink. With an odd kernel size $k$ and stride 1,
#   $p=(k-1)/2$ keeps the size unchanged ("same" padding).
# * **Stride** $s$ moves the window $s$ pixels at a time instead of one, shrinking the output
#   about $s$-fold.
#
# ![Padding of one around a 4x4 input, a 3x3 kernel taking strides of two](../Pics/06_padding_stride.svg)
#
# A third knob, **dilation** $d$ (section 8), spreads the kernel's taps $d$ pixels apart, so a
# kernel of size $k$ spans $d(k-1)+1$ pixels. Along one axis of length $n$, the window's first
# position is $0$ and its last possible start is $n+2p-d(k-1)-1$; counting the starts that are
# multiples of $s$ gives
#
# $$n_\text{out} = \left\lfloor \frac{n + 2p - d\,(k-1) - 1}{s} \right\rfloor + 1 .$$
#
# With $p=0$, $s=d=1$ this is the $n-k+1$ of section 2. We check the formula against the
# shapes real `nn.Conv2d` layers produce, over a grid of every knob, using a non-square input
# so that height and width are tested separately.

# %%
def conv_out_size(n, k, p=0, s=1, d=1):
    """Output length of a convolution or pooling along one axis."""
    return (n + 2 * p - d * (k - 1) - 1) // s + 1


n_h, n_w = 9, 12
X = torch.zeros(1, 1, n_h, n_w)
tested = 0
for k in (1, 2, 3, 5):
    for p in (0, 1, 2):
        for s in (1, 2, 3):
            for d in (1, 2):
                if min(conv_out_size(n_h, k, p, s, d), conv_out_size(n_w, k, p, s, d)) < 1:
                    continue  # the (dilated) kernel does not fit even after padding
                layer = nn.Conv2d(1, 1, k, padding=p, stride=s, dilation=d)
                expected = (conv_out_size(n_h, k, p, s, d), conv_out_size(n_w, k, p, s, d))
                assert layer(X).shape[2:] == expected, (k, p, s, d)
                tested += 1
print(f"formula matches nn.Conv2d for {tested} settings")
assert tested > 50

# the configuration drawn in the figure, and "same" padding for odd kernels at stride 1
assert conv_out_size(4, k=3, p=1, s=2) == 2
for k in (1, 3, 5, 7):
    assert nn.Conv2d(1, 1, k, padding=(k - 1) // 2)(X).shape[2:] == (n_h, n_w)

# %% [markdown]
# ## 5. Several input and output channels
#
# Real images have channels (red, green, blue), and hidden layers have many more. With $c_i$
# input channels the kernel gets one $k_h\times k_w$ slice per input channel; the layer
# cross-correlates each channel with its slice and **adds** the results into one map. For
# $c_o$ output channels there are $c_o$ such kernels, so the weight tensor has shape
# $c_o\times c_i\times k_h\times k_w$:
#
# $$Y_{o} = b_o + \sum_{c=0}^{c_i-1} \mathbf X_{c} \star \mathbf K_{o,c}.$$
#
# Both rules are a line each on top of `d2l.corr2d`.

# %%
def corr2d_multi_in(X, K):
    """X: (c_i, h, w), K: (c_i, k_h, k_w) -> one map: the channel results summed."""
    return sum(d2l.corr2d(x, k) for x, k in zip(X, K))


def corr2d_multi_in_out(X, K):
    """X: (c_i, h, w), K: (c_o, c_i, k_h, k_w) -> (c_o, h', w'): one map per output kernel."""
    return torch.stack([corr2d_multi_in(X, k) for k in K])


X = torch.randn(3, 6, 7)
K = torch.randn(4, 3, 2, 3)
Y = corr2d_multi_in_out(X, K)
assert Y.shape == (4, 6 - 2 + 1, 7 - 3 + 1)
torch.testing.assert_close(Y, F.conv2d(X[None], K)[0])

# %% [markdown]
# ### The $1\times 1$ convolution
#
# A $1\times 1$ kernel cannot see neighbouring pixels, so it seems pointless, yet it is used
# everywhere (NiN, GoogLeNet, ResNet). At every pixel it mixes the $c_i$ channel values into
# $c_o$ new ones with the same $c_o\times c_i$ matrix: it is a dense layer applied at each
# pixel. It changes the number of channels cheaply. We verify the "matrix product per pixel"
# reading.

# %%
X = torch.randn(3, 5, 6)
W = torch.randn(2, 3, 1, 1)
h, w = X.shape[1:]
Y_matmul = (W.reshape(2, 3) @ X.reshape(3, h * w)).reshape(2, h, w)
torch.testing.assert_close(Y_matmul, F.conv2d(X[None], W)[0])
torch.testing.assert_close(Y_matmul, corr2d_multi_in_out(X, W))

# %% [markdown]
# ## 6. Pooling
#
# A pooling layer slides a window like a convolution but has no weights: it reports the
# **maximum** or the **average** of each window. Pooling makes the output less sensitive to
# small shifts of the input and, with a stride, shrinks the maps cheaply. On several channels it
# works on each channel separately, so the channel count stays the same. A scratch version:

# %%
def pool2d(X, size, mode="max"):
    """Pool a 2-D tensor with a size x size window, stride 1."""
    Y = torch.zeros(X.shape[0] - size + 1, X.shape[1] - size + 1)
    for i in range(Y.shape[0]):
        for j in range(Y.shape[1]):
            window = X[i:i + size, j:j + size]
            Y[i, j] = window.max() if mode == "max" else window.mean()
    return Y


X = torch.randn(5, 6)
torch.testing.assert_close(pool2d(X, 2, "max"), F.max_pool2d(X[None, None], 2, stride=1)[0, 0])
torch.testing.assert_close(pool2d(X, 3, "avg"), F.avg_pool2d(X[None, None], 3, stride=1)[0, 0])
assert nn.MaxPool2d(2)(torch.randn(2, 5, 8, 8)).shape == (2, 5, 4, 4)  # channels kept, stride = window

# %% [markdown]
# ### Where the gradient goes
#
# Back-propagation treats the two kinds very differently:
#
# * **max pooling** copies each output's gradient to the *single* input that won the window;
#   every other input gets zero;
# * **average pooling** spreads each output's gradient evenly, $1/(k_h k_w)$ to every input of
#   the window.
#
# We take a $4\times 4$ input, pool $2\times 2$ windows with stride 2 (non-overlapping), and
# back-propagate the sum of the outputs, i.e. a gradient of 1 at each output.

# %%
X = torch.randn(1, 1, 4, 4, requires_grad=True)
F.max_pool2d(X, 2).sum().backward()
grad_max = X.grad[0, 0].clone()

X.grad = None
F.avg_pool2d(X, 2).sum().backward()
grad_avg = X.grad[0, 0].clone()
print("input:\n", X.detach()[0, 0], "\nmax-pool gradient:\n", grad_max, "\navg-pool gradient:\n", grad_avg)

# max: a one exactly where each 2x2 block has its maximum, zeros everywhere else
blocks = X.detach()[0, 0].reshape(2, 2, 2, 2).permute(0, 2, 1, 3).reshape(4, 4)  # one row per block
winner = torch.zeros(4, 4)
winner[torch.arange(4), blocks.argmax(dim=1)] = 1.0
expected_max = winner.reshape(2, 2, 2, 2).permute(0, 2, 1, 3).reshape(4, 4)  # back to the image layout
torch.testing.assert_close(grad_max, expected_max)
assert (grad_max != 0).sum() == 4  # one input per window receives anything
# average: the same share for every input
torch.testing.assert_close(grad_avg, torch.full((4, 4), 0.25))

# %% [markdown]
# When windows overlap (stride smaller than the window), an input that wins several windows
# collects the gradient of each; one that wins none collects nothing. The count below is made
# window by window, independently of autograd.

# %%
X = torch.randn(1, 1, 6, 6, requires_grad=True)
F.max_pool2d(X, 3, stride=1).sum().backward()
wins = torch.zeros(6, 6)
for i in range(4):
    for j in range(4):
        best = X.detach()[0, 0, i:i + 3, j:j + 3].argmax()
        wins[i + best // 3, j + best % 3] += 1
print(wins)
torch.testing.assert_close(X.grad[0, 0], wins)
assert wins.sum() == 16  # one winner per output

# %% [markdown]
# ## 7. Receptive field
#
# The **receptive field** of a unit is the patch of the *input image* it depends on. One
# $3\times 3$ convolution sees $3\times 3$ pixels; stack a second and each of its units sees a
# $3\times 3$ window of units that each see $3\times 3$ pixels, $5\times 5$ in all. Stacks grow
# the view slowly; strides and dilations make it grow fast.
#
# ![Units of three stacked 3-wide layers that one output depends on: 7 inputs without dilation, 15 with dilations 1, 2, 4](../Pics/06_receptive_field.svg)
#
# Along one axis, let $r_l$ be the receptive field after layer $l$ and $j_l$ the *jump*: how
# many input pixels apart two neighbouring units of layer $l$ are. Starting from $r_0 = j_0 = 1$,
# a layer with kernel $k_l$, stride $s_l$ and dilation $d_l$ gives
#
# $$r_l = r_{l-1} + d_l\,(k_l - 1)\, j_{l-1}, \qquad j_l = j_{l-1}\, s_l .$$
#
# Padding shifts the field but does not change its size; activations and flattening have no
# window. We read $k$, $s$ and $d$ off the layers of an `nn.Sequential` (height axis).

# %%
def receptive_field(net):
    """Receptive-field size (height axis) of one unit after the last layer of `net`."""
    r, jump = 1, 1
    for layer in net:
        if isinstance(layer, (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d)):
            first = lambda v: v[0] if isinstance(v, tuple) else v
            k, s = first(layer.kernel_size), first(layer.stride)
            d = first(getattr(layer, "dilation", 1))
            r += d * (k - 1) * jump
            jump *= s
    return r


# %% [markdown]
# Autograd lets us *measure* it. Take a single unit in the middle of the last layer's output and
# back-propagate from it to the input: the input pixels with a nonzero gradient are the ones it
# depends on. `measured_receptive_field` does this for the central unit of the first output
# channel and returns the height and width of that region. It asks autograd for the gradient
# with respect to the input only (`torch.autograd.grad`), builds the input on the net's device,
# and leaves the net's weights and `.grad` fields alone, so it can be pointed at any trained net.
#
# The formula counts every pixel a path *could* connect. So that no path cancels or is switched
# off, the test stacks below are linear (no ReLU, average rather than max pooling) and get
# positive weights from `positive_weights_`; the input is big enough that the field is not
# clipped by the border.

# %%
def positive_weights_(net):
    """Overwrite every parameter of `net` with a random value in [0.1, 1], in place."""
    with torch.no_grad():
        for p in net.parameters():
            p.uniform_(0.1, 1.0)
    return net


def measured_receptive_field(net, size=64):
    """(height, width) of the input region that moves the central unit of the first output
    channel of `net`, found by autograd on a random size x size input; (0, 0) when no input
    pixel moves it. `net` is not modified."""
    X = torch.rand(1, 1, size, size, device=next(net.parameters()).device, requires_grad=True)
    Y = net(X)
    (grad,) = torch.autograd.grad(Y[0, 0, Y.shape[2] // 2, Y.shape[3] // 2], X)
    rows = grad[0, 0].abs().sum(dim=1).nonzero().flatten()
    cols = grad[0, 0].abs().sum(dim=0).nonzero().flatten()
    if len(rows) == 0:
        return 0, 0
    return (rows.max() - rows.min() + 1).item(), (cols.max() - cols.min() + 1).item()


stacks = {
    "3 convs 3x3": nn.Sequential(nn.Conv2d(1, 2, 3), nn.Conv2d(2, 2, 3), nn.Conv2d(2, 1, 3)),
    "dilations 1, 2, 4": nn.Sequential(nn.Conv2d(1, 2, 3), nn.Conv2d(2, 2, 3, dilation=2),
                                       nn.Conv2d(2, 1, 3, dilation=4)),
    "stride 2 twice": nn.Sequential(nn.Conv2d(1, 2, 3, stride=2), nn.Conv2d(2, 2, 3, stride=2),
                                    nn.Conv2d(2, 1, 3)),
    "conv, avg pool, dilated conv": nn.Sequential(nn.Conv2d(1, 2, 5, padding=2), nn.AvgPool2d(2),
                                                  nn.Conv2d(2, 2, 3, dilation=2), nn.Conv2d(2, 1, 3)),
}
for name, net in stacks.items():
    positive_weights_(net)
    computed, measured = receptive_field(net), measured_receptive_field(net)
    print(f"{name:<30} formula {computed:>3}, autograd {measured[0]:>3} x {measured[1]}")
    assert measured == (computed, computed), name  # square kernels: the same along both axes
assert receptive_field(stacks["3 convs 3x3"]) == 7 and receptive_field(stacks["dilations 1, 2, 4"]) == 15

# measuring does not touch the net: same weights, no gradients accumulated
net = stacks["stride 2 twice"]
before = [p.clone() for p in net.parameters()]
measured_receptive_field(net)
assert all(torch.equal(p, q) for p, q in zip(net.parameters(), before))
assert all(p.grad is None for p in net.parameters())


# %% [markdown]
# ## 8. Dilated and group convolutions
#
# **Dilated** (atrous) convolution inserts $d-1$ gaps between the kernel's taps. A $3\times 3$
# kernel with $d=2$ covers a $5\times 5$ area with 9 weights, so the receptive field grows
# exponentially when dilations double from layer to layer (the right half of the figure above)
# while the parameter count grows only linearly. It is exactly an ordinary convolution with a
# bigger kernel that is zero between the taps:

# %%
X = torch.randn(1, 1, 9, 9)
K = torch.randn(1, 1, 3, 3)
K_spread = torch.zeros(1, 1, 5, 5)
K_spread[..., ::2, ::2] = K  # taps two pixels apart, zeros in between
torch.testing.assert_close(F.conv2d(X, K, dilation=2), F.conv2d(X, K_spread))
torch.testing.assert_close(F.conv2d(X, K, dilation=2)[0, 0], d2l.corr2d(X[0, 0], K_spread[0, 0]))

# %% [markdown]
# **Group** convolution splits the $c_i$ input channels into $g$ groups and the $c_o$ output
# channels likewise; output group $t$ only reads input group $t$. Each kernel therefore spans
# $c_i/g$ channels instead of $c_i$, and the weight count drops from $c_o c_i k_h k_w$ to
# $c_o (c_i/g) k_h k_w$: a factor $g$ fewer. With $g = c_i$ every channel is filtered on its own
# (a *depthwise* convolution, the first half of MobileNet's block; a $1\times 1$ convolution then
# mixes the channels). We check both the count and the meaning: a group convolution equals
# $g$ separate convolutions on the channel slices, concatenated.

# %%
c_i, c_o = 8, 16
full = nn.Conv2d(c_i, c_o, 3, bias=False)
for g in (1, 2, 4, 8):
    grouped = nn.Conv2d(c_i, c_o, 3, groups=g, bias=False)
    print(f"groups={g}: weight shape {tuple(grouped.weight.shape)}, {grouped.weight.numel()} weights")
    assert grouped.weight.shape == (c_o, c_i // g, 3, 3)
    assert grouped.weight.numel() * g == full.weight.numel()

g = 4
grouped = nn.Conv2d(c_i, c_o, 3, groups=g, bias=False)
X = torch.randn(2, c_i, 7, 7)
per_group_in, per_group_out = c_i // g, c_o // g
pieces = [F.conv2d(X[:, t * per_group_in:(t + 1) * per_group_in],
                   grouped.weight[t * per_group_out:(t + 1) * per_group_out])
          for t in range(g)]
torch.testing.assert_close(grouped(X), torch.cat(pieces, dim=1))

# %% [markdown]
# ## 9. A tiny convolutional network on Fashion-MNIST
#
# Time to see these layers learn. Two convolutions, each followed by ReLU and $2\times 2$ max
# pooling, then `d2l.FlattenLayer` and one dense layer for the ten classes. Chapter 08 (LeNet)
# refines this design; here it is the smallest net that shows the idea.
#
# First the **shape walk**: push one dummy image through the layers and check every output
# shape against the formula of section 4.

# %%
net = nn.Sequential(
    nn.Conv2d(1, 6, kernel_size=5, padding=2), nn.ReLU(),   # 28 -> 28 ("same" padding)
    nn.MaxPool2d(2),                                        # 28 -> 14
    nn.Conv2d(6, 16, kernel_size=3), nn.ReLU(),             # 14 -> 12
    nn.MaxPool2d(2),                                        # 12 -> 6
    d2l.FlattenLayer(),                                     # 16 * 6 * 6 = 576
    nn.Linear(16 * 6 * 6, 10),
)
shapes = d2l.layer_shapes(net, torch.zeros(1, 1, 28, 28))
assert [shape for _, shape in shapes] == [
    (1, 6, 28, 28), (1, 6, 28, 28), (1, 6, 14, 14),
    (1, 16, 12, 12), (1, 16, 12, 12), (1, 16, 6, 6),
    (1, 576), (1, 10)]
assert conv_out_size(conv_out_size(conv_out_size(28, 5, p=2), 2, s=2), 3) == 12
print(f"{d2l.num_params(net):,} parameters; each unit of the last pooling layer sees a "
      f"{receptive_field(net)}x{receptive_field(net)} patch of the image")
assert receptive_field(net) == 12

# %% [markdown]
# The whole network has fewer than 7000 parameters, about 30 times fewer than the MLP of
# chapter 03 with one hidden layer of 256 units on the same images.

# %%
mlp = nn.Sequential(d2l.FlattenLayer(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10))
print(f"tiny CNN: {d2l.num_params(net):,} parameters; MLP with 256 hidden units: {d2l.num_params(mlp):,}")
assert d2l.num_params(net) < 7000 and d2l.num_params(mlp) > 29 * d2l.num_params(net)

# %% [markdown]
# Three tools are new here.
#
# * **Adam** (Kingma and Ba, 2015), `torch.optim.Adam`, replaces the plain SGD of the earlier
#   chapters. For every parameter it keeps running averages of the gradient and of the squared
#   gradient, and steps by the learning rate times the first over the square root of the second
#   (plus a tiny constant against division by zero). Multiplying a parameter's gradients by a
#   constant therefore leaves its steps almost unchanged, so one learning rate suits every layer,
#   however large or small its gradients are. Chapter 15 derives it, with its bias correction,
#   and checks it step for step against `torch.optim.Adam`.
# * **`d2l.train_ch5(net, train_iter, test_iter, batch_size, optimizer, device, num_epochs)`** is
#   the training loop for convolutional nets. It does what `d2l.train_ch3` of chapter 02 did with
#   an optimizer (minibatch steps, per-epoch loss and accuracies, the progress bar, live curves,
#   the returned history), always with the cross-entropy loss, and it first moves the net and
#   every batch to `device`. It also picks the fastest way the hardware offers to compute
#   convolutions (a memory layout and, where the processor supports it natively, 16-bit
#   arithmetic); the "training on ..." line it prints says which.
# * **`d2l.try_gpu()`** returns the device to train on: the first CUDA GPU if there is one, else
#   Apple's MPS, else the CPU. Convolutions are costly enough that an accelerator pays off; on a
#   machine without one the same code runs on the CPU.
#
# So that we can tell afterwards whether training did anything, we keep one training batch and
# the untrained net's loss on it.

# %%
batch_size, lr, num_epochs = 256, 0.01, 5
train_iter, test_iter = d2l.load_data_fashion_mnist(batch_size)
with torch.random.fork_rng():  # drawing a shuffled batch must not move the seed training starts from
    X_fixed, y_fixed = next(iter(train_iter))
with torch.no_grad():
    loss_before = F.cross_entropy(net(X_fixed), y_fixed).item()

optimizer = torch.optim.Adam(net.parameters(), lr=lr)
history = d2l.train_ch5(net, train_iter, test_iter, batch_size, optimizer, d2l.try_gpu(), num_epochs)

# %%
device = next(net.parameters()).device
with torch.no_grad():
    loss_after = F.cross_entropy(net(X_fixed.to(device)), y_fixed.to(device)).item()
print(f"loss on the kept batch: {loss_before:.3f} before training, {loss_after:.3f} after")
assert history.steps == 0 or loss_after < loss_before, "training should lower the loss on the kept batch"
d2l.check_accuracy(history, 0.85, quick=0.81);

# %% [markdown]
# What did the first layer learn? Its six $5\times 5$ kernels, and what each makes of a test
# image (after one epoch on 200 images in the smoke profile, one epoch on all of them in the
# quick one, five in the full one). Compare them with the edge kernel we wrote by hand in
# section 3: a kernel that is positive on one side and negative on the other responds to edges
# across that direction. The six kernels share one colour scale, symmetric around zero: white is
# zero, red positive, blue negative.

# %%
X, y = next(iter(test_iter))
first = net[0]
with torch.no_grad():
    maps = F.relu(first(X[:1].to(first.weight.device))).cpu()
kernels = first.weight.detach().cpu()
assert kernels.shape == (6, 1, 5, 5) and maps.shape == (1, 6, 28, 28)

fig, axes = plt.subplots(2, 7, figsize=(9, 2.8))
axes[0, 0].imshow(X[0, 0].cpu(), cmap="gray_r")
axes[0, 0].set_title(d2l.get_fashion_mnist_labels(y[:1])[0], fontsize=8)
axes[1, 0].axis("off")
m = kernels.abs().max().item()  # symmetric limits: zero sits in the middle of the colour map
for c in range(6):
    image = axes[0, c + 1].imshow(kernels[c, 0], cmap="coolwarm", vmin=-m, vmax=m)
    axes[0, c + 1].set_title(f"kernel {c}", fontsize=8)
    axes[1, c + 1].imshow(maps[0, c], cmap="gray_r")
for ax in axes.flat:
    ax.set_xticks([])
    ax.set_yticks([])
fig.subplots_adjust(right=0.9)
box = axes[0, -1].get_position()  # the colour bar goes right of the kernel row, rows stay aligned
fig.colorbar(image, cax=fig.add_axes([box.x1 + 0.015, box.y0, 0.012, box.height]), label="weight")
plt.show()

# %% [markdown]
# ## Summary
#
# * For the same 2.5 million outputs, locality cuts a layer's parameters from $3 \cdot 10^{11}$
#   (dense) to $7 \cdot 10^7$ (locally connected), and weight sharing to 1792 (convolution);
#   weight sharing also makes the layer translation equivariant.
# * Deep-learning "convolution" is cross-correlation; true convolution flips the kernel, which
#   makes no difference once the kernel is learned.
# * The output size is $\lfloor (n+2p-d(k-1)-1)/s\rfloor + 1$ along each axis.
# * Channels add up inside a kernel; each output channel has its own kernel; a $1\times 1$
#   convolution is a per-pixel dense layer.
# * Max pooling routes gradient only to the winners, average pooling shares it evenly.
# * Receptive fields grow by $d(k-1)\cdot(\text{product of earlier strides})$ per layer;
#   dilation and stride grow them fastest; group convolution divides the weights by $g$.
#
# ## Exercises
#
# The first three are checked: replace the stub, run the cell, and the check tells you which case
# fails and why.
#
# **1. Transposed convolution.** `nn.ConvTranspose2d` runs a convolution backwards: each input
# pixel spreads a $k\times k$ window of the output, the windows start $s$ pixels apart, and
# padding $p$ *removes* $p$ rows and columns from each border of the result (it is the padding of
# the forward convolution whose shape it inverts). Write `conv_transpose_output_size(n, k, p, s)`,
# its output length along an axis of length $n$ (no dilation, no `output_padding`).

# %% tags=["exercise"]
def conv_transpose_output_size(n, k, p, s):
    # your code here
    raise NotImplementedError


d2l.exercises.check_conv_transpose_output_size(conv_transpose_output_size)

# %% [markdown]
# **2. Padding and stride from scratch.** Extend `d2l.corr2d` to
# `corr2d_padded(X, K, padding, stride)`: pad the matrix `X` with `padding` zeros on all four
# borders, then slide `K` over it `stride` pixels at a time. The check compares you with
# `F.conv2d` on inputs, kernels and strides of several shapes.

# %% tags=["exercise"]
def corr2d_padded(X, K, padding, stride):
    # your code here
    raise NotImplementedError


d2l.exercises.check_corr2d_padded(corr2d_padded)

# %% [markdown]
# **3. Where a unit looks.** Section 7 computed the *size* of a receptive field and said that
# padding only shifts it. Now find its position. Number the input rows $0, 1, \dots$ (the rows of
# zero padding above row 0 are $-1, -2, \dots$). Write `input_window(layers, i)` that takes a
# stack of layers as a list of `(kernel, stride, padding)` triples and returns the pair
# `(first, last)` of input rows that row `i` of the last layer's output depends on. Hint: unit
# $j$ of a layer reads rows $js - p$ to $js - p + k - 1$ of the layer below; go down one layer at
# a time.

# %% tags=["exercise"]
def input_window(layers, i):
    # your code here
    raise NotImplementedError


d2l.exercises.check_input_window(input_window)

# %% [markdown]
# The remaining exercises are open questions.
#
# 4. Build the image of section 3 with a *diagonal* edge. What does $[1,-1]$ report? Design a
#    $2\times 2$ kernel that responds to the diagonal, and learn it from the image as we did.
# 5. Learn a $3\times 3$ kernel instead of the $1\times 2$ one from the same rectangle. Its
#    output is $6\times 8$: which $6\times 8$ part of the edge map should it match? Does it
#    converge to $[1,-1]$ padded with zeros? Why is the answer not unique, and how would a
#    random-noise image change that?
# 6. Apply `measured_receptive_field` to the trained network of section 9, cut after its last
#    pooling layer: `measured_receptive_field(net[:6])`. Why does it report less than
#    `receptive_field(net)`? What do ReLU and max pooling do to the gradient paths? (Hint: which
#    of the four units of the last $2\times 2$ pooling window passes any gradient back?) Run it a
#    few times, on new random inputs: why does it sometimes report `(0, 0)`?
# 7. How many multiply-adds does a convolution with $c_i$ inputs, $c_o$ outputs, a
#    $k\times k$ kernel and an $h\times w$ output cost? Compare an ordinary $3\times 3$
#    convolution with a depthwise one followed by a $1\times 1$ convolution for
#    $c_i=c_o=64$.
# 8. Replace the max pooling of the tiny network by average pooling, and then by a $2\times 2$
#    convolution with stride 2 and as many output as input channels. How do the parameter count
#    and the validation accuracy change? Choose between them on a validation split taken from the
#    training images, not on the test set.
#
# <details><summary>Reference results for exercise 8</summary>
#
# Measured with `OMP_NUM_THREADS=1 python benchmarks/exercise_refs/06_convolutions.py` on a
# 2-core x86_64 CPU, torch 2.14.1: the notebook's net and settings (Adam, learning rate 0.01,
# batch 256, 5 epochs), trained on 10 000 training images (1 000 per class) and scored on 5 000
# validation images held out from the training file; two seeds each.
#
# | downsampling | parameters | val acc, seed 0 | val acc, seed 1 |
# |---|---|---|---|
# | max pooling 2x2 | 6,806 | 0.834 | 0.820 |
# | average pooling 2x2 | 6,806 | 0.823 | 0.809 |
# | conv 2x2, stride 2 | 7,996 | 0.843 | 0.835 |
#
# Pooling has no parameters; the two stride-2 convolutions add $6(6\cdot 4+1) + 16(16\cdot 4+1)
# = 1190$. On this small run the learned downsampling comes out ahead of both poolings, and max
# pooling ahead of average pooling, but the two seeds of one variant differ by up to 0.014, about
# as much as the variants differ from each other: more data and more seeds would be needed to
# rank them with confidence.
#
# </details>
