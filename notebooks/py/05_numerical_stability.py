# %% [markdown]
# # 05 · Numerical stability and initialization
#
# So far we have initialized weights with "small random numbers" and not thought about it. In a
# deep network that choice decides whether training can start at all. Backpropagation multiplies
# one factor per layer; a product of many factors drifts towards zero or infinity unless each
# factor is close to one. This chapter shows:
#
# * **vanishing gradients**, to which the sigmoid's small derivative and flat tails contribute;
# * **exploding** values, caused by products of random matrices, and **gradient clipping**, which
#   caps the step they would cause;
# * the **symmetry problem**: identical initial weights give hidden units that stay identical;
# * **Xavier initialization**, derived from variance bookkeeping and checked empirically across a
#   30-layer stack, and **Kaiming initialization**, its correction for ReLU;
# * that our formulas match `torch.nn.init`, what PyTorch's layers do when we do not initialize
#   them, and what the initialization does to training on Fashion-MNIST.

# %%
import math

import matplotlib.pyplot as plt
import torch
from torch import nn
import d2lmini as d2l

d2l.set_seed(0)
print(d2l.profile_summary())

# %% [markdown]
# ## Why depth makes gradients fragile
#
# Write a network of $L$ layers as $\mathbf{h}^{(l)} = f_l(\mathbf{h}^{(l-1)})$ with output
# $\mathbf{o} = \mathbf{h}^{(L)}$. The chain rule gives the gradient with respect to the
# parameters $\mathbf{W}^{(l)}$ of layer $l$ as a product of Jacobians:
#
# $$\frac{\partial \mathbf{o}}{\partial \mathbf{W}^{(l)}} =
#   \underbrace{\frac{\partial \mathbf{h}^{(L)}}{\partial \mathbf{h}^{(L-1)}} \cdots
#   \frac{\partial \mathbf{h}^{(l+1)}}{\partial \mathbf{h}^{(l)}}}_{L - l \text{ factors}}
#   \;\frac{\partial \mathbf{h}^{(l)}}{\partial \mathbf{W}^{(l)}} .$$
#
# If the factors are typically smaller than one, the early layers receive almost no gradient
# (they **vanish**) and stop learning; if they are larger than one, the updates **explode** and
# training diverges. Both get exponentially worse with depth.
#
# ### Vanishing: the sigmoid
#
# The sigmoid $\sigma(x) = 1/(1+e^{-x})$ has derivative $\sigma'(x) = \sigma(x)\,(1 - \sigma(x))$,
# which is at most $1/4$ (at $x = 0$) and almost zero once $|x|$ exceeds a few units. We let
# autograd compute it and compare with the formula. (In this chapter $\sigma$ is always the
# sigmoid; a standard deviation is written $s$.)

# %%
x = torch.linspace(-8, 8, 161, requires_grad=True)
y = torch.sigmoid(x)
y.backward(torch.ones_like(y))
grad = x.grad

torch.testing.assert_close(grad, (y * (1 - y)).detach())
assert grad.max() <= 0.25 + 1e-7 and abs(grad[80].item() - 0.25) < 1e-6, "the slope peaks at 1/4, at x = 0"
assert grad[0] < 1e-3 and grad[-1] < 1e-3, "the tails are flat"

d2l.set_figsize((4.5, 2.5))
plt.plot(x.detach(), y.detach(), label="sigmoid")
plt.plot(x.detach(), grad, "--", label="gradient")
plt.xlabel("x")
plt.legend()
plt.show()

# %% [markdown]
# On its way back through a sigmoid layer the gradient is multiplied elementwise by
# $\sigma'(h) \le 1/4$ and then by the transposed weight matrix. The activation's derivatives
# therefore contribute a factor of at most $1/4$ per layer; what happens to the gradient as a
# whole depends on the weights too. To see both at work in depth we build a **stack** of $L$
# fully connected layers of width $n$, no biases, one nonlinearity after each, feed it a batch of
# unit-variance inputs, send a unit-variance random gradient back from the top, and record two
# numbers per layer $l$:
#
# * the forward signal: the mean square of the pre-activations $\mathbf{h}^{(l)} = \mathbf{W}^{(l)}\mathbf{x}^{(l-1)}$;
# * the backward signal: the mean square of the gradient $\partial \text{loss} / \partial \mathbf{h}^{(l)}$.
#
# `retain_grad()` keeps the gradient of an intermediate tensor. The values themselves stay within
# float32's range in the experiments of this chapter, but some of their *squares* fall below the
# smallest normal float32 number (about $10^{-38}$) or above the largest (about $3 \cdot 10^{38}$),
# so we square and average in float64 (checked after the experiments).

# %%
def measure_stack(activation, weight_std, depth=30, width=128, batch=64):
    """Forward and backward mean squares at each layer of a deep, bias-free stack whose weights
    are drawn from N(0, weight_std^2)."""
    x = torch.randn(batch, width, requires_grad=True)
    pre_activations = []
    for _ in range(depth):
        W = weight_std * torch.randn(width, width)
        h = x @ W.T
        h.retain_grad()
        pre_activations.append(h)
        x = activation(h)
    x.backward(torch.randn_like(x))
    forward = torch.stack([h.detach().double().pow(2).mean() for h in pre_activations])
    backward = torch.stack([h.grad.double().pow(2).mean() for h in pre_activations])
    return forward, backward


def spread(values):
    """Largest over smallest value, ignoring layer 1 (whose input is the data, not an activation)."""
    values = values[1:]
    return (values.max() / values.min()).item()


width = 128
forward, backward = measure_stack(torch.sigmoid, 1 / math.sqrt(width))
print("sigmoid stack, backward mean square at layers 1, 10, 20, 30:",
      [f"{backward[i]:.1e}" for i in (0, 9, 19, 29)])

# %% [markdown]
# The weights here have standard deviation $1/\sqrt{n}$, which keeps the mean square of a signal
# through a linear layer unchanged, backwards as well as forwards (we derive this below). So the
# decay comes from the sigmoid: the mean square of the gradient shrinks by a factor of about
# $\mathbb{E}[\sigma'(h)^2] < 1/16$ per layer. After 30 layers the mean square of the gradient at
# the first layer is more than 30 orders of magnitude below the last layer's, and the first
# layers cannot learn.

# %%
assert backward[0] < 1e-30 * backward[-1], "the gradient should vanish through 30 sigmoid layers"
per_layer = (backward[0] / backward[-1]) ** (1 / 29)
assert per_layer < 1 / 16, f"the mean square should shrink more than 16x per layer, got {per_layer:.3f}"
print(f"average factor per layer: mean square {per_layer:.3f}, "
      f"size (root mean square) {per_layer ** 0.5:.3f}")

# %% [markdown]
# This is *not* a law of "at least a factor 4 per sigmoid layer": the bound $1/4$ holds for the
# derivatives, and the weights multiply in too. Draw the weights four times larger, with
# standard deviation $s = 4/\sqrt{n}$: the matrices now stretch the gradient by about 4 per layer while the
# larger pre-activations sit further out on the flat tails, and the net effect is a shrinking much
# slower than 4 per layer.

# %%
_, backward_large = measure_stack(torch.sigmoid, 4 / math.sqrt(width))
per_layer_large = (backward_large[0] / backward_large[-1]) ** (1 / 29)
print(f"weights std 4/sqrt(n): the gradient's size shrinks by {per_layer_large ** 0.5:.3f} per layer")
assert per_layer_large ** 0.5 > 2 * 0.25, "with larger weights the gradient shrinks far less than 4x"

# %% [markdown]
# The gradient still vanishes over 30 layers, only much more slowly. What even larger weights do
# to the forward and the backward signal is exercise 7.

# %% [markdown]
# ### Exploding: products of random matrices
#
# The opposite failure needs no nonlinearity at all. Multiply 100 random $4 \times 4$ matrices
# with standard normal entries: each factor stretches vectors a bit on average, and the stretch
# compounds. (We use float64: in float32 the squared entries summed by the norm would overflow.)

# %%
M = torch.eye(4, dtype=torch.float64)
norms = []
for _ in range(100):
    M = M @ torch.randn(4, 4, dtype=torch.float64)
    norms.append(torch.linalg.matrix_norm(M).item())
print(f"norm after 1, 10, 50, 100 matrices: {norms[0]:.2e} {norms[9]:.2e} {norms[49]:.2e} {norms[99]:.2e}")
assert norms[99] > 1e20, "a product of 100 standard normal 4x4 matrices should explode"

plt.semilogy(range(1, 101), norms)
plt.xlabel("number of matrices multiplied")
plt.ylabel("Frobenius norm")
plt.show()

# %% [markdown]
# The logarithm of the norm grows about linearly, so the norm itself grows exponentially: after
# 100 factors it exceeds $10^{20}$. A gradient multiplied by such a product on its way back would
# be as large, and no learning rate could turn it into a sensible step.
#
# ### Gradient clipping
#
# Good initialization (below) keeps such products near one at the start of training, but a step
# can still meet a gradient far larger than the ones before it. The usual safeguard caps the
# length of the step. `torch.nn.utils.clip_grad_norm_(params, max_norm)` treats the gradients of
# all the parameters it is given as one long vector $\mathbf g$ and computes its Euclidean norm
# $\|\mathbf g\|$. If that exceeds `max_norm`, it multiplies every gradient in place by the same
# factor $\texttt{max\_norm} / (\|\mathbf g\| + 10^{-6})$; otherwise it leaves them alone. The
# direction of the step is kept, only its length is capped. It returns $\|\mathbf g\|$ as it was
# before clipping, and it goes between `loss.backward()` and `optimizer.step()`.
#
# A case where it matters: a chain of ten layers of width one, $\hat y = w_{10} \cdots w_1\, x$,
# every weight started at $1.5$, fitted to $y = 1$ at $x = 1$ with the halved squared loss. The
# output starts at $1.5^{10} \approx 58$, and each weight's gradient, $(\hat y - y)\,\hat y / w_i$,
# is a product of many factors, like the products above: about 2000. Near the solution, where
# the product is one, the same gradients are only about as large as the error $\hat y - y$.

# %%
def chain_loss(weights):
    """Halved squared error of the chain w_10 ... w_1 x at x = 1, target 1."""
    return 0.5 * (torch.stack(weights).prod() - 1) ** 2


def fit_chain(lr, max_norm=None, steps=300):
    """Plain SGD on the chain from every weight at 1.5, clipping the gradient norm to max_norm
    if given. Returns the loss at the start and after each step; stops at a loss that is not
    finite."""
    weights = [torch.tensor(1.5, requires_grad=True) for _ in range(10)]
    optimizer = torch.optim.SGD(weights, lr=lr)
    losses = [chain_loss(weights).item()]
    for _ in range(steps):
        if not math.isfinite(losses[-1]):
            break
        optimizer.zero_grad()
        chain_loss(weights).backward()
        if max_norm is not None:
            torch.nn.utils.clip_grad_norm_(weights, max_norm)
        optimizer.step()
        losses.append(chain_loss(weights).item())
    return losses


# what clip_grad_norm_ does to the first gradient
weights = [torch.tensor(1.5, requires_grad=True) for _ in range(10)]
chain_loss(weights).backward()
g = torch.stack([w.grad for w in weights])
total = torch.nn.utils.clip_grad_norm_(weights, max_norm=1.0)
g_clipped = torch.stack([w.grad for w in weights])
print(f"gradient norm before clipping {total:.0f}, after {g_clipped.norm():.4f}")
torch.testing.assert_close(total, g.norm())                      # it returns the norm before
torch.testing.assert_close(g_clipped.norm(), torch.tensor(1.0))  # the length is capped ...
torch.testing.assert_close(g_clipped, g / g.norm())              # ... the direction kept
torch.nn.utils.clip_grad_norm_(weights, max_norm=10.0)           # already below the cap:
torch.testing.assert_close(torch.stack([w.grad for w in weights]), g_clipped)  # untouched

runs = {"SGD, lr 0.01": fit_chain(0.01),
        "SGD, lr 0.01, clipped to norm 1": fit_chain(0.01, max_norm=1.0),
        "SGD, lr 0.0001": fit_chain(1e-4)}
for name, losses in runs.items():
    print(f"{name:32s} loss {losses[0]:.3g} at the start, {losses[-1]:.3g} after {len(losses) - 1} steps")

# %% [markdown]
# At learning rate 0.01 the first step moves every weight by about 20, the product becomes
# enormous, and the loss is infinite after two steps. The same learning rate with the gradient
# clipped to norm 1 moves the vector of weights by at most 0.01 per step until the gradient's norm
# falls below the cap; from then on it is plain SGD, and the loss ends below $10^{-8}$. Without clipping, a
# learning rate small enough for the first step (0.0001) is too small near the solution: after
# the same 300 steps the loss is still above 0.1. Clipping does nothing against *vanishing*
# gradients, and `max_norm` is one more hyperparameter to choose.

# %%
assert 1500 < g.min() and g.max() < 2500, "each weight's first gradient is about 2000"
assert len(runs["SGD, lr 0.01"]) <= 3 and not math.isfinite(runs["SGD, lr 0.01"][-1])
assert runs["SGD, lr 0.01, clipped to norm 1"][-1] < 1e-8
assert runs["SGD, lr 0.0001"][-1] > 0.1

# %% [markdown]
# ## The symmetry problem
#
# Then why not start from a tidy constant, say every weight $0.5$? Consider a hidden layer whose
# units all start with the same incoming and outgoing weights. They compute the same value, get
# the same gradient and take the same step, forever: a layer of 64 units behaves like a single
# unit. Random initialization is what **breaks the symmetry**.
#
# ![Identical initial weights give identical hidden units; random ones make them differ](../Pics/05_symmetry.svg)
#
# We train a small MLP from both starts with minibatch SGD and compare the hidden units' incoming
# weight vectors (the rows of $\mathbf{W}^{(1)}$).

# %%
def small_mlp():
    return nn.Sequential(nn.Linear(4, 3), nn.Tanh(), nn.Linear(3, 1))


def train_briefly(net, steps=100, lr=0.1):
    X, y = torch.randn(200, 4), torch.randn(200, 1)
    optimizer = torch.optim.SGD(net.parameters(), lr=lr)
    for _ in range(steps):
        idx = torch.randint(0, 200, (16,))
        loss = ((net(X[idx]) - y[idx]) ** 2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return net


constant_net = small_mlp()
for param in constant_net.parameters():
    nn.init.constant_(param, 0.5)
random_net = small_mlp()  # PyTorch's default: random uniform weights

W_const = train_briefly(constant_net)[0].weight.detach()
W_rand = train_briefly(random_net)[0].weight.detach()
print("constant start, rows of W1 after training:\n", W_const)
print("random start, rows of W1 after training:\n", W_rand)

# %% [markdown]
# The constant start has moved away from 0.5, yet all three rows are still equal: the hidden
# units are clones. From a random start they differ. (Dropout would break the symmetry too, since
# each unit is dropped at different times, but random initialization is the standard remedy.)

# %%
assert not torch.allclose(W_const, torch.full_like(W_const, 0.5)), "the constant net did learn"
torch.testing.assert_close(W_const, W_const[0].expand_as(W_const))  # identical hidden units
assert (W_rand[0] - W_rand[1]).abs().max() > 0.1 and (W_rand[1] - W_rand[2]).abs().max() > 0.1

# %% [markdown]
# ## Xavier initialization
#
# Take one fully connected layer without bias, $o_i = \sum_{j=1}^{n_\text{in}} w_{ij} x_j$, with
# weights drawn independently with mean $0$ and variance $s^2$, independent of the inputs,
# which have mean $0$ and variance $\gamma^2$. Then $\mathbb{E}[o_i] = 0$ and
#
# $$\operatorname{Var}[o_i] = \sum_{j=1}^{n_\text{in}} \mathbb{E}[w_{ij}^2]\,\mathbb{E}[x_j^2]
#   = n_\text{in}\,s^2\gamma^2 .$$
#
# The forward signal keeps its variance if $n_\text{in}s^2 = 1$. Backpropagation runs the
# same layer transposed: $\partial \ell / \partial x_j = \sum_i w_{ij}\, \partial \ell / \partial o_i$,
# a sum over the $n_\text{out}$ outputs, so the gradient keeps its variance if
# $n_\text{out}s^2 = 1$. Both cannot hold unless $n_\text{in} = n_\text{out}$; **Xavier
# (Glorot) initialization** takes the compromise
#
# $$\tfrac12(n_\text{in} + n_\text{out})\,s^2 = 1
#   \quad\Longleftrightarrow\quad
#   s = \sqrt{\frac{2}{n_\text{in} + n_\text{out}}} .$$
#
# Drawn from a normal distribution that is the standard deviation; drawn from a uniform
# distribution $U(-a, a)$, whose variance is $a^2/3$, it means $a = \sqrt{6/(n_\text{in} + n_\text{out})}$.
#
# $n_\text{in}$ and $n_\text{out}$ are called the **fan-in** and **fan-out**: how many inputs
# each output sums over, and over how many outputs each input's gradient is summed on the way
# back. For a dense layer they are its input and output widths. A convolutional layer (chapter 06)
# slides $c_o$ small kernels, each of $c_i$ channels by $k_h \times k_w$ pixels, over an image of
# $c_i$ channels; its weight has shape $(c_o, c_i, k_h, k_w)$. Each output value sums over a
# window of $c_i k_h k_w$ inputs, so $n_\text{in} = c_i k_h k_w$. An input value away from the
# border lies in the windows of $k_h k_w$ positions (with the default stride of one), for each of
# the $c_o$ kernels, so $n_\text{out} = c_o k_h k_w$. PyTorch's initializers count the fans the
# same way (in the private helper `nn.init._calculate_fan_in_and_fan_out`). We check both counts
# with autograd on a small layer, whose Jacobian says which outputs depend on which inputs.

# %%
with torch.random.fork_rng():  # the layer's random weights leave the notebook's seed alone
    conv = nn.Conv2d(3, 8, kernel_size=(3, 5))
    x = torch.randn(1, 3, 9, 11)
jacobian = torch.autograd.functional.jacobian(conv, x)[0]  # (8, 7, 7) outputs x (3, 9, 11) inputs
reads = (jacobian[0, 3, 3] != 0).sum().item()              # inputs one output depends on
reaches = (jacobian[..., 1, 4, 5] != 0).sum().item()       # outputs one inner input reaches
c_o, c_i, k_h, k_w = conv.weight.shape
print(f"one output reads {reads} inputs, one input reaches {reaches} outputs")
assert (reads, reaches) == (c_i * k_h * k_w, c_o * k_h * k_w) == (45, 120)
assert nn.init._calculate_fan_in_and_fan_out(conv.weight) == (reads, reaches)

# %% [markdown]
# The derivation treats the layer as linear: Glorot and Bengio (2010) assumed that at
# initialization the units work in their linear regime, where the activation's slope is about 1.
# $\tanh$ behaves like that near zero ($\tanh'(0) = 1$, outputs centred on zero), so Xavier suits
# it. The sigmoid does not: it is not centred (its outputs average about $1/2$) and its slope at
# zero is only $\sigma'(0) = 1/4$, which is why the sigmoid stack above, whose weights had the
# Xavier scale of a square layer ($s = 1/\sqrt{n}$), still vanished.
#
# ## Kaiming initialization for ReLU
#
# A ReLU zeroes half of a symmetric input, so it halves the second moment:
# if $h$ is symmetric around zero, $\mathbb{E}[\max(0, h)^2] = \tfrac12\operatorname{Var}[h]$.
# The forward recursion becomes $\operatorname{Var}[h^{(l+1)}] = \tfrac12 n_\text{in}s^2
# \operatorname{Var}[h^{(l)}]$, and **Kaiming (He) initialization** restores the factor of one by
# doubling the variance:
#
# $$s = \sqrt{\frac{2}{n_\text{in}}}, \qquad
#   \text{or } U(-a, a) \text{ with } a = \sqrt{\frac{6}{n_\text{in}}} .$$

# %%
def xavier_std(fan_in, fan_out):
    return math.sqrt(2 / (fan_in + fan_out))


def kaiming_std(fan_in):
    return math.sqrt(2 / fan_in)


print(f"width {width}: Xavier std {xavier_std(width, width):.4f}, Kaiming std {kaiming_std(width):.4f}")
assert math.isclose(xavier_std(width, width), 1 / math.sqrt(width))  # the sigmoid stack's scale

# %% [markdown]
# ### Our formulas against `torch.nn.init`
#
# PyTorch's initializers act in place on a weight of shape `(fan_out, fan_in)`, the layout of
# `nn.Linear.weight`. We give a large weight different fan-in and fan-out (a mixed-up fan would
# change the Kaiming std by $\sqrt{3}$) and compare its empirical standard deviation, over 480 000
# draws, with our formulas. The standard error of a sample std is about $s/\sqrt{2N}$, i.e.
# 0.1 %, so a 2 % tolerance is twenty standard errors wide. The uniform versions must also respect
# their bound $a$.

# %%
fan_out, fan_in = 400, 1200
W = torch.empty(fan_out, fan_in)
checks = {
    "xavier_normal_": (nn.init.xavier_normal_, xavier_std(fan_in, fan_out)),
    "xavier_uniform_": (nn.init.xavier_uniform_, xavier_std(fan_in, fan_out)),
    "kaiming_normal_": (lambda w: nn.init.kaiming_normal_(w, nonlinearity="relu"), kaiming_std(fan_in)),
    "kaiming_uniform_": (lambda w: nn.init.kaiming_uniform_(w, nonlinearity="relu"), kaiming_std(fan_in)),
}
for name, (init, ours) in checks.items():
    init(W)
    measured = W.std().item()
    print(f"{name:17s} measured std {measured:.5f}, our formula {ours:.5f}")
    assert abs(measured / ours - 1) < 0.02, name
    if name.endswith("uniform_"):
        bound = math.sqrt(3) * ours  # U(-a, a) has std a / sqrt(3)
        assert W.abs().max() <= bound and W.abs().max() > 0.99 * bound, name

# %% [markdown]
# ### PyTorch's default
#
# A layer we do not initialize ourselves still starts from random weights: when `nn.Linear` and
# `nn.Conv2d` build their weight, they call `nn.init.kaiming_uniform_(weight, a=math.sqrt(5))`. Here `a` is
# the negative slope of a leaky ReLU, whose Kaiming gain is $\sqrt{2/(1 + a^2)}$ (exercise 2
# derives it); with $a = \sqrt 5$ that is $\sqrt{1/3}$. The standard deviation is the gain over
# $\sqrt{n_\text{in}}$, $s = 1/\sqrt{3\,n_\text{in}}$, and the uniform bound is $\sqrt 3\, s$: the
# weights are uniform in $\pm 1/\sqrt{n_\text{in}}$. The biases are drawn uniformly from the same
# interval. This scheme does not preserve the variance: $n_\text{in} s^2 = 1/3$, so the weights
# shrink the second moment threefold per layer (sixfold with a ReLU after them). Over a few
# layers that is a modest factor; over many it compounds like any other per-layer factor, which is
# one reason to choose the initialization of a deep network ourselves. We check the bound and the
# standard deviation on a default dense and a default convolutional layer.

# %%
assert math.isclose(nn.init.calculate_gain("leaky_relu", math.sqrt(5)), math.sqrt(1 / 3))
with torch.random.fork_rng():  # building layers draws random numbers: keep the notebook's seed
    defaults = {"nn.Linear(1200, 400)": nn.Linear(1200, 400),
                "nn.Conv2d(64, 128, 3)": nn.Conv2d(64, 128, kernel_size=3)}
for name, layer in defaults.items():
    fan_in = layer.weight[0].numel()  # what one output sums over: in_features, or c_i * k_h * k_w
    bound, w = 1 / math.sqrt(fan_in), layer.weight.detach()
    print(f"{name:22s} fan-in {fan_in}: max |w| {w.abs().max():.5f} (1/sqrt(fan-in) {bound:.5f}), "
          f"std {w.std():.5f} (1/sqrt(3 fan-in) {bound / math.sqrt(3):.5f})")
    assert 0.99 * bound < w.abs().max() <= bound and layer.bias.abs().max() <= bound, name
    assert abs(w.std().item() * math.sqrt(3 * fan_in) - 1) < 0.02, name

# %% [markdown]
# ### Checked across a deep stack
#
# Now the experiment that matters: 30 layers of width 128, each initialization paired with its
# nonlinearity, against naive choices of a fixed standard deviation, $0.01$ (too small) or $1$
# (too large).

# %%
configs = {
    "tanh, std 0.01": (torch.tanh, 0.01),
    "tanh, std 1": (torch.tanh, 1.0),
    "tanh, Xavier": (torch.tanh, xavier_std(width, width)),
    "ReLU, std 1": (torch.relu, 1.0),
    "ReLU, Xavier": (torch.relu, xavier_std(width, width)),
    "ReLU, Kaiming": (torch.relu, kaiming_std(width)),
}
results = {}
d2l.set_seed(0)
for name, (activation, std) in configs.items():
    results[name] = measure_stack(activation, std)
    fwd, bwd = results[name]
    print(f"{name:15s} spread over layers 2-30: forward {spread(fwd):9.3g}, backward {spread(bwd):9.3g}")

# why float64: the mean squares leave float32's range, the root mean squares do not
mean_squares = torch.cat([torch.cat(pair) for pair in results.values()])
f32 = torch.finfo(torch.float32)
print(f"mean squares from {mean_squares.min():.1e} to {mean_squares.max():.1e}")
assert mean_squares.min() < f32.tiny < mean_squares.min().sqrt()
assert mean_squares.max().sqrt() < f32.max < mean_squares.max()

fig, axes = plt.subplots(1, 2, figsize=(9, 3))
layers = range(1, 31)
for name, (fwd, bwd) in results.items():
    style = "-" if ("Xavier" in name and "tanh" in name) or "Kaiming" in name else ":"
    axes[0].semilogy(layers, fwd, style, label=name)
    axes[1].semilogy(layers, bwd, style, label=name)
axes[0].set_title("forward: mean square of $h^{(l)}$", fontsize=10)
axes[1].set_title("backward: mean square of the gradient", fontsize=10)
for ax in axes:
    ax.set_xlabel("layer $l$")
axes[1].legend(fontsize=7, loc="lower left")
fig.tight_layout()
plt.show()

# %% [markdown]
# On a log scale the naive choices are straight lines: exponential decay (std 0.01, or Xavier
# under ReLU, which loses a factor of 2 per layer) or exponential growth (std 1 under ReLU). With
# tanh and std 1 the forward signal looks harmless, but its mean square sits near $n = 128$: the
# pre-activations have a standard deviation of about 11, so most units sit on the flat parts of
# tanh near $\pm 1$. The backward signal grows by the per-layer factor
# $ns^2\,\mathbb{E}[\tanh'(h)^2]$, which for $h \sim \mathcal{N}(0, 11^2)$ is about
# $128 \cdot \frac{4/3}{11\sqrt{2\pi}} \approx 6$ (since $\int \tanh'(x)^2\,dx = 4/3$ and the
# density of $h$ is nearly constant where $\tanh' \ne 0$).
#
# The matched pairs stay flat. Kaiming under ReLU keeps both signals within a small factor; the
# wobble is finite-width noise, since every random layer changes the variance slightly. Xavier
# under tanh drifts down slowly: tanh is only approximately linear. For a Gaussian $h$ of small
# variance $v$, $\tanh(h)^2 \approx h^2 - \tfrac23 h^4$ and $\mathbb{E}[h^4] = 3v^2$, so
# $\mathbb{E}[\tanh(h)^2] \approx v - 2v^2$, and with $n s^2 = 1$ that is the next layer's
# variance. Then $1/v$ grows by about $2$ per layer ($1/(v - 2v^2) \approx 1/v + 2$), so after
# $l$ layers $v \approx 1/(2l)$: a polynomial decay, which loses a smaller fraction in every
# layer (the factor from layer $l$ to $l+1$ is $l/(l+1)$), whereas an exponential decay loses the
# same fraction in each. (`nn.init.calculate_gain("tanh")` $= 5/3$ is PyTorch's suggested
# correction.) We assert these measured behaviours, with margins:
#
# * each naive scheme spreads its forward or backward signal by more than $10^6$ over the stack;
# * tanh with std 1 keeps the forward mean square between 64 and 128 and multiplies the
#   backward one by between 4 and 9 per layer;
# * Xavier/tanh: from layer 10 on, $2l$ times the forward mean square stays between $2/3$ and
#   $3/2$; the forward factor per layer rises from layers 2-6 to layers 20-30, each within 0.06
#   of what $1/(2l)$ predicts, $(2/6)^{1/4} \approx 0.76$ and $(20/30)^{1/10} \approx 0.96$; the
#   backward signal stays within a factor of 100 and loses less than 15 % per layer on average;
# * Kaiming/ReLU stays within a factor of 20 in both directions.

# %%
for name in ("tanh, std 0.01", "tanh, std 1", "ReLU, std 1", "ReLU, Xavier"):
    fwd, bwd = results[name]
    assert max(spread(fwd), spread(bwd)) > 1e6, f"{name} should vanish or explode"

fwd, bwd = results["tanh, std 1"]
per_layer_tanh = (bwd[1] / bwd[-1]) ** (1 / 28)
print(f"tanh, std 1: forward mean square {fwd[1:].min():.0f} to {fwd[1:].max():.0f}, "
      f"backward grows by {per_layer_tanh:.2f} per layer")
assert 64 < fwd[1:].min() and fwd[1:].max() < 128 and 4 < per_layer_tanh < 9

fwd, bwd = results["tanh, Xavier"]
l = torch.arange(1, 31)  # fwd[l - 1] belongs to layer l
ratio = (2 * l * fwd)[9:]  # layers 10 to 30
early, late = (fwd[5] / fwd[1]) ** (1 / 4), (fwd[29] / fwd[19]) ** (1 / 10)
print(f"tanh, Xavier: 2l x forward mean square {ratio.min():.2f} to {ratio.max():.2f} from layer 10 on; "
      f"factor per layer {early:.3f} over layers 2-6, {late:.3f} over layers 20-30")
assert 2 / 3 < ratio.min() and ratio.max() < 3 / 2, "the forward mean square should follow 1/(2l)"
assert abs(early - (2 / 6) ** (1 / 4)) < 0.06 and abs(late - (20 / 30) ** (1 / 10)) < 0.06
assert spread(bwd) < 100 and (bwd[1] / bwd[-1]) ** (1 / 28) > 0.85

fwd, bwd = results["ReLU, Kaiming"]
assert spread(fwd) < 20 and spread(bwd) < 20, "Kaiming should keep ReLU's signals within 20x"

# ReLU halves the second moment: Xavier (n * s^2 = 1) loses a factor near 2 per layer.
fwd, _ = results["ReLU, Xavier"]
per_layer = (fwd[-1] / fwd[1]) ** (1 / 28)
assert 0.4 < per_layer < 0.6, per_layer
print(f"ReLU with Xavier: forward signal shrinks by {per_layer:.3f} per layer (theory: 0.5)")

# %% [markdown]
# ## Initialization and training on Fashion-MNIST
#
# Finally the consequence for learning. A deep MLP, five hidden layers of 256 ReLU units, is
# initialized two ways: every weight from $\mathcal{N}(0, 0.01^2)$, a common "small random
# numbers" choice, or Kaiming. Biases start at zero. `net.apply(fn)` calls `fn` on every
# submodule, which is how an initialization scheme is applied to a whole network.

# %%
def deep_mlp():
    layers = [d2l.FlattenLayer(), nn.Linear(784, 256), nn.ReLU()]
    for _ in range(4):
        layers += [nn.Linear(256, 256), nn.ReLU()]
    return nn.Sequential(*layers, nn.Linear(256, 10))


def init_small_normal(module):
    if isinstance(module, nn.Linear):
        nn.init.normal_(module.weight, std=0.01)
        nn.init.zeros_(module.bias)


def init_kaiming(module):
    if isinstance(module, nn.Linear):
        nn.init.kaiming_normal_(module.weight, nonlinearity="relu")
        nn.init.zeros_(module.bias)


batch_size, lr, num_epochs = 256, 0.1, 5
train_iter, test_iter = d2l.load_data_fashion_mnist(batch_size)
loss = nn.CrossEntropyLoss()
nets = {"N(0, 0.01^2)": deep_mlp().apply(init_small_normal), "Kaiming": deep_mlp().apply(init_kaiming)}

# %% [markdown]
# Before any training, one real minibatch already tells the story: the gradient reaching the
# first layer is several orders of magnitude smaller under the naive scheme.

# %%
X, y = next(iter(train_iter))
first_grad, loss_before = {}, {}
for name, net in nets.items():
    net.zero_grad()
    batch_loss = loss(net(X), y)
    batch_loss.backward()
    first_grad[name], loss_before[name] = net[1].weight.grad.norm().item(), batch_loss.item()
    net.zero_grad()
    print(f"{name:13s} gradient norm at the first layer: {first_grad[name]:.2e}")
assert first_grad["N(0, 0.01^2)"] < 1e-3 * first_grad["Kaiming"], "the naive gradient should vanish"

# %% [markdown]
# Training both with the same SGD settings (learning rate 0.1, 5 epochs): the naive network's
# loss stays at $\ln 10 \approx 2.30$, the cross-entropy of a uniform guess over ten classes, in
# every epoch (checked in every profile). The Kaiming network learns: in every profile its loss
# on the minibatch above falls, and in the full profile its test accuracy must reach 82 % (0.03
# below the measured full run, rounded down). There is no need to check that the losses stayed
# finite: `train_ch3` stops with `d2l.TrainingDiverged` at the first loss that is not, so a
# history it returns holds finite losses only.

# %%
histories = {}
for name, net in nets.items():
    print(name)
    optimizer = torch.optim.SGD(net.parameters(), lr=lr)
    histories[name] = d2l.train_ch3(net, train_iter, test_iter, loss, num_epochs, batch_size,
                                    optimizer=optimizer)

# %%
naive_losses = histories["N(0, 0.01^2)"]["train_loss"]
assert all(abs(v - math.log(10)) < 0.01 for v in naive_losses), "the naive net should stay at ln 10"
kaiming = nets["Kaiming"]
with torch.no_grad():
    loss_after = loss(kaiming(X.to(kaiming[1].weight.device)), y.to(kaiming[1].weight.device)).item()
print(f"Kaiming net, loss on the minibatch above: {loss_before['Kaiming']:.3f} before training, "
      f"{loss_after:.3f} after")
assert histories["Kaiming"].steps == 0 or loss_after < loss_before["Kaiming"], "training lowers the loss"
d2l.check_accuracy(histories["Kaiming"], 0.82, quick=0.72);

# %% [markdown]
# ## Summary
#
# * Gradients in a deep network are products of per-layer factors, one from each activation's
#   derivative and one from each weight matrix; unless their product is near one they vanish or
#   explode exponentially in depth. A sigmoid's derivative contributes at most $1/4$ per layer, so
#   with weights that preserve the variance the gradient vanishes; large random matrices make it
#   explode. `torch.nn.utils.clip_grad_norm_` caps the norm of all gradients together, keeping
#   their direction, so that one huge gradient cannot throw the weights away.
# * Identical initial weights make hidden units identical forever; initialization must be random.
# * Xavier initialization, $s^2 = 2/(n_\text{in} + n_\text{out})$, balances forward and
#   backward variance for layers that act linearly near zero, such as tanh; it was derived for
#   that linear regime, which the sigmoid (not centred, slope $1/4$) does not have.
# * Kaiming initialization, $s^2 = 2/n_\text{in}$, compensates the halving by ReLU; it is
#   `nn.init.kaiming_normal_(w, nonlinearity="relu")`.
# * The fans of a convolution count its kernel window: $n_\text{in} = c_i k_h k_w$,
#   $n_\text{out} = c_o k_h k_w$. PyTorch's default for `nn.Linear` and `nn.Conv2d` draws weights
#   uniformly from $\pm 1/\sqrt{n_\text{in}}$ ($s^2 = 1/(3 n_\text{in})$), which does not preserve
#   the variance.
#
# ## Exercises
#
# The first four are checked: replace the stub, run the cell, and the check tells you which case
# fails and why.
#
# **1. Xavier for any layer.** `nn.init.xavier_uniform_` draws from $U(-a, a)$. Write
# `xavier_bound(shape)` returning $a$ for a weight of the given shape: an `nn.Linear` weight
# `(out_features, in_features)` or an `nn.Conv2d` weight `(out_channels, in_channels, kh, kw)`.
# For a convolution, each output sums over `in_channels * kh * kw` inputs.

# %% tags=["exercise"]
def xavier_bound(shape):
    # your code here
    raise NotImplementedError


d2l.exercises.check_xavier_bound(xavier_bound)

# %% [markdown]
# **2. Kaiming for a leaky ReLU.** A leaky ReLU passes negative inputs scaled by a slope $a$:
# $\max(0, h) + a\min(0, h)$. Redo the Kaiming derivation for it and write
# `leaky_kaiming_std(fan_in, negative_slope)`, the weight standard deviation that keeps the
# forward second moment unchanged. (With slope 0 it must give the ReLU value, with slope 1 that of
# a linear layer.)

# %% tags=["exercise"]
def leaky_kaiming_std(fan_in, negative_slope):
    # your code here
    raise NotImplementedError


d2l.exercises.check_leaky_kaiming_std(leaky_kaiming_std)

# %% [markdown]
# **3. Initialize a whole network.** Write `init_relu_mlp(module)` for use with
# `net.apply(init_relu_mlp)`: it gives every `nn.Linear` Kaiming weights for ReLU and zero biases.
# The check applies it to a 784-512-256-128 ReLU MLP, as `net.apply` would, outside
# `torch.no_grad()`, and measures every layer; the weights must stay trainable parameters.

# %% tags=["exercise"]
def init_relu_mlp(module):
    # your code here
    raise NotImplementedError


d2l.exercises.check_relu_mlp_init(init_relu_mlp)

# %% [markdown]
# **4. The sigmoid's share.** Leave the weights aside: what is the largest factor by which the
# sigmoid derivatives of 10 layers can scale a gradient on its way back?

# %% tags=["exercise"]
sigmoid_factor_bound = None  # replace None with your answer

d2l.exercises.check_sigmoid_factor_bound(sigmoid_factor_bound)

# %% [markdown]
# The remaining exercises are open questions.
#
# 5. Add `"tanh, Xavier x 5/3"` (the gain PyTorch suggests) to the stack experiment. What happens
#    to the forward signal, and what to the backward one? Explain with the per-layer factor
#    $ns^2\,\mathbb{E}[\tanh'(h)^2]$.
# 6. Repeat the stack experiment with width 16 and then 512. How does the wobble of the Kaiming
#    curves change with width, and why?
# 7. Run the sigmoid stack with weight standard deviations $1, 2, 4, 8, 16$ times $1/\sqrt{n}$.
#    Does the gradient ever stop vanishing? What happens to the forward signal, and to the
#    fraction of sigmoid units that are saturated?
# 8. Would initializing all *biases* to the same constant cause a symmetry problem? What about
#    initializing all weights of only the *output* layer to zero?
# 9. The sigmoid is not centred: its outputs have mean $1/2$. How does a non-zero input mean
#    change the variance computation $\operatorname{Var}[o_i] = n_\text{in}s^2\gamma^2$?
# 10. Train the naive network of the last section for 10 epochs at learning rates 0.1, 0.3 and
#     1.0. Does it escape its plateau? What happens to its first-layer gradient, and why can a
#     larger learning rate not make up for a gradient that is $10^{-5}$ times too small?
#
# <details><summary>Reference results for exercise 10</summary>
#
# Measured with `OMP_NUM_THREADS=1 python benchmarks/exercise_refs/05_numerical_stability.py` on
# a 2-core x86_64 CPU, torch 2.14.1: the chapter's net and SGD with batch 256, seed 0, trained for
# 10 epochs (400 steps) on 10 000 training images (1 000 per class) and scored on 5 000 validation
# images held out from the training file. The gradient norm is the first layer's, on one training
# batch after training.
#
# | init | lr | val acc, epoch 1 | epoch 5 | epoch 10 | train loss, epoch 10 | first-layer grad norm |
# |---|---|---|---|---|---|---|
# | N(0, 0.01²) | 0.1 | 0.100 | 0.100 | 0.100 | 2.303 | 2.6e-05 |
# | N(0, 0.01²) | 0.3 | 0.100 | 0.100 | 0.100 | 2.303 | 7.6e-06 |
# | N(0, 0.01²) | 1.0 | 0.100 | 0.100 | 0.100 | 2.305 | 0.0e+00 |
# | Kaiming | 0.1 | 0.487 | 0.755 | 0.634 | 0.480 | 4.0e+00 |
#
# The naive net escapes at none of the three rates in 400 steps: its loss stays at
# $\ln 10 \approx 2.303$ and its validation accuracy at chance. Its first-layer gradient ends
# between $10^{-5}$ and $10^{-6}$ times the Kaiming net's, and at learning rate 1.0 it is exactly
# zero on the measured batch. The Kaiming net learns at the chapter's rate (its validation accuracy swings
# from epoch to epoch at this rate and on this small training set).
#
# </details>
