# %% [markdown]
# # 01 · Linear regression
#
# The smallest model worth training end to end. In this chapter you will
#
# * make a data set whose true parameters you know, so you can tell whether training worked;
# * write the whole pipeline by hand: a minibatch reader, the model, the loss and stochastic
#   gradient descent (SGD);
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
# first feature adds the vertical spread.

# %%
import matplotlib.pyplot as plt

d2l.set_figsize((3.5, 2.5))
plt.scatter(features[:, 1].numpy(), labels[:, 0].numpy(), s=2)
plt.xlabel("feature $x_2$")
plt.ylabel("label $y$")
plt.show()

# %% [markdown]
# ## Reading minibatches
#
# SGD looks at a small random batch of examples at a time. `d2l.data_iter(batch_size, features,
# labels)` shuffles the indices once per pass and yields consecutive slices of them, so every
# example is used exactly once per epoch and the last batch may be shorter.

# %%
batch_size = 10
X, y = next(iter(d2l.data_iter(batch_size, features, labels)))
print(X.shape, y.shape)
assert X.shape == (batch_size, 2) and y.shape == (batch_size, 1)
epoch_sizes = [len(yb) for _, yb in d2l.data_iter(64, features, labels)]
assert sum(epoch_sizes) == 1000 and epoch_sizes[-1] == 1000 % 64

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
# the length of the red bars below, squared. The half makes its derivative simply
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
w.grad.zero_()
b.grad.zero_()

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
# The noise alone has a mean halved squared error of $0.01^2/2 = 5\times10^{-5}$, so the loss is
# as low as it can get. The recovered parameters match the ones that generated the data:

# %%
w_error = true_w - w.detach().reshape(true_w.shape)
b_error = true_b - b.item()
print("error in w:", w_error, " error in b:", b_error)
assert w_error.abs().max() < 0.01 and abs(b_error) < 0.01
assert train_l.mean() < 2e-4

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
# A `TensorDataset` with a shuffling `DataLoader` replaces `data_iter`.

# %%
from torch.utils.data import DataLoader, TensorDataset

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

# %%
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
# The update `w -= lr * w.grad` must not become part of the computation graph: it is not part of
# the model. Try it without any precaution and autograd refuses, because `w` is a leaf that
# requires gradients and an in-place change would corrupt the graph that produced `w.grad`:

# %%
w = torch.ones(2, requires_grad=True)
(w * 3).sum().backward()
try:
    w -= 0.1 * w.grad
    in_place_allowed = True
except RuntimeError as err:
    in_place_allowed = False
    print("RuntimeError:", str(err)[:90], "...")
assert not in_place_allowed

# %% [markdown]
# Writing `w = w - lr * w.grad` instead silently makes things worse: the new `w` is the *output* of
# a recorded operation, no longer a leaf, so the next `backward()` puts no gradient in `w.grad` and
# training stalls.

# %%
w = w - 0.1 * w.grad
print("is a leaf:", w.is_leaf, " grad_fn:", type(w.grad_fn).__name__)
assert not w.is_leaf

# %% [markdown]
# Old code (and the classic helpers this course keeps compatible with) wrote the update as
# `param.data -= lr * param.grad`. `.data` is the same storage seen *without* autograd, so the update
# is not recorded. It works, but it also switches off autograd's safety check: if the changed
# tensor was saved for a backward pass, the gradient comes out wrong with no error. Below, the
# output of `sigmoid` is saved because its derivative is $\sigma(x)(1-\sigma(x))$; zeroing it via
# `.data` silently gives a zero gradient.

# %%
x = torch.tensor([0.0, 1.0], requires_grad=True)
s = torch.sigmoid(x)
s.data.zero_()  # hidden from autograd
s.sum().backward()
true_grad = torch.sigmoid(x.detach()) * (1 - torch.sigmoid(x.detach()))
print("gradient after .data edit:", x.grad, " true gradient:", true_grad)
assert torch.equal(x.grad, torch.zeros(2)) and not torch.allclose(x.grad, true_grad)

# %% [markdown]
# `torch.no_grad()` is the modern answer. Inside it nothing is recorded, so the update is allowed;
# but tensors still carry a version counter, so the same mistake as above is *detected* at
# `backward()` instead of producing a wrong gradient:

# %%
x = torch.tensor([0.0, 1.0], requires_grad=True)
s = torch.sigmoid(x)
with torch.no_grad():
    s.zero_()
try:
    s.sum().backward()
    detected = False
except RuntimeError as err:
    detected = True
    print("RuntimeError:", str(err)[:80], "...")
assert detected

# %% [markdown]
# So: update parameters inside `with torch.no_grad():` (as `d2l.sgd` does), use `.detach()` to get a
# value out of the graph, and read `.data` in old code as "this tensor, hidden from autograd".
#
# ## Summary
#
# * Linear regression is a one-layer network trained by minimizing the squared error.
# * Minibatch SGD needs four pieces: batches, a model, a loss and an update rule; autograd supplies
#   the gradients.
# * `d2l.sgd` expects the gradient of the *summed* batch loss; `nn.MSELoss` and most `torch.nn`
#   losses average instead. Know which convention your loss uses.
# * Update parameters under `torch.no_grad()`.
#
# ## Exercises
#
# 1. Initialize `w` to zeros instead of small random numbers. Does training still work? Why is that
#    fine here but not for a network with hidden layers (see chapter 05)?
# 2. Replace the summed loss by its mean in the scratch loop while still calling
#    `d2l.sgd(params, lr, batch_size)`. What happens to the effective learning rate, and how many
#    epochs do you now need?
# 3. Try learning rates 0.003, 0.3 and 3. Which ones converge, which diverge?
# 4. `nn.MSELoss` has no factor ½. Which learning rate makes the concise loop take exactly the same
#    steps as the scratch one?
# 5. Use `nn.HuberLoss` instead of the squared loss and add a few outliers to the labels. Compare the
#    recovered parameters.
