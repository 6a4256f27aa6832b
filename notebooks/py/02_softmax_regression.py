# %% [markdown]
# # 02 · Softmax regression
#
# Linear regression predicts a number. Most of this course predicts a *class* instead: which of
# ten kinds of clothing a 28×28 picture shows. This chapter builds the simplest classifier there
# is and trains it on real Fashion-MNIST.
#
# You will learn
# - what Fashion-MNIST looks like and how `d2l.load_data_fashion_mnist` serves it;
# - the softmax function, written by hand, and why every serious implementation first subtracts
#   the largest score (shift invariance, and the overflow it avoids);
# - one-hot labels, the cross-entropy loss, and why minimizing it is maximum likelihood;
# - accuracy, the number we actually care about;
# - softmax regression trained twice: from scratch with `d2l.sgd`, then with `nn.Linear`,
#   `nn.CrossEntropyLoss` and `torch.optim.SGD`, and why the same learning rate makes the same
#   step in both.

# %%
import torch
from torch import nn
import d2lmini as d2l

d2l.set_seed(0)
print(d2l.profile_summary())

# %%
import math

import matplotlib.pyplot as plt
import torch.nn.functional as F

# %% [markdown]
# ## 1. A tour of Fashion-MNIST
#
# Fashion-MNIST (Xiao, Rasul and Vollgraf, Zalando Research, 2017) holds 70 000 grey-scale
# pictures of fashion products (clothing, shoes and bags), 60 000 for training and 10 000 for
# testing, 28×28 pixels each, in ten classes with equally many pictures per class. It was made
# as a drop-in replacement for the MNIST handwritten digits, with the same image size, file format
# and split, but harder to classify: on MNIST even simple models had come close to perfect.
#
# `d2l.load_data_fashion_mnist(batch_size)` returns two iterators. Each batch is a pair
# `(X, y)`: `X` is a `float32` tensor of shape `(batch, 1, 28, 28)` (one colour channel) with
# pixel values scaled into $[0, 1]$, and `y` holds the class numbers 0–9 as `int64`. The training
# iterator reshuffles every pass; the test iterator always comes in the same order.

# %%
batch_size = 256
train_iter, test_iter = d2l.load_data_fashion_mnist(batch_size)
X, y = next(iter(test_iter))
print("batches per pass: train", len(train_iter), "/ test", len(test_iter))
print("X:", X.dtype, tuple(X.shape), " y:", y.dtype, tuple(y.shape))

# %%
# a batch holds batch_size pictures (the last one may hold fewer)
assert X.shape[1:] == (1, 28, 28) and 0 < len(X) <= batch_size and X.dtype == torch.float32
assert y.dtype == torch.int64 and y.shape == (len(X),)
assert 0 <= X.min() and X.max() <= 1
# the test set is balanced: every class has the same number of pictures
counts = torch.bincount(torch.cat([labels for _, labels in test_iter]), minlength=10)
print("test pictures per class:", counts.tolist())
assert (counts == counts[0]).all()

# %% [markdown]
# Where did the pictures come from? If you name a place, a `root=` folder or `$D2LMINI_DATA`,
# `d2l.locate_fashion_mnist()` looks there and nowhere else (and says so if the data is missing).
# Otherwise it looks, in order, in the user cache `d2l.cache_dir()`, in Debian's
# `/usr/share/datasets/fashion-mnist` (package `dataset-fashion-mnist`), and only then downloads.
# Whatever it finds, it checks the MD5 sum of each file's decompressed contents: a damaged file
# raises `d2l.CorruptDataError` naming the file and both sums, and no data at all raises
# `d2l.DataNotFoundError` listing the ways to provide it. The images then live in memory as
# `uint8` tensors; the loaders (`d2l.InMemoryLoader`) cut whole batches out of them and scale them,
# with no per-image conversion. In the smoke profile `d2l.balanced_subset` keeps the first few
# pictures of every class, so the classes stay equally large in every profile: the test counts
# above, the training counts below.

# %%
for name, path in d2l.locate_fashion_mnist().items():
    print(f"{name:<24} {path}")
train_counts = torch.bincount(train_iter.labels, minlength=10)
print(type(train_iter).__name__, "holding", len(train_iter.images), "training images of dtype",
      train_iter.images.dtype, "; per class:", train_counts.tolist())
assert train_iter.images.dtype == torch.uint8 and len(train_iter.images) == len(train_iter.labels)
assert (train_counts == train_counts[0]).all()

# %% [markdown]
# The class numbers mean little to a person; `d2l.get_fashion_mnist_labels` turns them into
# names, and `d2l.show_fashion_mnist` draws a row of pictures with a title each.

# %%
print(d2l.get_fashion_mnist_labels(range(10)))
d2l.show_fashion_mnist(X[:10], d2l.get_fashion_mnist_labels(y[:10]));

# %% [markdown]
# Some classes have a shape of their own (trousers, bags), others share a silhouette (t-shirt,
# shirt, pullover, coat). Exercise 8 asks which ones the trained model confuses.
#
# ## 2. The model: one linear layer, ten scores
#
# We forget that the pixels form an image and flatten each picture into a row vector
# $\mathbf{x}\in\mathbb{R}^{784}$. Softmax regression computes one score (*logit*) per class,
# each a weighted sum of all pixels plus a bias:
#
# $$\mathbf{o} = \mathbf{x}\mathbf{W} + \mathbf{b},\qquad
#   \mathbf{W}\in\mathbb{R}^{784\times 10},\ \mathbf{b}\in\mathbb{R}^{1\times 10}.$$
#
# For a minibatch $\mathbf{X}\in\mathbb{R}^{n\times 784}$ the same formula gives all $n$ rows of
# scores at once, $\mathbf{O} = \mathbf{X}\mathbf{W} + \mathbf{b}$ (the bias is broadcast to
# every row). It is a single fully connected layer:
#
# ![softmax regression as a one-layer network: 784 inputs, each connected to all 10 outputs, followed by softmax](../Pics/02_softmax_network.svg)
#
# The scores can be any real numbers. To read them as probabilities we need them non-negative
# and summing to one. *Softmax* does that by exponentiating and normalizing:
#
# $$\hat y_j = \operatorname{softmax}(\mathbf{o})_j = \frac{\exp(o_j)}{\sum_{k=1}^{10}\exp(o_k)}.$$
#
# Exponentiation keeps the order of the scores, so the predicted class
# $\operatorname{argmax}_j \hat y_j$ is simply the class with the largest score.
#
# ![left: raw scores; middle: their softmax, non-negative and summing to one; right: the loss -log p as a function of the probability of the true class](../Pics/02_softmax_and_loss.svg)
#
# ## 3. Softmax from scratch
#
# Written straight from the formula (`dim=1` sums across the classes of each row):

# %%
def softmax_naive(O):
    """Softmax of every row of O, exactly as the formula reads."""
    E = torch.exp(O)
    return E / E.sum(dim=1, keepdim=True)


O = torch.randn(4, 10)
P = softmax_naive(O)
print(P.sum(dim=1))
torch.testing.assert_close(P, torch.softmax(O, dim=1))
torch.testing.assert_close(P.sum(dim=1), torch.ones(4))
assert (P > 0).all()

# %% [markdown]
# That agrees with `torch.softmax` on small scores. Now give it the kind of scores a confident
# model produces:

# %%
big = torch.tensor([[100.0, 101.0, 102.0]])
tiny = torch.tensor([[-200.0, -201.0, -202.0]])
print("exp(big)      :", torch.exp(big))
print("naive(big)    :", softmax_naive(big))
print("naive(tiny)   :", softmax_naive(tiny))

# %% [markdown]
# A `float32` holds numbers up to about $3.4\times10^{38}$, so $e^{89}$ already *overflows* to
# `inf`, and `inf / inf` is `nan`. At the other end the smallest positive `float32` is about
# $1.4\times10^{-45}$, so $e^{-104}$ *underflows* to 0, and `0 / 0` is `nan` as well. The ratio
# itself is perfectly reasonable; only the intermediate values are out of range.

# %%
print("largest float32:", torch.finfo(torch.float32).max)
print("exp(88), exp(89)  :", torch.exp(torch.tensor([88.0, 89.0])))
print("exp(-103), exp(-104):", torch.exp(torch.tensor([-103.0, -104.0])))
assert torch.isfinite(torch.exp(torch.tensor(88.0))) and torch.isinf(torch.exp(torch.tensor(89.0)))
assert torch.exp(torch.tensor(-103.0)) > 0 and torch.exp(torch.tensor(-104.0)) == 0

# %% [markdown]
# The cure is an identity. Adding the same constant $c$ to every score of a row does not change
# its softmax, because the factor $e^{c}$ cancels:
#
# $$\operatorname{softmax}(\mathbf{o} + c)_j
#   = \frac{e^{o_j + c}}{\sum_k e^{o_k + c}}
#   = \frac{e^{c}\, e^{o_j}}{e^{c}\sum_k e^{o_k}}
#   = \operatorname{softmax}(\mathbf{o})_j .$$
#
# Choosing $c = -\max_k o_k$ makes the largest shifted score exactly 0. Then every exponential
# lies in $[0, 1]$: none overflows (a very small one may still underflow to 0, which is
# harmless), and the denominator is at least 1, so there is no division by zero.

# %%
def softmax(O):
    """Softmax of every row of O, computed on scores shifted so that each row's maximum is 0."""
    E = torch.exp(O - O.max(dim=1, keepdim=True).values)
    return E / E.sum(dim=1, keepdim=True)


# scratch equals library
torch.testing.assert_close(softmax(O), torch.softmax(O, dim=1))
# shift invariance: a different constant for every row changes nothing
shifts = torch.tensor([[-5.0], [0.5], [3.0], [40.0]])
torch.testing.assert_close(softmax(O + shifts), softmax(O))
torch.testing.assert_close(softmax_naive(O + shifts), softmax_naive(O), rtol=1e-4, atol=1e-6)

# the naive formula breaks on large or very negative scores, the shifted one does not
for scores in (big, tiny):
    assert torch.isnan(softmax_naive(scores)).all()
    assert torch.isfinite(softmax(scores)).all()
    torch.testing.assert_close(softmax(scores), torch.softmax(scores, dim=1))
print("softmax(big) :", softmax(big))
print("softmax(tiny):", softmax(tiny))
torch.testing.assert_close(softmax(big), softmax(tiny).flip(dims=[1]))

# %% [markdown]
# Shifted so that their maximum is 0, `big` becomes $(-2, -1, 0)$ and `tiny` becomes
# $(0, -1, -2)$: the same numbers in reverse order, hence softmaxes that mirror each other.
#
# ## 4. One-hot labels and cross-entropy
#
# A label $y \in \{0, \dots, 9\}$ can be written as a *one-hot* vector $\mathbf{y}$ of length 10:
# a 1 in position $y$ and 0 elsewhere. It is the probability distribution that puts all its mass
# on the true class, and we want $\hat{\mathbf{y}}$ to be close to it. The loss that measures the
# distance is the *cross-entropy*
#
# $$\ell(\mathbf{y}, \hat{\mathbf{y}}) = -\sum_{j=1}^{10} y_j \log \hat y_j = -\log \hat y_{y}.$$
#
# Only the true class's term survives, so in code we do not build the one-hot vector at all: we
# pick $\hat y_{y}$ out of each row by indexing and take $-\log$.

# %%
def cross_entropy(y_hat, y):
    """Per-example cross-entropy: -log of the probability each row gives its true class."""
    return -torch.log(y_hat[torch.arange(len(y)), y])


logits = torch.randn(6, 10)
labels = torch.tensor([0, 3, 9, 3, 5, 1])
y_hat = softmax(logits)
one_hot = F.one_hot(labels, num_classes=10).float()
print(one_hot[:2])
loss_by_index = cross_entropy(y_hat, labels)
loss_by_one_hot = -(one_hot * torch.log(y_hat)).sum(dim=1)
print(loss_by_index)

# the two forms agree, and both agree with PyTorch (which takes the raw scores)
torch.testing.assert_close(loss_by_index, loss_by_one_hot)
torch.testing.assert_close(loss_by_index, F.cross_entropy(logits, labels, reduction="none"))

# %% [markdown]
# **The maximum-likelihood reading.** Treat $\hat{\mathbf{y}}$ as the model's conditional
# distribution $P(y \mid \mathbf{x})$. If the examples are independent, the probability the model
# assigns to all the labels we actually observed is
# $\prod_{i=1}^{n} \hat y^{(i)}_{y^{(i)}}$, the *likelihood*. Maximizing a product is awkward;
# maximizing its logarithm is the same and turns it into a sum, and flipping the sign makes it a
# minimization:
#
# $$-\log \prod_{i=1}^{n} \hat y^{(i)}_{y^{(i)}} = \sum_{i=1}^{n} -\log \hat y^{(i)}_{y^{(i)}}
#   = \sum_{i=1}^{n} \ell\bigl(\mathbf{y}^{(i)}, \hat{\mathbf{y}}^{(i)}\bigr).$$
#
# So the summed cross-entropy *is* the negative log-likelihood of the labels, and training with
# it picks the parameters under which the observed labels are most probable.

# %%
likelihood = y_hat[torch.arange(len(labels)), labels].prod()
torch.testing.assert_close(torch.exp(-loss_by_index.sum()), likelihood)
print(f"likelihood of the 6 labels {likelihood.item():.3e} = exp(-summed loss)")

# %% [markdown]
# More generally, for any target distribution $\mathbf{q}$ the cross-entropy
# $-\sum_j q_j \log p_j$ is smallest when $\mathbf{p} = \mathbf{q}$ (Gibbs' inequality), where it
# equals the entropy of $\mathbf{q}$. A quick empirical check against a thousand random
# distributions:

# %%
q = softmax(torch.randn(1, 10))
p = softmax(3 * torch.randn(1000, 10))
ce_random = -(q * torch.log(p)).sum(dim=1)
entropy = -(q * torch.log(q)).sum()
print(f"entropy of q {entropy.item():.4f}, smallest cross-entropy found {ce_random.min().item():.4f}")
assert (ce_random >= entropy).all()

# %% [markdown]
# **A word on stability, again.** Our `cross_entropy` takes probabilities. If the model is very
# sure of a *wrong* class, the true class's probability underflows to 0 and the loss becomes
# `inf`, although the right answer is merely a large number. Working on the scores avoids that:
# $\log \hat y_j = o_j - \max_k o_k - \log \sum_k e^{o_k - \max_k o_k}$ (the *log-sum-exp*
# trick). That is what `nn.CrossEntropyLoss` / `F.cross_entropy` do, which is why they take the
# raw scores and not the softmax.

# %%
def cross_entropy_from_scores(O, y):
    """Per-example cross-entropy computed from the raw scores with the log-sum-exp trick."""
    shifted = O - O.max(dim=1, keepdim=True).values
    log_probs = shifted - torch.log(torch.exp(shifted).sum(dim=1, keepdim=True))
    return -log_probs[torch.arange(len(y)), y]


confident_and_wrong = torch.tensor([[0.0, 200.0]])
truth = torch.tensor([0])
print("from probabilities:", cross_entropy(softmax(confident_and_wrong), truth))
print("from scores       :", cross_entropy_from_scores(confident_and_wrong, truth))
assert torch.isinf(cross_entropy(softmax(confident_and_wrong), truth)).all()
torch.testing.assert_close(cross_entropy_from_scores(confident_and_wrong, truth),
                           F.cross_entropy(confident_and_wrong, truth, reduction="none"))
torch.testing.assert_close(cross_entropy_from_scores(logits, labels), loss_by_index)

# %% [markdown]
# For the scratch model below we keep the textbook form (softmax, then `cross_entropy`): with
# small initial weights and a modest learning rate no true class's probability gets anywhere near
# an underflow (we check that after training; `d2l.train_ch3` would also stop with
# `d2l.TrainingDiverged` on an infinite loss). The concise model uses the stable library loss.
#
# ## 5. Accuracy
#
# The loss is what we optimize, because it is smooth. What we report is *accuracy*: the fraction
# of pictures whose highest-scoring class is the true one. For a batch, count the hits:

# %%
def count_correct(y_hat, y):
    """Number of rows whose largest entry sits at the true class."""
    return (y_hat.argmax(dim=1) == y).sum().item()


toy_hat = torch.tensor([[0.1, 0.3, 0.6], [0.5, 0.2, 0.3], [0.2, 0.7, 0.1]])
toy_y = torch.tensor([2, 1, 1])
assert count_correct(toy_hat, toy_y) == 2  # rows 0 and 2 are right, row 1 picks class 0

# %% [markdown]
# Over a whole data set we add up the hits of every batch. `d2l.evaluate_accuracy(data_iter,
# net)` does exactly this (without building gradients, and switching `nn.Module`s to evaluation
# mode). We now set up the scratch model's parameters, $\mathbf{W}$ drawn from
# $\mathcal{N}(0, 0.01^2)$ and $\mathbf{b} = 0$, and compare our own loop with the helper on the
# untrained model. Its accuracy should be near chance: the ten columns of a random $\mathbf{W}$
# are drawn alike, so for every picture each class is equally likely to get the top score, and
# averaged over draws of $\mathbf{W}$ the accuracy is exactly 1/10. One draw, though, does not
# guess like a fair die thrown anew for every picture: the pictures have much in common (no pixel
# is negative, and most pictures fill the middle of the frame), so one draw gives many of them
# the same top class. How many varies from draw to draw. A fair die per picture would give every
# class a share within about 0.01 of a tenth (the standard deviation of one share over 10 000
# pictures is $\sqrt{0.1 \cdot 0.9 / 10\,000} = 0.003$). Over 2000 fresh draws of $\mathbf{W}$
# (`python benchmarks/draw_frequencies.py 02`, on the full test set) the most frequent top class
# took at least 0.18 of the pictures in every draw and more than half of them in 49 % of the
# draws (median share 0.49); the cell prints what this draw does. Its guesses hang together, and
# its accuracy can land far from 1/10.

# %%
num_inputs, num_outputs = 28 * 28, 10
W = torch.normal(0, 0.01, size=(num_inputs, num_outputs), requires_grad=True)
b = torch.zeros(num_outputs, requires_grad=True)


def net(X):
    """Softmax regression: flatten each picture, one linear layer, softmax."""
    return softmax(X.reshape(-1, num_inputs) @ W + b)


def accuracy_by_hand(data_iter, net):
    with torch.no_grad():
        hits = sum(count_correct(net(X), y) for X, y in data_iter)
        total = sum(len(y) for _, y in data_iter)
    return hits / total


acc_untrained = accuracy_by_hand(test_iter, net)
print(f"untrained accuracy {acc_untrained:.3f}")
assert acc_untrained == d2l.evaluate_accuracy(test_iter, net)
assert net(X).shape == (len(X), 10)
with torch.no_grad():
    top_classes = torch.cat([net(X_).argmax(dim=1) for X_, _ in test_iter])
share = torch.bincount(top_classes, minlength=10).sort(descending=True).values / len(top_classes)
print("in this draw, the share of the test pictures per predicted class, largest first:",
      [round(s, 3) for s in share.tolist()])
assert share[0] > 0.15  # far above a fair die's 0.1: held in all 2000 fresh draws (smallest 0.18)

# %% [markdown]
# So one draw says little about chance level. A hundred further draws, made with a random
# generator of their own so that the chapter's random state stays as it was, spread widely, from a
# few per cent to over 15 %; their mean lies within four standard errors of 1/10. (Both held for
# each of 20 further sets of 100 fresh draws, on the full and on the smoke test set, in the
# same benchmark run.)

# %%
draws = torch.Generator().manual_seed(1)
W_draws = torch.normal(0, 0.01, size=(100, num_inputs, num_outputs), generator=draws)
X_test = torch.cat([X_ for X_, _ in test_iter]).reshape(-1, num_inputs)
y_test = torch.cat([y_ for _, y_ in test_iter])
accs = ((X_test @ W_draws).argmax(dim=2) == y_test).float().mean(dim=1)  # one accuracy per draw
print(f"100 other draws: accuracy from {accs.min():.3f} to {accs.max():.3f}, mean {accs.mean():.4f}, "
      f"standard deviation {accs.std():.4f}")
assert accs.min() < 0.05 and accs.max() > 0.15
assert abs(accs.mean() - 0.1) < 4 * accs.std() / len(accs) ** 0.5

# %% [markdown]
# ## 6. Training from scratch
#
# Everything is in place: model `net`, per-example loss `cross_entropy`, parameters `[W, b]` and
# minibatch SGD. `d2l.train_ch3` runs the loop. Given `params` and `lr` it sums the per-example
# losses of a batch, back-propagates, and calls `d2l.sgd(params, lr, len(y))`, which divides the
# summed gradient by the size of that batch (the last batch of a pass may be smaller than
# `batch_size`):
#
# $$\mathbf{W} \leftarrow \mathbf{W} - \frac{\eta}{|\mathcal{B}|}
#   \sum_{i\in\mathcal{B}} \nabla_{\mathbf{W}}\, \ell^{(i)} .$$
#
# Each epoch it prints the mean training loss, the training and test accuracies, and draws the
# curves. Before we start, the loss over the training set should be close to $\log 10 \approx
# 2.303$: with tiny weights all ten classes get probability about $1/10$.

# %%
def mean_loss(net, loss, data_iter):
    """Average per-example loss of `net` over a whole data set."""
    with torch.no_grad():
        total = sum(loss(net(X), y).sum().item() for X, y in data_iter)
    return total / sum(len(y) for _, y in data_iter)


loss_before = mean_loss(net, cross_entropy, train_iter)
print(f"training loss before: {loss_before:.4f} (log 10 = {math.log(10):.4f})")
assert abs(loss_before - math.log(10)) < 0.05

# %% [markdown]
# Twenty passes with learning rate 0.1 and batches of 256. The loss is convex in $\mathbf{W}$ and
# $\mathbf{b}$, so there are no bad local minima to get stuck in; in the full profile the run must
# end above 80 % test accuracy (`d2l.check_accuracy` asserts it there; like every floor of the
# course it sits 0.03 below a measured run, rounded down to the hundredth).

# %%
num_epochs, lr = 20, 0.1
history = d2l.train_ch3(net, train_iter, test_iter, cross_entropy, num_epochs, batch_size,
                        params=[W, b], lr=lr)

# %%
loss_after = mean_loss(net, cross_entropy, train_iter)
print(f"training loss before {loss_before:.4f}, after {loss_after:.4f} (steps taken: {history.steps})")
assert loss_after < loss_before or history.steps == 0  # no step taken if stopped at once
with torch.no_grad():
    p_true = torch.cat([net(X)[torch.arange(len(y)), y] for X, y in train_iter])
print(f"smallest probability of a true class on the training set: {p_true.min():.2e}")
assert p_true.min() > 1e-30  # far above float32's underflow, so the loss stayed finite
acc_scratch = d2l.check_accuracy(history, 0.80, quick=0.75)

# %% [markdown]
# **What went wrong, and what did it learn?** Titles below read *true / predicted*.

# %%
X, y = next(iter(test_iter))
predicted = net(X).argmax(dim=1)
titles = [f"{t}\n{p}" for t, p in zip(d2l.get_fashion_mnist_labels(y[:10]),
                                       d2l.get_fashion_mnist_labels(predicted[:10]))]
d2l.show_fashion_mnist(X[:10], titles);

# %% [markdown]
# Each column of $\mathbf{W}$ holds one weight per pixel, so it can be drawn as a 28×28 picture:
# a *template* that the class's score is the overlap with (red: pixels that raise the score,
# blue: pixels that lower it). Compare them with the pictures above: in which templates can you
# recognise the class? (In the smoke profile, one pass over 200 pictures, they show little.)

# %%
fig, axes = plt.subplots(1, 10, figsize=(12, 1.6))
for k, ax in enumerate(axes):
    template = W[:, k].detach().reshape(28, 28)
    limit = template.abs().max()
    ax.imshow(template, cmap="RdBu_r", vmin=-limit, vmax=limit)
    ax.set_title(d2l.get_fashion_mnist_labels([k])[0], fontsize=8)
    ax.axis("off")
plt.show()

# %% [markdown]
# ## 7. Concise implementation
#
# PyTorch has every piece ready-made. `nn.Flatten` turns `(n, 1, 28, 28)` into `(n, 784)`,
# `nn.Linear(784, 10)` holds $\mathbf{W}$ (stored transposed, as `weight` of shape `(10, 784)`)
# and $\mathbf{b}$. The network returns *scores*; `nn.CrossEntropyLoss` applies the stable
# log-softmax itself and, by default, averages over the batch. `torch.optim.SGD` does the update.
#
# Does the same `lr` mean the same thing in both versions? The scratch loop steps with
# $\eta \cdot (\text{summed gradient}) / |\mathcal{B}|$; the concise one steps with
# $\eta \cdot \nabla(\text{mean loss})$, which is the same vector. `d2l.train_ch3` keeps to
# these two conventions, so a loss is never divided by the batch size twice. Let us verify it on
# one step from identical starting weights.

# %%
W0, b0 = torch.normal(0, 0.01, size=(num_inputs, num_outputs)), torch.zeros(num_outputs)

# scratch: summed loss, then d2l.sgd divides by the batch size
W_s, b_s = W0.clone().requires_grad_(), b0.clone().requires_grad_()
cross_entropy(softmax(X.reshape(-1, num_inputs) @ W_s + b_s), y).sum().backward()
d2l.sgd([W_s, b_s], lr, len(y))

# concise: mean loss, torch.optim.SGD
layer = nn.Linear(num_inputs, num_outputs)
with torch.no_grad():
    layer.weight.copy_(W0.T)
    layer.bias.copy_(b0)
step = torch.optim.SGD(layer.parameters(), lr=lr)
nn.CrossEntropyLoss()(layer(X.reshape(-1, num_inputs)), y).backward()
step.step()

assert not torch.allclose(W_s.detach(), W0)  # a real step was taken
torch.testing.assert_close(W_s.detach(), layer.weight.detach().T)
torch.testing.assert_close(b_s.detach(), layer.bias.detach())

# %% [markdown]
# Now the concise model, initialized like the scratch one and trained with the same
# hyperparameters.

# %%
net_concise = nn.Sequential(nn.Flatten(), nn.Linear(num_inputs, num_outputs))


def init_weights(module):
    if isinstance(module, nn.Linear):
        nn.init.normal_(module.weight, std=0.01)
        nn.init.zeros_(module.bias)


net_concise.apply(init_weights)
assert net_concise(X).shape == (len(X), 10)
loss = nn.CrossEntropyLoss()
with torch.no_grad():
    batch_loss_before = loss(net_concise(X), y).item()  # on the first test batch, (X, y) from above
optimizer = torch.optim.SGD(net_concise.parameters(), lr=lr)
history_concise = d2l.train_ch3(net_concise, train_iter, test_iter, loss, num_epochs, batch_size,
                                optimizer=optimizer)

# %%
with torch.no_grad():
    batch_loss_after = loss(net_concise(X), y).item()
print(f"loss on the test batch before {batch_loss_before:.4f}, after {batch_loss_after:.4f} "
      f"(steps taken: {history_concise.steps})")
assert batch_loss_after < batch_loss_before or history_concise.steps == 0
acc_concise = d2l.check_accuracy(history_concise, 0.80, quick=0.76)
print(f"final test accuracy: scratch {acc_scratch:.3f} / concise {acc_concise:.3f}")

# %% [markdown]
# The two runs start from different random weights and see the batches in different orders, so
# their numbers need not agree to the last digit; in the full profile both must clear the same
# 80 % floor.
#
# ## Summary
# - Fashion-MNIST: 28×28 grey pictures of ten kinds of clothing, served as
#   `(batch, 1, 28, 28)` tensors in $[0, 1]$ with `int64` labels.
# - Softmax regression is one linear layer producing ten scores; softmax turns them into
#   probabilities. Subtracting each row's maximum changes nothing mathematically and prevents
#   overflow (`inf`) and `0/0` (`nan`).
# - Cross-entropy is $-\log$ of the probability of the true class; summed over a data set it is
#   the negative log-likelihood of the labels. Computing it from the scores (log-sum-exp) avoids
#   `log 0`.
# - `d2l.train_ch3` trains with either `params` + `lr` (summed loss, `d2l.sgd`) or an
#   `optimizer` (mean loss); the same learning rate gives the same step.
#
# ## Exercises
#
# The first four are checked: write the function in the cell and run it; the check says what is
# wrong, if anything, and an untouched stub just reports "not attempted yet".
#
# **Exercise 1.** Write `stable_softmax(O)`: the softmax of every row of a 2-D tensor of scores,
# which must stay finite for scores around $\pm 1000$ and for rows whose scores lie hundreds
# apart.

# %% tags=["exercise"]
def stable_softmax(O):
    # your code here
    raise NotImplementedError


d2l.exercises.check_stable_softmax(stable_softmax)

# %% [markdown]
# **Exercise 2.** Write `cross_entropy_loss(O, y)`: the *mean* cross-entropy of a batch, computed
# from the raw scores `O` of shape `(n, k)` and the labels `y` of shape `(n,)`, the number that
# `F.cross_entropy(O, y)` returns. It must stay finite when the model is confidently wrong.

# %% tags=["exercise"]
def cross_entropy_loss(O, y):
    # your code here
    raise NotImplementedError


d2l.exercises.check_cross_entropy_from_scores(cross_entropy_loss)

# %% [markdown]
# **Exercise 3.** Write `accuracy(y_hat, y)`: the fraction (a number in $[0, 1]$) of rows of
# `y_hat` whose largest entry sits at the true label. The labels may come shaped `(n,)` or
# `(n, 1)`.

# %% tags=["exercise"]
def accuracy(y_hat, y):
    # your code here
    raise NotImplementedError


d2l.exercises.check_accuracy_fraction(accuracy)

# %% [markdown]
# **Exercise 4.** Show that the gradient of the cross-entropy with respect to the scores is
# $\operatorname{softmax}(\mathbf{o}) - \mathbf{y}$ (with $\mathbf{y}$ one-hot), then write
# `cross_entropy_grad(O, y)`: the gradient of the *summed* cross-entropy of a batch with respect to
# `O`, by hand. The check compares it with autograd.

# %% tags=["exercise"]
def cross_entropy_grad(O, y):
    # your code here
    raise NotImplementedError


d2l.exercises.check_cross_entropy_gradient(cross_entropy_grad)

# %% [markdown]
# Open questions:
#
# 5. Compute `softmax_naive` in `float64`. At which score does `torch.exp` overflow now? Does the
#    shift trick still matter?
# 6. Retrain the scratch model with learning rates 0.01, 0.5 and 1.0. Which converges fastest,
#    and does any of them make the loss `inf` (the helper raises `d2l.TrainingDiverged`)?
# 7. Replace `cross_entropy` in the scratch training by `cross_entropy_from_scores` and make
#    `net` return scores. Is anything else in the training call affected?
# 8. Build the 10×10 confusion matrix on the test set. Which pairs of classes does the model
#    confuse most, and does that match the pictures?
# 9. Adding the same number to all ten entries of $\mathbf{b}$, or the same vector to all ten
#    columns of $\mathbf{W}$, never changes the predicted probabilities. Why? How many of the
#    7850 parameters does the model therefore really need?

# %% [markdown]
# <details><summary>Reference results</summary>
#
# From `python benchmarks/exercise_refs/02_softmax_regression.py` (2-core x86_64 CPU, torch
# 2.14.1; full profile: all 60 000 training and 10 000 test images, 20 epochs per run, the
# chapter's scratch model from the same seed, only the named thing changed):
#
# * **6.** Final test accuracy: lr 0.01: 0.813, still climbing (0.681 after the first epoch);
#   lr 0.1: 0.840 (0.790 after the first); lr 0.5: 0.733, jumping between 0.70 and 0.84 from one
#   epoch to the next (best 0.838); lr 1.0: the loss became `inf` in the 4th batch of the first
#   epoch and `d2l.TrainingDiverged` stopped the run: a true class's probability underflowed to 0
#   and `cross_entropy` took $\log 0$. The smallest probability of a true class on the training
#   set after 20 epochs shrinks as the rate grows: $1.7\times10^{-7}$ (0.01),
#   $5.2\times10^{-9}$ (0.1), $6.2\times10^{-13}$ (0.5).
# * **7.** Identical to the printed digits: training loss 0.4203 and test accuracy 0.840 either
#   way. Only the net (scores instead of probabilities) and the loss change; the accuracy uses the
#   argmax, which softmax does not move.
# * **8.** Per-class test accuracy (lr 0.1): shirt 0.56, pullover 0.68, coat 0.81, t-shirt 0.83,
#   dress 0.85, sandal 0.91, ankle boot 0.93, bag and sneaker 0.94, trouser 0.96. Most confused
#   pairs (both directions): pullover/coat 242, t-shirt/shirt 241, pullover/shirt 209,
#   coat/shirt 205, then sandal/sneaker 94: the classes that share a silhouette.
#
# </details>
