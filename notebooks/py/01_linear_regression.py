# %% [markdown]
# # 01 · Linear regression
#
# The smallest model worth training end to end. In this chapter you will
#
# * make a data set whose true parameters you know, so you can tell whether training worked;
# * write the whole pipeline by hand: a minibatch reader, the model, the loss and stochastic
#   gradient descent (SGD);
# * see why the squared error is the loss to use when the noise is Gaussian (maximum likelihood);
# * write it again in a few lines with `torch.nn` and `torch.optim`;
# * learn why parameter updates happen inside `torch.no_grad()`, and what `param.data` was for.
#
# Every later chapter follows the same recipe with a bigger model.

# %%
import torch
from torch import nn
import d2lmini as d2l

d2l.set_seed(0)
print(d2l.profile_summary())

# %% [markdown]
# ## The model
#
# Linear regression predicts a number as a weighted sum of the features plus an offset:
#
# $$\hat{y} = \mathbf{w}^\top \mathbf{x} + b = w_1 x_1 + \dots + w_d x_d + b.$$
#
# Seen as a neural network it is a single layer with one output neuron, connected to every input:
#
# ![linear regression as a one-neuron network](../Pics/01_single_neuron.svg)
#
# For a whole minibatch, stack the $n$ examples as the rows of $\mathbf{X} \in \mathbb{R}^{n\times d}$;
# then all predictions come from one matrix–vector product, $\hat{\mathbf{y}} = \mathbf{X}\mathbf{w} + b$.
#
# ## A data set with known answers
#
# We draw features from a standard normal distribution and labels from a known line, then add a
# little noise (standard deviation 0.01) so the data is not perfectly linear:
#
# $$y = \mathbf{X}\mathbf{w}^* + b^* + \epsilon, \qquad \mathbf{w}^* = [2, -3.4]^\top,\ b^* = 4.2,\
# \epsilon \sim \mathcal{N}(0, 0.01^2).$$

# %%
true_w = torch.tensor([2.0, -3.4])
true_b = 4.2
features, labels = d2l.synthetic_data(true_w, true_b, 1000)
print("first example:", features[0], "label:", labels[0])
assert features.shape == (1000, 2) and labels.shape == (1000, 1)

# %% [markdown]
# Plotted against the second feature, the labels fall along a line with slope about $-3.4$; the
# first feature, independent of the second, adds the vertical spread around it. The least-squares
# slope of the cloud confirms what the eye sees:

# %%
import matplotlib.pyplot as plt

d2l.set_figsize((3.5, 2.5))
plt.scatter(features[:, 1].numpy(), labels[:, 0].numpy(), s=2)
plt.xlabel("feature $x_2$")
plt.ylabel("label $y$")
plt.show()
x2, y0 = features[:, 1], labels[:, 0]
slope = ((x2 - x2.mean()) * (y0 - y0.mean())).sum() / ((x2 - x2.mean()) ** 2).sum()
print(f"slope of the cloud: {slope:.3f}")
assert abs(slope - true_w[1]) < 0.3

# %% [markdown]
# ## Reading minibatches
#
# SGD looks at a small random batch of examples at a time. `d2l.data_iter(batch_size, features,
# labels)` shuffles the indices once per pass and yields consecutive slices of them, so every
# example is used exactly once per epoch and the last batch may be shorter.
#
# Counting the examples of a pass would not prove "exactly once": a reader that draws its batches
# *with* replacement also yields 1000 examples per pass, but repeats some and never shows others
# (on average only $1 - (1 - 1/1000)^{1000} \approx 63\,\%$ of them). So we hand `data_iter` the
# example numbers $0, \dots, 999$ as features and look at what comes out: sorted, one pass must
# give back exactly those numbers, and a second pass must come in another order.

# %%
batch_size = 10
X, y = next(iter(d2l.data_iter(batch_size, features, labels)))
print(X.shape, y.shape)
assert X.shape == (batch_size, 2) and y.shape == (batch_size, 1)
ids = torch.arange(len(features))
passes = [[Xb for Xb, _ in d2l.data_iter(64, ids, ids)] for _ in range(2)]
sizes = [len(Xb) for Xb in passes[0]]
print("batch sizes of one pass:", sizes)
first, second = torch.cat(passes[0]), torch.cat(passes[1])
assert torch.equal(first.sort().values, ids), "every example exactly once per pass"
assert not torch.equal(first, second), "every pass in a new order"
assert sizes == [64] * (len(ids) // 64) + [len(ids) % 64], "only the last batch is short"

# %% [markdown]
# ## Model, loss and optimizer from scratch
#
# Start the weights at small random values and the bias at zero. `requires_grad=True` asks
# autograd to record every operation on them so it can compute gradients later.

# %%
w = torch.normal(0, 0.01, size=(2, 1), requires_grad=True)
b = torch.zeros(1, requires_grad=True)

# %% [markdown]
# The model is `d2l.linreg(X, w, b)` = `X @ w + b`. The loss of one example is the halved squared
# error
#
# $$\ell(\hat{y}, y) = \tfrac{1}{2}(\hat{y} - y)^2,$$
#
# half the squared length of a red bar below. The half makes its derivative simply
# $\hat{y} - y$.
#
# ![squared loss measures vertical residuals](../Pics/01_squared_loss.svg)
#
# Minibatch SGD sums the loss over a batch $\mathcal{B}$, takes the gradient and moves each parameter
# a small step $\eta$ (the learning rate) against the *average* gradient:
#
# $$(\mathbf{w}, b) \leftarrow (\mathbf{w}, b) - \frac{\eta}{|\mathcal{B}|}
# \sum_{i \in \mathcal{B}} \nabla_{(\mathbf{w}, b)}\, \ell^{(i)}(\mathbf{w}, b).$$
#
# `d2l.sgd(params, lr, batch_size)` is exactly that update: it expects the gradient of the *summed*
# loss and divides by the batch size. Before using it, check it against the closed-form gradient of
# the squared loss, $\nabla_{\mathbf{w}} = \mathbf{X}^\top(\hat{\mathbf{y}} - \mathbf{y})$ summed over
# the batch:

# %%
loss = d2l.squared_loss(d2l.linreg(X, w, b), y).sum()
loss.backward()
residual = (d2l.linreg(X, w, b) - y).detach()
torch.testing.assert_close(w.grad, X.T @ residual)
torch.testing.assert_close(b.grad, residual.sum().reshape(1))
w_before = w.detach().clone()
d2l.sgd([w, b], 0.03, batch_size)
torch.testing.assert_close(w.detach(), w_before - 0.03 * (X.T @ residual) / batch_size)
for param in (w, b):
    param.grad.zero_()  # start the training below from zero gradients

# %% [markdown]
# Training repeats four steps for every minibatch: predict, measure the loss, backpropagate,
# update. Gradients accumulate in `.grad`, so we reset them after each update.

# %%
lr, num_epochs = 0.03, 3
for epoch in range(num_epochs):
    for X, y in d2l.data_iter(batch_size, features, labels):
        l = d2l.squared_loss(d2l.linreg(X, w, b), y)
        l.sum().backward()
        d2l.sgd([w, b], lr, batch_size)
        w.grad.zero_()
        b.grad.zero_()
    with torch.no_grad():
        train_l = d2l.squared_loss(d2l.linreg(features, w, b), labels)
    print(f"epoch {epoch + 1}, mean loss {train_l.mean():.6f}")

# %% [markdown]
# The noise alone has a mean halved squared error of $0.01^2/2 = 5\times10^{-5}$, so no line can
# do much better than that. The lowest loss any line reaches on these 1000 examples has a closed
# form (least squares, `torch.linalg.lstsq`); three epochs of SGD get within 10 % of it,
# and the recovered parameters match the ones that generated the data:

# %%
X1 = torch.cat([features, torch.ones(len(features), 1)], dim=1)  # a column of ones for b
best = torch.linalg.lstsq(X1, labels).solution
best_l = d2l.squared_loss(X1 @ best, labels).mean()
print(f"SGD loss {train_l.mean():.3e}, least-squares minimum {best_l:.3e}")
assert train_l.mean() < 1.1 * best_l
w_error = true_w - w.detach().reshape(true_w.shape)
b_error = true_b - b.item()
print("error in w:", w_error, " error in b:", b_error)
assert w_error.abs().max() < 0.01 and abs(b_error) < 0.01

# %% [markdown]
# ## Why the squared error: maximum likelihood
#
# The squared loss is more than a convenient choice. Suppose the model is right up to Gaussian
# noise, as our data were made: $y = \mathbf{w}^\top\mathbf{x} + b + \epsilon$ with
# $\epsilon \sim \mathcal{N}(0, \sigma^2)$. Then, given $\mathbf{x}$, the label has the density
#
# $$p(y \mid \mathbf{x}) = \frac{1}{\sqrt{2\pi\sigma^2}}
#   \exp\Big(-\frac{(y - \hat{y})^2}{2\sigma^2}\Big), \qquad \hat{y} = \mathbf{w}^\top\mathbf{x} + b.$$
#
# The examples are drawn independently, so the density of all $n$ labels is the product of these,
# the *likelihood* of $(\mathbf{w}, b)$. Its negative logarithm turns the product into a sum:
#
# $$-\log \prod_{i=1}^n p\big(y^{(i)} \mid \mathbf{x}^{(i)}\big)
#   = \frac{n}{2}\log(2\pi\sigma^2) + \frac{1}{\sigma^2}\sum_{i=1}^n \tfrac12\big(\hat{y}^{(i)} - y^{(i)}\big)^2 .$$
#
# For a fixed $\sigma$ the first term does not depend on $\mathbf{w}$ or $b$, and the second is our
# summed loss times the positive number $1/\sigma^2$. So the parameters with the smallest squared
# loss are exactly those under which the observed labels are most probable: least squares *is*
# maximum likelihood under Gaussian noise, whatever $\sigma$ is (chapter 02 reads the cross-entropy
# the same way). Another noise model gives another loss; noise with density proportional to
# $e^{-|\epsilon|/s}$ (Laplace) gives the absolute error $|\hat{y} - y|$.
#
# A check of the identity with PyTorch's own Gaussian, `torch.distributions.Normal`, for the
# trained model and for the least-squares fit, at the true noise level $\sigma = 0.01$ (in float64,
# so that the sum of a thousand log-densities is exact to far more digits than we compare):

# %%
import math

sigma, n = 0.01, len(labels)


def neg_log_likelihood(y_hat):
    """-log of the Gaussian density of all the labels, each centred on its prediction."""
    return -torch.distributions.Normal(y_hat.double(), sigma).log_prob(labels.double()).sum()


with torch.no_grad():
    y_hat_sgd, y_hat_best = d2l.linreg(features, w, b), X1 @ best
for name, y_hat in (("trained by SGD", y_hat_sgd), ("least squares", y_hat_best)):
    nll = neg_log_likelihood(y_hat)
    summed_loss = d2l.squared_loss(y_hat.double(), labels.double()).sum()
    print(f"{name:>14}: summed loss {summed_loss:.5f}, negative log-likelihood {nll:.2f}")
    torch.testing.assert_close(nll, n / 2 * math.log(2 * math.pi * sigma**2) + summed_loss / sigma**2)
assert neg_log_likelihood(y_hat_best) <= neg_log_likelihood(y_hat_sgd)  # smallest loss, likeliest

# %% [markdown]
# ## The concise version
#
# The same model with PyTorch's building blocks:
#
# * `nn.Linear(2, 1)` holds $\mathbf{w}$ and $b$; `torch.nn.init` sets them;
# * `nn.MSELoss()` is the **mean** of the *un-halved* squared error, so its gradient is twice the
#   average of ours: at the same learning rate it takes steps twice as large;
# * `torch.optim.SGD` performs the update on every parameter the model registered.
#
# A `TensorDataset` with a shuffling `DataLoader` replaces `data_iter`. First the claim about
# `nn.MSELoss`, on one batch:

# %%
from torch.utils.data import DataLoader, TensorDataset

w_probe = torch.tensor([[1.0], [1.0]], requires_grad=True)
X, y = features[:batch_size], labels[:batch_size]
(grad_mse,) = torch.autograd.grad(nn.MSELoss()(X @ w_probe, y), w_probe)
(grad_ours,) = torch.autograd.grad(d2l.squared_loss(X @ w_probe, y).mean(), w_probe)
torch.testing.assert_close(grad_mse, 2 * grad_ours)

net = nn.Sequential(nn.Linear(2, 1))
nn.init.normal_(net[0].weight, mean=0.0, std=0.01)
nn.init.zeros_(net[0].bias)
loss_fn = nn.MSELoss()
trainer = torch.optim.SGD(net.parameters(), lr=0.03)
loader = DataLoader(TensorDataset(features, labels), batch_size=batch_size, shuffle=True)

for epoch in range(num_epochs):
    for X, y in loader:
        l = loss_fn(net(X), y)
        trainer.zero_grad()
        l.backward()
        trainer.step()
    with torch.no_grad():
        print(f"epoch {epoch + 1}, loss {loss_fn(net(features), labels):.6f}")

# %% [markdown]
# The last loss printed here is about twice the scratch loop's last one, yet the fit is as good:
# the scratch loop printed the mean of our *halved* squared loss, this one prints `nn.MSELoss`, the
# mean of the un-halved one, and the same predictions give exactly twice the number. (The earlier
# epochs do not compare this way: at the same learning rate the concise loop takes steps twice as
# large, and it also starts from other random weights and sees the examples in another order.)
# Halved, the concise model's loss meets the same bound as the scratch model's, and its
# parameters are as close to the true ones:

# %%
with torch.no_grad():
    mse = loss_fn(net(features), labels)
    halved = d2l.squared_loss(net(features), labels).mean()
print(f"MSELoss {mse:.3e} = 2 x halved loss {halved:.3e}; scratch model's halved loss "
      f"{train_l.mean():.3e}; least-squares minimum {best_l:.3e}")
torch.testing.assert_close(mse, 2 * halved)
assert halved < 1.1 * best_l
w_hat, b_hat = net[0].weight.detach().reshape(-1), net[0].bias.item()
print("error in w:", true_w - w_hat, " error in b:", true_b - b_hat)
torch.testing.assert_close(w_hat, true_w, atol=0.01, rtol=0)
assert abs(b_hat - true_b) < 0.01

# %% [markdown]
# ## The steps to build and train any network
#
# Whatever the model, training has the same shape. You will see it again in every chapter.
#
# 1. **Data**: a source of minibatches `(X, y)`, reshuffled every epoch.
# 2. **Model**: a function with parameters, here `X @ w + b`; later, stacks of layers.
# 3. **Initialization**: starting values for the parameters (chapter 05 explains why it matters).
# 4. **Loss**: a number per example saying how wrong the prediction is.
# 5. **Optimizer**: a rule that moves the parameters against the gradient of the loss.
# 6. **The loop**: for each epoch and batch, forward, loss, `backward()`, step, zero the gradients;
#    then measure on data the model has not trained on.
#
# ## Updating parameters: `torch.no_grad()` and `param.data`
#
# The update `w -= lr * w.grad` is not part of the model, so autograd must not record it. What
# happens if we write it like any other line of code? Nothing silent: PyTorch stops us, in one of
# two ways depending on how the line is written.
#
# **In place.** `w` is a *leaf*: a tensor we created with `requires_grad=True`, not the output of
# a recorded operation, and the place where `backward()` deposits gradients. Outside
# `torch.no_grad()`, an in-place operation on it would have to be recorded, turning the leaf into
# the output of a subtraction. Autograd refuses with a `RuntimeError`:

# %%
w = torch.ones(2, requires_grad=True)
(w * 3).sum().backward()
try:
    w -= 0.1 * w.grad
    in_place_error = None
except RuntimeError as err:
    in_place_error = str(err)
print("RuntimeError:", in_place_error)
assert in_place_error is not None and "leaf Variable that requires grad" in in_place_error
assert torch.equal(w.detach(), torch.ones(2))  # the refused update changed nothing

# %% [markdown]
# **Out of place.** `w = w - lr * w.grad` is allowed, and the first step even computes the right
# numbers. But the name `w` now points to the *output* of a recorded subtraction: a non-leaf. On
# the next step `backward()` runs through that subtraction back to the original leaf and leaves the
# new `w.grad` empty. Reading it gives `None` and a `UserWarning`, and the update
# `w - lr * None` raises a `TypeError`. Two steps of a training loop written this way:

# %%
import warnings

w = torch.ones(2, requires_grad=True)
leaf = w
step_error = None
with warnings.catch_warnings(record=True) as caught_warnings:
    warnings.simplefilter("always")
    try:
        for step in range(2):
            (w * 3).sum().backward()
            w = w - 0.1 * w.grad
            print(f"after step {step + 1}: w = {w.detach()}, is a leaf: {w.is_leaf}")
    except TypeError as err:
        step_error = str(err)
print("TypeError:", step_error)
print("warning:", str(caught_warnings[0].message)[:95], "...")
print("the gradients went to the original leaf:", leaf.grad)
assert step == 1 and step_error is not None and "NoneType" in step_error
assert any("not a leaf" in str(m.message) for m in caught_warnings)
torch.testing.assert_close(leaf.grad, torch.full((2,), 6.0))  # 3 from each backward

# %% [markdown]
# A loop that also resets the gradient after each update, as ours does, fails one step earlier:
# right after the first update, `w.grad` is already `None`.

# %%
w = torch.ones(2, requires_grad=True)
(w * 3).sum().backward()
w = w - 0.1 * w.grad
with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # the same non-leaf warning as above
    try:
        w.grad.zero_()
        reset_error = None
    except AttributeError as err:
        reset_error = str(err)
print("AttributeError:", reset_error)
assert reset_error is not None and "NoneType" in reset_error

# %% [markdown]
# All these failures are loud; the fix for all of them is to keep the update out of autograd.
#
# **`param.data`, the old way.** Before PyTorch 0.4 (2018) parameters were `Variable`s wrapping a
# tensor, `.data` was that tensor, and updates were written on the tensors,
# `param.data -= lr * param.grad.data`. The classic helpers this course keeps compatible with,
# written for later versions, still update through `.data`,
# `param.data -= lr * param.grad / batch_size`. `.data` still exists: the same storage, seen as a
# tensor that does not require gradients, so the change is not recorded.
# It works, but it also hides the change from autograd's *version counter*, the safety check that
# notices when a tensor saved for the backward pass was modified. If the changed tensor was saved,
# the gradient comes out wrong with no error. Below, the output of `sigmoid` is saved because its
# derivative is $\sigma(x)(1-\sigma(x))$; zeroing it via `.data` silently gives a zero gradient.

# %%
x = torch.tensor([0.0, 1.0], requires_grad=True)
s = torch.sigmoid(x)
s.data.zero_()  # hidden from autograd
s.sum().backward()
true_grad = torch.sigmoid(x.detach()) * (1 - torch.sigmoid(x.detach()))
print("gradient after .data edit:", x.grad, " true gradient:", true_grad)
assert torch.equal(x.grad, torch.zeros(2)) and not torch.allclose(x.grad, true_grad)

# %% [markdown]
# **`torch.no_grad()`, the modern answer.** Inside the block nothing is recorded, so the in-place
# update of a leaf is allowed and `w` stays a leaf. Unlike `.data`, the change still goes through
# the version counter, so the mistake above is *detected* at `backward()` instead of producing a
# wrong gradient:

# %%
x = torch.tensor([0.0, 1.0], requires_grad=True)
s = torch.sigmoid(x)
with torch.no_grad():
    s.zero_()
try:
    s.sum().backward()
    detected = None
except RuntimeError as err:
    detected = str(err)
assert detected is not None and "modified by an inplace operation" in detected
print("RuntimeError:", detected[:80], "...")

# %% [markdown]
# For a parameter update, where no saved tensor is involved, the two ways compute the same
# numbers, and under `torch.no_grad()` the parameter is still a leaf that collects the next
# gradient:

# %%
w_data, w_no_grad = torch.ones(2, requires_grad=True), torch.ones(2, requires_grad=True)
for param in (w_data, w_no_grad):
    (param * 3).sum().backward()
w_data.data -= 0.1 * w_data.grad
with torch.no_grad():
    w_no_grad -= 0.1 * w_no_grad.grad
print("via .data:", w_data.detach(), " via no_grad:", w_no_grad.detach(), " leaf:", w_no_grad.is_leaf)
assert torch.equal(w_data.detach(), w_no_grad.detach()) and w_no_grad.is_leaf
torch.testing.assert_close(w_no_grad.detach(), torch.full((2,), 0.7))

# %% [markdown]
# So: update parameters inside `with torch.no_grad():` (as `d2l.sgd` and every `torch.optim`
# optimizer do), use `.detach()` to take a value out of the graph, and read `.data` in old code as
# "this tensor, hidden from autograd". Old code also uses it to swap the whole tensor behind a
# parameter, `param.data = other_tensor`, even for one of another shape, while modules and
# optimizers keep pointing at the same `Parameter` object. `torch.no_grad()` covers that too:
# inside it, `param.set_(other_tensor)` makes the same swap, and the parameter stays a leaf that
# the optimizer trains (`param.copy_(other_tensor)`, in contrast, only copies values into the
# existing shape). Below, a layer with 2 outputs gets a weight and a bias for 4, one each way:

# %%
layer = nn.Linear(3, 2)
optimizer = torch.optim.SGD(layer.parameters(), lr=0.1)
weight, bias = layer.weight, layer.bias
weight.data = torch.zeros(4, 3)  # old style: a new tensor, of a new shape, behind the same Parameter
with torch.no_grad():
    bias.set_(torch.zeros(4))  # modern style: the same swap, not recorded
assert layer.weight is weight and layer.bias is bias
assert all(p is q for p, q in zip(optimizer.param_groups[0]["params"], (weight, bias), strict=True))
assert bias.is_leaf and bias.requires_grad
layer(torch.ones(5, 3)).sum().backward()  # each entry's gradient is 5 (five rows of ones)
optimizer.step()  # the optimizer updates the swapped-in tensors
torch.testing.assert_close(layer.weight.detach(), torch.full((4, 3), -0.5))
torch.testing.assert_close(layer.bias.detach(), torch.full((4,), -0.5))
try:
    with torch.no_grad():
        layer.weight.copy_(torch.zeros(5, 3))
    copied = True
except RuntimeError:
    copied = False
assert not copied
print("layer.weight now has shape", tuple(layer.weight.shape), "and layer.bias", tuple(layer.bias.shape))

# %% [markdown]
# ## Summary
#
# * Linear regression is a one-layer network trained by minimizing the squared error, which is
#   maximum likelihood when the labels carry Gaussian noise.
# * Minibatch SGD needs four pieces: batches, a model, a loss and an update rule; autograd supplies
#   the gradients.
# * `d2l.sgd` expects the gradient of the *summed* batch loss; `nn.MSELoss` and most `torch.nn`
#   losses average instead. Know which convention your loss uses.
# * Update parameters under `torch.no_grad()`.
#
# ## Exercises
#
# The first four are checked: write the function in the cell, run it, and the check tells you
# what is wrong, if anything. The untouched stub just reports "not attempted yet".
#
# **Exercise 1.** Write the gradient of the *summed* loss
# $L = \sum_i \tfrac12 (\mathbf{x}_i^\top \mathbf{w} + b - y_i)^2$ by hand, without autograd:
# `linreg_gradients(X, y, w, b)` gets `X` of shape `(n, d)`, `y` of shape `(n, 1)`, `w` of shape
# `(d, 1)` and `b` of shape `(1,)`, and returns the pair `(grad_w, grad_b)` shaped like `w` and `b`.

# %% tags=["exercise"]
def linreg_gradients(X, y, w, b):
    # your code here
    raise NotImplementedError


d2l.exercises.check_linreg_gradients(linreg_gradients)

# %% [markdown]
# **Exercise 2.** Write your own `sgd_step(params, lr, batch_size)`, the update `d2l.sgd` makes:
# each tensor in `params` (whose `.grad` holds the gradient of the summed minibatch loss) moves
# by `-lr * grad / batch_size`, in place, without autograd recording it. It returns nothing.

# %% tags=["exercise"]
def sgd_step(params, lr, batch_size):
    # your code here
    raise NotImplementedError


d2l.exercises.check_sgd_step(sgd_step)

# %% [markdown]
# **Exercise 3.** Write your own minibatch reader `my_data_iter(batch_size, features, labels)`, a
# generator like `d2l.data_iter`: every pass visits the examples in a new random order (so the
# batches are made up anew each pass, not merely reordered), yields `(X, y)` pairs of `batch_size`
# rows (the last may be shorter), and uses every example exactly once.

# %% tags=["exercise"]
def my_data_iter(batch_size, features, labels):
    # your code here
    raise NotImplementedError


d2l.exercises.check_minibatches(my_data_iter)

# %% [markdown]
# **Exercise 4.** The concise loop uses `nn.MSELoss` (a mean, without the factor ½) with
# `torch.optim.SGD`. Write `mse_learning_rate(lr)`: the learning rate for the concise loop that
# makes exactly the same step as the scratch loop (summed halved loss, `d2l.sgd(params, lr,
# batch_size)`) with rate `lr`.

# %% tags=["exercise"]
def mse_learning_rate(lr):
    # your code here
    raise NotImplementedError


d2l.exercises.check_mse_learning_rate(mse_learning_rate)

# %% [markdown]
# Open questions:
#
# 5. Initialize `w` to zeros instead of small random numbers. Does training still work? Why is that
#    fine here but not for a network with hidden layers (see chapter 05)?
# 6. Replace the summed loss by its mean in the scratch loop while still calling
#    `d2l.sgd(params, lr, batch_size)`. What happens to the effective learning rate, and how many
#    epochs do you now need?
# 7. Try learning rates 0.003, 0.3 and 3. Which ones converge, which diverge?
# 8. Use `nn.HuberLoss` instead of the squared loss and add a few outliers to the labels. Compare the
#    recovered parameters.

# %% [markdown]
# <details><summary>Reference results</summary>
#
# From `python benchmarks/exercise_refs/01_linear_regression.py` (2-core x86_64 CPU, torch 2.14.1;
# the chapter's 1000 synthetic examples, batch size 10; no profile involved, the data set is
# always the full one):
#
# * **5.** Three epochs at lr 0.03 end at the same loss either way: $4.68\times10^{-5}$ from
#   $\mathcal{N}(0, 0.01^2)$, $4.66\times10^{-5}$ from zero, largest error in $\mathbf{w}$ 0.0006 in
#   both. With a single output unit there is no symmetry to break.
# * **6.** With the mean, `d2l.sgd` divides by the batch size a second time: the step is 10 times
#   smaller, as with lr 0.003. After 3 epochs the loss is 2.76 instead of $4.68\times10^{-5}$; it
#   needs 22 epochs instead of 3 to get below $10^{-4}$.
# * **7.** Loss after epochs 1, 2, 3: lr 0.003: 9.05, 5.0, 2.76 (converging, slowly); lr 0.03:
#   0.0395, 0.00014, $4.68\times10^{-5}$; lr 0.3: $4.9\times10^{-5}$ after one epoch, then jittering
#   around the noise level; lr 3: `inf` after the first epoch, then `nan` (diverged).
# * **8.** 50 of the 1000 labels raised by 20, concise model from zero, SGD lr 0.03, 5 epochs:
#   `MSELoss` ends at $\mathbf{w} = [1.782, -3.279]$, $b = 5.368$ (the bias pulled up by about
#   20 × 5 % = 1, the labels' average shift); `HuberLoss` (δ = 1) at $[1.996, -3.387]$, $b = 4.259$.
#
# </details>
