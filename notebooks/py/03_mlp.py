# %% [markdown]
# # 03 · Multilayer perceptrons
#
# Softmax regression draws straight boundaries between classes in pixel space. A *multilayer
# perceptron* (MLP) puts a layer of hidden units with a nonlinear *activation function* between
# input and output, and that is enough to represent curved boundaries. This chapter builds one
# and trains it on Fashion-MNIST.
#
# You will learn
# - why a hidden layer is useless without a nonlinearity (checked numerically);
# - ReLU, leaky ReLU, sigmoid and tanh, with their derivatives computed by autograd and checked
#   against the closed forms;
# - what a *dead* ReLU unit is, how to recognise one, how a too-large step creates many, and
#   which activations still pass a gradient back to one;
# - how to choose an activation function;
# - an MLP with one hidden layer of 256 units, from scratch and with `nn.Sequential`;
# - backpropagation through that MLP by hand, checked against autograd.

# %%
import torch
from torch import nn
import d2lmini as d2l

d2l.set_seed(0)
print(d2l.profile_summary())

# %%
import matplotlib.pyplot as plt
import torch.nn.functional as F

d2l.use_svg_display()  # sharp inline plots

# %% [markdown]
# ## 1. From one layer to two
#
# A hidden layer with $h$ units takes each flattened picture $\mathbf{x}\in\mathbb{R}^{784}$ to a
# vector of $h$ hidden values, and the output layer reads its ten scores from those:
#
# $$\mathbf{H} = \sigma(\mathbf{X}\mathbf{W}_1 + \mathbf{b}_1), \qquad
#   \mathbf{O} = \mathbf{H}\mathbf{W}_2 + \mathbf{b}_2,$$
#
# with $\mathbf{W}_1\in\mathbb{R}^{784\times h}$, $\mathbf{W}_2\in\mathbb{R}^{h\times 10}$ and
# $\sigma$ an activation function applied to every entry. Softmax and cross-entropy on
# $\mathbf{O}$ work exactly as in chapter 02.
#
# ![an MLP: 784 inputs, a hidden layer of 256 ReLU units, 10 output scores; every layer fully connected to the next](../Pics/03_mlp_network.svg)
#
# **Why the activation is essential.** Leave $\sigma$ out and the two layers collapse into one:
#
# $$(\mathbf{X}\mathbf{W}_1 + \mathbf{b}_1)\mathbf{W}_2 + \mathbf{b}_2
#   = \mathbf{X}\,\underbrace{\mathbf{W}_1\mathbf{W}_2}_{\mathbf{W}}
#   + \underbrace{\mathbf{b}_1\mathbf{W}_2 + \mathbf{b}_2}_{\mathbf{b}} .$$
#
# However many linear layers we stack, the model is still softmax regression. We check the
# algebra with two `nn.Linear` layers (PyTorch stores each weight transposed, as
# `(out_features, in_features)`):

# %%
first, second = nn.Linear(784, 256), nn.Linear(256, 10)
X = torch.rand(5, 784)
W = first.weight.T @ second.weight.T
b = first.bias @ second.weight.T + second.bias
with torch.no_grad():
    torch.testing.assert_close(second(first(X)), X @ W + b, rtol=1e-4, atol=1e-5)
    # with a ReLU in between the composition is no longer that linear map
    assert not torch.allclose(second(torch.relu(first(X))), X @ W + b, atol=1e-3)
print("two linear layers == one linear layer with W of shape", tuple(W.shape))

# %% [markdown]
# ## 2. Activation functions and their derivatives
#
# The four classic choices:
#
# | name | $\sigma(z)$ | $\sigma'(z)$ |
# |---|---|---|
# | ReLU | $\max(z, 0)$ | $1$ if $z>0$, else $0$ |
# | leaky ReLU | $z$ if $z>0$, else $\alpha z$ | $1$ if $z>0$, else $\alpha$ |
# | sigmoid | $\dfrac{1}{1+e^{-z}}$ | $\sigma(z)\,(1-\sigma(z))$ |
# | tanh | $\dfrac{1-e^{-2z}}{1+e^{-2z}}$ | $1-\tanh^2(z)$ |
#
# ReLU has no derivative at exactly $z=0$: its slope is 0 just left of it and 1 just right. Any
# number in $[0, 1]$ is a valid *subgradient* there, and an implementation has to pick one.
# `torch.relu` (and `torch.clamp(z, min=0)`) use 0, as do the table, the backpropagation by hand
# of section 6 and exercise 3. The same function written as `torch.maximum(z, 0)` gets another
# one: where its two arguments are equal, autograd gives each of them half of the gradient, so
# the slope at 0 comes out as $1/2$ (checked below). Rather than coding the derivatives, we let
# autograd compute them: each activation acts entry by entry, so the gradient of
# $\sum_i \sigma(z_i)$ with respect to $z_i$ is exactly $\sigma'(z_i)$.

# %%
z = (torch.arange(-100, 101) / 20).requires_grad_()  # -5 to 5 in steps of 0.05, with z = 0 exactly
alpha = 0.1
activations = {
    "ReLU": torch.relu,
    f"leaky ReLU (alpha={alpha})": lambda t: F.leaky_relu(t, negative_slope=alpha),
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
}
values, slopes = {}, {}
for name, f in activations.items():
    out = f(z)
    (grad,) = torch.autograd.grad(out.sum(), z)
    values[name], slopes[name] = out.detach(), grad

fig, axes = plt.subplots(2, 4, figsize=(12, 4.6), sharex=True)
for col, name in enumerate(activations):
    axes[0, col].plot(z.detach(), values[name])
    axes[0, col].set_title(name, fontsize=10)
    axes[1, col].plot(z.detach(), slopes[name], color="tab:orange")
    axes[1, col].set_xlabel("z")
    for row in (0, 1):
        axes[row, col].grid(True, lw=0.4)
axes[0, 0].set_ylabel("activation")
axes[1, 0].set_ylabel("derivative (autograd)")
fig.tight_layout()
plt.show()

# %% [markdown]
# The autograd curves match the closed forms of the table:

# %%
zd = z.detach()
s, t = torch.sigmoid(zd), torch.tanh(zd)
torch.testing.assert_close(slopes["ReLU"], (zd > 0).float())
torch.testing.assert_close(slopes[f"leaky ReLU (alpha={alpha})"],
                           torch.where(zd > 0, 1.0, alpha))
torch.testing.assert_close(slopes["sigmoid"], s * (1 - s))
torch.testing.assert_close(slopes["tanh"], 1 - t**2)

# facts you can read off the plots
i0 = int((zd == 0).nonzero())
assert slopes["sigmoid"].max() == slopes["sigmoid"][i0] and abs(slopes["sigmoid"][i0] - 0.25) < 1e-6
assert slopes["tanh"][i0] == 1.0
torch.testing.assert_close(t, 2 * torch.sigmoid(2 * zd) - 1)  # tanh is a rescaled sigmoid
print(f"sigmoid'(0) = {slopes['sigmoid'][i0]:.4f}, tanh'(0) = {slopes['tanh'][i0]:.4f}, "
      f"sigmoid'(5) = {slopes['sigmoid'][-1]:.4f}")
assert slopes["sigmoid"][-1] < 0.01 and slopes["sigmoid"][0] < 0.01  # nearly flat at |z| = 5

# the slope at exactly z = 0 depends on how max(z, 0) is written
ways_to_write_relu = {
    "torch.relu(z)": torch.relu,
    "torch.clamp(z, min=0)": lambda t: torch.clamp(t, min=0),
    "torch.maximum(z, 0)": lambda t: torch.maximum(t, torch.zeros_like(t)),
}
slope_at_0 = {}
for name, f in ways_to_write_relu.items():
    (grad,) = torch.autograd.grad(f(z).sum(), z)
    slope_at_0[name] = grad[i0].item()
print("autograd's slope at z = 0:", slope_at_0)
assert slope_at_0["torch.relu(z)"] == slope_at_0["torch.clamp(z, min=0)"] == 0
assert slope_at_0["torch.maximum(z, 0)"] == 0.5

# %% [markdown]
# What the pictures say:
# - **Sigmoid** squashes into $(0, 1)$. Its slope is at most $1/4$ and below $0.01$ once
#   $|z| \ge 5$: a *saturated* unit passes back hardly any gradient, and a product of many slopes
#   $\le 1/4$ shrinks fast across layers (chapter 05 measures this).
# - **Tanh** is a sigmoid stretched to $(-1, 1)$, $\tanh(z) = 2\,\mathrm{sigmoid}(2z) - 1$,
#   centred at 0 with slope 1 there, but it saturates just the same.
# - **ReLU** does not saturate for $z > 0$: the slope is exactly 1, so gradients pass through
#   unchanged, and it is very cheap. For $z < 0$ the slope is exactly 0.
# - **Leaky ReLU** keeps a small slope $\alpha$ on the negative side, however negative $z$ is, so
#   no unit is ever fully cut off from learning.
#
# ## 3. Dead ReLUs
#
# That zero slope has a cost. Take a unit of the *first* hidden layer, whose pre-activation
# $z = \mathbf{x}\mathbf{w} + b$ reads the pixels directly. If $z$ is negative for *every*
# training picture, the unit outputs 0 and passes back gradient 0 on every minibatch. Plain SGD,
# the update $\theta \leftarrow \theta - \eta\,\nabla_\theta$ of chapter 01, then never changes
# $\mathbf{w}$ or $b$ again, and since the pictures do not change either, $z$ stays negative for
# good. The unit is *dead*.
#
# ![pre-activations of a batch on the ReLU: for a living unit some examples fall right of zero and send back a gradient; for a dead unit every example falls left of zero and all gradients are 0](../Pics/03_dead_relu.svg)
#
# We make one on purpose, on a batch of real pictures. `nn.Linear(784, 8)` initializes every
# weight in $[-1/28, 1/28]$ (the bound is $1/\sqrt{784}$), and pixels lie in $[0, 1]$, so
# $\mathbf{x}\mathbf{w} \le 784 / 28 = 28$ for *any* picture. A bias of $-30$ therefore makes unit
# 0 negative on every possible input.

# %%
batch_size = 256
train_iter, test_iter = d2l.load_data_fashion_mnist(batch_size)
X, y = next(iter(test_iter))
X_flat = X.reshape(len(X), -1)

hidden, output = nn.Linear(784, 8), nn.Linear(8, 10)
assert hidden.weight.abs().max() <= 1 / 28  # PyTorch's default initialization bound
with torch.no_grad():
    hidden.bias[0] = -30.0
Z = hidden(X_flat)  # pre-activations, one column per unit
Z.retain_grad()
loss = F.cross_entropy(output(torch.relu(Z)), y)
loss.backward()

print("pre-activations of unit 0: max", Z[:, 0].max().item())
print("examples per unit with a nonzero gradient:", (Z.grad != 0).sum(dim=0).tolist())
assert (Z[:, 0] < 0).all()
assert (Z.grad[:, 0] == 0).all()  # zero gradient for every example of the batch ...
assert (hidden.weight.grad[0] == 0).all() and hidden.bias.grad[0] == 0  # ... hence for w and b
assert (hidden.weight.grad[1:].abs().sum(dim=1) > 0).all()  # the other units do learn

# %% [markdown]
# The gradient of the loss for unit 0's weights is
# $\partial \ell / \partial \mathbf{w}_0 = \sum_i (\partial \ell / \partial z_{i0})\,
# \mathbf{x}_i$, and every factor $\partial \ell / \partial z_{i0}$ is 0. A few optimizer steps
# confirm that the dead unit stays frozen while the others move:

# %%
frozen = hidden.weight[0].detach().clone()
others = hidden.weight[1:].detach().clone()
optimizer = torch.optim.SGD([*hidden.parameters(), *output.parameters()], lr=0.5)
for _ in range(5):
    optimizer.zero_grad()
    F.cross_entropy(output(torch.relu(hidden(X_flat))), y).backward()
    optimizer.step()
assert torch.equal(hidden.weight[0].detach(), frozen)
assert not torch.equal(hidden.weight[1:].detach(), others)

# %% [markdown]
# **How units die in practice.** Nobody sets a bias to $-30$ by hand; a common culprit is a
# too-large learning rate. Pixels are never negative, so one update of a unit's weights,
# $-\eta\sum_i (\partial\ell/\partial z_i)\,\mathbf{x}_i$, tends to move the pre-activations of all
# pictures in the same direction. A big step can push a unit below zero for all of them at once.
# We take one step from the same starting point with a moderate and with a huge learning rate and
# count the units of a 64-unit layer that are silent on the whole batch:

# %%
def dead_units(layer, X):
    """How many units of `layer` have a negative pre-activation for every row of X."""
    with torch.no_grad():
        return int(((layer(X) > 0).sum(dim=0) == 0).sum())


def one_step(lr):
    d2l.set_seed(0)
    layer1, layer2 = nn.Linear(784, 64), nn.Linear(64, 10)
    before = dead_units(layer1, X_flat)
    opt = torch.optim.SGD([*layer1.parameters(), *layer2.parameters()], lr=lr)
    F.cross_entropy(layer2(torch.relu(layer1(X_flat))), y).backward()
    opt.step()
    return before, dead_units(layer1, X_flat)


counts = {lr: one_step(lr) for lr in (0.1, 10.0)}
for lr, (before, after) in counts.items():
    print(f"lr {lr:>4}: dead units before the step {before}, after {after}")
before, after = counts[0.1]
assert after == before  # a moderate step kills no unit
before, after = counts[10.0]
assert after - before >= 8  # a huge one kills at least an eighth of the layer at once

# %% [markdown]
# Both conditions, a first-layer unit and plain SGD, matter. A unit of a *deeper* layer reads
# the outputs of the layer below instead of fixed pictures; those change as the lower layer
# learns, and its pre-activation can turn positive again. And an optimizer with *momentum*, which
# steps along an exponentially decaying sum of the past gradients instead of the current
# gradient alone (chapter 15, on optimization algorithms, derives it), or Adam (chapter 06),
# keeps moving a parameter for a while even when its current gradient is 0.
#
# Remedies: keep the learning rate sensible, initialize carefully (chapter 05), or use an
# activation whose slope never vanishes on the negative side. GELU and ELU are often listed here
# too: they let small negative values through, but far below zero they are as flat as ReLU. We
# ask autograd for the slope of each activation at the dead unit's pre-activations, all about
# $-30$; `nn.PReLU` is leaky ReLU with a learned $\alpha$ (it starts at 0.25).

# %%
z_dead = hidden(X_flat)[:, 0].detach().requires_grad_()
negative_side = {
    "ReLU": torch.relu,
    f"leaky ReLU (alpha={alpha})": lambda t: F.leaky_relu(t, negative_slope=alpha),
    "PReLU": nn.PReLU(init=0.25),
    "ELU": F.elu,
    "GELU": F.gelu,
}
largest_slope = {}
for name, f in negative_side.items():
    (grad,) = torch.autograd.grad(f(z_dead).sum(), z_dead)
    largest_slope[name] = grad.abs().max().item()
    print(f"{name:>22}: largest slope {largest_slope[name]:.3g}")
assert z_dead.max() < -25
assert largest_slope["ReLU"] == 0 and largest_slope["GELU"] == 0  # GELU underflows to exactly 0
assert largest_slope["ELU"] < 1e-10  # e^z, about 10^-13 at z = -30
torch.testing.assert_close(largest_slope[f"leaky ReLU (alpha={alpha})"], alpha)
torch.testing.assert_close(largest_slope["PReLU"], 0.25)

# %% [markdown]
# So only leaky ReLU and PReLU would pass a gradient back to this unit, which SGD could then move
# again; with GELU it would be just as stuck, with ELU all but. A few dead units in a wide layer
# are harmless; half a layer is capacity thrown away.
#
# ## 4. Choosing an activation
#
# - **Hidden layers: start with ReLU.** It is cheap, does not saturate for positive inputs and
#   works well in most feed-forward and convolutional networks. Every network that the later
#   chapters train on Fashion-MNIST uses it in its hidden layers, except chapter 08's classic
#   LeNet, which uses the sigmoid and is compared there with a ReLU version. Chapters 05 and 09
#   build sigmoid and tanh stacks on purpose, to measure how signals and gradients change
#   through them.
# - **Many dead units:** try leaky ReLU or PReLU, whose negative slope never vanishes. GELU
#   (`nn.GELU`, common in transformers) and ELU are smooth near 0 but, as measured above, pass
#   no gradient, or almost none, to a unit pushed far below zero.
# - **Sigmoid** belongs where a number must be a probability or a gate in $(0, 1)$: the output of
#   a binary classifier, the gates of an LSTM. Deep stacks of sigmoid hidden layers train poorly.
# - **Tanh** is the zero-centred choice for bounded hidden states, e.g. in recurrent networks.
# - The **output layer** has no hidden activation here: it emits raw scores, and the softmax
#   lives inside the loss.
#
# ## 5. An MLP from scratch
#
# One hidden layer of 256 ReLU units. The weights start as small Gaussian noise
# ($\mathcal{N}(0, 0.01^2)$), the biases at zero. They must *not* all start equal: every hidden
# unit would then compute the same thing and receive the same update forever (the symmetry
# problem of chapter 05).

# %%
num_inputs, num_hiddens, num_outputs = 784, 256, 10
W1 = torch.normal(0, 0.01, size=(num_inputs, num_hiddens), requires_grad=True)
b1 = torch.zeros(num_hiddens, requires_grad=True)
W2 = torch.normal(0, 0.01, size=(num_hiddens, num_outputs), requires_grad=True)
b2 = torch.zeros(num_outputs, requires_grad=True)
params = [W1, b1, W2, b2]


def relu(Z):
    """Entry-wise max(z, 0), with slope 0 at z = 0 under autograd, like torch.relu (section 2)."""
    return torch.clamp(Z, min=0)


def net(X):
    """Flatten, hidden layer with ReLU, output scores."""
    H = relu(X.reshape(-1, num_inputs) @ W1 + b1)
    return H @ W2 + b2


torch.testing.assert_close(relu(zd), torch.relu(zd))
(relu_slope,) = torch.autograd.grad(relu(z).sum(), z)
assert torch.equal(relu_slope, (zd > 0).float())  # 0 at z = 0: the mask [Z > 0] of section 6
assert net(X).shape == (len(X), num_outputs)
print("parameters:", sum(p.numel() for p in params), "=", [tuple(p.shape) for p in params])
assert sum(p.numel() for p in params) == 784 * 256 + 256 + 256 * 10 + 10 == 203_530

# %% [markdown]
# The loss is PyTorch's cross-entropy with `reduction="none"`, one value per picture, which is
# what `d2l.train_ch3` expects with `params` and `lr` (it sums the batch and `d2l.sgd` divides by
# the batch size, as in chapter 02). The net returns scores, so the library loss applies the
# stable log-softmax.
#
# Unlike softmax regression, the MLP's loss is not convex in its parameters. And with weights of
# size 0.01 the gradient that reaches the first layer is scaled by the small second-layer
# weights, so learning starts slowly. We train with learning rate 0.2 for 20 epochs; exercise 7
# tries larger rates.

# %%
loss = nn.CrossEntropyLoss(reduction="none")
num_epochs, lr = 20, 0.2


def mean_loss(net, data_iter):
    """Average cross-entropy of `net` over a whole data set."""
    with torch.no_grad():
        total = sum(loss(net(X), y).sum().item() for X, y in data_iter)
    return total / sum(len(y) for _, y in data_iter)


loss_before = mean_loss(net, train_iter)
history = d2l.train_ch3(net, train_iter, test_iter, loss, num_epochs, batch_size,
                        params=params, lr=lr)

# %%
loss_after = mean_loss(net, train_iter)
print(f"training loss before {loss_before:.4f}, after {loss_after:.4f} "
      f"(SGD steps taken: {history.steps})")
if not history.interrupted:  # a run stopped with Ctrl-C may not have taken a step yet
    assert loss_after < loss_before
acc_scratch = d2l.check_accuracy(history, 0.83, quick=0.70)
X_test = torch.cat([Xb for Xb, _ in test_iter]).reshape(-1, num_inputs)
with torch.no_grad():
    fires = relu(X_test @ W1 + b1) > 0
print(f"hidden units silent on the whole test set: {int((fires.sum(dim=0) == 0).sum())} "
      f"of {num_hiddens}")

# %% [markdown]
# ## 6. Backpropagation by hand
#
# `d2l.train_ch3` called `.backward()` on the loss and `d2l.sgd` followed the gradients autograd
# had filled in. Nothing about them is mysterious: they follow from the chain rule, one layer at a
# time from the loss back to the input. For a batch $\mathbf{X}$ of $n$ flattened pictures
# (shape $n \times 784$), labels $y_1, \dots, y_n$, and $\mathbf{1}$ a column of $n$ ones, the
# forward pass is
#
# $$\mathbf{Z} = \mathbf{X}\mathbf{W}_1 + \mathbf{1}\mathbf{b}_1^\top, \qquad
#   \mathbf{H} = \mathrm{ReLU}(\mathbf{Z}), \qquad
#   \mathbf{O} = \mathbf{H}\mathbf{W}_2 + \mathbf{1}\mathbf{b}_2^\top, \qquad
#   L = \sum_{i=1}^n \Big(\log\sum_{j} e^{o_{ij}} - o_{i y_i}\Big),$$
#
# the summed cross-entropy that `train_ch3` differentiates here. The backward pass computes the
# gradient of $L$ with respect to each of these in reverse order; write $\mathrm{d}\mathbf{A}$
# for $\partial L / \partial \mathbf{A}$, a matrix of $\mathbf{A}$'s shape.
#
# 1. **Scores.** Differentiating the bracket for row $i$ gives
#    $\partial L/\partial o_{ij} = \operatorname{softmax}(\mathbf{o}_i)_j - [j = y_i]$ (exercise 4
#    of chapter 02), so with $\mathbf{Y}$ the one-hot labels
#    $$\mathrm{d}\mathbf{O} = \operatorname{softmax}(\mathbf{O}) - \mathbf{Y}.$$
# 2. **Output layer.** Each score is $o_{ik} = \sum_j h_{ij} w_{jk} + b_k$. The weight $w_{jk}$
#    enters the scores $o_{ik}$ of every row $i$ with factor $h_{ij}$, and $h_{ij}$ enters the
#    scores $o_{ik}$ of every class $k$ with factor $w_{jk}$. Summing those paths:
#    $$\mathrm{d}\mathbf{W}_2 = \mathbf{H}^\top\,\mathrm{d}\mathbf{O}, \qquad
#      \mathrm{d}\mathbf{b}_2 = \mathrm{d}\mathbf{O}^\top\mathbf{1}, \qquad
#      \mathrm{d}\mathbf{H} = \mathrm{d}\mathbf{O}\,\mathbf{W}_2^\top .$$
# 3. **ReLU.** It acts entry by entry, $h_{ij} = \max(z_{ij}, 0)$, so each entry of the gradient
#    is multiplied by the local slope, 1 or 0:
#    $$\mathrm{d}\mathbf{Z} = \mathrm{d}\mathbf{H} \odot [\mathbf{Z} > 0].$$
# 4. **Hidden layer.** The same rule as in step 2, with $\mathbf{X}$ in the role of $\mathbf{H}$:
#    $$\mathrm{d}\mathbf{W}_1 = \mathbf{X}^\top\,\mathrm{d}\mathbf{Z}, \qquad
#      \mathrm{d}\mathbf{b}_1 = \mathrm{d}\mathbf{Z}^\top\mathbf{1}.$$
#    ($\mathrm{d}\mathbf{X}$ is not needed: the pictures are not parameters.)
#
# The shapes check themselves: $\mathbf{H}^\top$ is $256 \times n$ and $\mathrm{d}\mathbf{O}$ is
# $n \times 10$, so $\mathrm{d}\mathbf{W}_2$ is $256 \times 10$, the shape of $\mathbf{W}_2$. The
# backward pass reuses results of the forward pass ($\mathbf{H}$, and where $\mathbf{Z}$ was
# positive): that is why autograd keeps such intermediate tensors in memory until `.backward()`
# has run. In code, on the test batch of section 3 and the trained parameters:

# %%
def mlp_grads(X, y, W1, b1, W2, b2):
    """Gradients (dW1, db1, dW2, db2) of the summed cross-entropy of the MLP, by the chain rule."""
    X = X.reshape(len(X), -1)
    Z = X @ W1 + b1                                     # forward, keeping Z and H
    H = relu(Z)
    O = H @ W2 + b2
    dO = torch.softmax(O, dim=1) - F.one_hot(y, O.shape[1])  # step 1
    dW2, db2, dH = H.T @ dO, dO.sum(dim=0), dO @ W2.T         # step 2
    dZ = dH * (Z > 0)                                         # step 3
    dW1, db1 = X.T @ dZ, dZ.sum(dim=0)                        # step 4
    return dW1, db1, dW2, db2


with torch.no_grad():
    by_hand = mlp_grads(X, y, *params)
by_autograd = torch.autograd.grad(F.cross_entropy(net(X), y, reduction="sum"), params)
for name, mine, auto in zip(("dW1", "db1", "dW2", "db2"), by_hand, by_autograd):
    assert mine.shape == auto.shape
    torch.testing.assert_close(mine, auto, rtol=1e-4, atol=1e-5, msg=name)
# the ReLU mask matters: without it the first layer's gradient would be different
with torch.no_grad():
    Z = X.reshape(len(X), -1) @ W1 + b1
    dH = (torch.softmax(relu(Z) @ W2 + b2, dim=1) - F.one_hot(y, num_outputs)) @ W2.T
assert (Z <= 0).any() and not torch.allclose(X.reshape(len(X), -1).T @ dH, by_hand[0], atol=1e-3)
print("hand-written gradients == autograd for", ", ".join(f"{n} {tuple(g.shape)}" for n, g in
                                                          zip(("W1", "b1", "W2", "b2"), by_hand)))

# %% [markdown]
# ## 7. Concise implementation
#
# The same network as layers. `d2l.FlattenLayer()` reshapes `(n, 1, 28, 28)` to `(n, 784)`; it is
# the classic helper and does what `nn.Flatten()` does. We first copy the scratch model's weights
# into the concise one and check that the two compute the same scores, then re-initialize and
# train it with `torch.optim.SGD` on the mean loss (same learning rate, same step, see chapter 02).

# %%
torch.testing.assert_close(d2l.FlattenLayer()(X), nn.Flatten()(X))

net_concise = nn.Sequential(d2l.FlattenLayer(),
                            nn.Linear(num_inputs, num_hiddens), nn.ReLU(),
                            nn.Linear(num_hiddens, num_outputs))
with torch.no_grad():
    net_concise[1].weight.copy_(W1.T)
    net_concise[1].bias.copy_(b1)
    net_concise[3].weight.copy_(W2.T)
    net_concise[3].bias.copy_(b2)
    torch.testing.assert_close(net_concise(X), net(X), rtol=1e-4, atol=1e-5)


def init_weights(module):
    if isinstance(module, nn.Linear):
        nn.init.normal_(module.weight, std=0.01)
        nn.init.zeros_(module.bias)


net_concise.apply(init_weights)
with torch.random.fork_rng():  # a pass over the shuffled training set must not move the seed
    loss_concise_before = mean_loss(net_concise, train_iter)
optimizer = torch.optim.SGD(net_concise.parameters(), lr=lr)
history_concise = d2l.train_ch3(net_concise, train_iter, test_iter, nn.CrossEntropyLoss(),
                                num_epochs, batch_size, optimizer=optimizer)

# %%
loss_concise_after = mean_loss(net_concise, train_iter)
print(f"training loss before {loss_concise_before:.4f}, after {loss_concise_after:.4f} "
      f"(SGD steps taken: {history_concise.steps})")
if not history_concise.interrupted:
    assert loss_concise_after < loss_concise_before
acc_concise = d2l.check_accuracy(history_concise, 0.83, quick=0.70)
print(f"final test accuracy: scratch {acc_scratch:.3f} / concise {acc_concise:.3f}")

# %% [markdown]
# The MLP has 784·256 + 256 + 256·10 + 10 = 203 530 parameters against softmax regression's 7 850.
# In the full profile it must clear a test-accuracy floor of 83 %, where chapter 02's softmax
# regression has a floor of 80 % (each floor sits 0.03 below the chapter's measured full run,
# rounded down; the README lists the runs: about 87 % against 83.5 %). The two chapters also differ in learning rate (0.2 here, 0.1 there), so this is not a
# one-change comparison. Compare as well the last epoch's training and test accuracy: in the full
# runs the MLP fits its training pictures better than the test pictures (README, scratch run: 0.899 against
# 0.868), a gap that is the subject of chapter 04.
#
# ## Summary
# - Without a nonlinearity, stacked linear layers are one linear layer.
# - ReLU (slope 1 or 0), leaky ReLU (slope 1 or $\alpha$), sigmoid (slope $\le 1/4$) and tanh
#   (slope $\le 1$) differ most in their derivatives; autograd reproduces the closed forms.
# - A first-layer ReLU unit whose pre-activation is negative for every training input gets zero
#   gradient and, under plain SGD, never recovers (a deeper unit can, once the layer below moves);
#   one overly large step can kill many units. Leaky ReLU and PReLU still pass such a unit a
#   gradient (we measured their slope there, $\alpha$, not a unit coming back to life); GELU and
#   ELU, flat far below zero, pass none or almost none.
# - Default to ReLU in hidden layers; reach for leaky ReLU or PReLU against dead units; keep
#   sigmoid for probabilities and gates.
# - Backpropagation is the chain rule applied layer by layer from the loss back:
#   $\partial L/\partial\mathbf{O} = \operatorname{softmax}(\mathbf{O}) - \mathbf{Y}$, then one
#   matrix product per weight and one mask per ReLU; autograd computes exactly that.
# - An MLP with one hidden layer of 256 units, from scratch or as `nn.Sequential`, trains with the
#   same `d2l.train_ch3` call as softmax regression.
#
# ## Exercises
#
# The first three are checked: write the function in the cell and run it; the check says what is
# wrong, if anything, and an untouched stub just reports "not attempted yet".
#
# **Exercise 1.** Derive $\sigma'(z) = \sigma(z)(1-\sigma(z))$ for the sigmoid by hand, and show
# that tanh's derivative $1 - \tanh^2(z)$ follows from it through $\tanh(z) = 2\sigma(2z) - 1$.
# Then write `activation_derivatives(z)`, returning the pair `(dsigmoid, dtanh)` of both
# derivatives at every entry of `z`, from the closed forms (no autograd).

# %% tags=["exercise"]
def activation_derivatives(z):
    # your code here
    raise NotImplementedError


d2l.exercises.check_activation_derivatives(activation_derivatives)

# %% [markdown]
# **Exercise 2.** Backpropagation by hand, for a variant of section 6's network: a hidden layer
# of *tanh* units and the *mean* cross-entropy of the batch (what `nn.CrossEntropyLoss()` computes
# by default),
# $\mathbf{Z} = \mathbf{X}\mathbf{W}_1 + \mathbf{b}_1$, $\mathbf{H} = \tanh(\mathbf{Z})$,
# $\mathbf{O} = \mathbf{H}\mathbf{W}_2 + \mathbf{b}_2$,
# $L = \frac1n\sum_i \ell_i$. Write `mlp_backward(X, y, W1, b1, W2, b2)` for a batch `X` of shape
# `(n, d)` and labels `y` of shape `(n,)`, returning the gradients `(dW1, db1, dW2, db2)`, each
# shaped like its parameter. Go through section 6's four steps and change what the two
# differences change (exercise 1 has tanh's derivative).

# %% tags=["exercise"]
def mlp_backward(X, y, W1, b1, W2, b2):
    # your code here
    raise NotImplementedError


d2l.exercises.check_mlp_backward(mlp_backward)

# %% [markdown]
# **Exercise 3.** Write `dead_units(X, W, b)`: the number (an `int`) of hidden units of
# $\mathrm{ReLU}(\mathbf{X}\mathbf{W} + \mathbf{b})$ that are dead on the batch `X`, i.e. output 0
# and pass back gradient 0 for every row. Mind the units whose pre-activation is exactly 0.

# %% tags=["exercise"]
def dead_units(X, W, b):
    # your code here
    raise NotImplementedError


d2l.exercises.check_dead_units(dead_units)

# %% [markdown]
# Open questions:
#
# 4. Change `num_hiddens` to 32 and to 1024. How do test accuracy and time per epoch change?
# 5. Add a second hidden layer. Does it help on Fashion-MNIST?
# 6. Train the MLP with sigmoid and with tanh instead of ReLU. Which learns fastest in the first
#    epochs, and how does that relate to the derivative plots?
# 7. Count the dead hidden units of the trained MLP on the test set for learning rates 0.2, 1
#    and 5. What happens to accuracy as the count grows?
# 8. Leaky ReLU with $\alpha = 1$ is the identity. What does that make an MLP with that
#    activation, and what does it suggest about choosing $\alpha$?

# %% [markdown]
# <details><summary>Reference results</summary>
#
# From `python benchmarks/exercise_refs/03_mlp.py` (2-core x86_64 CPU, torch 2.14.1, one thread;
# all 60 000 training and 10 000 test images, but 10 epochs instead of the chapter's 20; the
# concise MLP at lr 0.2 from the same seed, only the named thing changed). Test accuracy jumps by
# a point or two between epochs at this rate, so the mean of the last three epochs is quoted.
#
# * **4.** Test accuracy (mean of the last 3 epochs): 32 hidden units 0.845, 256 units 0.846,
#   1024 units 0.858. One SGD step on a batch of 256 costs 1.35, 6.25 and 14.85 ms of CPU time:
#   32 times the width costs 11 times the time here, for about 1.3 points.
# * **5.** Two hidden layers of 256: 0.847 against 0.846 for one; the deeper net starts slower
#   (0.692 against 0.791 after the first epoch). No gain within 10 epochs.
# * **6.** Test accuracy after epochs 1, 2, 3 and 10: tanh 0.799, 0.820, 0.804, 0.836;
#   ReLU 0.791, 0.824, 0.804, 0.849; sigmoid 0.711, 0.743, 0.768, 0.825. The sigmoid starts
#   slowest: with weights of size 0.01 every pre-activation starts near 0, where the sigmoid's
#   slope is 1/4 but tanh's is 1 (and ReLU's is 1 for the positive half), so the gradient
#   reaching the first layer is about four times smaller.
# * **7.** After 10 epochs: lr 0.2: 0 dead units of 256, test accuracy 0.849; lr 1: 227 dead,
#   0.196 (its best epoch reached 0.409); lr 5: 254 dead, 0.100, chance level.
#
# </details>
