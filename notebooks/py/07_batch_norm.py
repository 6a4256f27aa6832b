# %% [markdown]
# # 07 · Batch normalization, and its relatives
#
# Chapter 05 chose initial weights so that activations keep a sensible scale through a deep
# stack. That only holds at the start: once training changes the weights, the scale of
# every layer's input can drift again. *Batch normalization* (Ioffe & Szegedy, 2015) re-standardizes
# the inputs of a layer on every minibatch, throughout training. In this chapter you will
#
# * see activations drift in a deep stack, and stay put with batch normalization;
# * write batch normalization for dense layers (statistics per feature) and for convolutions
#   (statistics per channel);
# * understand why it behaves differently in training and in evaluation, and reproduce the
#   running statistics of PyTorch exactly, momentum and unbiased variance included;
# * check the scratch version against `nn.BatchNorm1d` and `nn.BatchNorm2d`, forwards and
#   backwards;
# * train a small CNN with batch normalization on Fashion-MNIST, and set it beside the same net
#   without batch norm at a large learning rate;
# * write layer, instance and group normalization, which differ only in the axes they average
#   over, and check each against PyTorch.

# %%
import math

import torch
from torch import nn
import d2lmini as d2l

d2l.set_seed(0)
print(d2l.profile_summary())

# %% [markdown]
# ## 1. Why normalize inside the network?
#
# Plain SGD multiplies every component of the gradient by one and the same learning rate. When the
# input features have very different scales, the loss is much steeper along some weights than
# along others (for a linear model with squared loss, the curvature along the weight of feature
# $j$ grows with the square of that feature's scale), and a learning rate small enough for the
# steep directions crawls along the flat ones. That is why inputs are often standardized before
# training. Our loaders serve Fashion-MNIST's pixels only scaled to $[0, 1]$. That bounds every
# input, but it does not put them on one scale: a pixel near the border is black in almost every
# image, one near the centre is often bright. For a linear model with the squared loss
# $\tfrac12(\mathbf{w}^\top\mathbf{x} - y)^2$ the curvature of the expected loss (its Hessian) is
# the matrix $E[\mathbf{x}\mathbf{x}^\top]$; along the weight of pixel $j$ alone it is the diagonal
# entry $E[x_j^2]$. The cell below measures both on all 60 000 training images (in every profile:
# it is a statistic of the data, not a training run), as they are and after standardizing each
# pixel (subtracting its mean and dividing by its standard deviation). The *condition number* is
# the ratio of the largest to the smallest eigenvalue: how much steeper the steepest direction is
# than the flattest.

# %%
train_images = d2l.read_fashion_mnist()[0]  # uint8 (60000, 28, 28): every profile reads them all
pixels = train_images.reshape(len(train_images), -1).double() / 255  # (60000, 784), in [0, 1]
second_moment = pixels.T @ pixels / len(pixels)  # E[x x^T], 784 x 784
per_pixel = second_moment.diagonal()  # E[x_j^2]
pixel_mean = pixels.mean(dim=0)
covariance = second_moment - torch.outer(pixel_mean, pixel_mean)
pixel_std = covariance.diagonal().sqrt()
standardized_moment = covariance / torch.outer(pixel_std, pixel_std)  # E[z z^T], z standardized
del train_images, pixels


def condition_number(S):
    eigenvalues = torch.linalg.eigvalsh(S)  # ascending
    return (eigenvalues[-1] / eigenvalues[0]).item()


cond_raw, cond_standardized = condition_number(second_moment), condition_number(standardized_moment)
print(f"E[x_j^2] per pixel: from {per_pixel.min():.2g} to {per_pixel.max():.2f}, "
      f"a factor of {per_pixel.max() / per_pixel.min():.2g}")
print(f"condition number of E[x x^T]: {cond_raw:.2g} for the [0, 1] pixels, "
      f"{cond_standardized:.2g} after standardizing each pixel")
assert per_pixel.max() > 1e6 * per_pixel.min()  # [0, 1] does not put the pixels on one scale
assert cond_raw > 1e8 and 1e4 < cond_standardized < cond_raw / 1e4  # standardizing: a large gain

# %% [markdown]
# The per-pixel curvatures span a factor of about 3.6 million (from $1.3\cdot 10^{-7}$ at a corner
# to 0.47 near the centre), and the condition number is about $1.1\cdot 10^9$. Standardizing each
# pixel lowers it to about $3.8\cdot 10^4$: four orders of magnitude, but far from 1, because
# neighbouring pixels are strongly correlated, and no rescaling of single pixels removes that.
# (Chapter 15, on optimization, in preparation, relates the condition number to the largest
# learning rate that does not diverge.) The course's networks train on the $[0, 1]$ pixels all
# the same; what batch normalization standardizes is the input of the layers inside the network.
#
# A hidden layer is also the input of the next layer, but its scale is whatever the
# earlier weights make it, and it changes whenever they change. Deep in the network the scale
# can grow or shrink from layer to layer: a saturating activation then passes back almost no gradient, and an
# unbounded one such as ReLU lets the values (and gradients) blow up.
#
# A quick experiment: push a batch through ten dense ReLU layers whose weights are drawn a little
# too large, and record the spread (standard deviation) of what enters each ReLU. Then do the
# same with PyTorch's `nn.BatchNorm1d` standardizing each layer's output before the ReLU.

# %%
def deep_stack(depth, width, with_bn):
    layers = []
    for _ in range(depth):
        linear = nn.Linear(width, width)
        nn.init.normal_(linear.weight, std=2.0 / width ** 0.5)  # sqrt(2) x the Kaiming scale of chapter 05
        layers += [linear] + ([nn.BatchNorm1d(width)] if with_bn else []) + [nn.ReLU()]
    return nn.Sequential(*layers)


def pre_activation_stds(net, X):
    """Std of what goes into each ReLU, layer by layer, and those inputs themselves."""
    stds, inputs = [], []
    for layer in net:
        if isinstance(layer, nn.ReLU):
            stds.append(X.std().item())
            inputs.append(X)
        X = layer(X)
    return stds, inputs


d2l.set_seed(0)
X = torch.randn(256, 64)
with torch.no_grad():
    stds_plain, _ = pre_activation_stds(deep_stack(10, 64, with_bn=False), X)
    stds_bn, inputs_bn = pre_activation_stds(deep_stack(10, 64, with_bn=True), X)
print("without BN:", [round(s, 2) for s in stds_plain])
print("with BN:   ", [round(s, 2) for s in stds_bn])

# %%
import matplotlib.pyplot as plt

d2l.use_svg_display()
fig, ax = plt.subplots(figsize=(4, 2.5))
ax.plot(range(1, 11), stds_plain, marker="o", label="no normalization")
ax.plot(range(1, 11), stds_bn, marker="s", label="batch norm")
ax.set(xlabel="layer", ylabel="std of ReLU input")
ax.set_yscale("log")
ax.grid(True)
ax.legend()
plt.show()

# %%
# with batch norm (training mode, gamma = 1, beta = 0) every feature entering every ReLU has
# mean 0 and variance 1 over the batch, at any depth
for Z in inputs_bn:
    torch.testing.assert_close(Z.mean(dim=0), torch.zeros(64), atol=1e-5, rtol=0)
    torch.testing.assert_close(Z.var(dim=0, correction=0), torch.ones(64), atol=1e-3, rtol=0)
# without it the weights multiply the second moment by width * std^2 = 4 and ReLU halves it: a
# factor 2 per layer, so the std grows by about sqrt(2) = 1.41 per layer
growth = (stds_plain[-1] / stds_plain[0]) ** (1 / 9)
print(f"without BN the std grows by {growth:.2f} per layer")
assert 1.2 < growth < 1.6

# %% [markdown]
# The drift grows with depth and changes during training, as the weights move. Batch norm pins
# the scale at every layer and at every step. Keeping layer inputs on a steady scale is how the
# original paper motivated the method ("internal covariate shift"); later work (Santurkar et al.,
# 2018) argued that its main benefit is a smoother loss surface. The original paper reports that
# it allows much larger learning rates, makes training less sensitive to the initialization, and
# acts as a regularizer (the statistics of each minibatch add noise).
#
# ## 2. The transformation
#
# **Dense layers.** Let a minibatch $\mathcal{B}$ of $m$ examples reach the layer as
# $\mathbf{X}\in\mathbb{R}^{m\times d}$. Each of the $d$ features $j$ is standardized with the
# mean and variance of its own column,
#
# $$\mu_j = \frac{1}{m}\sum_{i=1}^{m} x_{ij},\qquad
#   \sigma_j^2 = \frac{1}{m}\sum_{i=1}^{m} (x_{ij}-\mu_j)^2,\qquad
#   \hat{x}_{ij} = \frac{x_{ij}-\mu_j}{\sqrt{\sigma_j^2+\epsilon}},$$
#
# and then scaled and shifted by two learned vectors, $y_{ij} = \gamma_j\,\hat{x}_{ij} + \beta_j$.
# The small $\epsilon$ ($10^{-5}$) keeps the division safe. Without $\gamma$ and $\beta$ the layer
# could only ever output standardized values; with them it can undo the normalization
# ($\gamma_j=\sigma_j$, $\beta_j=\mu_j$) when that is what the loss prefers. Batch norm goes between
# the affine transformation and the activation: $\mathbf{h} = \phi(\mathrm{BN}(\mathbf{W}\mathbf{x}))$.
# A bias in $\mathbf{W}\mathbf{x}+\mathbf{b}$ is then pointless, since subtracting $\mu_j$ removes it.
#
# **Convolutional layers.** Now $\mathbf{X}\in\mathbb{R}^{m\times c\times h\times w}$. All the
# positions of one channel were made by the same kernel, so they share one scale: each channel
# $k$ gets one mean, one variance and one pair $(\gamma_k, \beta_k)$, computed over all $m\cdot h\cdot w$
# values of that channel in the batch,
#
# $$\mu_k = \frac{1}{mhw}\sum_{i,p,q} x_{ikpq},\qquad
#   \sigma_k^2 = \frac{1}{mhw}\sum_{i,p,q} (x_{ikpq}-\mu_k)^2 .$$
#
# ## 3. Training versus evaluation
#
# The statistics above depend on the whole minibatch: an example's output changes with its
# batch companions. That is acceptable, even helpful, during training, but a trained model must
# give one answer per input, also for a batch of one. So the layer keeps **running estimates**
# $\hat\mu, \hat\sigma^2$ during training and uses them, frozen, in evaluation mode:
#
# $$\hat\mu \leftarrow (1-\rho)\,\hat\mu + \rho\,\mu_\mathcal{B},\qquad
#   \hat\sigma^2 \leftarrow (1-\rho)\,\hat\sigma^2 + \rho\,\frac{n}{n-1}\,\sigma^2_\mathcal{B},$$
#
# starting from $\hat\mu=0,\ \hat\sigma^2=1$. Two conventions matter if you want PyTorch's numbers:
#
# * PyTorch's `momentum` is $\rho = 0.1$, the weight of the *new* batch. (Some other frameworks
#   call $1-\rho = 0.9$ the momentum.) Despite the name it has nothing to do with the momentum of
#   an optimizer, which chapter 09 uses and chapter 15 (on optimization, in preparation) derives:
#   here it is only the weight of a running average of batch statistics, and no gradient is
#   involved.
# * The batch is normalized with the biased variance $\sigma^2_\mathcal{B}$ (divide by $n$), but the
#   running estimate stores the unbiased one (divide by $n-1$), where $n$ is the number of values
#   per feature: $m$ for a dense layer, $m\cdot h\cdot w$ for a convolution.
#
# ## 4. Batch norm from scratch

# %%
def batch_norm(X, gamma, beta, running_mean, running_var, training, momentum=0.1, eps=1e-5):
    """Batch normalization of (N, D) or (N, C, H, W) input; updates the running statistics in
    place when `training`."""
    if X.ndim == 2:
        axes, shape = (0,), (1, -1)              # statistics per feature
    elif X.ndim == 4:
        axes, shape = (0, 2, 3), (1, -1, 1, 1)   # statistics per channel
    else:
        raise ValueError(f"expected (N, D) or (N, C, H, W) input, got {tuple(X.shape)}")
    if training:
        mean = X.mean(dim=axes)
        var = X.var(dim=axes, correction=0)      # biased: used to normalize this batch
        n = X.numel() // X.shape[1]              # values per feature or channel
        with torch.no_grad():                    # the running statistics are not learned
            running_mean.mul_(1 - momentum).add_(momentum * mean)
            running_var.mul_(1 - momentum).add_(momentum * var * n / (n - 1))
    else:
        mean, var = running_mean, running_var
    X_hat = (X - mean.reshape(shape)) / torch.sqrt(var.reshape(shape) + eps)
    return gamma.reshape(shape) * X_hat + beta.reshape(shape)


class BatchNorm(nn.Module):
    """Batch norm for dense (N, D) or convolutional (N, C, H, W) input with `num_features`
    features or channels. Parameters and buffers carry PyTorch's names."""

    def __init__(self, num_features, momentum=0.1, eps=1e-5):
        super().__init__()
        self.momentum, self.eps = momentum, eps
        self.weight = nn.Parameter(torch.ones(num_features))   # gamma
        self.bias = nn.Parameter(torch.zeros(num_features))    # beta
        # buffers: saved with the model and moved by .to(device), but not trained
        self.register_buffer("running_mean", torch.zeros(num_features))
        self.register_buffer("running_var", torch.ones(num_features))

    def forward(self, X):
        return batch_norm(X, self.weight, self.bias, self.running_mean, self.running_var,
                          self.training, self.momentum, self.eps)


# %% [markdown]
# ### Checking it against PyTorch
#
# The test below gives our layer and PyTorch's the same random $\gamma, \beta$, then
#
# 1. runs three training steps on batches whose mean and scale are far from 0 and 1, comparing
#    outputs, running statistics, and the gradients with respect to the input, $\gamma$ and $\beta$;
# 2. switches both to evaluation mode and compares their outputs on a new batch.

# %%
def compare_with_torch(ours, theirs, batch_shape, steps=3):
    with torch.no_grad():
        theirs.weight.copy_(torch.rand_like(theirs.weight) + 0.5)
        theirs.bias.copy_(torch.randn_like(theirs.bias))
        ours.weight.copy_(theirs.weight)
        ours.bias.copy_(theirs.bias)
    ours.train(), theirs.train()
    for _ in range(steps):
        X = 3 * torch.randn(batch_shape) + 2
        X1, X2 = X.clone().requires_grad_(), X.clone().requires_grad_()
        Y1, Y2 = ours(X1), theirs(X2)
        torch.testing.assert_close(Y1, Y2)
        upstream = torch.randn_like(Y1)  # an arbitrary gradient arriving from above
        Y1.backward(upstream)
        Y2.backward(upstream)
        torch.testing.assert_close(X1.grad, X2.grad)
        torch.testing.assert_close(ours.weight.grad, theirs.weight.grad)
        torch.testing.assert_close(ours.bias.grad, theirs.bias.grad)
        ours.zero_grad(), theirs.zero_grad()
    torch.testing.assert_close(ours.running_mean, theirs.running_mean)
    torch.testing.assert_close(ours.running_var, theirs.running_var)
    ours.eval(), theirs.eval()
    X = 3 * torch.randn(batch_shape) + 2
    with torch.no_grad():
        torch.testing.assert_close(ours(X), theirs(X))


d2l.set_seed(0)
compare_with_torch(BatchNorm(5), nn.BatchNorm1d(5), (8, 5))            # dense: per feature
compare_with_torch(BatchNorm(3), nn.BatchNorm2d(3), (4, 3, 6, 6))      # conv: per channel
print("scratch batch norm matches nn.BatchNorm1d and nn.BatchNorm2d, train and eval")

# %% [markdown]
# Both conventions of section 3 are really needed to match. If the running variance stored the
# biased variance, each batch's contribution to it would be $(n-1)/n$ times PyTorch's: for a
# batch of 8, PyTorch adds $8/7$ times as much, 14 % more:

# %%
X = 3 * torch.randn(8, 5) + 2
theirs = nn.BatchNorm1d(5)
theirs(X)  # one training step updates its running statistics
biased_estimate = 0.9 * torch.ones(5) + 0.1 * X.var(dim=0, correction=0)
unbiased_estimate = 0.9 * torch.ones(5) + 0.1 * X.var(dim=0, correction=1)
torch.testing.assert_close(theirs.running_var, unbiased_estimate)
assert not torch.allclose(theirs.running_var, biased_estimate)
ratio = (theirs.running_var - 0.9) / (biased_estimate - 0.9)  # the batches' contributions
print(f"PyTorch's contribution over the biased one: {ratio.mean():.4f} (8/7 = {8 / 7:.4f})")
torch.testing.assert_close(ratio, torch.full((5,), 8 / 7))

# %% [markdown]
# And the two modes really behave differently: in training mode an example's output depends on
# the rest of its batch, in evaluation mode it does not.

# %%
bn = BatchNorm(5)
X, other = torch.randn(8, 5), torch.randn(8, 5)
X_swapped = torch.cat([X[:1], other[1:]])  # same first example, different companions
with torch.no_grad():
    bn.train()
    assert not torch.allclose(bn(X)[0], bn(X_swapped)[0])
    bn.eval()
    torch.testing.assert_close(bn(X)[0], bn(X_swapped)[0])
    torch.testing.assert_close(bn(X)[:1], bn(X[:1]))  # a batch of one works too

# %% [markdown]
# ## 5. A CNN with batch normalization
#
# The network has the layout of LeNet, which chapter 08 studies in its own right: two 5×5
# convolutions with 6 and 16 output channels (the first padded by 2, so that a 28×28 image keeps
# its size), each followed by an activation and 2×2 pooling with stride 2, then dense layers of
# 120, 84 and 10 units. We insert a batch-norm layer after every convolution and every hidden
# dense layer, before its activation (not after the output layer: those are the class scores).
# The layers that feed a batch norm lose their biases, which batch norm would cancel. As in the
# small CNN of chapter 06 we use ReLU and max pooling; the sigmoid and average-pooling flavour is
# an exercise. Of the networks that follow in this course, ResNet (chapter 13) and DenseNet
# (chapter 14) put a batch-norm layer next to every convolution, ResNet as *convolution → batch
# norm → ReLU* and DenseNet as *batch norm → ReLU → convolution*; AlexNet, VGG, NiN and GoogLeNet
# (chapters 09 to 12) have none. We build the network from PyTorch's layers, and keep the option
# of building it from ours. We call it BN-LeNet.

# %%
def bn_lenet(activation=nn.ReLU, pooling=nn.MaxPool2d, norm2d=nn.BatchNorm2d,
             norm1d=nn.BatchNorm1d):
    return nn.Sequential(
        nn.Conv2d(1, 6, kernel_size=5, padding=2, bias=False), norm2d(6), activation(),
        pooling(kernel_size=2, stride=2),
        nn.Conv2d(6, 16, kernel_size=5, bias=False), norm2d(16), activation(),
        pooling(kernel_size=2, stride=2),
        d2l.FlattenLayer(),
        nn.Linear(16 * 5 * 5, 120, bias=False), norm1d(120), activation(),
        nn.Linear(120, 84, bias=False), norm1d(84), activation(),
        nn.Linear(84, 10))


net = bn_lenet()
shapes = d2l.layer_shapes(net, torch.rand(2, 1, 28, 28))
assert [s for _, s in shapes] == [
    (2, 6, 28, 28), (2, 6, 28, 28), (2, 6, 28, 28), (2, 6, 14, 14),
    (2, 16, 10, 10), (2, 16, 10, 10), (2, 16, 10, 10), (2, 16, 5, 5),
    (2, 400), (2, 120), (2, 120), (2, 120), (2, 84), (2, 84), (2, 84), (2, 10)]

# %% [markdown]
# We train with Adam at learning rate 0.01, batches of 256 and 10 epochs, through `d2l.train_ch5`
# on the device `d2l.try_gpu()` picks, all three met in chapter 06. (Chapter 08 trains LeNet with
# the same settings, with biases and Xavier initialization but no batch norm, so that its curves
# can be set beside these.) We keep PyTorch's default initialization. For the four layers followed
# by batch norm the initial scale does not matter in training mode: batch norm undoes the scale of
# the weights before it, so multiplying a layer's weights by any positive factor leaves the net's
# output unchanged (up to the tiny $\epsilon$). We check that for the first convolution, scaled by
# 10. The output layer has no batch norm after it, so its scale does matter (the second check).
# There PyTorch's default draws the weights and bias uniformly from $\pm 1/\sqrt{84} = \pm 0.11$,
# a standard deviation of $1/\sqrt{3\cdot 84} = 0.063$; its inputs, ReLUs of standardized
# values, have a second moment of about $1/2$, so the initial class scores have a variance of
# about $84 \cdot 0.5/252 + 1/252 = 0.17$. Scores that small give nearly uniform probabilities, and
# the untrained net's loss starts close to $\log 10 = 2.30$, that of a uniform guess: we check that
# on a training batch before training starts.
# `d2l.batch_loss(net, X, y, train_mode=True)` computes that loss in training mode, where each
# batch norm uses the batch's own statistics, on a copy of the net, so that the net's running
# statistics do not move (chapter 04 met it in its default, eval mode).

# %%
d2l.set_seed(0)
net = bn_lenet()
X_probe = torch.rand(8, 1, 28, 28)
with torch.no_grad():
    before = net(X_probe)
    net[0].weight.mul_(10)
    after = net(X_probe)
    torch.testing.assert_close(after, before, rtol=1e-3, atol=1e-4)  # conv1: scale undone
    net[-1].weight.mul_(10)
    assert not torch.allclose(net(X_probe), after, rtol=0.1)          # output layer: not undone

# %%
batch_size, lr, num_epochs = 256, 1e-2, 10
device = d2l.try_gpu()
train_iter, test_iter = d2l.load_data_fashion_mnist(batch_size=batch_size)
with torch.random.fork_rng():  # draw without moving the random state the training will use
    X_fixed, y_fixed = next(iter(train_iter))

# %%
d2l.set_seed(0)
net = bn_lenet()
loss_before = d2l.batch_loss(net, X_fixed, y_fixed, train_mode=True)
print(f"loss on a training batch before training: {loss_before:.3f} (log 10 = {math.log(10):.3f})")
assert abs(loss_before - math.log(10)) < 0.15
optimizer = torch.optim.Adam(net.parameters(), lr=lr)
history = d2l.train_ch5(net, train_iter, test_iter, batch_size, optimizer, device, num_epochs)

# %%
# training did something: the loss on the batch drawn before training fell (nothing has changed
# only when the run was stopped before its first step)
loss_after = d2l.batch_loss(net, X_fixed, y_fixed, train_mode=True)
print(f"loss on that batch after {history.steps} steps: {loss_after:.3f}")
assert history.steps == 0 or loss_after < loss_before
d2l.check_accuracy(history, 0.87, quick=0.81);

# %% [markdown]
# ### What the network learned, and a last check
#
# The first batch-norm layer learned one $\gamma$ and one $\beta$ per channel, and collected
# running statistics during training. Copy the trained state into a BN-LeNet built from **our**
# `BatchNorm` layers (the names match PyTorch's; only PyTorch's batch counter
# `num_batches_tracked` has no counterpart): in evaluation mode both must classify the test
# images identically.

# %%
first_bn = net[1]
print("gamma:", first_bn.weight.data.cpu().numpy().round(2))
print("beta: ", first_bn.bias.data.cpu().numpy().round(2))
print("running mean:", first_bn.running_mean.cpu().numpy().round(2))

ours = bn_lenet(norm2d=BatchNorm, norm1d=BatchNorm).to(device)
missing, unexpected = ours.load_state_dict(net.state_dict(), strict=False)
assert not missing and all(key.endswith("num_batches_tracked") for key in unexpected)
net.eval(), ours.eval()
X_test, _ = next(iter(test_iter))
with torch.no_grad():
    torch.testing.assert_close(ours(X_test.to(device)), net(X_test.to(device)))
assert d2l.evaluate_accuracy(test_iter, ours) == d2l.evaluate_accuracy(test_iter, net)

# %% [markdown]
# ### A large learning rate, with and without batch norm
#
# One claim of the original paper is that batch norm allows much larger learning rates. A test
# that changes one thing: the same net from the same initial weights, once with its batch-norm
# layers and once with `nn.Identity` in their place, trained with plain SGD at learning rate 1.0
# for 3 epochs: each step moves the weights by the learning rate times the current minibatch's
# gradient and nothing else (no momentum, the running average of past gradients that chapter 09
# adds and chapter 15 derives). Both keep the bias-free layers, so the batch-norm layers are the
# only difference; with the same seed both nets draw the same initial weights, since batch-norm
# layers draw no random numbers (checked below).
#
# Why should batch norm help at such a rate? First, what enters each activation stays
# standardized (then scaled by the learned $\gamma$ and shifted by $\beta$) however far one step
# moves the weights before it, so a large step cannot blow up the activations of the layers after
# it. Second, a subtler effect that we can check exactly. In training mode the output does not
# change (up to $\epsilon$) when the weights $\mathbf{w}$ of a layer before a batch norm are
# multiplied by $c > 0$ (checked above for the first convolution), so the loss satisfies
# $\ell(c\mathbf{w}) = \ell(\mathbf{w})$. Differentiating in $c$ at $c = 1$ gives
# $\mathbf{w}^\top \nabla\ell(\mathbf{w}) = 0$: the gradient $\mathbf{g}$ is orthogonal to
# $\mathbf{w}$, and an SGD step makes $\mathbf{w}$ longer,
# $\|\mathbf{w} - \eta\mathbf{g}\|^2 = \|\mathbf{w}\|^2 + \eta^2\|\mathbf{g}\|^2$. Differentiating
# $\ell(c\mathbf{w}) = \ell(\mathbf{w})$ in $\mathbf{w}$ instead gives
# $\nabla\ell(c\mathbf{w}) = \nabla\ell(\mathbf{w})/c$: longer weights get smaller gradients. So the
# larger the steps, the faster $\mathbf{w}$ grows, and the smaller the later steps become
# compared with $\mathbf{w}$; Ioffe and Szegedy (section 3.3) noted that batch norm stabilizes
# the growth of the weights this way, and Arora, Li and Lyu (2019) analyse it as an automatic
# tuning of the learning rate. A net without batch norm has no such brake.

# %%
def layer_weights(net):
    """The weight tensors of the convolutions and dense layers of `net`, in order."""
    return [m.weight for m in net if isinstance(m, (nn.Conv2d, nn.Linear))]


big_lr, big_epochs = 1.0, 3
variants = {"with batch norm": {},
            "without batch norm": dict(norm2d=nn.Identity, norm1d=nn.Identity)}
big_nets, big_histories, big_start = {}, {}, {}
for name, swap in variants.items():
    d2l.set_seed(0)  # the same initial weights and the same order of minibatches for both nets
    big_nets[name] = bn_lenet(**swap)
    big_start[name] = [w.detach().clone() for w in layer_weights(big_nets[name])]
    if len(big_start) == 2:  # the two nets start from identical weights
        assert all(torch.equal(a, b) for a, b in zip(*big_start.values()))
    print(name)
    optimizer = torch.optim.SGD(big_nets[name].parameters(), lr=big_lr)
    big_histories[name] = d2l.train_ch5(big_nets[name], train_iter, test_iter, batch_size,
                                        optimizer, device, big_epochs)
    if big_histories[name].interrupted:
        break

# %%
for name, big_history in big_histories.items():
    print(f"{name:<19} training loss of each epoch:",
          [round(loss, 3) for loss in big_history["train_loss"]],
          " test accuracy after it:", [round(acc, 3) for acc in big_history["test_acc"]])
# the brake, measured: every weight tensor that feeds a batch norm has grown longer
bn_history = big_histories["with batch norm"]
growth = [w.norm().item() / w0.norm().item() for w, w0 in
          zip(layer_weights(big_nets["with batch norm"]), big_start["with batch norm"])]
print("with batch norm, weight norm now / at the start, conv1 ... output:",
      [f"{g:.2f}" for g in growth])
assert bn_history.steps == 0 or all(g > 1 for g in growth[:4])

# %% [markdown]
# The four weight tensors that feed a batch norm have grown, as the argument above says they
# must; the output layer feeds none, and nothing forces its length either way. In the smoke
# profile each net takes a single step, which shows nothing more. With all the data (full
# profile, seed 0) both nets learn at this rate, but not equally fast. `python
# benchmarks/full_results.py notebooks/07_batch_norm.ipynb` ran it on two development machines
# with two cores each: an AMD EPYC in float32 with channels-last (2026-12-08) and an Intel Xeon on
# the bf16 fast path (2026-12-04; the README's full-profile table has that run). The training loss
# of the first epoch is 0.532 and 0.526 with batch norm, 1.415 and 1.484 without; of the third,
# 0.285 and 0.287 with, 0.438 and 0.484 without; the test accuracy after three epochs is 0.867 and
# 0.868 with batch norm, 0.818 and 0.836 without. After the first epoch, the quick profile's only
# one, the machines differ far more: 0.713 and 0.831 with batch norm, 0.706 and 0.610 without.
# That is far beyond the at most 0.014 by which the README's runs that set floors differ between
# the two machines. At this learning rate the test accuracy still jumps from epoch to epoch (by
# 0.151 from the second epoch to the third on the AMD EPYC, with batch norm), so the small
# rounding differences between the machines' kernels and float formats can move a one-epoch
# result a long way; these two runs set no floor. The net without batch norm is
# also less safe at this rate: on a shorter run with fewer images (the reference results of
# exercise 5) it ended at chance level. One oddity for exercise 5 to explain: on both machines
# the test accuracy of the net with batch norm hardly moved or even fell from the first epoch to
# the second (0.713 then 0.716; 0.831 then 0.822) while its training loss fell (0.532 to 0.327;
# 0.526 to 0.328).

# %% [markdown]
# ## 6. Layer, instance and group normalization
#
# Batch norm needs a batch: with tiny batches (large images, detection models) its statistics
# are noisy, and training and evaluation differ. A batch of one is the extreme case. In training
# mode `nn.BatchNorm1d` refuses a single example of shape $(1, D)$, since each feature then has
# one value and no variance; `nn.BatchNorm2d` accepts a single image $(1, C, H, W)$ (with more
# than one pixel), but then averages each channel over the positions of that one image, which is
# instance normalization below, not batch statistics (we check both at the end). Its
# relatives use the same standardize-then-scale recipe but average over axes *inside one
# example*, so they behave identically in training and evaluation and work for a batch of one.
# For $\mathbf{X}$ of shape $(N, C, H, W)$, each computes a mean and a variance over one set of
# values:
#
# | method | one set of statistics for each | averaged over | $\gamma,\beta$ shape |
# |---|---|---|---|
# | batch norm | channel $c$ | $N, H, W$ | $C$ |
# | layer norm (Ba et al., 2016) | example $n$ | $C, H, W$ | $C\times H\times W$ (PyTorch's `LayerNorm`) |
# | instance norm (Ulyanov et al., 2016) | example $n$ and channel $c$ | $H, W$ | $C$ |
# | group norm (Wu & He, 2018) | example $n$ and group of $C/G$ channels | $C/G, H, W$ | $C$ |
#
# ![The four normalizations on an (N, C, H, W) tensor: shaded cells share one mean and variance](../Pics/07_norm_axes.svg)
#
# Layer norm was introduced for recurrent networks and is the usual choice in transformers;
# instance norm was introduced for style transfer, where each image's own contrast should be
# removed; group norm for vision models that can only afford small batches, such as detectors.
# All four reduce to one helper that standardizes over given axes.

# %%
def standardize(X, dims, eps=1e-5):
    mean = X.mean(dim=dims, keepdim=True)
    var = X.var(dim=dims, keepdim=True, correction=0)
    return (X - mean) / torch.sqrt(var + eps)


def per_channel(v):
    return v.reshape(1, -1, 1, 1)


def layer_norm(X, gamma, beta):            # gamma, beta: (C, H, W)
    return standardize(X, (1, 2, 3)) * gamma + beta


def instance_norm(X, gamma, beta):         # gamma, beta: (C,)
    return standardize(X, (2, 3)) * per_channel(gamma) + per_channel(beta)


def group_norm(X, num_groups, gamma, beta):  # gamma, beta: (C,)
    N, C, H, W = X.shape
    grouped = X.reshape(N, num_groups, C // num_groups, H, W)
    X_hat = standardize(grouped, (2, 3, 4)).reshape(N, C, H, W)
    return X_hat * per_channel(gamma) + per_channel(beta)


# %% [markdown]
# Each against PyTorch's layer, with random affine parameters (PyTorch's `InstanceNorm2d` has
# none unless asked with `affine=True`):

# %%
d2l.set_seed(0)
N, C, H, W, G = 4, 6, 5, 5, 3
X = 2 * torch.randn(N, C, H, W) + 1


def randomized(layer):
    with torch.no_grad():
        layer.weight.copy_(torch.randn_like(layer.weight))
        layer.bias.copy_(torch.randn_like(layer.bias))
    return layer


ln = randomized(nn.LayerNorm([C, H, W]))
inorm = randomized(nn.InstanceNorm2d(C, affine=True))
gn = randomized(nn.GroupNorm(G, C))
with torch.no_grad():
    torch.testing.assert_close(layer_norm(X, ln.weight, ln.bias), ln(X))
    torch.testing.assert_close(instance_norm(X, inorm.weight, inorm.bias), inorm(X))
    torch.testing.assert_close(group_norm(X, G, gn.weight, gn.bias), gn(X))
print("scratch layer, instance and group norm match nn.LayerNorm, nn.InstanceNorm2d, nn.GroupNorm")

# %% [markdown]
# Group norm sits between the other two: with one group it averages over every channel, as layer
# norm does; with one channel per group it averages over a single map, as instance norm does.
# And unlike batch norm, none of them lets one example's output depend on the others in the
# batch.

# %%
ones, zeros = torch.ones(C), torch.zeros(C)
torch.testing.assert_close(group_norm(X, 1, ones, zeros), standardize(X, (1, 2, 3)))
torch.testing.assert_close(group_norm(X, C, ones, zeros), instance_norm(X, ones, zeros))

X_swapped = torch.cat([X[:1], torch.randn(N - 1, C, H, W)])  # same first example
for name, norm in [("layer", lambda Z: standardize(Z, (1, 2, 3))),
                   ("instance", lambda Z: standardize(Z, (2, 3))),
                   ("group", lambda Z: group_norm(Z, G, ones, zeros))]:
    torch.testing.assert_close(norm(X)[0], norm(X_swapped)[0])
batch_stats = lambda Z: standardize(Z, (0, 2, 3))  # batch norm, training mode
assert not torch.allclose(batch_stats(X)[0], batch_stats(X_swapped)[0])

# %% [markdown]
# Last, the batch of one. `nn.BatchNorm2d` in training mode, given a single image, standardizes
# each channel over that image's $H\times W$ positions: exactly instance norm. `nn.BatchNorm1d`,
# given a single example of a dense layer, raises an error.

# %%
single = nn.BatchNorm2d(C).train()
with torch.no_grad():
    torch.testing.assert_close(single(X[:1]), standardize(X[:1], (2, 3)))  # = instance norm
try:
    nn.BatchNorm1d(C).train()(torch.arange(C, dtype=torch.float32).reshape(1, C))
except ValueError as err:
    print("nn.BatchNorm1d, one example in training mode:", err)
else:
    raise AssertionError("nn.BatchNorm1d accepted a batch of one in training mode")

# %% [markdown]
# ## Summary
#
# * Batch norm standardizes each feature (dense layers) or each channel (convolutions) with the
#   minibatch's mean and variance, then rescales with learned $\gamma$ and $\beta$.
# * In training it uses batch statistics and updates running estimates
#   ($\hat\mu \leftarrow 0.9\,\hat\mu + 0.1\,\mu_\mathcal{B}$ in PyTorch, the variance estimate
#   unbiased); in evaluation it uses the running estimates, so predictions do not depend on the
#   batch. Calling `net.eval()` before predicting is essential.
# * It keeps activations on a steady scale at every depth (section 1). Its authors report that
#   it allows larger learning rates and makes training less sensitive to the initialization;
#   section 5 set the same net with and without it side by side at a large learning rate. Of the
#   later CNNs of this course, ResNet (chapter 13) and DenseNet (chapter 14) put a batch-norm
#   layer next to every convolution.
# * Layer, instance and group norm standardize within each example, over $(C,H,W)$, $(H,W)$
#   and $(C/G,H,W)$ respectively; they need no running statistics and work for any batch size.
#
# ## Exercises
#
# The first three are checked: replace the stub, run the cell, and the check tells you which case
# fails and why.
#
# **1. Sequences.** `nn.BatchNorm1d` also accepts input of shape $(N, C, L)$, a batch of $N$
# sequences of length $L$ with $C$ channels, such as the output of a 1-D convolution. Every
# position of a channel was made by the same filter, so the channel shares one mean and one
# variance. Write `batch_norm_sequence(X, gamma, beta, eps)`, batch norm in training mode for
# such input (no running statistics).

# %% tags=["exercise"]
def batch_norm_sequence(X, gamma, beta, eps):
    # your code here
    raise NotImplementedError


d2l.exercises.check_batch_norm_sequence(batch_norm_sequence)

# %% [markdown]
# **2. Batch norm at inference is affine.** In evaluation mode a batch-norm layer only applies
# fixed per-feature scales and shifts, so it can be merged into the dense layer before it, which
# saves work when the model is deployed. Write `fold_batch_norm(weight, bias, bn)`: given the
# weight and bias of an `nn.Linear` and the `nn.BatchNorm1d` that follows it, return the weight
# and bias of one dense layer that computes `bn(linear(x))` in evaluation mode. Read $\gamma$,
# $\beta$, the running statistics and $\epsilon$ off `bn`.

# %% tags=["exercise"]
def fold_batch_norm(weight, bias, bn):
    # your code here
    raise NotImplementedError


d2l.exercises.check_fold_batch_norm(fold_batch_norm)

# %% [markdown]
# **3. How fast the running statistics arrive.** A freshly built batch-norm layer starts from
# $\hat\mu = 0$, $\hat\sigma^2 = 1$. Write `running_stats_after(X, k, momentum)`: the running
# mean and variance of a new `nn.BatchNorm1d(X.shape[1], momentum=momentum)` after it has seen
# the batch `X` (shape $(N, D)$) $k$ times in training mode. Then use it to answer: with
# PyTorch's momentum of 0.1, how many batches does it take until the running mean has covered
# 90 % of the way to the batch mean? What does that mean for a network evaluated after only a
# few training steps?

# %% tags=["exercise"]
def running_stats_after(X, k, momentum):
    # your code here
    raise NotImplementedError


d2l.exercises.check_running_stats_after(running_stats_after)

# %% [markdown]
# The remaining exercises are open questions.
#
# 4. Train `bn_lenet(nn.Sigmoid, nn.AvgPool2d)` and the same net without normalization,
#    `bn_lenet(nn.Sigmoid, nn.AvgPool2d, nn.Identity, nn.Identity)`, from the same seed. Does
#    batch norm remove the sigmoid net's slow start? Then put batch norm *after* the activation
#    instead of before it. Does it still train?
# 5. Repeat the comparison of section 5 (SGD at learning rate 1.0, with and without batch norm)
#    on a shorter run: 10 000 training images for 3 epochs, scored on a validation split of the
#    training images (`d2l.read_fashion_mnist`, `d2l.balanced_subset` and `d2l.InMemoryLoader`
#    build both). Does the net without batch norm still learn? Watch how much the validation
#    accuracy of the BN-LeNet jumps from epoch to epoch, and explain it with the running
#    statistics: compare its accuracy in evaluation mode with its accuracy in training mode.
# 6. Keep a trained BN-LeNet in training mode while you evaluate it on batches of 2 images.
#    What happens to the accuracy, and why?
# 7. Replace `nn.BatchNorm2d` by `nn.GroupNorm(2, channels)` in the convolutional part and
#    `nn.BatchNorm1d` by `nn.LayerNorm` in the dense part. How does the accuracy compare? How
#    does the comparison change if you train with a batch size of 8?
# 8. Show from the formulas that $\partial \ell / \partial \beta_j = \sum_i \partial \ell /
#    \partial y_{ij}$, and that the gradient with respect to the input sums to zero over the
#    batch. Check both with autograd on `batch_norm`.
#
# <details><summary>Reference results for exercises 4 to 7</summary>
#
# Measured with `OMP_NUM_THREADS=1 python benchmarks/exercise_refs/07_batch_norm.py` on a
# 2-core x86_64 CPU, torch 2.14.1. To keep the run short, every net trains for only 3 epochs
# (120 steps of batch 256) on 10 000 training images (1 000 per class) and is scored on 5 000
# validation images held out from the training file; otherwise the chapter's settings (Adam,
# learning rate 0.01, PyTorch's default initialization).
#
# *Exercise 4* (sigmoid, average pooling, validation accuracy):
#
# | net | seed 0 | seed 1 |
# |---|---|---|
# | no normalization (`nn.Identity`) | 0.618 | 0.100 |
# | batch norm before the sigmoid | 0.755 | 0.708 |
# | batch norm after the sigmoid | 0.794 | 0.791 |
#
# Without normalization seed 1 is still on its plateau after 120 steps, at chance level (0.100).
# With batch norm neither seed is stuck, and both placements train, well ahead of the net
# without it.
#
# *Exercise 5* (SGD at learning rate 1.0, seed 0, validation accuracy after each epoch):
#
# | net | epoch 1 | epoch 2 | epoch 3 |
# |---|---|---|---|
# | BN-LeNet | 0.586 | 0.300 | 0.589 |
# | the same net without batch norm | 0.172 | 0.262 | 0.100 |
#
# On this short run, without batch norm this rate does not train the net (on all the data, in
# section 5, it does); with batch norm the net learns, but its validation accuracy jumps by
# almost 0.3 between epochs.
#
# *Exercise 6* (BN-LeNet, ReLU and max pooling, seed 0, one trained net evaluated three ways):
#
# | evaluation | val acc |
# |---|---|
# | evaluation mode (running statistics) | 0.849 |
# | training mode, batches of 2 | 0.453 |
# | training mode, batches of 256 | 0.858 |
#
# *Exercise 7* (seed 0; the batch-8 runs train for 1 epoch, 1 250 steps, with Adam at learning
# rate 0.001):
#
# | normalization | batch 256, 3 epochs | batch 8, 1 epoch |
# |---|---|---|
# | batch norm | 0.849 | 0.840 |
# | group norm (2 groups) + layer norm | 0.833 | 0.814 |
#
# On this run batch norm stays ahead at batch 8 too. There is one seed per cell, and in the
# two-seed tables of chapters 06 and 08 a second seed moved the accuracy of a ReLU net by up to
# 0.014, so differences of a point or two here are not conclusive.
#
# </details>
