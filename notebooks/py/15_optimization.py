# %% [markdown]
# # 15 · Optimization algorithms
#
# The chapters so far trained with a handful of optimizer lines: `torch.optim.SGD(...,
# momentum=0.9)` in chapters 09, 10, 13 and 14, `torch.optim.Adam(...)` in chapters 06, 07, 08,
# 11 and 12, a `weight_decay` in chapter 04, a cosine schedule in chapters 12 to 14. None of them
# derived what those lines compute or measured why one works better than another. This chapter
# does. You will
#
# * see why optimization is hard even for a two-parameter quadratic: the zig-zag of gradient
#   descent in a narrow valley, the learning-rate bound $2/L$ (checked just below and just above
#   it), and a saddle point where the gradient vanishes without a minimum;
# * meet convexity briefly, and two methods that use curvature: Newton's method (one step on a
#   quadratic) and conjugate gradient (at most $n$ steps in $n$ dimensions);
# * measure the noise of minibatch gradients against the batch size, and state the linear
#   scaling rule for the learning rate;
# * write **momentum** (heavy ball and Nesterov), **AdaGrad**, **RMSProp**, **Adam** (with its
#   bias correction derived) and **AdamW** from scratch, each checked step for step against
#   `torch.optim`;
# * build step, cosine and warmup schedules, and see why a fixed learning rate leaves a noise
#   floor;
# * train one network five times, changing only the optimizer, with learning rates chosen on a
#   validation split;
# * go back to chapter 11 and measure why SGD stalled on NiN where Adam did not.

# %%
import copy
import math

import matplotlib.pyplot as plt
import torch
from torch import nn
from torch.nn import functional as F
import d2lmini as d2l

d2l.set_seed(0)
print(d2l.profile_summary())
d2l.use_svg_display()

# %% [markdown]
# ## 1. Why optimization is hard
#
# ### An ill-conditioned quadratic
#
# Training minimizes a loss $f(\boldsymbol\theta)$ by **gradient descent**,
# $\boldsymbol\theta_{k+1} = \boldsymbol\theta_k - \eta\,\nabla f(\boldsymbol\theta_k)$. Its
# difficulties already show on the simplest loss with curvature, a quadratic in two variables,
#
# $$f(\mathbf{x}) = \tfrac12\,\mathbf{x}^\top A\,\mathbf{x} = \tfrac12\left(\mu x_1^2 + L x_2^2\right),
# \qquad A = \begin{pmatrix}\mu & 0\\ 0 & L\end{pmatrix},\quad \mu = 1,\ L = 50 .$$
#
# Its minimum is at $\mathbf{0}$; its contours are ellipses, 50 times more curved along $x_2$
# than along $x_1$. The ratio of the largest to the smallest curvature (eigenvalue of the Hessian
# $A$) is the **condition number** $\kappa = L/\mu = 50$. The gradient is $A\mathbf{x}$, so a
# step multiplies each coordinate by its own factor:
#
# $$x_{i,k+1} = (1 - \eta\lambda_i)\,x_{i,k}, \qquad \lambda_1 = \mu,\ \lambda_2 = L .$$
#
# Every coordinate shrinks only if $|1 - \eta\lambda_i| < 1$ for both, that is if
# $0 < \eta < 2/L$: **the steepest direction sets the largest usable learning rate**. Close to
# that bound, $1 - \eta L$ is close to $-1$: $x_2$ flips sign at every step, the zig-zag across the
# valley, while $x_1$ shrinks only by $1 - \eta\mu \approx 0.96$ per step, the slow crawl along
# it. We run gradient descent just below and just above the bound (in float64, so that rounding
# plays no part).

# %%
mu, L = 1.0, 50.0
A = torch.diag(torch.tensor([mu, L], dtype=torch.float64))
x_start = torch.tensor([-9.0, 1.0], dtype=torch.float64)


def quadratic(x):
    return 0.5 * x @ A @ x


def gradient_descent(grad, x, lr, steps):
    """The points x_0, x_1, ..., x_steps of gradient descent with a fixed learning rate."""
    path = [x]
    for _ in range(steps):
        x = x - lr * grad(x)
        path.append(x)
    return torch.stack(path)


kappa = (torch.linalg.eigvalsh(A).max() / torch.linalg.eigvalsh(A).min()).item()
below = gradient_descent(lambda x: A @ x, x_start, 0.99 * 2 / L, 200)
above = gradient_descent(lambda x: A @ x, x_start, 1.01 * 2 / L, 200)
f_below, f_above = quadratic(below[-1]).item(), quadratic(above[-1]).item()
print(f"condition number {kappa:.0f}; f at the start {quadratic(x_start).item():.1f}")
print(f"lr = 0.99 * 2/L: f after 200 steps {f_below:.3g};  lr = 1.01 * 2/L: {f_above:.3g}")
assert kappa == 50
assert f_below < 1e-2 * quadratic(x_start) < f_above  # just below the bound it converges, above not
signs = torch.sign(below[:50, 1])
assert torch.all(signs[1:] == -signs[:-1])  # x_2 flips sign at every step: the zig-zag

# %% [markdown]
# The best fixed learning rate balances the two factors, $1 - \eta\mu = -(1 - \eta L)$, at
# $\eta = 2/(L + \mu)$; both then have the size $q = (\kappa - 1)/(\kappa + 1)$, so
# $f(\mathbf{x}_k) = q^{2k} f(\mathbf{x}_0)$ exactly and the number of steps to shrink $f$ by a
# factor of $10^6$ is $\lceil \ln 10^{-6} / (2\ln q)\rceil$. With
# $q = 49/51$ that is 173 steps, roughly $\kappa$ times a constant: **the number of steps grows in
# proportion to the condition number**. A network's loss has as many directions of curvature as
# it has weights, and nothing makes their curvatures equal; the methods of this chapter are ways
# around that.

# %%
def steps_to_shrink(path, f, factor=1e-6):
    """The first k at which f(path[k]) <= factor * f(path[0])."""
    values = torch.stack([f(x) for x in path])
    return int(torch.nonzero(values <= factor * values[0])[0])


q = (kappa - 1) / (kappa + 1)
best = gradient_descent(lambda x: A @ x, x_start, 2 / (L + mu), 400)
steps_gd = steps_to_shrink(best, quadratic)
predicted = math.ceil(math.log(1e-6) / (2 * math.log(q)))
print(f"lr = 2/(L + mu): f shrinks by 1e6 after {steps_gd} steps (predicted {predicted})")
assert steps_gd == predicted == 173

# %% [markdown]
# On the contours: on the left the first 40 steps just below $2/L$ (zig-zag) and at
# $\eta = 1/L$, which removes $x_2$ in one step and then crawls; on the right the loss over the
# steps for four learning rates, one of them just above the bound.

# %%
def quadratic_contours(ax, xlim=(-10, 3), ylim=(-1.5, 1.5)):
    """Contour lines of the quadratic, 1/2 x^T A x, on a grid."""
    grid_x, grid_y = torch.meshgrid(torch.linspace(*xlim, 200, dtype=torch.float64),
                                    torch.linspace(*ylim, 200, dtype=torch.float64), indexing="xy")
    values = 0.5 * (A[0, 0] * grid_x ** 2 + A[1, 1] * grid_y ** 2)
    ax.contour(grid_x, grid_y, values, levels=[0.5, 2, 5, 10, 20, 30, 40], colors="gray",
               linewidths=0.6)
    ax.set(xlabel="$x_1$", ylabel="$x_2$")


fig, axes = plt.subplots(1, 2, figsize=(9, 3))
quadratic_contours(axes[0])
for lr, name in [(0.99 * 2 / L, "lr = 0.99 · 2/L"), (1 / L, "lr = 1/L")]:
    path = gradient_descent(lambda x: A @ x, x_start, lr, 40)
    axes[0].plot(path[:, 0], path[:, 1], marker=".", markersize=4, lw=0.8, label=name)
axes[0].legend(fontsize=8)
for lr, name in [(1 / L, "1/L"), (2 / (L + mu), "2/(L+μ)"), (0.99 * 2 / L, "0.99 · 2/L"),
                 (1.01 * 2 / L, "1.01 · 2/L")]:
    path = gradient_descent(lambda x: A @ x, x_start, lr, 200)
    axes[1].semilogy([quadratic(x).item() for x in path], label=f"lr = {name}")
axes[1].set(xlabel="step", ylabel="f")
axes[1].legend(fontsize=8)
fig.tight_layout()
plt.show()

# %% [markdown]
# ### A saddle point
#
# A point where the gradient vanishes need not be a minimum. For
# $f(x, y) = x^2 - y^2$ the origin is a **saddle**: a minimum along $x$, a maximum along $y$; its
# Hessian has one positive and one negative eigenvalue. Gradient descent multiplies $x$ by
# $1 - 2\eta$ and $y$ by $1 + 2\eta$ at each step. Started close to the $x$-axis ($y_0$ tiny),
# the one line along which it would run straight into the saddle, it first slides down to the
# origin and then needs many steps to leave it, since $y$ grows from $y_0$ only geometrically: about $\ln(c/y_0)/\ln(1 + 2\eta)$ steps to reach a size $c$. All that time the
# gradient is small. A rule that stops when the gradient is small would stop there, at a point
# that is not a minimum. We count the steps whose gradient norm is below 0.1, for $y_0 = 10^{-4}$
# and $y_0 = 10^{-8}$ with $\eta = 0.1$.

# %%
def saddle(p):
    return p[0] ** 2 - p[1] ** 2


def saddle_grad(p):
    return torch.stack([2 * p[0], -2 * p[1]])


hessian = torch.autograd.functional.hessian(saddle, torch.zeros(2, dtype=torch.float64))
eigenvalues = torch.linalg.eigvalsh(hessian)
lingering = {}
for y0 in (1e-4, 1e-8):
    path = gradient_descent(saddle_grad, torch.tensor([1.0, y0], dtype=torch.float64), 0.1, 150)
    grad_norms = torch.stack([saddle_grad(p).norm() for p in path])
    lingering[y0] = int((grad_norms < 0.1).sum())
    print(f"y0 = {y0:g}: {lingering[y0]} steps with |grad| < 0.1, smallest |grad| "
          f"{grad_norms.min():.1e}, f after 150 steps {saddle(path[-1]):.3g}")
extra = math.log(1e4) / math.log(1 + 2 * 0.1)  # y must grow 1e4 times more from 1e-8
print(f"Hessian eigenvalues {eigenvalues.tolist()}; predicted extra steps near the saddle "
      f"for y0 = 1e-8: {extra:.1f}")
assert eigenvalues[0] < 0 < eigenvalues[1]
assert abs((lingering[1e-8] - lingering[1e-4]) - extra) <= 2
assert grad_norms.min() < 1e-3 and saddle(path[-1]) < -1  # tiny gradient, yet f goes on falling

# %% [markdown]
# ### Convexity, briefly
#
# A function is **convex** when the chord between any two points lies on or above it:
# $f(\lambda\mathbf{a} + (1-\lambda)\mathbf{b}) \le \lambda f(\mathbf{a}) + (1-\lambda) f(\mathbf{b})$
# for $0 \le \lambda \le 1$; for a twice differentiable $f$ this holds exactly when the Hessian is
# positive semidefinite everywhere. The quadratic above is convex; the saddle is not. Convexity
# buys a lot: every local minimum is a global one, and for a convex $f$ whose gradient is
# $L$-Lipschitz, gradient descent with $\eta \le 1/L$ is guaranteed to approach the minimum value,
# with an error at most $\|\mathbf{x}_0 - \mathbf{x}^*\|^2/(2\eta k)$ after $k$ steps.
#
# The loss of a neural network is **not** convex in its weights, and one symmetry is enough to
# show it. Swap two hidden units of an MLP (their incoming weights and biases, and their outgoing
# weights): the network computes exactly the same function, so the loss is the same. If the loss
# were convex, the midpoint of the two weight settings would have a loss no higher. But at the
# midpoint the two units become identical copies of their average, which a trained network has
# no reason to like; one pair whose midpoint has a higher loss disproves convexity. We train a
# small MLP (784 inputs, 32 hidden ReLU units, 10 outputs; we use it again below) for 50 SGD
# steps on one batch of 64 training images, swap unit 0 with each of the other 31 units in turn,
# and report the pair whose midpoint is worst.

# %%
def tiny_mlp():
    return nn.Sequential(d2l.FlattenLayer(), nn.Linear(784, 32), nn.ReLU(), nn.Linear(32, 10))


def swap_hidden_units(net, i, j):
    """A copy of `net` (a tiny_mlp) with hidden units i and j exchanged: the same function."""
    order = torch.arange(net[1].out_features)
    order[[i, j]] = order[[j, i]]
    other = copy.deepcopy(net)
    with torch.no_grad():
        other[1].weight.copy_(net[1].weight[order])
        other[1].bias.copy_(net[1].bias[order])
        other[3].weight.copy_(net[3].weight[:, order])
    return other


def midpoint(net_a, net_b):
    middle = copy.deepcopy(net_a)
    with torch.no_grad():
        for p, a, b in zip(middle.parameters(), net_a.parameters(), net_b.parameters()):
            p.copy_((a + b) / 2)
    return middle


train_iter_64, _ = d2l.load_data_fashion_mnist(64)
X_64, y_64 = next(iter(train_iter_64))
d2l.set_seed(0)
net = tiny_mlp()
optimizer = torch.optim.SGD(net.parameters(), lr=0.1)
for _ in range(50):
    loss = F.cross_entropy(net(X_64), y_64)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
with torch.no_grad():
    loss_net = F.cross_entropy(net(X_64), y_64).item()
    swapped = {j: swap_hidden_units(net, 0, j) for j in range(1, 32)}
    loss_swapped = {j: F.cross_entropy(other(X_64), y_64).item() for j, other in swapped.items()}
    loss_middle = {j: F.cross_entropy(midpoint(net, other)(X_64), y_64).item()
                   for j, other in swapped.items()}
worst = max(loss_middle, key=loss_middle.get)
print(f"loss {loss_net:.4f}; with units 0 and {worst} swapped {loss_swapped[worst]:.4f}; "
      f"at the midpoint {loss_middle[worst]:.4f}")
assert all(abs(v - loss_net) < 1e-5 for v in loss_swapped.values())  # swapping changes nothing
assert loss_middle[worst] > loss_net + 0.01  # a chord below the function: not convex

# %% [markdown]
# ### Newton's method: curvature in one step
#
# Gradient descent uses only the slope. **Newton's method** also uses the curvature, the Hessian
# $H = \nabla^2 f$: it jumps to the minimum of the local quadratic model,
#
# $$\mathbf{x}_{k+1} = \mathbf{x}_k - H(\mathbf{x}_k)^{-1}\,\nabla f(\mathbf{x}_k).$$
#
# On a quadratic $f(\mathbf{x}) = \tfrac12\mathbf{x}^\top A\mathbf{x} - \mathbf{b}^\top\mathbf{x}$
# the model is exact: $H = A$, $\nabla f = A\mathbf{x} - \mathbf{b}$, and one step from anywhere
# lands on $\mathbf{x}^* = A^{-1}\mathbf{b}$, **whatever the condition number**. We check it on
# our ill-conditioned $A$ rotated by 30° (so that it is not diagonal), with the Hessian computed
# by autograd.

# %%
angle = torch.tensor(math.pi / 6, dtype=torch.float64)
R = torch.stack([torch.stack([angle.cos(), -angle.sin()]), torch.stack([angle.sin(), angle.cos()])])
A_rot = R @ A @ R.T
b = torch.tensor([1.0, -2.0], dtype=torch.float64)


def tilted(x):
    return 0.5 * x @ A_rot @ x - b @ x


def newton_step(f, x):
    x = x.detach().requires_grad_()
    grad = torch.autograd.grad(f(x), x)[0]
    return (x - torch.linalg.solve(torch.autograd.functional.hessian(f, x), grad)).detach()


x_star = torch.linalg.solve(A_rot, b)
x_newton = newton_step(tilted, x_start)
print(f"minimum ({x_star[0]:.6f}, {x_star[1]:.6f}); one Newton step from (-9, 1) lands at "
      f"({x_newton[0]:.6f}, {x_newton[1]:.6f})")
torch.testing.assert_close(x_newton, x_star)
gd_10 = gradient_descent(lambda x: A_rot @ x - b, x_start, 2 / (L + mu), 10)[-1]
assert (gd_10 - x_star).norm() > 0.1 * (x_start - x_star).norm()  # gradient descent: far after 10

# %% [markdown]
# Newton's method has two problems for deep networks. On a non-convex loss it is attracted by
# saddle points too: one Newton step on $x^2 - y^2$ goes from anywhere straight to the saddle at
# the origin (its quadratic model is the function itself). And it is expensive: a network with
# $d$ parameters has a Hessian of $d^2$ entries, and solving with it costs on the order of $d^3$
# operations. For chapter 04's MLP, which section 6 trains, that is:

# %%
x_saddle = newton_step(saddle, torch.tensor([0.7, -0.4], dtype=torch.float64))
torch.testing.assert_close(x_saddle, torch.zeros(2, dtype=torch.float64))


def mlp():
    """Chapter 04's MLP: two hidden layers of 256 ReLU units with dropout 0.2 and 0.5."""
    return nn.Sequential(d2l.FlattenLayer(),
                         nn.Linear(784, 256), nn.ReLU(), nn.Dropout(0.2),
                         nn.Linear(256, 256), nn.ReLU(), nn.Dropout(0.5),
                         nn.Linear(256, 10))


d = d2l.num_params(mlp())
print(f"d = {d:,} parameters: the Hessian has {d * d:.2e} entries, {4 * d * d / 1e9:,.0f} GB "
      f"in float32; one solve costs about d^3 / 3 = {d ** 3 / 3:.1e} multiply-adds")
assert d == 784 * 256 + 256 + 256 * 256 + 256 + 256 * 10 + 10

# %% [markdown]
# ### Conjugate gradient, in one paragraph
#
# Between the two sits **conjugate gradient** (Hestenes and Stiefel, 1952), for quadratics with a
# symmetric positive definite $A$. It needs only products $A\mathbf{p}$, never $A^{-1}$. Each step
# minimizes $f$ exactly along a direction $\mathbf{p}_k$ and chooses the directions
# **$A$-conjugate** ($\mathbf{p}_i^\top A\,\mathbf{p}_j = 0$ for $i \ne j$), so that a later step
# never undoes the progress of an earlier one; in exact arithmetic it reaches the minimum of an
# $n$-dimensional quadratic in at most $n$ steps. We check this on the tilted 2-D quadratic and on
# a 10-dimensional one whose curvatures range from 1 to 100 (in floating point the directions
# slowly lose their conjugacy, the faster the larger the condition number, so "exact" means to
# within rounding). Conjugate gradient relies on the loss being exactly quadratic and the gradients
# exact; with minibatch noise and a changing Hessian that breaks down, and it is not used to train
# networks like ours.

# %%
def conjugate_gradient(A, b, x, steps):
    """The iterates of conjugate gradient for 1/2 x^T A x - b^T x."""
    r = b - A @ x  # the negative gradient
    p, path = r, [x]
    for _ in range(steps):
        Ap = A @ p
        alpha = (r @ r) / (p @ Ap)  # exact minimization along p
        x, r_new = x + alpha * p, r - alpha * Ap
        p = r_new + (r_new @ r_new) / (r @ r) * p  # the next direction, A-conjugate to p
        r = r_new
        path.append(x)
    return path


cg_path = conjugate_gradient(A_rot, b, x_start, 2)
gen = torch.Generator().manual_seed(0)
Q, _ = torch.linalg.qr(torch.randn(10, 10, generator=gen, dtype=torch.float64))
A_10 = Q @ torch.diag(torch.logspace(0, 2, 10, dtype=torch.float64)) @ Q.T
b_10 = torch.randn(10, generator=gen, dtype=torch.float64)
x_star_10 = torch.linalg.solve(A_10, b_10)
cg_10 = conjugate_gradient(A_10, b_10, torch.zeros(10, dtype=torch.float64), 10)
errors = [((x - x_star_10).norm() / x_star_10.norm()).item() for x in cg_10]
print("2-D: distance to the minimum after 0, 1, 2 steps:",
      " ".join(f"{(x - x_star).norm().item():.1e}" for x in cg_path))
print("10-D, condition number 100: relative error after 8, 9, 10 steps:",
      " ".join(f"{e:.1e}" for e in errors[8:]))
assert (cg_path[1] - x_star).norm() > 0.1
torch.testing.assert_close(cg_path[2], x_star)
assert errors[9] > 1e-3 and errors[10] < 1e-7  # not yet after n - 1 steps, exact after n

# %% [markdown]
# ## 2. Minibatch SGD and its noise
#
# The training loss is an average over $N$ examples,
# $f(\boldsymbol\theta) = \frac1N\sum_i \ell_i(\boldsymbol\theta)$. **Minibatch SGD** replaces its
# gradient by the average over a random batch $\mathcal{B}$ of $B$ examples,
# $\mathbf{g}_\mathcal{B} = \frac1B\sum_{i\in\mathcal{B}}\nabla\ell_i$. Over the random choice of
# the batch, $\mathbf{g}_\mathcal{B}$ is unbiased (its mean is the full gradient $\mathbf{g}$),
# and for a batch drawn without replacement its mean squared error is
#
# $$\mathbb{E}\,\|\mathbf{g}_\mathcal{B} - \mathbf{g}\|^2 = \frac{\sigma^2}{B}\cdot\frac{N - B}{N - 1},
# \qquad \sigma^2 = \frac1N\sum_i \|\nabla\ell_i - \mathbf{g}\|^2 ,$$
#
# so four times the batch buys half the noise (in norm), at four times the cost per step. We
# measure it. `torch.func` gives every example's gradient at once (`vmap` of `grad`), here for the
# small MLP on $N = 200$ training images. The squared error of one batch needs only the inner
# products of the centred per-example gradients, $\|\mathbf{g}_\mathcal{B} - \mathbf{g}\|^2 =
# \frac{1}{B^2}\sum_{i, j \in \mathcal{B}} (\nabla\ell_i - \mathbf{g})^\top(\nabla\ell_j - \mathbf{g})$,
# so we can afford 5000 random batches of each size and compare their mean squared error with the
# formula.

# %%
from torch.func import functional_call, grad, vmap

train_iter_8, _ = d2l.load_data_fashion_mnist(8)
# 25 batches of 8 images (200 in all), in float64 like the small MLP below: the step-by-step
# checks of sections 2 to 4 then compare to about 15 digits, so that even a slight slip shows
batches = [(X.double(), y) for _, (X, y) in zip(range(25), train_iter_8)]
X_pool, y_pool = torch.cat([X for X, _ in batches]), torch.cat([y for _, y in batches])
d2l.set_seed(0)
tiny = tiny_mlp().double()  # the start of every step-by-step check below


def example_loss(params, x, y):
    return F.cross_entropy(functional_call(tiny, params, (x[None],)), y[None])


params = {name: p.detach() for name, p in tiny.named_parameters()}
per_example = vmap(grad(example_loss), in_dims=(None, 0, 0))(params, X_pool, y_pool)
G = torch.cat([g.reshape(len(X_pool), -1) for g in per_example.values()], dim=1)  # (N, d)
full_grad = G.mean(dim=0)
tiny.zero_grad()
F.cross_entropy(tiny(X_pool), y_pool).backward()
torch.testing.assert_close(full_grad, torch.cat([p.grad.flatten() for p in tiny.parameters()]))
tiny.zero_grad(set_to_none=True)

N = len(X_pool)
centred = G - full_grad
inner = centred @ centred.T  # (N, N): every pair of centred per-example gradients
sigma2 = inner.diagonal().mean().item()
gen = torch.Generator().manual_seed(0)
noise = {}
for B in (4, 16, 64):
    # 5000 batches drawn without replacement (the first B of a random permutation each), as 0/1
    # rows: each row's quadratic form with `inner` sums the inner products within its batch
    order = torch.rand(5000, N, generator=gen).argsort(dim=1)
    chosen = torch.zeros(5000, N, dtype=torch.float64).scatter_(1, order[:, :B], 1.0)
    squared_errors = ((chosen @ inner) * chosen).sum(dim=1) / B ** 2
    noise[B] = (squared_errors.mean().item(), sigma2 / B * (N - B) / (N - 1))
    print(f"B = {B:2d}: mean squared error {noise[B][0]:.3f}, formula {noise[B][1]:.3f}")
print(f"squared norm of the full gradient: {(full_grad ** 2).sum():.3f}")
assert all(0.9 < measured / formula < 1.1 for measured, formula in noise.values())

# %% [markdown]
# In this draw, at $B = 4$ the error of a minibatch gradient is several times larger than the
# gradient itself (compare the last line). The steps still make progress on average: the errors
# of successive batches are nearly independent, so over $k$ steps they add up like a random walk,
# to about $\sqrt k$ times one error, while the gradient's steady part adds up $k$ times. That
# noise is also why the learning rate has to come down late in training (section 5).
#
# ### The linear scaling rule
#
# If the batch grows $k$ times, how should the learning rate change? Goyal et al. (2017, *Accurate,
# Large Minibatch SGD: Training ImageNet in 1 Hour*) proposed the **linear scaling rule**: when the
# minibatch size is multiplied by $k$, multiply the learning rate by $k$. The argument: $k$ steps
# with batches $\mathcal{B}_1, \dots, \mathcal{B}_k$ and rate $\eta$ move the weights by
# $-\eta\sum_j \mathbf{g}_{\mathcal{B}_j}(\boldsymbol\theta_{t+j})$, one step with their union and
# rate $k\eta$ by $-k\eta\,\mathbf{g}_{\cup\mathcal{B}_j}(\boldsymbol\theta_t) =
# -\eta\sum_j\mathbf{g}_{\mathcal{B}_j}(\boldsymbol\theta_t)$. The two agree as far as the
# gradients at $\boldsymbol\theta_{t+j}$ and at $\boldsymbol\theta_t$ agree, that is while the
# steps are small. With this rule and a warmup (section 5) they trained a ResNet-50 on ImageNet
# with minibatches of 8192 images on 256 GPUs in one hour. We compare 4 steps with batches of 16
# at rate $\eta$ against one step with the 64 images together at $4\eta$, from the same start: the
# gap grows with $\eta$.

# %%
def sgd_steps(net, chunks, lr):
    """A copy of net after plain SGD steps, one per (X, y) chunk."""
    net = copy.deepcopy(net)
    optimizer = torch.optim.SGD(net.parameters(), lr=lr)
    for X, y in chunks:
        loss = F.cross_entropy(net(X), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return net


def flat(net):
    return torch.cat([p.detach().flatten() for p in net.parameters()])


X64, y64 = X_pool[:64], y_pool[:64]
gaps = {}
for lr in (0.001, 0.01, 0.1, 0.5):
    small = flat(sgd_steps(tiny, zip(X64.chunk(4), y64.chunk(4)), lr)) - flat(tiny)
    large = flat(sgd_steps(tiny, [(X64, y64)], 4 * lr)) - flat(tiny)
    gaps[lr] = ((small - large).norm() / large.norm()).item()
    print(f"lr {lr:5}: 4 steps of 16 and 1 step of 64 at 4 lr differ by {gaps[lr]:.1%} of the step")
values = list(gaps.values())
assert all(a < b for a, b in zip(values, values[1:])) and values[0] < 0.1 < 0.5 < values[-1]

# %% [markdown]
# The rule is a first-order argument: it holds while the learning rate is small enough that the
# gradient changes little over $k$ steps (Goyal et al. report no loss of accuracy up to
# minibatches of 8192 images, with the warmup). It is a starting point for the learning rate at a
# new batch size, not a substitute for tuning it.
#
# ### SGD from scratch, checked against `torch.optim.SGD`
#
# All the optimizers of this chapter share one skeleton: a `torch.optim.Optimizer` whose `step`
# visits every parameter that has a gradient and hands it, with the parameter's own **state**
# (velocities, running averages) and its group's settings, to an `update` method. Writing them as
# `Optimizer` subclasses means that everything that takes a `torch.optim` optimizer (the
# schedulers of section 5, `d2l.train_ch3`) takes ours too. The skeleton also applies **weight
# decay** in one of two ways, as the gradient of an $L_2$ penalty or decoupled from the gradient;
# section 4 compares them.

# %%
class ScratchOptimizer(torch.optim.Optimizer):
    """The shared skeleton: weight decay, then the subclass's update, for every parameter."""

    def __init__(self, params, **settings):
        settings.setdefault("weight_decay", 0.0)
        settings.setdefault("decoupled", False)
        super().__init__(params, settings)

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            lr, wd = group["lr"], group["weight_decay"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = p.grad
                if wd and group["decoupled"]:
                    p.mul_(1 - lr * wd)  # decoupled: shrink the weight itself
                elif wd:
                    g = g + wd * p  # L2 penalty wd/2 |p|^2 in the loss: its gradient joins g
                self.update(p, g, self.state[p], group)

    def update(self, p, g, state, group):
        raise NotImplementedError


class SGD(ScratchOptimizer):
    def __init__(self, params, lr, **decay):
        super().__init__(params, lr=lr, **decay)

    def update(self, p, g, state, group):
        p.sub_(group["lr"] * g)


# %% [markdown]
# To compare with PyTorch we train two copies of the small MLP from the same start on the same 25
# batches of 8 training images, one with our optimizer and one with PyTorch's, and record all the
# parameters after every step. `torch.testing.assert_close` then compares the two trajectories
# step for step; in float64 its tolerance is $10^{-7}$, relative and absolute, while a step of
# these optimizers moves a weight by about $10^{-3}$ to $10^{-2}$.

# %%
def trajectory(net, make_optimizer, batches, l2=0.0):
    """All of net's parameters, flattened, after each step of training a copy of it on
    `batches` with the optimizer `make_optimizer(parameters)`; `l2` adds (l2 / 2) |theta|^2 to
    the loss."""
    net = copy.deepcopy(net)
    optimizer = make_optimizer(net.parameters())
    path = []
    for X, y in batches:
        loss = F.cross_entropy(net(X), y)
        if l2:
            loss = loss + l2 / 2 * sum((p ** 2).sum() for p in net.parameters())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        path.append(flat(net))
    return torch.stack(path)


def same_path(path_a, path_b):
    """True when two trajectories agree at every step within assert_close's tolerance."""
    try:
        torch.testing.assert_close(path_a, path_b)
    except AssertionError:
        return False
    return True


ours = trajectory(tiny, lambda p: SGD(p, lr=0.1), batches)
theirs = trajectory(tiny, lambda p: torch.optim.SGD(p, lr=0.1), batches)
torch.testing.assert_close(ours, theirs)
assert not same_path(ours, trajectory(tiny, lambda p: torch.optim.SGD(p, lr=0.1001), batches))
print(f"{len(ours)} steps of our SGD match torch.optim.SGD (largest difference "
      f"{(ours - theirs).abs().max():.1e}); the parameters moved by "
      f"{(ours[-1] - flat(tiny)).norm():.3f} in all")

# %% [markdown]
# The last assert shows that the comparison is sharp: a learning rate 0.1 % off already leaves
# the tolerance.
#
# ## 3. Momentum
#
# In the narrow valley of section 1, successive gradients along $x_2$ point in opposite
# directions and those along $x_1$ in the same one. **Momentum** averages them: Polyak's (1964)
# **heavy ball** keeps a velocity, a running sum of past gradients,
#
# $$\mathbf{v}_t = \beta\,\mathbf{v}_{t-1} + \mathbf{g}_t, \qquad
# \boldsymbol\theta_t = \boldsymbol\theta_{t-1} - \eta\,\mathbf{v}_t, \qquad \mathbf{v}_0 = \mathbf{0},$$
#
# so $\mathbf{v}_t = \sum_{s=1}^{t}\beta^{t-s}\mathbf{g}_s$: oscillating components cancel, steady
# ones add up. For a constant gradient $\mathbf{g}$ the sum is
# $\mathbf{v}_t = \frac{1-\beta^t}{1-\beta}\mathbf{g} \to \frac{\mathbf{g}}{1-\beta}$: the
# **effective step is $\eta/(1-\beta)$**, ten times $\eta$ for the usual $\beta = 0.9$. (This is
# PyTorch's form. Sutskever et al., 2013, write $\mathbf{v}_t = \beta\mathbf{v}_{t-1} - \eta\mathbf{g}_t$,
# $\boldsymbol\theta_t = \boldsymbol\theta_{t-1} + \mathbf{v}_t$, which is the same for a constant $\eta$.)
#
# **Nesterov's** accelerated gradient (1983) evaluates the gradient at the point the velocity is
# about to carry the weights to, rather than where they are. Written in the variables PyTorch
# uses, that becomes a small change to the heavy ball's step:
#
# $$\mathbf{v}_t = \beta\,\mathbf{v}_{t-1} + \mathbf{g}_t, \qquad
# \boldsymbol\theta_t = \boldsymbol\theta_{t-1} - \eta\,(\mathbf{g}_t + \beta\,\mathbf{v}_t).$$

# %%
class Momentum(ScratchOptimizer):
    def __init__(self, params, lr, beta=0.9, nesterov=False, **decay):
        super().__init__(params, lr=lr, beta=beta, nesterov=nesterov, **decay)

    def update(self, p, g, state, group):
        beta = group["beta"]
        v = state.setdefault("velocity", torch.zeros_like(p))
        v.mul_(beta).add_(g)  # v = beta v + g
        p.sub_(group["lr"] * (g + beta * v if group["nesterov"] else v))


# %% [markdown]
# First the effective step: one parameter under a constant gradient $g = 0.5$ (the loss $0.5\,w$),
# $\eta = 0.1$, $\beta = 0.9$. Its $t$-th step must be $\eta g(1 - \beta^t)/(1 - \beta)$, which
# tends to $10\,\eta g$.

# %%
def steps_under_constant_gradient(make_optimizer, steps, g=0.5):
    """The size of every step an optimizer takes on the loss g * w, whose gradient is always g
    (set directly, without autograd), in float64."""
    w = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    optimizer = make_optimizer([w])
    path = [w.detach().clone()]
    for _ in range(steps):
        w.grad = torch.full_like(w, g)
        optimizer.step()
        path.append(w.detach().clone())
    return torch.cat(path).diff().abs()


t = torch.arange(1, 101, dtype=torch.float64)
momentum_steps = steps_under_constant_gradient(lambda p: Momentum(p, lr=0.1, beta=0.9), 100)
torch.testing.assert_close(momentum_steps, 0.1 * 0.5 * (1 - 0.9 ** t) / (1 - 0.9))
print("steps 1, 10, 100:", " ".join(f"{s:.4f}" for s in momentum_steps[[0, 9, 99]]),
      f"; lr * g / (1 - beta) = {0.1 * 0.5 / 0.1:.4f}")

# %% [markdown]
# On the quadratic of section 1, at the same learning rate $\eta = 1/L$ and the same
# $\beta = 0.9$, we count the steps to shrink $f$ by $10^6$ for plain gradient descent, heavy ball
# and Nesterov, and draw the first 60 steps of each on the contours. (For quadratics, Polyak also
# gave the best $\eta$ and $\beta$; with them the heavy ball's error shrinks by
# $(\sqrt\kappa - 1)/(\sqrt\kappa + 1) \approx 0.75$ per step in the long run, against
# $(\kappa-1)/(\kappa+1) \approx 0.96$ for the best plain gradient descent: the condition number
# enters through its square root.)

# %%
def optimizer_path(make_optimizer, grad, x, steps):
    """The points an optimizer visits from x (a float64 tensor) when the gradient at a point x is
    grad(x) (set directly, without autograd)."""
    x = x.clone().requires_grad_()
    optimizer = make_optimizer([x])
    path = [x.detach().clone()]
    for _ in range(steps):
        x.grad = grad(x.detach())
        optimizer.step()
        path.append(x.detach().clone())
    return torch.stack(path)


lr_q = 1 / L
runs = {"gradient descent": lambda p: SGD(p, lr=lr_q),
        "heavy ball": lambda p: Momentum(p, lr=lr_q, beta=0.9),
        "Nesterov": lambda p: Momentum(p, lr=lr_q, beta=0.9, nesterov=True)}
paths = {name: optimizer_path(make, lambda x: A @ x, x_start, 400) for name, make in runs.items()}
counts = {name: steps_to_shrink(path, quadratic) for name, path in paths.items()}
kappa_root = math.sqrt(kappa)
polyak = optimizer_path(lambda p: Momentum(p, lr=4 / (math.sqrt(L) + math.sqrt(mu)) ** 2,
                                           beta=((kappa_root - 1) / (kappa_root + 1)) ** 2),
                        lambda x: A @ x, x_start, 400)
counts["heavy ball, Polyak's eta and beta"] = steps_to_shrink(polyak, quadratic)
counts["gradient descent, best eta"] = steps_gd
for name, count in counts.items():
    print(f"{name:34s}: {count:3d} steps")
assert counts["Nesterov"] < counts["heavy ball"] < counts["gradient descent"] / 3
assert counts["heavy ball, Polyak's eta and beta"] < steps_gd / 3

fig, ax = plt.subplots(figsize=(5, 3))
quadratic_contours(ax)
for name, path in paths.items():
    ax.plot(path[:61, 0], path[:61, 1], marker=".", markersize=3, lw=0.8, label=name)
ax.legend(fontsize=8)
fig.tight_layout()
plt.show()

# %% [markdown]
# The heavy ball's velocity carries it across the valley again and again and past the minimum
# along it; Nesterov's look-ahead damps the swings across the valley within a few steps. Both
# beat plain gradient descent at the same learning rate by more than three times. Now the
# two checked against `torch.optim.SGD(momentum=0.9)` and `nesterov=True`, and, as a sharpness
# check, heavy ball against Nesterov: the comparison must tell them apart.

# %%
for nesterov in (False, True):
    ours = trajectory(tiny, lambda p: Momentum(p, lr=0.05, beta=0.9, nesterov=nesterov), batches)
    theirs = trajectory(tiny, lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9,
                                                         nesterov=nesterov), batches)
    torch.testing.assert_close(ours, theirs)
heavy = trajectory(tiny, lambda p: Momentum(p, lr=0.05, beta=0.9), batches)
assert not same_path(heavy, theirs)  # theirs is Nesterov's: heavy ball must not pass for it
print("heavy ball and Nesterov match torch.optim.SGD step for step over", len(heavy), "steps")

# %% [markdown]
# ## 4. Adaptive learning rates: AdaGrad, RMSProp, Adam
#
# Momentum uses one learning rate for all parameters. But gradients differ in scale from one
# parameter to another (chapter 08 measured a few hundred times between LeNet's first and last
# layers), and a single $\eta$ that is safe for the largest is slow for the smallest. **Adaptive**
# methods give every parameter its own step by dividing by a running measure of its gradient's
# size. All operations below are per coordinate.
#
# **AdaGrad** (Duchi, Hazan and Singer, 2011) divides by the root of the sum of all past squared
# gradients:
#
# $$\mathbf{s}_t = \mathbf{s}_{t-1} + \mathbf{g}_t^2, \qquad
# \boldsymbol\theta_t = \boldsymbol\theta_{t-1} - \eta\,\frac{\mathbf{g}_t}{\sqrt{\mathbf{s}_t} + \epsilon}.$$
#
# Rarely updated parameters keep a large step. But $\mathbf{s}_t$ only grows: under a constant
# gradient the step is $\eta/\sqrt t$, and on a long run it decays whether or not that is wanted.
#
# **RMSProp** (Tieleman and Hinton, 2012, in their lecture notes) replaces the sum by an
# exponential moving average, which forgets:
#
# $$\mathbf{s}_t = \alpha\,\mathbf{s}_{t-1} + (1-\alpha)\,\mathbf{g}_t^2, \qquad
# \boldsymbol\theta_t = \boldsymbol\theta_{t-1} - \eta\,\frac{\mathbf{g}_t}{\sqrt{\mathbf{s}_t} + \epsilon}.$$
#
# **Adam** (Kingma and Ba, 2015) adds a moving average of the gradients themselves (momentum) and
# corrects both averages for starting at zero:
#
# $$\mathbf{m}_t = \beta_1\mathbf{m}_{t-1} + (1-\beta_1)\,\mathbf{g}_t, \quad
# \mathbf{v}_t = \beta_2\mathbf{v}_{t-1} + (1-\beta_2)\,\mathbf{g}_t^2, \quad
# \hat{\mathbf{m}}_t = \frac{\mathbf{m}_t}{1-\beta_1^t}, \quad
# \hat{\mathbf{v}}_t = \frac{\mathbf{v}_t}{1-\beta_2^t}, \quad
# \boldsymbol\theta_t = \boldsymbol\theta_{t-1} - \eta\,\frac{\hat{\mathbf{m}}_t}{\sqrt{\hat{\mathbf{v}}_t} + \epsilon}.$$
#
# The defaults (PyTorch's and the paper's) are $\eta = 0.001$, $\beta_1 = 0.9$,
# $\beta_2 = 0.999$, $\epsilon = 10^{-8}$; PyTorch's RMSProp uses $\alpha = 0.99$ and
# $\epsilon = 10^{-8}$, its AdaGrad $\epsilon = 10^{-10}$.

# %%
class AdaGrad(ScratchOptimizer):
    def __init__(self, params, lr, eps=1e-10, **decay):
        super().__init__(params, lr=lr, eps=eps, **decay)

    def update(self, p, g, state, group):
        s = state.setdefault("sum_sq", torch.zeros_like(p))
        s.add_(g * g)
        p.sub_(group["lr"] * g / (s.sqrt() + group["eps"]))


class RMSProp(ScratchOptimizer):
    def __init__(self, params, lr, alpha=0.99, eps=1e-8, **decay):
        super().__init__(params, lr=lr, alpha=alpha, eps=eps, **decay)

    def update(self, p, g, state, group):
        alpha = group["alpha"]
        s = state.setdefault("mean_sq", torch.zeros_like(p))
        s.mul_(alpha).add_((1 - alpha) * g * g)
        p.sub_(group["lr"] * g / (s.sqrt() + group["eps"]))


class Adam(ScratchOptimizer):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, bias_correction=True,
                 **decay):
        super().__init__(params, lr=lr, betas=betas, eps=eps, bias_correction=bias_correction,
                         **decay)

    def update(self, p, g, state, group):
        (beta1, beta2), eps = group["betas"], group["eps"]
        t = state["t"] = state.get("t", 0) + 1
        m = state.setdefault("m", torch.zeros_like(p))
        v = state.setdefault("v", torch.zeros_like(p))
        m.mul_(beta1).add_((1 - beta1) * g)
        v.mul_(beta2).add_((1 - beta2) * g * g)
        if group["bias_correction"]:
            m, v = m / (1 - beta1 ** t), v / (1 - beta2 ** t)
        p.sub_(group["lr"] * m / (v.sqrt() + eps))


# %% [markdown]
# ### Why Adam corrects its averages
#
# Both averages start at zero. Unrolled, $\mathbf{m}_t = (1-\beta_1)\sum_{s=1}^t
# \beta_1^{t-s}\mathbf{g}_s$, whose weights sum to $(1-\beta_1)\sum_{s=1}^t\beta_1^{t-s} =
# 1 - \beta_1^t$, not to 1. If the gradients have a steady mean,
# $\mathbb{E}[\mathbf{m}_t] = (1-\beta_1^t)\,\mathbb{E}[\mathbf{g}]$, and likewise
# $\mathbb{E}[\mathbf{v}_t] = (1-\beta_2^t)\,\mathbb{E}[\mathbf{g}^2]$ (Kingma and Ba, section
# 3). Dividing by $1-\beta^t$ removes exactly that factor. Without the correction the two biases
# pull in opposite directions: $\mathbf{m}_1 = 0.1\,\mathbf{g}_1$ alone would make the first step
# ten times too **small**, but $\sqrt{\mathbf{v}_1} = \sqrt{0.001}\,|\mathbf{g}_1| \approx
# 0.032\,|\mathbf{g}_1|$ in the denominator makes it about 32 times too **large**. With the
# default $\beta$s the second wins: under a constant gradient the uncorrected step is
# $\eta\,(1-\beta_1^t)/\sqrt{1-\beta_2^t}$, $3.2\,\eta$ at $t = 1$, over $6\eta$ around
# $t = 10$, and still $1.26\,\eta$ at $t = 1000$, while the corrected one is $\eta$ from the first
# step. Kingma and Ba note that without the correction the initial steps would be much larger,
# the more so the closer $\beta_2$ is to 1. The same measurement gives AdaGrad's $\eta/\sqrt t$
# and RMSProp's $\eta/\sqrt{1-\alpha^t}$ (RMSProp has no correction: its first step is
# $\eta/\sqrt{0.01} = 10\,\eta$).

# %%
T = 1000
t = torch.arange(1, T + 1, dtype=torch.float64)
sizes = {
    "SGD": steps_under_constant_gradient(lambda p: SGD(p, lr=0.001), T),
    "momentum 0.9": steps_under_constant_gradient(lambda p: Momentum(p, lr=0.001), T),
    "AdaGrad": steps_under_constant_gradient(lambda p: AdaGrad(p, lr=0.001), T),
    "RMSProp": steps_under_constant_gradient(lambda p: RMSProp(p, lr=0.001), T),
    "Adam": steps_under_constant_gradient(lambda p: Adam(p, lr=0.001), T),
    "Adam without correction":
        steps_under_constant_gradient(lambda p: Adam(p, lr=0.001, bias_correction=False), T),
}
uncorrected = sizes["Adam without correction"] / 0.001
torch.testing.assert_close(sizes["Adam"], torch.full_like(t, 0.001))
torch.testing.assert_close(uncorrected, (1 - 0.9 ** t) / (1 - 0.999 ** t).sqrt(),
                           rtol=1e-5, atol=0)  # eps = 1e-8 against sqrt(v) ~ 0.016: 6e-7 apart
torch.testing.assert_close(sizes["AdaGrad"], 0.001 / t.sqrt())
torch.testing.assert_close(sizes["RMSProp"], 0.001 / (1 - 0.99 ** t).sqrt())
print(f"Adam without correction, step / lr: t = 1 {uncorrected[0]:.2f}, largest "
      f"{uncorrected.max():.2f} at t = {int(uncorrected.argmax()) + 1}, t = 1000 "
      f"{uncorrected[-1]:.2f}")
assert 3.1 < uncorrected[0] < 3.2 and uncorrected.max() > 6 and 1.2 < uncorrected[-1] < 1.3

fig, ax = plt.subplots(figsize=(5.5, 3))
for name, size in sizes.items():
    ax.loglog(t, size / 0.001, label=name)
ax.set(xlabel="step t", ylabel="step size / lr", title="a constant gradient g = 0.5")
ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.02, 1))
fig.tight_layout()
plt.show()

# %% [markdown]
# The plot makes the differences concrete: SGD's step is $\eta g$ and grows with the gradient;
# momentum builds up to ten times that; the adaptive methods divide the gradient's size out, so
# their step does not depend on $g$ at all (try another $g$). The three adaptive methods now
# against `torch.optim`, and Adam without its correction against PyTorch's Adam (it must fail):

# %%
pairs = {
    "AdaGrad": (lambda p: AdaGrad(p, lr=0.05), lambda p: torch.optim.Adagrad(p, lr=0.05)),
    "RMSProp": (lambda p: RMSProp(p, lr=1e-3), lambda p: torch.optim.RMSprop(p, lr=1e-3)),
    "Adam": (lambda p: Adam(p, lr=1e-3), lambda p: torch.optim.Adam(p, lr=1e-3)),
}
largest = 0.0
for name, (make_ours, make_theirs) in pairs.items():
    ours, theirs = trajectory(tiny, make_ours, batches), trajectory(tiny, make_theirs, batches)
    torch.testing.assert_close(ours, theirs)
    largest = max(largest, (ours - theirs).abs().max().item())
no_correction = trajectory(tiny, lambda p: Adam(p, lr=1e-3, bias_correction=False), batches)
assert not same_path(no_correction, trajectory(tiny, pairs["Adam"][1], batches))
print(", ".join(pairs), f"match torch.optim step for step over {len(batches)} steps (largest "
      f"difference {largest:.1e})")

# %% [markdown]
# ### AdamW: weight decay, decoupled
#
# Chapter 04 added the $L_2$ penalty $\frac\lambda2\|\boldsymbol\theta\|^2$ to the loss; its
# gradient $\lambda\boldsymbol\theta$ joins the data's. For plain SGD that is the same as shrinking
# the weights directly:
#
# $$\boldsymbol\theta - \eta(\mathbf{g} + \lambda\boldsymbol\theta) = (1 - \eta\lambda)\boldsymbol\theta - \eta\mathbf{g}.$$
#
# Under Adam it is not: $\lambda\boldsymbol\theta$ enters $\mathbf{m}$ and $\mathbf{v}$ and is
# divided by $\sqrt{\hat{\mathbf{v}}}$ with the rest, so weights with large gradients are decayed
# less than weights with small ones. Loshchilov and Hutter (2019, *Decoupled Weight Decay
# Regularization*) proposed to take the decay out of the gradient: **AdamW** shrinks the weights
# by $1 - \eta\lambda$ and then takes Adam's step on the data gradient alone. In PyTorch,
# `torch.optim.Adam(weight_decay=λ)` is the $L_2$ form and `torch.optim.AdamW(weight_decay=λ)`
# (default $\lambda = 0.01$) the decoupled one. Our skeleton has both (`decoupled=True` or not),
# so we can check all four claims: $L_2$ and decoupled decay coincide under SGD and differ under
# Adam; our two forms match PyTorch's two; and Adam's `weight_decay` is exactly an $L_2$ penalty
# in the loss. With momentum the two forms differ too (the decay enters the velocity), which we
# check as well.

# %%
wd = 0.1
sgd_l2 = trajectory(tiny, lambda p: SGD(p, lr=0.1, weight_decay=wd), batches)
sgd_decoupled = trajectory(tiny, lambda p: SGD(p, lr=0.1, weight_decay=wd, decoupled=True), batches)
torch.testing.assert_close(sgd_l2, sgd_decoupled)  # the same under plain SGD
torch.testing.assert_close(sgd_l2, trajectory(tiny, lambda p: torch.optim.SGD(p, lr=0.1), batches,
                                              l2=wd))  # ... and the same as a penalty in the loss
momentum_l2 = trajectory(tiny, lambda p: Momentum(p, lr=0.05, weight_decay=wd), batches)
momentum_decoupled = trajectory(tiny, lambda p: Momentum(p, lr=0.05, weight_decay=wd,
                                                         decoupled=True), batches)
assert not same_path(momentum_l2, momentum_decoupled)  # momentum carries the L2 term along

adam_l2 = trajectory(tiny, lambda p: Adam(p, lr=1e-3, weight_decay=wd), batches)
adamw = trajectory(tiny, lambda p: Adam(p, lr=1e-3, weight_decay=wd, decoupled=True), batches)
torch.testing.assert_close(adam_l2, trajectory(tiny, lambda p: torch.optim.Adam(
    p, lr=1e-3, weight_decay=wd), batches))
torch.testing.assert_close(adamw, trajectory(tiny, lambda p: torch.optim.AdamW(
    p, lr=1e-3, weight_decay=wd), batches))
torch.testing.assert_close(adam_l2, trajectory(tiny, lambda p: torch.optim.Adam(p, lr=1e-3),
                                               batches, l2=wd))
assert not same_path(adam_l2, adamw)  # under Adam the two forms differ
moved_l2, moved_w = (adam_l2[-1] - flat(tiny)).norm(), (adamw[-1] - flat(tiny)).norm()
print(f"after {len(batches)} Adam steps the L2 run moved the weights by {moved_l2:.3f}, the "
      f"decoupled one by {moved_w:.3f}, and they ended {(adam_l2[-1] - adamw[-1]).norm():.3f} apart")

# %% [markdown]
# ## 5. Learning-rate schedules
#
# ### Why decay the learning rate at all
#
# Minibatch noise does not vanish at the minimum, so SGD at a fixed learning rate does not settle
# there: it keeps jittering around it. The simplest case shows how much. Minimize
# $f(x) = \mathbb{E}\,\tfrac12(x - \xi)^2$ with $\xi \sim \mathcal{N}(0, 1)$ (minimum at 0), one
# sample per step: $x_{k+1} = (1 - \eta)x_k + \eta\,\xi_k$. At a fixed $\eta$ the variance of
# $x_k$ settles at $\eta/(2 - \eta)$, a floor that only a smaller $\eta$ lowers. With
# $\eta_k = 1/(k+1)$ the iterate is the running mean of the samples, whose variance $1/k$ goes to
# zero. We run 20 000 independent copies for 200 steps from $x_0 = 0$.

# %%
gen = torch.Generator().manual_seed(0)
chains = 20_000
x_fixed = torch.zeros(chains, dtype=torch.float64)
x_decay = torch.zeros(chains, dtype=torch.float64)
for k in range(200):
    xi = torch.randn(chains, generator=gen, dtype=torch.float64)
    x_fixed = x_fixed - 0.1 * (x_fixed - xi)
    x_decay = x_decay - (x_decay - xi) / (k + 1)
var_fixed, var_decay = x_fixed.var().item(), x_decay.var().item()
print(f"variance after 200 steps: lr 0.1 {var_fixed:.4f} (floor {0.1 / 1.9:.4f}), "
      f"lr 1/(k+1) {var_decay:.4f} (1/200 = {1 / 200:.4f})")
assert abs(var_fixed / (0.1 / 1.9) - 1) < 0.05 and abs(var_decay * 200 - 1) < 0.05

# %% [markdown]
# A large learning rate early makes fast progress; a small one late removes the jitter.
# Schedules interpolate between the two. Three common ones, each as the factor by which the base
# rate is multiplied at step $t = 0, 1, \dots, T-1$:
#
# * **step decay**: multiply by $\gamma$ (e.g. 0.1) every $s$ steps, $\gamma^{\lfloor t/s\rfloor}$;
#   AlexNet's authors divided by 10 whenever the validation error stopped improving (chapter 09);
# * **cosine**: $\tfrac12\big(1 + \cos(\pi t/T)\big)$, from 1 down to 0 along half a cosine
#   (Loshchilov and Hutter, 2017, *SGDR: Stochastic Gradient Descent with Warm Restarts*; their
#   schedule also restarts it periodically, which we leave out). `d2l.cosine_schedule` (chapters 12
#   to 14) is this one;
# * **linear warmup**: $(t+1)/W$ for the first $W$ steps, then another schedule. Goyal et al.
#   (2017) needed it for the large learning rates of large batches: they ramp the rate up over the
#   first 5 epochs. Adam is commonly warmed up too. Liu et al. (2020, *On the Variance of the
#   Adaptive Learning Rate and Beyond*) trace this to the first steps, where $\hat{\mathbf{v}}_t$
#   rests on a handful of gradients and Adam's per-parameter step is unreliable. In the extreme
#   case $t = 1$, $\hat{\mathbf{m}}_1/\sqrt{\hat{\mathbf{v}}_1} = \mathbf{g}_1/|\mathbf{g}_1|$:
#   Adam's first step moves **every** weight by the full $\eta$ (up to $\epsilon$), however small
#   and noisy its gradient. We check that on the small MLP below.
#
# We write each as a function of the step and hand it to `torch.optim.lr_scheduler.LambdaLR`,
# which multiplies the optimizer's base rate by the function's value; calling the scheduler's
# `step()` after every optimizer step advances $t$. The warmup is followed by a cosine over the
# remaining $T - W$ steps.

# %%
def step_decay(t, every, gamma=0.1):
    return gamma ** (t // every)


def cosine(t, total):
    return 0.5 * (1 + math.cos(math.pi * min(t, total) / total))


def warmup_cosine(t, warmup, total):
    """Linear warmup over the first `warmup` steps (step 0 at 1/warmup of the rate, step
    warmup - 1 at the full rate), then a cosine from the full rate down to 0 over the remaining
    total - warmup steps."""
    if t < warmup:
        return (t + 1) / warmup
    return cosine(t - warmup, total - warmup)


def learning_rates(make_schedule, steps, base_lr=0.1):
    """The learning rate of each of `steps` optimizer steps under a schedule."""
    w = torch.zeros(1, requires_grad=True)
    optimizer = torch.optim.SGD([w], lr=base_lr)
    schedule = make_schedule(optimizer)
    rates = []
    for _ in range(steps):
        rates.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        if schedule is not None:
            schedule.step()
    return torch.tensor(rates, dtype=torch.float64)


sched = torch.optim.lr_scheduler
T_s, W_s = 200, 20
rates = {
    "step decay (every 80)": learning_rates(lambda o: sched.LambdaLR(o, lambda t: step_decay(t, 80)), T_s),
    "cosine": learning_rates(lambda o: sched.LambdaLR(o, lambda t: cosine(t, T_s)), T_s),
    "warmup 20 + cosine": learning_rates(
        lambda o: sched.LambdaLR(o, lambda t: warmup_cosine(t, W_s, T_s)), T_s),
}
torch.testing.assert_close(rates["step decay (every 80)"], learning_rates(
    lambda o: sched.StepLR(o, step_size=80, gamma=0.1), T_s))
torch.testing.assert_close(rates["cosine"], learning_rates(
    lambda o: sched.CosineAnnealingLR(o, T_max=T_s), T_s))
torch.testing.assert_close(rates["cosine"], learning_rates(
    lambda o: (d2l.cosine_schedule(o, T_s), None)[1], T_s))  # the course's helper steps itself
torch.testing.assert_close(rates["warmup 20 + cosine"][:W_s], learning_rates(
    lambda o: sched.LinearLR(o, start_factor=1 / W_s, total_iters=W_s - 1), W_s))
torch.testing.assert_close(rates["warmup 20 + cosine"][W_s:], learning_rates(
    lambda o: sched.CosineAnnealingLR(o, T_max=T_s - W_s), T_s - W_s))
warm = rates["warmup 20 + cosine"]
assert math.isclose(warm[0], 0.1 / W_s) and warm[W_s - 1] == warm[W_s] == warm.max()
assert torch.all(warm[1:W_s] > warm[:W_s - 1]) and torch.all(warm[W_s + 1:] < warm[W_s:-1])

fig, ax = plt.subplots(figsize=(5.5, 2.8))
for name, r in rates.items():
    ax.plot(r, label=name)
ax.set(xlabel="step t", ylabel="learning rate", title=f"base rate 0.1, T = {T_s} steps")
ax.legend(fontsize=8)
plt.show()

# %% [markdown]
# The checks compare each schedule with PyTorch's own: `StepLR`, `CosineAnnealingLR`,
# `d2l.cosine_schedule` and, for the warmup, `LinearLR` (and the cosine after it with a
# `CosineAnnealingLR` over $T - W$ steps). Now Adam's first step on the small MLP: every weight
# whose gradient is not zero moves by $\eta$, to within $\epsilon$'s share.

# %%
net = copy.deepcopy(tiny)
X, y = batches[0]
F.cross_entropy(net(X), y).backward()
gradient = torch.cat([p.grad.flatten() for p in net.parameters()])
before = flat(net)
torch.optim.Adam(net.parameters(), lr=1e-3).step()
first_step = (flat(net) - before).abs()
live = gradient.abs() > 1e-5  # gradients far above eps = 1e-8
print(f"{int(live.sum())} of {len(gradient)} weights have a gradient above 1e-5 (their sizes "
      f"span {gradient[live].abs().min():.1e} to {gradient[live].abs().max():.1e}); "
      f"their first Adam steps lie in [{first_step[live].min():.6f}, {first_step[live].max():.6f}]")
torch.testing.assert_close(first_step[live], torch.full_like(first_step[live], 1e-3), rtol=1e-3,
                           atol=0)
assert torch.all(first_step[gradient == 0] == 0)

# %% [markdown]
# ## 6. One network, five optimizers
#
# Now a real comparison. The network is chapter 04's MLP (two hidden layers of 256 ReLU units,
# dropout 0.2 and 0.5), trained on Fashion-MNIST with batches of 256 for 10 epochs, five times:
# with SGD, SGD with momentum 0.9, RMSProp, Adam and AdamW. We take the MLP rather than
# chapter 08's LeNet because on a CPU one of its steps costs a fraction of a LeNet step (the cell
# below times both, in plain float32), so that the learning-rate search below stays affordable,
# and because it already separates the optimizers, as the results show. What stays fixed: the
# network and its initial weights, the order of the batches and the dropout masks (the same seed
# before every run), the number of steps and the loss. What changes: the optimizer and its
# learning rate, and for AdamW the decay.
#
# **Choosing the learning rates.** Each optimizer gets its best learning rate from a small grid,
# judged on a **validation split**: the training images are split into five sixths to train on
# and one sixth to validate on (the test set is not looked at). The grids are a factor of 2 apart;
# the momentum grid is the SGD grid times $1 - \beta = 0.1$, since momentum's effective step is
# $\eta/(1-\beta)$. AdamW is Adam with decoupled decay added, so it keeps Adam's chosen rate and
# we choose its $\lambda$ from a grid instead. To keep the search affordable on a CPU, every grid
# point trains for 2 epochs (one in the quick profile), from the same start; a rate that is best
# for 2 epochs can be a little too large for 10, so the choice is a good one, not provably the
# best for the final runs. The search runs a plain loop rather than `d2l.train_ch3`, so that its
# 23 runs print one line each.

# %%
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path.cwd().parent / "benchmarks"))
from chapter_nets import chapter_net  # noqa: E402  (a chapter's own net, built from its twin)


def seconds_per_step(net, steps=5):
    """The best of `steps` timed Adam steps on a batch of 256 random images, after 2 untimed."""
    X, y = torch.rand(256, 1, 28, 28), torch.randint(0, 10, (256,))
    optimizer = torch.optim.Adam(net.parameters())
    times = []
    for _ in range(steps + 2):
        began = time.perf_counter()
        loss = F.cross_entropy(net(X), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        times.append(time.perf_counter() - began)
    return min(times[2:])


with torch.random.fork_rng():  # the runs below start from the random state they would anyway
    lenet, _ = chapter_net("08_lenet")
    t_mlp, t_lenet = seconds_per_step(mlp()), seconds_per_step(lenet)
print(f"one step on a batch of 256, this machine, this run: MLP {1000 * t_mlp:.1f} ms, "
      f"chapter 08's LeNet {1000 * t_lenet:.1f} ms ({t_lenet / t_mlp:.1f} times the MLP's)")

# %%
batch_size, num_epochs = 256, 10
train_iter, test_iter = d2l.load_data_fashion_mnist(batch_size)
images, labels = train_iter.images, train_iter.labels
order = torch.randperm(len(images), generator=torch.Generator().manual_seed(0))
n_valid = len(images) // 6
train_split = d2l.InMemoryLoader(images[order[n_valid:]], labels[order[n_valid:]], batch_size,
                                 shuffle=True)
valid_split = d2l.InMemoryLoader(images[order[:n_valid]], labels[order[:n_valid]], 1000,
                                 shuffle=False)
print(f"training split {len(images) - n_valid} images, validation split {n_valid}")

d2l.set_seed(0)
start = mlp().state_dict()  # every run below starts from these weights
candidates = {
    "SGD": (torch.optim.SGD, "lr", [0.05, 0.1, 0.2, 0.4, 0.8], {}),
    "SGD + momentum": (torch.optim.SGD, "lr", [0.005, 0.01, 0.02, 0.04, 0.08], {"momentum": 0.9}),
    "RMSProp": (torch.optim.RMSprop, "lr", [2.5e-4, 5e-4, 1e-3, 2e-3, 4e-3], {}),
    "Adam": (torch.optim.Adam, "lr", [2.5e-4, 5e-4, 1e-3, 2e-3, 4e-3], {}),
}


def train_from_start(optimizer_class, settings, data, epochs):
    """The MLP from `start`, trained on `data` for `epochs` with `optimizer_class(**settings)`;
    the same seed before every run: the same batch order and dropout masks."""
    net = mlp()
    net.load_state_dict(start)
    optimizer = optimizer_class(net.parameters(), **settings)
    d2l.set_seed(1)
    net.train()
    for _ in range(epochs):
        for X, y in data:
            loss = F.cross_entropy(net(X), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return net


search_epochs = d2l.cap_epochs(2)  # a short search: 2 epochs (1 in the quick profile)
chosen, search = {}, {}
for name, (optimizer_class, knob, grid, fixed) in candidates.items():
    for value in grid:
        net = train_from_start(optimizer_class, {**fixed, knob: value}, train_split, search_epochs)
        search[name, value] = d2l.evaluate_accuracy(valid_split, net)
        print(f"{name:15s} {knob} {value:<7g} validation accuracy {search[name, value]:.3f}")
    best = max(grid, key=lambda value: search[name, value])
    chosen[name] = (optimizer_class, {**fixed, knob: best})
    print(f"{name:15s} chosen: {knob} {best:g}"
          + (" (at the edge of the grid)" if best in (grid[0], grid[-1]) else ""))

adam_lr = chosen["Adam"][1]["lr"]
for value in [0.01, 0.1, 1.0]:
    net = train_from_start(torch.optim.AdamW, {"lr": adam_lr, "weight_decay": value}, train_split,
                           search_epochs)
    search["AdamW", value] = d2l.evaluate_accuracy(valid_split, net)
    print(f"{'AdamW':15s} lr {adam_lr:g}, weight_decay {value:<5g} validation accuracy "
          f"{search['AdamW', value]:.3f}")
best_wd = max([0.01, 0.1, 1.0], key=lambda value: search["AdamW", value])
chosen["AdamW"] = (torch.optim.AdamW, {"lr": adam_lr, "weight_decay": best_wd})
print(f"{'AdamW':15s} chosen: weight_decay {best_wd:g}")

# %% [markdown]
# **The five runs.** With the chosen settings, each optimizer trains the MLP from `start` on all
# the training images for 10 epochs through `d2l.train_ch3`, with the same seed before each run.
# A small loss function records every step's loss for the curves (it returns the per-example
# losses, which `train_ch3` averages itself).

# %%
step_losses, first_labels = {}, {}


def recording_loss(name):
    def loss(y_hat, y):
        losses = F.cross_entropy(y_hat, y, reduction="none")
        if not step_losses[name]:
            first_labels[name] = y.clone()
        step_losses[name].append(losses.mean().item())
        return losses
    return loss


histories = {}
for name, (optimizer_class, settings) in chosen.items():
    print(f"{name}: {settings}")
    net = mlp()
    net.load_state_dict(start)
    step_losses[name] = []
    optimizer = optimizer_class(net.parameters(), **settings)
    d2l.set_seed(1)
    histories[name] = d2l.train_ch3(net, train_iter, test_iter, recording_loss(name), num_epochs,
                                    batch_size, optimizer=optimizer)

# %% [markdown]
# Every run must have started from the same point: the same first batch (checked by its labels),
# hence the same first loss, to the last bit, since the weights and the dropout masks were the
# same too. Then the curves (a running mean over 50 steps) and the table.

# %%
names = list(histories)
assert all(torch.equal(first_labels[n], first_labels[names[0]]) for n in names)
assert all(step_losses[n][0] == step_losses[names[0]][0] for n in names)
assert all(math.isfinite(v) for n in names for v in step_losses[n])
print(f"first loss of every run: {step_losses[names[0]][0]:.4f}")

fig, ax = plt.subplots(figsize=(6, 3))
for name in names:
    losses = torch.tensor(step_losses[name])
    window = min(50, len(losses))
    smooth = losses.unfold(0, window, 1).mean(dim=1)
    ax.plot(range(window, len(losses) + 1), smooth, label=name, lw=1)
ax.set(xlabel="step", ylabel="training loss (running mean)", yscale="log")
ax.legend(fontsize=8)
plt.show()

epochs_run = max(history.epochs_done for history in histories.values())
print(f"| optimizer | settings | validation acc (search) | test acc after "
      f"{epochs_run} epoch{'s' if epochs_run != 1 else ''} |")
print("|---|---|---|---|")
for name in names:
    settings = chosen[name][1]
    value = settings.get("weight_decay") if name == "AdamW" else settings["lr"]
    print(f"| {name} | {settings} | {search[name, value]:.3f} | {histories[name]['test_acc'][-1]:.3f} |")

# %% [markdown]
# What the two measured runs of this cell gave (`python benchmarks/full_results.py
# notebooks/15_optimization.ipynb --profile quick` and `--profile full`, on 2 cores of an AMD
# EPYC in float32, 2026-12-08; one seed):
#
# | optimizer | quick: chosen setting | quick: test acc (1 epoch) | full: chosen setting | full: test acc (10 epochs) |
# |---|---|---|---|---|
# | SGD | lr 0.4 | 0.794 | lr 0.1 | 0.856 |
# | SGD + momentum 0.9 | lr 0.08 (top of its grid) | 0.827 | lr 0.08 (top of its grid) | 0.874 |
# | RMSProp | lr 0.001 | 0.821 | lr 0.0005 | 0.879 |
# | Adam | lr 0.004 (top of its grid) | 0.844 | lr 0.002 | 0.879 |
# | AdamW | Adam's lr, weight decay 0.1 | 0.840 | Adam's lr, weight decay 0.01 | 0.881 |
#
# Plain SGD is clearly behind: five points after one epoch and two and a half after ten. Momentum
# closes most of that gap. Adam and AdamW lead after one epoch (RMSProp, at 0.821, is just behind
# momentum); after ten, RMSProp, Adam and AdamW end within 0.2 points of each other, closer than
# one seed can tell apart. AdamW's decay
# changed little here: with Adam's learning rate $\eta = 0.002$ and $\lambda = 0.01$ it shrinks
# the weights by a factor $1 - \eta\lambda = 0.99998$ per step, and the net has dropout already.
# Where a choice sits at the top of its grid (momentum in both profiles, Adam in the quick one),
# the best rate for that search may lie higher; the validation accuracies there were flat (0.841
# and 0.843 for momentum in the full search), so little is left on the table. The search ran 2
# epochs (1 in quick), so its choices favour rates that are fast early on.
#
# Each run's floor below sits 0.03 under the accuracy of that table (rounded down to the
# hundredth); in the smoke profile the accuracies are only reported.

# %%
full_floors = {"SGD": 0.82, "SGD + momentum": 0.84, "RMSProp": 0.84, "Adam": 0.84, "AdamW": 0.85}
quick_floors = {"SGD": 0.76, "SGD + momentum": 0.79, "RMSProp": 0.79, "Adam": 0.81, "AdamW": 0.81}
for name in names:
    print(f"{name}: ", end="")
    d2l.check_accuracy(histories[name], full_floors[name], quick=quick_floors[name])

# %% [markdown]
# ## 7. Back to chapter 11: why SGD stalled on NiN
#
# Chapter 11 trained NiN with Adam at 0.001 because with the SGD recipe of chapters 09 and 10
# (learning rate 0.01, momentum 0.9, weight decay 0.0005) one epoch of the quick profile ended at
# a test accuracy of 0.508, against Adam's 0.810. The tools of this chapter explain why. NiN has no
# batch norm, and chapter 11 starts its last 1 × 1 convolution at zero. Every gradient below that
# layer passes through its weights, so at the first step they are all exactly zero, and afterwards
# they are as small as those weights still are. SGD's step is the learning rate times the gradient:
# the early layers barely move. Adam's step is about the learning rate whatever the gradient's
# size (section 4): they move at once.
#
# We measure it cheaply: chapter 11's `nin()` (built from its twin by `chapter_net`, as in
# section 6), from seed 0 with the zero start, on 96 × 96 images instead of
# 224 × 224, four steps on the same four batches of 8 training images with each of the two
# recipes. For every convolution we record the root mean square of its gradient at step 4, and its
# step at step 4 relative to the root mean square of its weights.

# %%
nin_iter, _ = d2l.load_data_fashion_mnist(8, resize=96)
nin_batches = [batch for _, batch in zip(range(4), nin_iter)]
d2l.set_seed(0)
nin_start, _ = chapter_net("11_nin")
nn.init.zeros_(nin_start[7][-1].weight)  # chapter 11's zero start of the last 1 x 1 convolution


def rms(t):
    return (t.pow(2).mean().sqrt()).item()


def nin_steps(make_optimizer):
    """Per convolution: gradient RMS at each step, and the last step's RMS over the weights' RMS."""
    net = copy.deepcopy(nin_start)
    convs = [m for m in net.modules() if isinstance(m, nn.Conv2d)]
    optimizer = make_optimizer(net.parameters())
    grads = []
    for X, y in nin_batches:
        before = [c.weight.detach().clone() for c in convs]
        loss = F.cross_entropy(net(X), y)
        optimizer.zero_grad()
        loss.backward()
        grads.append([rms(c.weight.grad) for c in convs])
        optimizer.step()
    relative = [rms(c.weight.detach() - w) / max(rms(w), 1e-12) for c, w in zip(convs, before)]
    return grads, relative


recipes = {"SGD, lr 0.01, momentum 0.9, weight decay 5e-4":
               lambda p: torch.optim.SGD(p, lr=0.01, momentum=0.9, weight_decay=5e-4),
           "Adam, lr 0.001": lambda p: torch.optim.Adam(p, lr=0.001)}
nin_grads, nin_relative = {}, {}
for name, make in recipes.items():
    nin_grads[name], nin_relative[name] = nin_steps(make)
sgd_name, adam_name = recipes
g1, g4 = nin_grads[sgd_name][0], nin_grads[sgd_name][3]
print("gradient RMS at step 1, convolutions 1-12:", " ".join(f"{g:.0e}" for g in g1))
print("gradient RMS at step 4 (SGD):             ", " ".join(f"{g:.0e}" for g in g4))
for name in recipes:
    print(f"step 4 / weights, {name.split(',')[0]:4s}, convolutions 1-11 (12 started at 0):",
          " ".join(f"{r:.0e}" for r in nin_relative[name][:-1]))
first_weights = rms(nin_start[0][0].weight)
print(f"SGD's step 4 of the first convolution, the gradient's share alone: lr * gradient / weights "
      f"= {0.01 * g4[0] / first_weights:.0e}")
assert all(g == 0 for g in g1[:-1]) and g1[-1] > 0  # at first only the last convolution learns
assert max(g4[:9]) < 1e-2 * g4[-1]  # later, the first three blocks get 100x less than the last
ratio_first = nin_relative[adam_name][0] / nin_relative[sgd_name][0]
print(f"the first convolution's step 4, relative to its weights: Adam's is {ratio_first:.0f} "
      "times SGD's")
assert ratio_first > 30

# %% [markdown]
# At the first step only the last convolution has a gradient. From the second on, the first nine
# convolutions (the first three blocks) receive gradients at least a hundred times smaller than
# the last one's, because the weights they pass through are still nearly zero. Under SGD, which
# moves each weight by the learning rate times its gradient (times up to 10 with momentum), the
# first convolution's step is a tiny fraction of its weights; Adam's is many times larger, because
# it divides the gradient's size out. So under SGD at a fixed learning rate the early layers sit
# almost still while the late ones slowly grow, until enough gradient flows back, and a single
# learning rate cannot suit both ends: chapter 11's reference runs found SGD at five times the rate
# worse, not better. This is a measurement on four steps of small images, not a proof about the
# whole run; it is consistent with the loss curves of chapter 11's reference runs, where SGD's
# loss stayed near $\ln 10$ for about 40 steps and Adam's fell from the start. (Batch norm,
# chapter 07, attacks the same problem from the other side, by keeping every layer's activations
# and gradients at a similar scale.)
#
# ## Summary
#
# * Gradient descent on a quadratic converges only for $\eta < 2/L$; the steps it needs grow with
#   the condition number $\kappa = L/\mu$ (173 steps for $\kappa = 50$ at the best fixed rate).
#   Saddle points have small gradients without being minima.
# * Convex losses have no spurious local minima; a network's loss is not convex (swapping two
#   hidden units proves it). Newton's method solves a quadratic in one step but costs $d^2$ memory
#   and is drawn to saddles; conjugate gradient solves an $n$-dimensional quadratic in $n$ steps.
# * A minibatch gradient is unbiased with mean squared error $\propto 1/B$; the linear scaling
#   rule (Goyal et al., 2017) multiplies the learning rate with the batch size.
# * Momentum sums past gradients with weights $\beta^{t-s}$; its effective step is $\eta/(1-\beta)$.
#   Nesterov's version looks ahead. AdaGrad, RMSProp and Adam divide by a running root mean square
#   of each weight's gradient; Adam's bias correction makes its early steps the size $\eta$ instead
#   of several times larger. AdamW decouples weight decay from the gradient, which matters under
#   Adam and not under plain SGD.
# * A fixed learning rate leaves a noise floor; step decay, cosine and warmup schedules shape the
#   rate over the run. Warmup tames the first, least reliable steps of large-batch SGD and Adam.
# * Every optimizer here, written from scratch, matched `torch.optim` step for step (in float64,
#   to within $10^{-7}$; the largest differences printed are far smaller).
# * On chapter 04's MLP, one start, one batch order, rates chosen on a validation split: plain SGD
#   ended 2.5 points behind after 10 epochs (0.856 against 0.874 to 0.881), momentum closed most
#   of the gap, and RMSProp, Adam and AdamW finished within 0.2 points of each other (one seed).
# * NiN's early layers, behind a last layer that starts at zero, get gradients hundreds of times
#   smaller than its last layer: SGD's steps there are tiny, Adam's are not, which is why chapter
#   11 trains it with Adam.
#
# ## Exercises
#
# The first four are checked: replace the stub, run the cell, and the check says what is off.
# Return new tensors and leave the arguments as they are (no in-place `-=` on them).
#
# **1. Nesterov's step.** Write `nesterov_step(param, grad, velocity, lr, beta)` returning the
# pair `(new_param, new_velocity)` of one step of PyTorch's Nesterov momentum:
# $\mathbf{v} \leftarrow \beta\mathbf{v} + \mathbf{g}$,
# $\boldsymbol\theta \leftarrow \boldsymbol\theta - \eta(\mathbf{g} + \beta\mathbf{v})$. The check
# runs several steps and compares with `torch.optim.SGD(momentum=beta, nesterov=True)`.

# %% tags=["exercise"]
def nesterov_step(param, grad, velocity, lr, beta):
    # your code here
    raise NotImplementedError


d2l.exercises.check_nesterov_step(nesterov_step)

# %% [markdown]
# **2. Adam's bias correction.** Write `adam_step(param, grad, m, v, t, lr, beta1, beta2, eps)`
# returning `(new_param, new_m, new_v)`: one step of `torch.optim.Adam`, where `t` is the number
# of this step (1 for the first), `m` and `v` the running averages before it (zeros before the
# first step), and `new_m`, `new_v` the averages after it, before their correction. As in PyTorch,
# $\epsilon$ is added to $\sqrt{\hat{\mathbf{v}}_t}$.

# %% tags=["exercise"]
def adam_step(param, grad, m, v, t, lr, beta1, beta2, eps):
    # your code here
    raise NotImplementedError


d2l.exercises.check_adam_step(adam_step)

# %% [markdown]
# **3. AdamW's decoupled step.** Write
# `adamw_step(param, grad, m, v, t, lr, beta1, beta2, eps, weight_decay)` returning
# `(new_param, new_m, new_v)`: the step of `torch.optim.AdamW`. Mind the order: the decay uses the
# weights from before the Adam step.

# %% tags=["exercise"]
def adamw_step(param, grad, m, v, t, lr, beta1, beta2, eps, weight_decay):
    # your code here
    raise NotImplementedError


d2l.exercises.check_adamw_step(adamw_step)

# %% [markdown]
# **4. A warmup schedule.** Write `warmup_linear(t, warmup, total)`, the factor for `LambdaLR` at
# step `t` (0 for the first step) of a schedule that rises linearly over the first `warmup` steps,
# the first step at $1/W$ of the base rate and step $W - 1$ at the full rate, then falls linearly
# to 0: step $t \ge W$ gets $(T - t)/(T - W)$, so that the last step, $t = T - 1$, still has
# $1/(T - W)$ of the rate. `warmup = 0` means no warmup.

# %% tags=["exercise"]
def warmup_linear(t, warmup, total):
    # your code here
    raise NotImplementedError


d2l.exercises.check_warmup_linear(warmup_linear)

# %% [markdown]
# Open questions (the reference results below are for these four):
#
# 5. Train section 6's MLP with our `Adam(bias_correction=False)` at the chosen learning rate and
#    at twice it. Does the missing correction hurt over a whole run, or only at the start?
# 6. Test the linear scaling rule on the MLP: SGD with batch 64 and a rate $\eta$, batch 256 and
#    $4\eta$, batch 1024 and $16\eta$, the same number of epochs. Where does it break, and does a
#    warmup over the first epoch help the largest batch?
# 7. Compare Adam with an $L_2$ penalty (`torch.optim.Adam(weight_decay=λ)`) and AdamW at the same
#    $\lambda$ on the MLP. Which decays the weights more, and which validates better?
# 8. In section 7, how many SGD steps does it take until the first convolution's gradient is
#    within a factor of 10 of the last one's? What would a 10 times larger learning rate for the
#    first blocks only (a parameter group) do?

# %% [markdown]
# <details><summary>Reference results for exercises 5 to 8</summary>
#
# Measured with `OMP_NUM_THREADS=1 python benchmarks/exercise_refs/15_optimization.py` on the
# 2-core AMD EPYC (AVX2, no native bf16; float32), torch 2.14.1, one thread, 2026-12-08 (a few
# minutes). The MLP runs train section 6's `mlp()` from one start for 3 epochs of batch 256 on the
# first 50 000 training images, in the same batch order, and are scored on the last 10 000 training
# images (the test set is not used); one seed, so differences of a point or so are within what
# another seed could change.
#
# *Exercise 5* (the chapter's `Adam`; mean training loss over steps 1-20, 21-100 and the last 100
# of 588, then validation accuracy):
#
# | run | steps 1-20 | 21-100 | last 100 | validation accuracy |
# |---|---|---|---|---|
# | lr 0.001, with the correction | 1.600 | 0.741 | 0.405 | 0.859 |
# | lr 0.001, without it | 1.228 | 0.606 | 0.381 | 0.870 |
# | lr 0.002, with the correction | 1.377 | 0.651 | 0.394 | 0.861 |
# | lr 0.002, without it | 1.249 | 0.618 | 0.404 | 0.866 |
#
# Without the correction the first steps are several times larger (section 4), and on this net
# that made the first 100 steps faster, not unstable; after 3 epochs the four runs lie within about
# a point of each other. The correction matters for the size of the early steps, which is what
# the learning rate is supposed to set; whether larger early steps hurt depends on the problem
# (Kingma and Ba, section 6.4, found that without it training often diverged for $\beta_2$ close
# to 1).
#
# *Exercise 6* (plain SGD, lr = 0.1 × batch / 256, 3 epochs each, so the larger batches take fewer
# steps: 2 346, 588, 147 and 39; for batch 4096 "21-100" and "last 100" cover what there is):
#
# | run | steps 1-20 | 21-100 | last 100 | validation accuracy |
# |---|---|---|---|---|
# | batch 64, lr 0.025 | 2.284 | 2.100 | 0.549 | 0.822 |
# | batch 256, lr 0.1 | 2.202 | 1.271 | 0.559 | 0.822 |
# | batch 1024, lr 0.4 | 1.836 | 0.876 | 0.707 | 0.800 |
# | batch 1024, lr 0.4, warmup over the first epoch | 2.252 | 1.145 | 0.810 | 0.787 |
# | batch 4096, lr 1.6 | 6.511 | 2.702 | 4.655 | 0.103 |
# | batch 4096, lr 1.6, warmup over the first epoch | 15.152 | 2.988 | 9.226 | 0.102 |
#
# From 64 to 256 the rule holds exactly here (0.822 both); at 1024 it costs two points; at 4096 the
# rate of 1.6 throws the net to chance, and a warmup over one epoch (13 steps at this batch size)
# does not save it.
#
# *Exercise 7* (lr 0.001; the norm of all the weights after training):
#
# | weight decay | Adam + L2: validation accuracy | weight norm | AdamW: validation accuracy | weight norm |
# |---|---|---|---|---|
# | 0.01 | 0.819 | 7.1 | 0.858 | 22.3 |
# | 0.1 | 0.630 | 3.6 | 0.862 | 21.6 |
# | 1 | 0.096 | 0.0 | 0.849 | 16.7 |
# | 0 (plain Adam) | 0.859 | 22.3 | | |
#
# The same $\lambda$ decays far more through the gradient: under Adam the penalty's gradient
# $\lambda\boldsymbol\theta$ is divided by $\sqrt{\hat{\mathbf{v}}}$, which is tiny for weights
# whose data gradient is small, so those weights are pulled to zero at about the full rate
# $\eta$ per step. At $\lambda = 1$ the weight norm fell below 0.05 and the net answers at chance;
# AdamW's decay shrinks by $\eta\lambda$ per step whatever the gradient, and costs at most a
# point here.
#
# *Exercise 8* (chapter 11's NiN, zero start, 96 × 96, batches of 16, SGD with lr 0.01, momentum
# 0.9, weight decay 0.0005): the first convolution's gradient RMS over the last convolution's was
# $2.0\times10^{-4}$ at step 2, $2.7\times10^{-3}$ at step 10, $9.9\times10^{-3}$ at step 25,
# $2.8\times10^{-2}$ at step 50 and $5.0\times10^{-2}$ at step 100; it first exceeded 1/10 at
# step 98 (and was $1.5\times10^{-2}$ again at step 200). The mean loss stayed at 2.30 for the
# first 25 steps, was 2.19 over steps 91-100 and 1.87 over steps 191-200.
#
# </details>
