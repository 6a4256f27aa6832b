# %% [markdown]
# # 13 · ResNet: learning what to add to the identity
#
# By 2015 networks had become deep enough that a surprising thing happened: adding layers to a
# working network made its *training* error go up (He et al., 2016, saw this for plain networks
# of 20 and 56 layers on CIFAR-10, and of 18 and 34 layers on ImageNet). Overfitting cannot
# explain that; the deeper network failed to find a solution at least as good as the shallower
# one, even though one exists (copy the shallow net and make the extra layers the identity).
# He et al. addressed this with one change: let every block compute a *correction* that is added
# to its input. In this chapter you will
#
# * write the residual block, with an identity shortcut and with a 1×1 projection shortcut;
# * measure that batch norm's scale $\gamma$, not small convolution weights, is what switches a
#   block's branch off, and check that a switched-off block is the identity (plus ReLU),
#   gradient included;
# * see numerically why a convolution that feeds batch normalization needs no bias;
# * build ResNet-18 for Fashion-MNIST, walk a 96×96 image through it, check it against
#   torchvision's ResNet-18, and train it with `d2l.train_ch5`;
# * build the bottleneck block and ResNet-50 and ResNet-152 from scratch, with Kaiming
#   initialization, and check them parameter for parameter against `torchvision.models`.

# %%
import torch
from torch import nn
import d2lmini as d2l

d2l.set_seed(0)
print(d2l.profile_summary())

# %% [markdown]
# ## 1. The idea: residual learning
#
# Call $\mathcal{F}$ the set of functions a network architecture can represent. Making the network
# bigger can only help for sure if the new function class *contains* the old one,
# $\mathcal{F} \subseteq \mathcal{F}'$: then the best function in the new class is at least as
# close to the truth as the best one in the old class. A deeper plain network does contain the
# shallower one, but only through extra layers that compute the identity map
# $f(\mathbf{x}) = \mathbf{x}$, and the training errors above show that the optimizer did not find
# such a solution. He et al.'s hypothesis: several nonlinear layers find the identity hard to
# approximate, so make it the default instead.
#
# A **residual block** builds the identity in. Its layers compute a residual $g(\mathbf{x})$ and
# the block outputs
#
# $$f(\mathbf{x}) = \operatorname{ReLU}\big(\mathbf{x} + g(\mathbf{x})\big).$$
#
# If the identity is what the data want, the branch has to output $g(\mathbf{x}) = 0$. Small
# convolution weights do *not* achieve that here, because ResNet's branch ends in batch
# normalization: in training mode BN divides each channel by its batch standard deviation, which
# shrinks by the same factor as the weights, so the branch output keeps its size. The lever is
# BN's own learned scale $\gamma$ and shift $\beta$: with $\gamma = \beta = 0$ the branch outputs
# exactly zero, whatever its convolutions hold. Section 2 measures both.
#
# The shortcut also changes the gradient. Write $\mathbf{u} = \mathbf{x} + g(\mathbf{x})$ for the
# value the final ReLU receives. By the chain rule
#
# $$\frac{\partial f}{\partial \mathbf{x}} = \operatorname{diag}\big(\operatorname{ReLU}'(\mathbf{u})\big)
# \Big(I + \frac{\partial g}{\partial \mathbf{x}}\Big).$$
#
# The identity term alone contributes $\operatorname{diag}(\operatorname{ReLU}'(\mathbf{u}))$: the
# gradient that arrives at the block's output reaches the block's input unchanged at every
# position where $u > 0$ and is zeroed where $u \le 0$, whatever $\partial g / \partial \mathbf{x}$
# is. That is what the identity path guarantees, and no more: the ReLU mask still applies, and
# the branch's term is added on top of the identity's (it can add to it or partly cancel it). In
# a plain stack, by contrast, the gradient has to pass through every layer's Jacobian.
#
# ## 2. The residual block
#
# ResNet's basic block is two 3×3 convolutions, each followed by batch normalization, with a ReLU
# between them; the input is added before the last ReLU (left in the figure). The addition needs
# $\mathbf{x}$ and $g(\mathbf{x})$ to have the same shape. When a block changes the number of
# channels, or halves the height and width with stride 2, the shortcut becomes a 1×1 convolution
# with the same stride, followed by batch normalization: a *projection* (middle). The right panel
# is the bottleneck block of section 6.
#
# ![Three residual blocks: identity shortcut, 1x1 projection shortcut, bottleneck](../Pics/13_residual_blocks.svg)
#
# The convolutions are created with `bias=False`; section 3 shows why that loses nothing.

# %%
class Residual(nn.Module):
    """ResNet's basic block: two 3x3 conv + BN layers and a shortcut that is the identity, or a
    1x1 conv + BN projection when `use_1x1conv` is set (needed when the shape changes)."""

    def __init__(self, in_channels, out_channels, use_1x1conv=False, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        if use_1x1conv:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False),
                nn.BatchNorm2d(out_channels))
        else:
            self.shortcut = nn.Identity()

    def residual(self, x):
        """The branch g(x) that the block learns."""
        return self.bn2(self.conv2(torch.relu(self.bn1(self.conv1(x)))))

    def forward(self, x):
        return torch.relu(self.shortcut(x) + self.residual(x))


# %% [markdown]
# An identity block keeps the shape; a projection block with stride 2 may change the channels
# and halves height and width. Without the projection, a block that changes the shape cannot add
# its input at all:

# %%
X = torch.randn(4, 3, 6, 6)
same = Residual(3, 3)
down = Residual(3, 6, use_1x1conv=True, stride=2)
print("identity block:  ", tuple(same(X).shape))
print("projection block:", tuple(down(X).shape))
assert same(X).shape == (4, 3, 6, 6)
assert down(X).shape == (4, 6, 3, 3)
try:
    Residual(3, 6, stride=2)(X)
    raise AssertionError("a shape-changing block without a projection should fail")
except RuntimeError as err:
    print("without a projection:", str(err).splitlines()[0])

# %% [markdown]
# ### What switches the branch off: small weights or $\gamma$?
#
# Section 1 claimed that shrinking the convolution weights does not shrink the branch, because its
# last batch norm rescales whatever it receives. Let us measure the mean square of the branch
# output $g(\mathbf{x})$ on one batch, in training mode (as during training): for a fresh block,
# after scaling the weights of both its convolutions by 0.1, and after setting the last batch
# norm's $\gamma$ to 0 as well.

# %%
probe = Residual(8, 8)  # a fresh block, in training mode
X = torch.randn(16, 8, 6, 6)


def branch_mean_square(block, X):
    """Mean square of the residual branch g(X)."""
    with torch.no_grad():
        return (block.residual(X) ** 2).mean().item()


def without_last_bn_mean_square(block, X):
    """Mean square of the branch with its last batch norm left out: conv2(relu(bn1(conv1(X))))."""
    with torch.no_grad():
        return (block.conv2(torch.relu(block.bn1(block.conv1(X)))) ** 2).mean().item()


fresh_ms, fresh_no_bn2_ms = branch_mean_square(probe, X), without_last_bn_mean_square(probe, X)
with torch.no_grad():
    probe.conv1.weight.mul_(0.1)
    probe.conv2.weight.mul_(0.1)
small_weights_ms = branch_mean_square(probe, X)
small_no_bn2_ms = without_last_bn_mean_square(probe, X)
nn.init.zeros_(probe.bn2.weight)
zero_gamma_ms = branch_mean_square(probe, X)
print(f"mean square of g(x): fresh block {fresh_ms:.4f}, conv weights x 0.1: {small_weights_ms:.4f}, "
      f"last gamma = 0: {zero_gamma_ms}")
print(f"without the last batch norm: fresh {fresh_no_bn2_ms:.4f}, conv weights x 0.1: "
      f"{small_no_bn2_ms:.6f} ({fresh_no_bn2_ms / small_no_bn2_ms:.0f} times smaller)")
assert abs(fresh_ms - 1) < 0.01  # BN output: mean 0 and variance 1 per channel (gamma 1, beta 0)
assert small_weights_ms > 0.95 * fresh_ms  # batch norm undid the tenfold shrinking
assert abs(small_no_bn2_ms / fresh_no_bn2_ms / 0.01 - 1) < 0.05  # without it: a hundredfold fall
assert zero_gamma_ms == 0.0

# %% [markdown]
# Ten times smaller weights make the convolution's output, its batch mean and its batch standard
# deviation ten times smaller, and BN's division cancels the factor: the mean square stays close
# to 1. (The slight drop comes from BN's $\epsilon = 10^{-5}$, added to the variance in the
# denominator: only weights so small that the variance of the convolution's output approaches
# $\epsilon$ would really shrink $g$.) Without a batch norm at the end of the branch the second
# assertion would fail: `bn1` still undoes the factor of `conv1`, but the factor 0.1 of `conv2`
# reaches the output, and the mean square falls a hundredfold ($0.1^2$), as the second line
# printed shows for the branch with its last batch norm left out. Setting $\gamma = 0$
# instead makes $g$ exactly zero: the branch computes $0 \cdot \hat{\mathbf{z}} + \beta$ with
# $\beta = 0$.
#
# ### A block that starts as the identity
#
# With the last $\gamma$ at 0 the block computes
# $\operatorname{ReLU}(\mathbf{x} + 0) = \operatorname{ReLU}(\mathbf{x})$, and, by the chain rule
# of section 1, its gradient with respect to $\mathbf{x}$ is the ReLU mask alone: 1 wherever
# $x > 0$ and 0 elsewhere. Goyal et al. (2017) started their ResNets this way; torchvision offers
# it as `zero_init_residual=True`. These checks would fail if the shortcut were missing (the output
# would be all zeros) or wired to the wrong place.

# %%
nn.init.zeros_(same.bn2.weight)
X = torch.randn(4, 3, 6, 6, requires_grad=True)
Y = same(X)
torch.testing.assert_close(Y, torch.relu(X))
Y.sum().backward()
torch.testing.assert_close(X.grad, (X > 0).float())
print("zero-gamma identity block: output = relu(x), d output / dx = 1 where x > 0")

# %% [markdown]
# With a projection shortcut, the same trick leaves only the shortcut:
# $\operatorname{ReLU}(\mathrm{BN}(\mathrm{conv}_{1\times 1}(\mathbf{x})))$. And with the residual
# branch active again, the block must equal the formula $\operatorname{ReLU}(\text{shortcut}(\mathbf{x}) + g(\mathbf{x}))$
# written out by hand (in eval mode, so batch norm uses fixed statistics and every call agrees).

# %%
nn.init.zeros_(down.bn2.weight)
X = torch.randn(4, 3, 6, 6)
torch.testing.assert_close(down(X), torch.relu(down.shortcut(X)))

nn.init.ones_(down.bn2.weight)
down.eval()
by_hand = torch.relu(down.shortcut[1](down.shortcut[0](X))
                     + down.bn2(down.conv2(torch.relu(down.bn1(down.conv1(X))))))
torch.testing.assert_close(down(X), by_hand)
assert not torch.allclose(down(X), torch.relu(down.shortcut(X)))  # the branch now contributes

# %% [markdown]
# ## 3. Why the convolutions have no bias
#
# In training mode, batch normalization subtracts each channel's mean over the batch and the
# spatial positions. A convolution bias adds the same constant $b_c$ to every value of channel
# $c$, so it also adds $b_c$ to that channel's mean, and the subtraction removes it again:
#
# $$\mathrm{BN}(\mathbf{z} + b_c) = \gamma\,\frac{(\mathbf{z} + b_c) - (\mu_c + b_c)}{\sqrt{\sigma_c^2 + \epsilon}} + \beta
# = \gamma\,\frac{\mathbf{z} - \mu_c}{\sqrt{\sigma_c^2 + \epsilon}} + \beta = \mathrm{BN}(\mathbf{z}).$$
#
# (The variance does not change under a shift either.) The bias is a parameter that cannot affect
# the output, so its gradient is zero and it never learns anything; BN's own $\beta$ already plays
# its role. Let us see both facts: two convolutions with the same weights, one with a large
# random bias, give the same output after batch norm, and the bias receives no gradient.

# %%
conv_b = nn.Conv2d(3, 8, 3, padding=1, bias=True)
conv_nob = nn.Conv2d(3, 8, 3, padding=1, bias=False)
with torch.no_grad():
    conv_nob.weight.copy_(conv_b.weight)
    conv_b.bias.uniform_(-5, 5)
bn = nn.BatchNorm2d(8)  # a fresh module in training mode: it uses the batch statistics
X = torch.randn(16, 3, 10, 10)
with_bias, without_bias = bn(conv_b(X)), bn(conv_nob(X))
torch.testing.assert_close(with_bias, without_bias, atol=1e-4, rtol=1e-4)
assert not torch.allclose(conv_b(X), conv_nob(X))  # before BN the bias does make a difference

(with_bias * torch.randn_like(with_bias)).sum().backward()
print("largest |gradient| of the bias:", conv_b.bias.grad.abs().max().item())
print("largest |gradient| of a weight:", conv_b.weight.grad.abs().max().item())
assert conv_b.bias.grad.abs().max() < 1e-4 * conv_b.weight.grad.abs().max()

# %% [markdown]
# The bias gradient is zero up to rounding, while the weights get ordinary gradients. In eval mode
# BN subtracts its *running* mean, which was accumulated with the bias in it, so the bias cancels
# there too once training has run. This is why every convolution placed right before a batch norm
# in ResNet (ours and torchvision's) is built with `bias=False`.
#
# ## 4. ResNet-18 for Fashion-MNIST
#
# ResNet-18 has a *stem* (a 7×7 convolution with stride 2 and a 3×3 max pooling with stride 2,
# which shrink a 96×96 image to 24×24), then four *stages* of two residual blocks each with
# 64, 128, 256 and 512 channels. Every stage after the first opens with a stride-2 projection
# block, halving height and width while doubling the channels. A global average pooling and one
# dense layer make the 10 class scores. Counting the stem convolution, the 16 convolutions of the
# blocks and the dense layer gives the 18 weight layers of its name (the 1×1 projections are not
# counted).
#
# ![ResNet-18 for 96x96 Fashion-MNIST: stem, four stages of two residual blocks, pooling and a dense layer](../Pics/13_resnet18.svg)
#
# Our images have one channel and ten classes; `in_channels` and `num_classes` are arguments, so
# `resnet18(in_channels=3)` is the network for 3-channel colour images such as CIFAR-10's.
#
# **Initialization.** `resnet18` sets no initialization of its own: every layer keeps PyTorch's
# default, convolution and dense weights drawn uniformly with variance $1/(3 n_\text{in})$ and
# batch norms starting at $\gamma = 1$, $\beta = 0$; torchvision initializes the same
# convolutions with Kaiming's rule instead, as section 6 does. Unlike GoogLeNet's in chapter 12,
# this network's *output* does not depend on the scale of these convolution weights in training
# mode. Its training does: the cell after the code measures both.

# %%
from collections import OrderedDict


def resnet_stage(in_channels, out_channels, num_blocks, downsample=True):
    """`num_blocks` basic blocks; the first halves height and width (with a projection) unless
    `downsample` is False."""
    blocks = [Residual(in_channels, out_channels, use_1x1conv=downsample,
                       stride=2 if downsample else 1)]
    blocks += [Residual(out_channels, out_channels) for _ in range(num_blocks - 1)]
    return nn.Sequential(*blocks)


def resnet18(in_channels=1, num_classes=10):
    """ResNet-18 for `in_channels`-channel images and `num_classes` classes."""
    return nn.Sequential(OrderedDict([
        ("stem", nn.Sequential(
            nn.Conv2d(in_channels, 64, kernel_size=7, stride=2, padding=3, bias=False),
            nn.BatchNorm2d(64), nn.ReLU(),
            nn.MaxPool2d(kernel_size=3, stride=2, padding=1))),
        ("stage1", resnet_stage(64, 64, 2, downsample=False)),
        ("stage2", resnet_stage(64, 128, 2)),
        ("stage3", resnet_stage(128, 256, 2)),
        ("stage4", resnet_stage(256, 512, 2)),
        ("pool", d2l.GlobalAvgPool2d()),
        ("flatten", d2l.FlattenLayer()),
        ("fc", nn.Linear(512, num_classes)),
    ]))


net = resnet18()

# %% [markdown]
# ### Forward-invariant, not training-invariant
#
# Every convolution of ResNet-18 feeds a batch norm, which in training mode divides each channel
# by its batch standard deviation. Multiply a convolution's weights $W$ by $\alpha > 0$ and its
# output, that output's batch mean and its batch standard deviation all grow by $\alpha$, so the
# network computes the same function (up to BN's $\epsilon$, section 2): the loss is
# **forward-invariant**, $L(\alpha W) = L(W)$ for every $W$. Training is not. Differentiating that
# identity gives $\alpha\,\nabla L(\alpha W) = \nabla L(W)$: at the scaled weights the gradient is
# $1/\alpha$ times as large. An SGD step $-\eta\,\nabla L$ therefore moves the scaled weights
# $1/\alpha$ times as far while they are $\alpha$ times as large, so relative to their size the
# step is $1/\alpha^2$ times as large. The scale of the initialization acts like a learning rate:
# weights 10 times smaller take relative steps 100 times larger, as a 100 times larger learning
# rate would give the original weights. PyTorch's default draws these weights with a standard
# deviation $\sqrt 6$ times smaller than Kaiming's rule with the fan-in ($1/\sqrt{3n}$ against
# $\sqrt{2/n}$), so with the same $\eta$ its relative steps start 6 times larger. (Weight decay's
# part of the step, $\eta\lambda W$, is proportional to the weights and does not change with
# $\alpha$; and as training goes on the weights' size drifts, so this holds for the start.)
#
# We check the three facts on one batch, in training mode, on two copies of the net (so that
# `net`'s batch-norm statistics stay untouched), one of them with every convolution's weights
# multiplied by $\alpha = \sqrt 6$, which gives them the standard deviation of Kaiming's rule
# (keeping the default's uniform shape). The check fails on a net whose convolutions do not all
# feed a batch norm, such as chapter 12's GoogLeNet (`tests/test_trust_ch12_14.py`).

# %%
import copy
import math


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
# Predict each shape before reading it: the stem takes 96 to $\lfloor(96 + 6 - 7)/2\rfloor + 1 = 48$
# and the pooling to 24; each later stage halves it (24, 12, 6, 3) while doubling the channels.
# `d2l.layer_shapes` runs its walk in eval mode without gradients and then restores each
# module's mode, so the random probe image does not leak into batch norm's running statistics
# and the net stays in training mode. The 3-channel net below is called directly, so it is put
# in eval mode by hand: in training mode, batch norm cannot normalize the single value per
# channel that one image leaves after the last stage.

# %%
shapes = d2l.layer_shapes(net, torch.rand(1, 1, 96, 96))
assert [shape for _, shape in shapes] == [
    (1, 64, 24, 24), (1, 64, 24, 24), (1, 128, 12, 12), (1, 256, 6, 6), (1, 512, 3, 3),
    (1, 512, 1, 1), (1, 512), (1, 10)]
weight_layers = [name for name, m in net.named_modules()
                 if isinstance(m, (nn.Conv2d, nn.Linear)) and "shortcut" not in name]
assert len(weight_layers) == 18  # the stem conv, 16 block convs, the dense layer

colour = resnet18(in_channels=3)  # one argument changes for 3-channel images
try:  # in training mode, stage 4's batch norms get one value per channel from one 32x32 image
    colour(torch.zeros(1, 3, 32, 32))
    raise AssertionError("batch norm should refuse a single value per channel in training mode")
except ValueError:
    colour.eval()
assert colour(torch.rand(1, 3, 32, 32)).shape == (1, 10)
assert colour.stem[0].weight.shape == (64, 3, 7, 7)
del colour

# %% [markdown]
# ### Checked against torchvision
#
# torchvision's `resnet18` is the same network built for ImageNet (3 channels, 1000 classes).
# Ask it for 10 classes, give it a 1-channel stem, and it must have exactly our parameters. Its
# modules are registered in the same order as ours (stem, four stages of blocks with
# conv1, bn1, conv2, bn2 and the projection, then the dense layer), so we can copy its weights
# and running statistics into our net tensor by tensor, and the two must then compute the same
# function.

# %%
import torchvision

ref = torchvision.models.resnet18(weights=None, num_classes=10)
ref.conv1 = nn.Conv2d(1, 64, kernel_size=7, stride=2, padding=3, bias=False)


def copy_by_order(source, target):
    """Copy every parameter and buffer of `source` into `target`, matched by position."""
    src, dst = list(source.state_dict().values()), list(target.state_dict().values())
    assert len(src) == len(dst)
    with torch.no_grad():
        for s, d in zip(src, dst):
            assert s.shape == d.shape
            d.copy_(s)


print(f"ours: {d2l.num_params(net):,} parameters, torchvision: {d2l.num_params(ref):,}")
assert d2l.num_params(net) == d2l.num_params(ref) == 11_175_370

probe = resnet18().eval()
copy_by_order(ref, probe)
ref.eval()
X = torch.rand(2, 1, 64, 64)
torch.testing.assert_close(probe(X), ref(X))
del probe, ref

# %% [markdown]
# ## 5. Training
#
# On ImageNet, He et al. trained with SGD with momentum 0.9 and weight decay $10^{-4}$ on
# batches of 256, starting at a learning rate of 0.1 and dividing it by 10 whenever the error
# stopped falling. We keep SGD with momentum 0.9 but use batches of 128, a learning rate of 0.05
# and weight decay $5 \cdot 10^{-4}$, and we lower the learning rate smoothly with chapter 12's
# *cosine schedule* (the cosine annealing of Loshchilov and Hutter, SGDR, ICLR 2017, with one
# period and no restarts), which after $t$ of $T$ optimizer steps uses
#
# $$\eta_t = \frac{\eta_0}{2}\left(1 + \cos\frac{\pi t}{T}\right),$$
#
# falling from $\eta_0$ to 0 by the last step. Why lower it at all: with a constant rate the steps
# stay as large at the end as at the start, and since minibatch gradients are noisy they keep
# moving the weights around a minimum instead of into it; a falling rate keeps the large early
# steps and shrinks the late ones, so the run ends settled. (Chapter 15 treats learning-rate
# schedules in full.) `d2l.train_ch5` only calls `optimizer.step()`, so we attach the schedule to
# the optimizer itself: a *step hook* advances it after every step (`d2l.cosine_schedule`,
# introduced in chapter 12), and a second hook records the learning rate after every step.
#
# As in chapter 12, we keep 32 images of a training batch (the kept batch) and the untrained
# net's loss on them, to check after training that the loss on them fell. With batch norm the
# loss depends on the mode: we compute it in training mode, where each batch norm uses the
# batch's own statistics, on a copy of the net, so that the net's running statistics do not
# move. A training-mode loss says nothing about eval mode, though, in which batch norm
# normalizes with the running statistics that training accumulated (chapter 07) and in which the
# test accuracy is measured: if those were never updated (batch norms with momentum 0, say), the
# kept batch's loss would fall just the same. So we check the running statistics too, below.

# %%
lr, num_epochs, batch_size = 0.05, 10, 128
train_iter, test_iter = d2l.load_data_fashion_mnist(batch_size, resize=96)
optimizer = torch.optim.SGD(net.parameters(), lr=lr, momentum=0.9, weight_decay=5e-4)
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
# The curves above are drawn live while training. The checks:
#
# * **The kept batch**: training lowered its loss (in training mode).
# * **The running statistics** that eval mode uses were updated. After every training step each
#   batch norm moves its running mean and variance toward the batch's,
#   $\hat\mu \leftarrow (1 - m)\,\hat\mu + m\,\mu_\text{batch}$ with PyTorch's default momentum
#   $m = 0.1$, starting from mean 0 and variance 1. So after any step every batch norm's
#   statistics must have left those initial values; with momentum 0 they never do, and the check
#   fails (`tests/test_trust_ch12_14.py` shows it on this net, whose kept-batch loss in training
#   mode falls all the same). The test accuracy is measured in eval mode, and in the full and
#   quick profiles it must clear its floor too. After the smoke profile's 2 steps, though, the
#   running statistics hold only a share $1 - 0.9^2 = 0.19$ of the batches' statistics (the rest
#   is still the initial 0 and 1), so eval-mode results say little there; this check is the one
#   that holds in every profile.
# * **The schedule** advanced once per optimizer step (`schedule.last_epoch` equals
#   `history.steps`) and the learning rate after every step was the formula's $\eta_t$, as in
#   chapter 12: checking only the last value would pass a schedule that stepped twice per
#   optimizer step, since both end at 0.
# * **A finite loss** needs no check of ours: `d2l.train_ch5` raises `TrainingDiverged` at the end
#   of an epoch in which some batch's loss was NaN or infinite.
# * **The accuracy**: `d2l.check_accuracy` compares the final test accuracy with the floor
#   measured for the profile that runs (each floor sits a stated margin below an accuracy that
#   `benchmarks/full_results.py` measured in that profile; the README lists them). No run of this
#   chapter in the full profile has been measured yet, so there 93 % is printed as a target, not
#   checked. The target is the test accuracy that the classic Chinese PyTorch edition of *Dive
#   into Deep Learning* reports for ResNet-18 at 96×96 (its section 5.11: 0.926 after five epochs
#   of Adam at a learning rate of 0.001, batches of 256, no schedule, on a GPU), rounded to the
#   hundredth; the book's second edition reports 0.893 after ten epochs of plain SGD at 0.05. In
#   the smoke profile the accuracy is only reported. The quick profile (all the data, one epoch,
#   the schedule compressed into it) reached 0.904 on two cores of an AMD EPYC in plain float32
#   and 0.907 on two cores of an Intel Xeon on the bf16 fast path; its floor is 0.87, 0.03 below
#   the lower. As chapter 12 warned, the quick profile squeezes the whole cosine schedule into its
#   one epoch, which favours chapters 12-14 over the constant learning rates of 09-11 when quick
#   results are compared.
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
d2l.check_accuracy(history, quick=0.87, target=0.93);

# %% [markdown]
# ## 6. Going deeper: the bottleneck block, ResNet-50 and ResNet-152
#
# The deeper ResNets replace the basic block by a **bottleneck** block (right panel of the first
# figure): a 1×1 convolution squeezes $4c$ channels down to $c$, a 3×3 convolution works at the
# narrow width, and another 1×1 convolution expands back to $4c$ (the *expansion* is 4). He et
# al. (their Fig. 5) compare the two blocks where they sit in the first stage, on 56×56 feature
# maps: ResNet-34's basic block on 64 channels, two 3×3 convolutions, has
# $2 \cdot 9 \cdot 64^2 = 73\,728$ weights; ResNet-50's bottleneck block on 256 channels has
#
# $$256\cdot 64 + 9\cdot 64^2 + 64\cdot 256 = 69\,632.$$
#
# About the same cost (the paper says "similar time complexity"; at the same height and width
# the multiply-adds are in the ratio of the weights), for one more layer of depth and an output
# four times as wide. As in torchvision (the "v1.5" variant) the stride sits on the 3×3
# convolution.
#
# **Initialization.** Every convolution feeds a BN and then, directly or after the addition, a
# ReLU, so we use Kaiming (He) initialization from chapter 05: weights drawn from
# $\mathcal{N}(0, 2/n)$, with $n$ the fan-out $c_\text{out} k^2$ (the variant that keeps the size
# of the backward signal), as torchvision's ResNets do. Batch norms start at $\gamma = 1$,
# $\beta = 0$. The dense layer keeps PyTorch's default, as in torchvision.

# %%
class Bottleneck(nn.Module):
    """1x1 (reduce to `width`) -> 3x3 (stride) -> 1x1 (expand to 4 * `width`), each conv without
    bias and followed by BN; identity shortcut, or 1x1 conv + BN when the shape changes."""
    expansion = 4

    def __init__(self, in_channels, width, stride=1):
        super().__init__()
        out_channels = width * self.expansion
        self.conv1 = nn.Conv2d(in_channels, width, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, width, 3, stride=stride, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = nn.Conv2d(width, out_channels, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(out_channels)
        if stride != 1 or in_channels != out_channels:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False),
                nn.BatchNorm2d(out_channels))
        else:
            self.shortcut = nn.Identity()

    def forward(self, x):
        y = torch.relu(self.bn1(self.conv1(x)))
        y = torch.relu(self.bn2(self.conv2(y)))
        y = self.bn3(self.conv3(y))
        return torch.relu(self.shortcut(x) + y)


blk = Bottleneck(256, 64)
X = torch.randn(2, 256, 8, 8)
assert blk(X).shape == (2, 256, 8, 8)
assert isinstance(blk.shortcut, nn.Identity)
conv_weights = sum(m.weight.numel() for m in blk.modules() if isinstance(m, nn.Conv2d))
basic = Residual(64, 64)  # ResNet-34's first-stage block, the left of He et al.'s Fig. 5
basic_weights = sum(m.weight.numel() for m in basic.modules() if isinstance(m, nn.Conv2d))
assert conv_weights == 256 * 64 + 9 * 64 * 64 + 64 * 256 == 69_632
assert basic_weights == 2 * 9 * 64 * 64 == 73_728
assert blk(X).shape[1] == 4 * basic(torch.randn(2, 64, 8, 8)).shape[1] == 256
assert Bottleneck(256, 128, stride=2)(X).shape == (2, 512, 4, 4)
print(f"conv weights: bottleneck block on 256 channels {conv_weights:,}, basic block on 64 "
      f"channels {basic_weights:,} ({conv_weights / basic_weights:.2f} times as many)")

# %% [markdown]
# ResNet-50 and ResNet-152 differ only in how many bottleneck blocks each of the four stages
# holds: $(3, 4, 6, 3)$ and $(3, 8, 36, 3)$. With three layers per block, the stem and the dense
# layer, $3 \cdot 16 + 2 = 50$ and $3 \cdot 50 + 2 = 152$. We build them as torchvision does
# (with the "v1.5" stride placement), for ImageNet: `in_channels` defaults to 3 here and
# `num_classes` to 1000.

# %%
def bottleneck_resnet(blocks_per_stage, in_channels=3, num_classes=1000):
    """ResNet-50/101/152 from scratch: stem, four bottleneck stages, pooling, dense layer."""
    layers = OrderedDict(stem=nn.Sequential(
        nn.Conv2d(in_channels, 64, kernel_size=7, stride=2, padding=3, bias=False),
        nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(kernel_size=3, stride=2, padding=1)))
    channels = 64
    for i, (width, count) in enumerate(zip((64, 128, 256, 512), blocks_per_stage)):
        blocks = []
        for j in range(count):
            stride = 2 if (i > 0 and j == 0) else 1
            blocks.append(Bottleneck(channels, width, stride))
            channels = width * Bottleneck.expansion
        layers[f"stage{i + 1}"] = nn.Sequential(*blocks)
    layers.update(pool=d2l.GlobalAvgPool2d(), flatten=d2l.FlattenLayer(),
                  fc=nn.Linear(channels, num_classes))
    net = nn.Sequential(layers)
    for m in net.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
    return net


resnet50 = bottleneck_resnet((3, 4, 6, 3))
weight_layers = [name for name, m in resnet50.named_modules()
                 if isinstance(m, (nn.Conv2d, nn.Linear)) and "shortcut" not in name]
print("weight layers in ResNet-50, projections not counted:", len(weight_layers))
assert len(weight_layers) == 50

# %% [markdown]
# Was Kaiming initialization applied, and with the fan-out? Take a layer whose fan-in and fan-out
# differ: the first 1×1 convolution of stage 4's second block reads 2048 channels and outputs
# 512. Its fan-out is $512 \cdot 1 = 512$, so its weights must have standard deviation
# $\sqrt{2/512} = 0.0625$; with the fan-in, $\sqrt{2/2048} = 0.03125$, half as much; PyTorch's
# default, $1/\sqrt{3 \cdot 2048} \approx 0.0128$, less still. With a million weights the sample
# standard deviation is accurate to a fraction of a percent, so the three are easy to tell apart.

# %%
conv = resnet50.stage4[1].conv1
k2 = conv.kernel_size[0] * conv.kernel_size[1]
fan_in, fan_out = conv.in_channels * k2, conv.out_channels * k2
assert (fan_in, fan_out) == (2048, 512)
std = conv.weight.std().item()
print(f"std {std:.5f}; Kaiming with the fan-out predicts {math.sqrt(2 / fan_out):.5f}, with the "
      f"fan-in {math.sqrt(2 / fan_in):.5f}")
assert abs(std / math.sqrt(2 / fan_out) - 1) < 0.01

# %% [markdown]
# ### Parameter for parameter against torchvision
#
# `torchvision.models.resnet50(weights=None)` builds the same architecture with fresh random
# weights; nothing is downloaded. The counts must agree, the list of parameter shapes must agree
# in order, and after copying its weights into ours the outputs must match.

# %%
tv50 = torchvision.models.resnet50(weights=None)
print(f"ResNet-50: ours {d2l.num_params(resnet50):,}, torchvision {d2l.num_params(tv50):,}")
assert d2l.num_params(resnet50) == d2l.num_params(tv50) == 25_557_032
assert [p.shape for p in resnet50.parameters()] == [p.shape for p in tv50.parameters()]

copy_by_order(tv50, resnet50)
resnet50.eval()
tv50.eval()
X = torch.rand(1, 3, 32, 32)
torch.testing.assert_close(resnet50(X), tv50(X))
assert resnet50(X).shape == (1, 1000)
del tv50

# %% [markdown]
# ResNet-152 has 60 million parameters. To compare it we do not even need memory for them:
# modules created under `torch.device("meta")` have tensors with shapes but no data, so
# construction (and our initialization code, which becomes a no-op) is instant.

# %%
with torch.device("meta"):
    resnet152 = bottleneck_resnet((3, 8, 36, 3))
    tv152 = torchvision.models.resnet152(weights=None)
print(f"ResNet-152: ours {d2l.num_params(resnet152):,}, torchvision {d2l.num_params(tv152):,}")
assert d2l.num_params(resnet152) == d2l.num_params(tv152) == 60_192_808
assert [p.shape for p in resnet152.parameters()] == [p.shape for p in tv152.parameters()]
ratio = d2l.num_params(resnet152) / d2l.num_params(resnet50)
print(f"ResNet-152 / ResNet-50: {152 / 50:.2f} times the depth, {ratio:.2f} times the parameters")
assert round(ratio, 1) == 2.4

# %% [markdown]
# About 3 times the depth for 2.4 times the parameters. Where do the extra parameters sit? ResNet-152
# has 4 more blocks than ResNet-50 in stage 2 and 30 more in stage 3, and the same stage 1, stage 4
# and dense layer. So the difference must be 4 stage-2 blocks plus 30 stage-3 blocks, while the
# parts that do not grow hold most of ResNet-50's parameters:

# %%
block2, block3 = d2l.num_params(resnet50.stage2[1]), d2l.num_params(resnet50.stage3[1])
assert d2l.num_params(resnet152) - d2l.num_params(resnet50) == 4 * block2 + 30 * block3
fixed = d2l.num_params(resnet50.stage4) + d2l.num_params(resnet50.fc)
print(f"one block of stage 2: {block2:,}, of stage 3: {block3:,} parameters; "
      f"stage 4 and the dense layer of ResNet-50: {fixed:,} of {d2l.num_params(resnet50):,}")
assert fixed > d2l.num_params(resnet50) / 2
assert (round(block2 / 1e6, 2), round(block3 / 1e6, 1), round(fixed / 1e6)) == (0.28, 1.1, 17)

# %% [markdown]
# The deeper network grows only in the middle stages, at 0.28 and 1.1 million parameters per
# block, while stage 4 (three blocks at 2048 channels) and the dense layer, about 17 million
# together, stay the same size: the parameters grow more slowly than the depth.
#
# ## Summary
#
# * A residual block outputs $\operatorname{ReLU}(\mathbf{x} + g(\mathbf{x}))$: the layers learn a
#   correction to the identity. The identity path passes the gradient at the block's output to its
#   input, multiplied only by the final ReLU's mask.
# * With batch norm at the end of the branch, small convolution weights do not switch the branch
#   off (BN rescales them); its $\gamma = \beta = 0$ does, exactly.
# * A convolution that feeds batch norm is forward-invariant to the scale of its weights, but its
#   training is not: weights $\alpha$ times as large get gradients $1/\alpha$ times as large and
#   relative SGD steps $1/\alpha^2$ times as large, so the initialization's scale acts like a
#   learning rate.
# * When the block changes shape, a 1×1 convolution with stride (plus BN) projects the shortcut.
# * A convolution right before batch norm needs no bias: BN's mean subtraction cancels it.
# * ResNet-18 stacks a stem, four stages of basic blocks and global average pooling; ResNet-50 and
#   ResNet-152 swap in bottleneck blocks (1×1, 3×3, 1×1 with expansion 4) and go much deeper.
#
# ## Exercises
#
# The first three exercises are checked: replace the stub, run the cell, and the check tells you
# what is right or which case went wrong and why.
#
# **1. A block that chooses its own shortcut.** Write `AutoResidual(in_channels, out_channels,
# stride=1)`, the basic block of section 2 without the `use_1x1conv` flag: it uses the identity
# shortcut when the output has the input's shape, and a 1×1 convolution with the block's stride
# followed by batch norm when the number of channels or the stride changes. Use `bias=False`
# convolutions and register the layers in the order `conv1`, `bn1`, `conv2`, `bn2`, then (only
# when needed) the projection's convolution and batch norm: the check copies its own weights into
# yours by position and compares the outputs in training and eval mode.

# %% tags=["exercise"]
class AutoResidual(nn.Module):
    def __init__(self, in_channels, out_channels, stride=1):
        super().__init__()
        # your code here
        raise NotImplementedError

    def forward(self, x):
        # your code here
        raise NotImplementedError


d2l.exercises.check_residual_block(AutoResidual)

# %% [markdown]
# **2. What a bottleneck block costs.** Write `bottleneck_params(in_channels, width, stride)`, the
# number of parameters of `Bottleneck(in_channels, width, stride)` from section 6, as a formula:
# three convolutions without bias, a batch norm (scale and shift per channel) after each, and the
# projection shortcut when the block needs one.

# %% tags=["exercise"]
def bottleneck_params(in_channels, width, stride):
    # your code here
    raise NotImplementedError


d2l.exercises.check_bottleneck_params(bottleneck_params)

# %% [markdown]
# **3. ResNet-18 at any input size.** Write `resnet18_sides(side)`: for a `side`×`side` input,
# the list of the feature maps' sides after the stem and after each of the four stages of
# `resnet18` (for 96 it is `[24, 24, 12, 6, 3]`). Use the output-size formula of chapter 06 for
# every layer that changes the size; the check also tries odd sides.

# %% tags=["exercise"]
def resnet18_sides(side):
    # your code here
    raise NotImplementedError


d2l.exercises.check_resnet18_sides(resnet18_sides)

# %% [markdown]
# The remaining questions are open:
#
# 4. Remove the shortcut from `Residual` (return `relu(g(x))`) and build a 34-layer plain net and
#    a ResNet-34 (stages of 3, 4, 6, 3 basic blocks). Train both for a few epochs. Whose
#    *training* loss is lower?
# 5. Use `zero_init_residual`-style initialization (set every block's last $\gamma$ to 0) for
#    ResNet-18. What function does the untrained network compute? Does training start faster?
# 6. Put the stride of the bottleneck on the first 1×1 convolution instead of the 3×3 one (the
#    paper's original "v1" block). Does the parameter count change? What does a stride-2 1×1
#    convolution throw away?
# 7. He et al. later proposed the "pre-activation" block, BN → ReLU → conv, twice, with nothing
#    after the addition. Write it. Why might an output that is exactly $\mathbf{x} + g(\mathbf{x})$,
#    without a final ReLU, help very deep networks?
# 8. Section 3 showed the bias is redundant in training mode. Construct a case where a bias
#    before BN *does* change the output in eval mode, and explain why it disappears after enough
#    training steps.
# 9. Count the multiply-adds of ResNet-18 at 96×96 and at 224×224. How does the cost scale with
#    the input's side length?

# %% [markdown]
# <details><summary>Reference results for exercises 4 and 5</summary>
#
# Measured by `python benchmarks/exercise_refs/13_resnet.py` on a 2-core x86_64 CPU with
# torch 2.14.1 (about 5 CPU-minutes). To keep it short, every net takes the same 40 SGD steps
# (the notebook's lr 0.05, momentum 0.9 and weight decay 0.0005, held constant) on shuffled
# batches of 32 Fashion-MNIST training images at 32×32 instead of 96×96, and is scored on 500
# validation images taken from the training file. "Feature mean square" is that of the 512
# features reaching the dense layer, at initialization, on the first batch. Within each table the
# two nets differ in one thing only: the shortcuts (exercise 4), the last $\gamma$ of every block
# (exercise 5).
#
# | exercise 4 | feature mean square | first loss | mean loss, steps 1-10 | steps 11-20 | steps 31-40 | validation accuracy |
# |---|---|---|---|---|---|---|
# | plain-34 (no shortcuts) | 0.49 | 2.366 | 2.870 | 2.583 | 2.327 | 0.172 |
# | ResNet-34 | 2.46 | 2.378 | 4.823 | 9.388 | 6.297 | 0.106 |
#
# | exercise 5 | feature mean square | first loss | mean loss, steps 1-10 | steps 11-20 | steps 31-40 | validation accuracy |
# |---|---|---|---|---|---|---|
# | ResNet-18, last $\gamma = 1$ (this notebook) | 1.71 | 2.519 | 3.780 | 3.876 | 3.141 | 0.340 |
# | ResNet-18, last $\gamma = 0$ | 0.50 | 2.527 | 2.012 | 1.620 | 1.303 | 0.482 |
#
# Exercise 4: in these first steps it is ResNet-34 whose loss is higher, by far. Every block adds
# its branch, a batch-norm output of mean square about 1, to its input, so at initialization the
# features reaching the dense layer have 5 times the plain net's mean square (2.46 against 0.49),
# and the first SGD steps overshoot. Which net has the lower training loss after a few epochs,
# the exercise's question, these 40 steps do not tell; He et al.'s plain-34 trained worse than
# plain-18 over a full ImageNet training.
#
# Exercise 5: with every block's last $\gamma$ at 0, each block starts as $\operatorname{ReLU}(\mathbf{x})$,
# the features start at mean square 0.50, close to the plain net's, and the loss falls at once:
# 1.303 against 3.141 over steps 31-40, and 0.482 against 0.340 validation accuracy after 40
# steps. The untrained network computes the stem, then ReLUs of the shortcuts (the identity, or
# a projection at the start of stages 2-4), the pooling and the dense layer.
#
# </details>
