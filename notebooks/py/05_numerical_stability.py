# %% [markdown]
# # 05 Numerical stability and initialization
#
# So far we have initialized weights with "small random numbers" and not thought about it. In a
# deep network that choice decides whether training can start at all. Backpropagation multiplies
# one factor per layer; a product of many factors drifts towards zero or infinity unless each
# factor is close to one. This chapter shows:
#
# * **vanishing gradients**, caused by the sigmoid's flat tails;
# * **exploding** values, caused by products of random matrices;
# * the **symmetry problem**: identical initial weights give hidden units that stay identical;
# * **Xavier initialization**, derived from variance bookkeeping and checked empirically across a
#   30-layer stack, and **Kaiming initialization**, its correction for ReLU;
# * that our formulas match `torch.nn.init`, and what the initialization does to training on
#   Fashion-MNIST.

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
# autograd compute it and compare with the formula.

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
# Every sigmoid layer multiplies the backward signal by $\sigma'(h) \le 1/4$. To see what this
# does in depth we build a **stack** of $L$ fully connected layers of width $n$, no biases, one
# nonlinearity after each, feed it a batch of unit-variance inputs, send a unit-variance random
# gradient back from the top, and record two numbers per layer $l$:
#
# * the forward signal: the mean square of the pre-activations $\mathbf{h}^{(l)} = \mathbf{W}^{(l)}\mathbf{x}^{(l-1)}$;
# * the backward signal: the mean square of the gradient $\partial \text{loss} / \partial \mathbf{h}^{(l)}$.
#
# `retain_grad()` keeps the gradient of an intermediate tensor. The signals below range from about
# $10^{-30}$ to $10^{27}$, which float32 can still hold; their *squares* cannot, so we square and
# average in float64.

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
# The weights here have standard deviation $1/\sqrt{n}$, which keeps a linear layer's output
# variance equal to its input's (we derive this below), so the decay comes from the sigmoid alone:
# about a factor $\mathbb{E}[\sigma'(h)^2] < 1/16$ per layer. After 30 layers the first layers get
# a gradient dozens of orders of magnitude smaller than the last, and they cannot learn.

# %%
assert backward[0] < 1e-20 * backward[-1], "the gradient should vanish through 30 sigmoid layers"
per_layer = (backward[0] / backward[-1]) ** (1 / 29)
assert per_layer < 1 / 16, f"each sigmoid layer should shrink the gradient by more than 16x, got {per_layer:.3f}"
print(f"average shrink factor per layer: {per_layer:.3f}")

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
assert norms[99] > 1e15, "a product of 100 standard normal 4x4 matrices should explode"

plt.semilogy(range(1, 101), norms)
plt.xlabel("number of matrices multiplied")
plt.ylabel("Frobenius norm")
plt.show()

# %% [markdown]
# The logarithm of the norm grows about linearly, so the norm itself grows exponentially. A network
# initialized like this would produce gradients of $10^{20}$ and more: no learning rate can cope.
#
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
# weights drawn independently with mean $0$ and variance $\sigma^2$, independent of the inputs,
# which have mean $0$ and variance $\gamma^2$. Then $\mathbb{E}[o_i] = 0$ and
#
# $$\operatorname{Var}[o_i] = \sum_{j=1}^{n_\text{in}} \mathbb{E}[w_{ij}^2]\,\mathbb{E}[x_j^2]
#   = n_\text{in}\,\sigma^2\gamma^2 .$$
#
# The forward signal keeps its variance if $n_\text{in}\sigma^2 = 1$. Backpropagation runs the
# same layer transposed: $\partial \ell / \partial x_j = \sum_i w_{ij}\, \partial \ell / \partial o_i$,
# a sum over the $n_\text{out}$ outputs, so the gradient keeps its variance if
# $n_\text{out}\sigma^2 = 1$. Both cannot hold unless $n_\text{in} = n_\text{out}$; **Xavier
# (Glorot) initialization** takes the compromise
#
# $$\tfrac12(n_\text{in} + n_\text{out})\,\sigma^2 = 1
#   \quad\Longleftrightarrow\quad
#   \sigma = \sqrt{\frac{2}{n_\text{in} + n_\text{out}}} .$$
#
# Drawn from a normal distribution that is the standard deviation; drawn from a uniform
# distribution $U(-a, a)$, whose variance is $a^2/3$, it means $a = \sqrt{6/(n_\text{in} + n_\text{out})}$.
#
# The derivation treats the layer as linear. $\tanh$ is linear near zero ($\tanh'(0) = 1$) and
# centred, so Xavier suits it; the sigmoid is neither centred nor steep ($\sigma'(0) = 1/4$), which
# is why the sigmoid stack above still vanished.
#
# ## Kaiming initialization for ReLU
#
# A ReLU zeroes half of a symmetric input, so it halves the second moment:
# if $h$ is symmetric around zero, $\mathbb{E}[\max(0, h)^2] = \tfrac12\operatorname{Var}[h]$.
# The forward recursion becomes $\operatorname{Var}[h^{(l+1)}] = \tfrac12 n_\text{in}\sigma^2
# \operatorname{Var}[h^{(l)}]$, and **Kaiming (He) initialization** restores the factor of one by
# doubling the variance:
#
# $$\sigma = \sqrt{\frac{2}{n_\text{in}}}, \qquad
#   \text{or } U(-a, a) \text{ with } a = \sqrt{\frac{6}{n_\text{in}}} .$$

# %%
def xavier_std(fan_in, fan_out):
    return math.sqrt(2 / (fan_in + fan_out))


def kaiming_std(fan_in):
    return math.sqrt(2 / fan_in)


print(f"width {width}: Xavier std {xavier_std(width, width):.4f}, Kaiming std {kaiming_std(width):.4f}")

# %% [markdown]
# ### Our formulas against `torch.nn.init`
#
# PyTorch's initializers act in place on a weight of shape `(fan_out, fan_in)`, the layout of
# `nn.Linear.weight`. We give a large weight different fan-in and fan-out (a mixed-up fan would
# change the Kaiming std by $\sqrt{3}$) and compare its empirical standard deviation, over 480 000
# draws, with our formulas. The standard error of a sample std is about $\sigma/\sqrt{2N}$, i.e.
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
# tanh and std 1 the forward signal looks harmless, but every unit is saturated at $\pm 1$ and the
# backward signal explodes by a factor of about $n\sigma^2\,\mathbb{E}[\tanh'(h)^2] \approx 6$
# per layer.
#
# The matched pairs stay flat. Kaiming under ReLU keeps both signals within a small factor; the
# wobble is finite-width noise, since every random layer changes the variance slightly. Xavier
# under tanh drifts down slowly: tanh is only approximately linear, and for small variance $v$,
# $\mathbb{E}[\tanh(h)^2] \approx v - 2v^2$, a loss that makes the variance decay like $1/(2l)$:
# polynomially, not exponentially. (`nn.init.calculate_gain("tanh")` $= 5/3$ is PyTorch's
# suggested correction.) We assert these measured behaviours, with margins:
#
# * each naive scheme spreads its forward or backward signal by more than $10^6$ over the stack;
# * Xavier/tanh stays within a factor of 100 and loses less than 15 % per layer on average;
# * Kaiming/ReLU stays within a factor of 20 in both directions.

# %%
for name in ("tanh, std 0.01", "tanh, std 1", "ReLU, std 1", "ReLU, Xavier"):
    fwd, bwd = results[name]
    assert max(spread(fwd), spread(bwd)) > 1e6, f"{name} should vanish or explode"

fwd, bwd = results["tanh, Xavier"]
assert spread(fwd) < 100 and spread(bwd) < 100, "Xavier should keep tanh's signals within 100x"
assert (fwd[-1] / fwd[1]) ** (1 / 28) > 0.85 and (bwd[1] / bwd[-1]) ** (1 / 28) > 0.85

fwd, bwd = results["ReLU, Kaiming"]
assert spread(fwd) < 20 and spread(bwd) < 20, "Kaiming should keep ReLU's signals within 20x"

# ReLU halves the second moment: Xavier (n * sigma^2 = 1) loses a factor near 2 per layer.
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
first_grad = {}
for name, net in nets.items():
    net.zero_grad()
    loss(net(X), y).backward()
    first_grad[name] = net[1].weight.grad.norm().item()
    net.zero_grad()
    print(f"{name:13s} gradient norm at the first layer: {first_grad[name]:.2e}")
assert first_grad["N(0, 0.01^2)"] < 1e-3 * first_grad["Kaiming"], "the naive gradient should vanish"

# %% [markdown]
# Training both with the same SGD settings (learning rate 0.1, 5 epochs): the naive network's
# loss sits near $\ln 10 \approx 2.30$, the value of a uniform guess, while the Kaiming network
# learns from the first epoch.

# %%
histories = {}
for name, net in nets.items():
    print(name)
    optimizer = torch.optim.SGD(net.parameters(), lr=lr)
    histories[name] = d2l.train_ch3(net, train_iter, test_iter, loss, num_epochs, batch_size,
                                    optimizer=optimizer)

# %%
for name, history in histories.items():
    assert all(math.isfinite(v) for v in history["train_loss"]), name
d2l.check_accuracy(histories["Kaiming"], 0.78)

# %% [markdown]
# ## Summary
#
# * Gradients in a deep network are products of per-layer factors; unless each is near one they
#   vanish or explode exponentially in depth. Sigmoids ($\sigma' \le 1/4$) make them vanish;
#   large random matrices make them explode.
# * Identical initial weights make hidden units identical forever; initialization must be random.
# * Xavier initialization, $\sigma^2 = 2/(n_\text{in} + n_\text{out})$, balances forward and
#   backward variance for layers that act linearly near zero, such as tanh.
# * Kaiming initialization, $\sigma^2 = 2/n_\text{in}$, compensates the halving by ReLU; it is
#   `nn.init.kaiming_normal_(w, nonlinearity="relu")`.
#
# ## Exercises
#
# 1. Add `"tanh, Xavier x 5/3"` (the gain PyTorch suggests) to the stack experiment. What happens
#    to the forward signal, and what to the backward one? Explain with the per-layer factor
#    $n\sigma^2\,\mathbb{E}[\tanh'(h)^2]$.
# 2. Repeat the stack experiment with width 16 and then 512. How does the wobble of the Kaiming
#    curves change with width, and why?
# 3. Derive the Kaiming variance for a leaky ReLU with slope $\alpha$ on negative inputs, and check
#    it against `nn.init.calculate_gain("leaky_relu", alpha)`.
# 4. Would initializing all *biases* to the same constant cause a symmetry problem? What about
#    initializing all weights of only the *output* layer to zero?
# 5. The sigmoid is not centred: its outputs have mean $1/2$. How does a non-zero input mean
#    change the variance computation $\operatorname{Var}[o_i] = n_\text{in}\sigma^2\gamma^2$?
# 6. Train the naive network of the last section for more epochs or with a larger learning rate.
#    Does it eventually escape? What does the first-layer gradient look like when it does?
