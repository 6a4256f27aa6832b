# %% [markdown]
# # 08 · LeNet, then and now
#
# LeNet-5 (LeCun, Bottou, Bengio and Haffner, 1998) recognized handwritten characters; the paper
# that describes it also describes a cheque-reading system built on such networks, then in
# commercial use. It is a small network that already has the parts of a modern CNN: convolutions
# that look at small neighbourhoods, downsampling that shrinks the image, and a few dense layers
# that turn the resulting features into class scores. In this chapter you will
#
# * build the textbook LeNet (sigmoid activations, average pooling), a simplification of the 1998
#   network, and see exactly what the paper did differently;
# * walk an image through it layer by layer and predict every shape, and every parameter count,
#   with a formula before the code confirms it;
# * train it on Fashion-MNIST with `d2l.train_ch5`, the loop chapters 06 and 07 used and every
#   later CNN chapter uses;
# * swap in two modern choices, ReLU and max pooling, from the same initial weights, and compare
#   the gradients at the start and the two learning curves.

# %%
import math

import torch
from torch import nn
import d2lmini as d2l

d2l.set_seed(0)
print(d2l.profile_summary())

# %% [markdown]
# ## 1. The architecture
#
# LeNet has two halves. The **convolutional encoder** is two blocks of
# *convolution → activation → pooling*: the first block turns the 1-channel image into 6 feature
# maps, the second into 16, while each pooling halves the height and width. The **dense head**
# flattens the 16 small maps into one vector of 400 numbers and maps it through layers of 120,
# 84 and finally 10 units, one score per class.
#
# ![LeNet as a block diagram: two convolution and pooling blocks, then three dense layers](../Pics/08_lenet_blocks.svg)
#
# The original network was fed 32×32 images. Fashion-MNIST images are 28×28, so we pad the first
# convolution by 2 pixels on each side: a 5×5 kernel over a 32×32 padded image gives back 28×28
# maps, the size of the original's first layer. The figure is drawn by `Pics/scripts/08_lenet.py`.
#
# We write one function that builds either flavour of LeNet, so that the classic and modern nets
# have the same layers and differ only in the activation and the pooling we pass in (section 4
# also starts them from the same weights).

# %%
def lenet(activation=nn.Sigmoid, pooling=nn.AvgPool2d):
    """The textbook LeNet for 28x28 single-channel images; `activation` and `pooling` are layer
    classes."""
    return nn.Sequential(
        nn.Conv2d(1, 6, kernel_size=5, padding=2), activation(),
        pooling(kernel_size=2, stride=2),
        nn.Conv2d(6, 16, kernel_size=5), activation(),
        pooling(kernel_size=2, stride=2),
        d2l.FlattenLayer(),
        nn.Linear(16 * 5 * 5, 120), activation(),
        nn.Linear(120, 84), activation(),
        nn.Linear(84, 10))


classic = lenet()
print(classic)

# %% [markdown]
# ### What the 1998 paper did
#
# The net above, with sigmoid activations and plain average pooling, is the simplified LeNet that
# textbooks teach (Dive into Deep Learning among them); we call it "classic" below. It keeps the
# 1998 layer sizes (6 and 16 maps of 5×5 kernels, 2×2 downsampling, 120, 84 and 10 units) but
# not the details. In LeNet-5 as the paper describes it,
#
# * every layer up to the 84-unit one squashes with a **scaled tanh**,
#   $f(a) = 1.7159\tanh(\tfrac23 a)$, whose constants make $f(\pm 1) = \pm 1$; it is odd, so
#   its outputs are centred on zero, which the sigmoid's are not;
# * the **subsampling** layers S2 and S4 add the four inputs of each 2×2 block, multiply the sum
#   by a trainable coefficient, add a trainable bias and squash the result: two parameters per
#   map, not a fixed average;
# * the third layer C3 is **not fully connected** to the six maps below it: a fixed table
#   connects six of its 16 maps to 3 of them, nine to 4, and one to all six, 60 kernels in all;
# * the layer of 120 units, C5, is a 5×5 convolution over the 5×5 maps, equivalent here to a
#   dense layer;
# * the 10 outputs are **Euclidean RBF units**, not a dense layer with softmax cross-entropy:
#   each reports the squared distance between the 84 outputs of the layer below and a vector of
#   $\pm 1$ entries, chosen by hand as a stylized 7×12 bitmap of its character and kept fixed (at
#   least initially); training mainly lowers the distance to the right class's vector.
#
# The paper counts about 60 000 trainable parameters. A few of these facts in numbers:

# %%
def scaled_tanh(a):
    return 1.7159 * math.tanh(2 / 3 * a)


print(f"f(1) = {scaled_tanh(1):.5f}, f(-1) = {scaled_tanh(-1):.5f}, slope at 0: {1.7159 * 2 / 3:.3f}")
assert abs(scaled_tanh(1) - 1) < 1e-3 and abs(scaled_tanh(-1) + 1) < 1e-3

c3_inputs = [3] * 6 + [4] * 9 + [6]  # S2 maps read by each of C3's 16 maps
c3_sparse = sum(n * 5 * 5 + 1 for n in c3_inputs)
c3_full = d2l.num_params(classic[3])
print(f"C3: {sum(c3_inputs)} kernels and {c3_sparse} parameters in 1998; fully connected: {c3_full}")
assert sum(c3_inputs) == 60 and c3_sparse == 1516 and c3_full == 16 * (6 * 25 + 1)

# %% [markdown]
# ## 2. A shape walk
#
# For a convolution or pooling window of size $k$, padding $p$ and stride $s$ over an input of
# height (or width) $n$, the output has
#
# $$n_\text{out} = \left\lfloor \frac{n + 2p - k}{s} \right\rfloor + 1$$
#
# rows (or columns). Let us compute LeNet's shapes with this formula first, by hand, then let
# `d2l.layer_shapes` push a real batch of two images through the net, one layer at a time.

# %%
def out_size(n, k, p=0, s=1):
    return (n + 2 * p - k) // s + 1


n = 28
n = out_size(n, k=5, p=2)  # first convolution, padded: 28
after_conv1 = n
n = out_size(n, k=2, s=2)  # first pooling: 14
after_pool1 = n
n = out_size(n, k=5)       # second convolution: 10
after_conv2 = n
n = out_size(n, k=2, s=2)  # second pooling: 5
after_pool2 = n
print("spatial sizes:", after_conv1, after_pool1, after_conv2, after_pool2)

X = torch.rand(2, 1, 28, 28)
shapes = d2l.layer_shapes(classic, X)

# %%
expected = [
    (2, 6, after_conv1, after_conv1), (2, 6, after_conv1, after_conv1),
    (2, 6, after_pool1, after_pool1),
    (2, 16, after_conv2, after_conv2), (2, 16, after_conv2, after_conv2),
    (2, 16, after_pool2, after_pool2),
    (2, 16 * after_pool2 * after_pool2),
    (2, 120), (2, 120), (2, 84), (2, 84), (2, 10)]
assert [shape for _, shape in shapes] == expected
assert (after_conv1, after_pool1, after_conv2, after_pool2) == (28, 14, 10, 5)
assert classic(X).shape == (2, 10)

# %% [markdown]
# Activations keep the shape. A convolution sets the number of channels (and changes the size
# unless its padding makes up for the kernel, as the first one's does), pooling halves the size,
# the flatten step turns the 16 maps into one vector, and every dense layer sets that vector's
# length. Note how the image shrinks from 28×28 to 5×5 while the channels grow from 1 to 16: the
# network trades spatial resolution for more kinds of features.
#
# ### Where the parameters are
#
# A convolution with $c_i$ input channels, $c_o$ output channels and a $k_h\times k_w$ kernel
# has $c_o\,(c_i k_h k_w + 1)$ parameters (the $+1$ is each output channel's bias); a dense layer
# from $d_i$ to $d_o$ units has $d_o\,(d_i + 1)$. Activations and pooling have none.

# %%
def conv_params(c_in, c_out, k):
    return c_out * (c_in * k * k + 1)


def dense_params(d_in, d_out):
    return d_out * (d_in + 1)


by_formula = [conv_params(1, 6, 5), conv_params(6, 16, 5),
              dense_params(400, 120), dense_params(120, 84), dense_params(84, 10)]
by_torch = [d2l.num_params(layer)
            for layer in classic if isinstance(layer, (nn.Conv2d, nn.Linear))]
for name, count in zip(["conv1", "conv2", "dense1", "dense2", "dense3"], by_torch):
    print(f"{name:<7} {count:>6} parameters")
print(f"total   {sum(by_torch):>6}")
assert by_torch == by_formula
assert d2l.num_params(classic) == sum(by_formula) == 61706
assert by_torch[0] + by_torch[1] < 2600 and by_torch[2] == 48120 and sum(by_torch[2:]) > 0.95 * sum(by_torch)

# %% [markdown]
# Of about 62 thousand parameters, the two convolutions hold fewer than 2 600. The first dense
# layer alone holds 48 thousand: weight sharing makes convolutions cheap in parameters (though
# not in arithmetic, since each kernel is applied at every position), and most of LeNet's
# parameters sit in the head.
#
# ## 3. Training the classic LeNet
#
# **Initialization.** We use Xavier initialization (chapter 05) for every convolution and dense
# weight, and zero biases. Glorot and Bengio derived it for layers that act linearly near zero,
# such as tanh, whose slope at 0 is 1 and whose outputs are centred. It fits neither of our two
# activations exactly: the sigmoid's slope at 0 is only $1/4$ and its outputs average about
# $1/2$, and ReLU halves the second moment (which Kaiming initialization corrects, chapter 05).
# We still use it for both nets, so that the initialization is not a second difference between
# them; exercise 7 gives the ReLU net its own Kaiming initialization.
#
# **Optimizer.** Adam, which chapters 06 and 07 used too, instead of plain SGD: it divides every
# parameter's step by a running estimate of the size of its gradient, so layers whose gradients
# are small still move. Section 4 measures how small the classic net's early-layer gradients are.
# The learning rate is 0.01 for both nets, and the loss is cross-entropy (built into `train_ch5`).

# %%
def init_weights(net, init):
    """Apply `init` to every conv and dense weight of `net`, and zero the biases."""
    for layer in net.modules():
        if isinstance(layer, (nn.Conv2d, nn.Linear)):
            init(layer.weight)
            nn.init.zeros_(layer.bias)


batch_size, lr, num_epochs = 256, 1e-2, 10
device = d2l.try_gpu()
train_iter, test_iter = d2l.load_data_fashion_mnist(batch_size=batch_size)
with torch.random.fork_rng():  # draw without moving the random state the training will use
    X_batch, y_batch = next(iter(train_iter))  # one training batch, kept for later checks

d2l.set_seed(0)
classic = lenet(nn.Sigmoid, nn.AvgPool2d)
init_weights(classic, nn.init.xavier_uniform_)
classic_start = {name: t.clone() for name, t in classic.state_dict().items()}  # for section 4
loss_at_start = {"classic": d2l.batch_loss(classic, X_batch, y_batch)}
optimizer = torch.optim.Adam(classic.parameters(), lr=lr)
history_classic = d2l.train_ch5(classic, train_iter, test_iter, batch_size, optimizer, device,
                                num_epochs)

# %% [markdown]
# A check after training: the loss on the training batch we put aside before training must have
# fallen (it stays put only if the run was stopped before its first step). The net has no dropout
# and no batch norm, the two layers of this course that behave differently in training and in
# evaluation mode (chapters 04 and 07), so here both modes give the same class scores. There is
# nothing to check about that: convolutions, sigmoids, pooling and dense layers have no mode, so
# a comparison of the two modes would pass for every net built by `lenet`, trained or not.
# Chapter 07 compares the modes where they differ. (`train_ch5` measures the test accuracy in
# evaluation mode, the mode to predict in.)

# %%
loss_now = d2l.batch_loss(classic, X_batch, y_batch)
print(f"loss on the batch put aside: {loss_at_start['classic']:.3f} before training, "
      f"{loss_now:.3f} after {history_classic.steps} steps")
assert history_classic.steps == 0 or loss_now < loss_at_start["classic"]
d2l.check_accuracy(history_classic, 0.84, quick=0.70);

# %% [markdown]
# ## 4. A modern LeNet: ReLU and max pooling
#
# Two changes that became standard after LeNet:
#
# * **ReLU** $\max(0, x)$ instead of the sigmoid. Its derivative is exactly 1 for every positive
#   input, so the units that are active pass the gradient back unshrunk (chapter 03); the
#   sigmoid's derivative is at most $1/4$.
# * **Max pooling** instead of averaging: each 2×2 window keeps its strongest response, so a
#   feature that fires anywhere in the window survives the downsampling undiluted.
#
# Everything else stays the same: the layer sizes, the Xavier initialization, the optimizer, the
# learning rate, the number of epochs, and the seed. With the same seed the two nets start from
# the same weights (the activations and poolings have none; we check it) and see the minibatches
# in the same order.

# %%
d2l.set_seed(0)
modern = lenet(nn.ReLU, nn.MaxPool2d)
init_weights(modern, nn.init.xavier_uniform_)
modern_start = modern.state_dict()
assert modern_start.keys() == classic_start.keys()
assert all(torch.equal(modern_start[name], classic_start[name]) for name in classic_start)
modern_shapes = d2l.layer_shapes(modern, X, verbose=False)
assert [shape for _, shape in modern_shapes] == expected  # same shapes as the classic net
assert d2l.num_params(modern) == sum(by_formula)  # and same parameters
loss_at_start["modern"] = d2l.batch_loss(modern, X_batch, y_batch)

# %% [markdown]
# From the same weights, the two nets pass back very different gradients. We put the training
# batch set aside in section 3 through each at its starting point and compare, for the five
# weight tensors from the first convolution to the output layer, the norm of each tensor's
# gradient and its root mean square per weight (the norm over $\sqrt{\text{number of weights}}$,
# which does not grow with the size of the tensor).

# %%
with torch.random.fork_rng():  # build without moving the random state the training will use
    classic_at_start = lenet(nn.Sigmoid, nn.AvgPool2d)
classic_at_start.load_state_dict(classic_start)
grad_norms, grad_rms = {}, {}
for name, net in [("classic", classic_at_start), ("modern", modern)]:
    nn.functional.cross_entropy(net(X_batch), y_batch).backward()
    weights = [layer.weight for layer in net if isinstance(layer, (nn.Conv2d, nn.Linear))]
    grad_norms[name] = [w.grad.norm().item() for w in weights]
    grad_rms[name] = [w.grad.norm().item() / w.numel() ** 0.5 for w in weights]
    net.zero_grad(set_to_none=True)
    print(f"{name:<8} gradient norms, conv1 ... output:", [f"{g:.4f}" for g in grad_norms[name]])


def spread(values):
    return max(values) / min(values)


classic_grads, modern_grads = grad_norms["classic"], grad_norms["modern"]
print(f"first convolution: the modern net's gradient is "
      f"{modern_grads[0] / classic_grads[0]:.0f}x the classic's")
for name in grad_norms:
    print(f"{name:<8} largest over smallest: {spread(grad_norms[name]):5.1f}x per tensor, "
          f"{spread(grad_rms[name]):5.1f}x per weight")
# in the sigmoid net the gradient shrinks at every step from the output back to the input ...
assert all(a < b for a, b in zip(classic_grads, classic_grads[1:]))
# ... so its first layer gets far less than the ReLU net's, from identical weights
assert modern_grads[0] > 10 * classic_grads[0]
# the ReLU net's tensor norms stay within a factor of 4; the sigmoid net's span over 100x
assert spread(modern_grads) < 4 and spread(classic_grads) > 100
# per weight the ReLU net is less even (under 30x), but still far from the sigmoid net (over 100x)
assert spread(grad_rms["modern"]) < 30 and spread(grad_rms["classic"]) > 100

# %% [markdown]
# In the classic net the gradient shrinks at every layer on its way back, the first convolution
# receiving a few hundred times less than the output layer. The ReLU net's gradient norms stay
# within a factor of 4 of each other, from the first convolution to the output. Per weight its
# gradients are less even, spread over a factor of about 15 (the first convolution's 150
# weights get the largest share each), but that is still far less than the sigmoid net's spread
# of about 200. (Exercise 5 shows that the activation, not the pooling, makes this difference.)
# With plain SGD such small gradients mean tiny steps for the early layers; Adam's per-parameter
# scaling is what lets the classic net train at the same learning rate. Now we train the modern
# net exactly as the classic one.

# %%
optimizer = torch.optim.Adam(modern.parameters(), lr=lr)
history_modern = d2l.train_ch5(modern, train_iter, test_iter, batch_size, optimizer, device,
                               num_epochs)

# %%
# the same check as for the classic net
loss_now = d2l.batch_loss(modern, X_batch, y_batch)
print(f"loss on the batch put aside: {loss_at_start['modern']:.3f} before training, "
      f"{loss_now:.3f} after {history_modern.steps} steps")
assert history_modern.steps == 0 or loss_now < loss_at_start["modern"]
d2l.check_accuracy(history_modern, 0.86, quick=0.83);

# %% [markdown]
# ## 5. The two side by side
#
# `train_ch5` drew each run's curves as it trained; here are both runs in one plot (in the smoke
# profile each run is a single point). Read the plot with care: it shows one run of each net, and
# a second run with another seed would move both curves. The reference results of exercise 5
# train all four combinations of activation and pooling, with two seeds each.

# %%
import matplotlib.pyplot as plt

d2l.use_svg_display()
fig, axes = plt.subplots(1, 2, figsize=(7, 2.6))
for history, name, style in [(history_classic, "classic (sigmoid, avg)", "-"),
                             (history_modern, "modern (ReLU, max)", "--")]:
    epochs = range(1, len(history["train_loss"]) + 1)
    axes[0].plot(epochs, history["train_loss"], style, marker="o", label=name)
    axes[1].plot(epochs, history["test_acc"], style, marker="o", label=name)
axes[0].set(xlabel="epoch", ylabel="training loss")
axes[1].set(xlabel="epoch", ylabel="test accuracy")
for ax in axes:
    ax.grid(True)
axes[1].legend()
plt.tight_layout()
plt.show()
print(f"final test accuracy: classic {history_classic['test_acc'][-1]:.3f}, "
      f"modern {history_modern['test_acc'][-1]:.3f}")

# %% [markdown]
# ## 6. What the network predicts
#
# A look at the first test images, with the true class above and the modern net's guess below.

# %%
X_test, y_test = next(iter(test_iter))
X_test, y_test = X_test[:8], y_test[:8]
modern.eval()
with torch.no_grad():
    y_pred = modern(X_test.to(device)).argmax(dim=1).cpu()
titles = [f"{t}\n{p}" for t, p in zip(d2l.get_fashion_mnist_labels(y_test),
                                        d2l.get_fashion_mnist_labels(y_pred))]
d2l.show_fashion_mnist(X_test, titles)
plt.show()

# %% [markdown]
# ## Summary
#
# * A CNN is an encoder of convolution, activation and pooling blocks followed by a dense head;
#   LeNet is a small complete example. The sigmoid and average-pooling version is a textbook
#   simplification: the 1998 LeNet-5 used a scaled tanh, trainable subsampling, a sparse C3 and
#   RBF output units.
# * Every output size follows from $\lfloor (n + 2p - k)/s \rfloor + 1$, and every parameter count
#   from $c_o(c_i k^2 + 1)$ or $d_o(d_i + 1)$; `d2l.layer_shapes` confirms them on a real batch.
# * Convolutions are cheap in parameters; most of LeNet's parameters are in the first dense layer.
# * Swapping sigmoid and average pooling for ReLU and max pooling changes neither the shapes nor
#   the parameter count. From identical initial weights, the sigmoid net's gradient shrinks layer
#   by layer on the way back, and its first convolution gets far less gradient than the ReLU net's.
#
# ## Exercises
#
# The first three are checked: replace the stub, run the cell, and the check tells you which case
# fails and why.
#
# **1. Features for the head.** Write `lenet_flat_features(n, padding)`: how many numbers the
# encoder of `lenet` hands to the first dense layer for an $n\times n$ image when the first
# convolution has padding `padding` (the rest as in the chapter). With it you can size the first
# `nn.Linear` for any input, the original's 32×32 without padding included.

# %% tags=["exercise"]
def lenet_flat_features(n, padding):
    # your code here
    raise NotImplementedError


d2l.exercises.check_lenet_flat_features(lenet_flat_features)

# %% [markdown]
# **2. Parameters of a wider LeNet.** Write `lenet_num_params(c1, c2)`: the number of parameters
# of `lenet` with `c1` channels in the first convolution and `c2` in the second (28×28 input,
# dense layers of 120, 84 and 10 units). For `c1, c2 = 6, 16` it must give 61 706.

# %% tags=["exercise"]
def lenet_num_params(c1, c2):
    # your code here
    raise NotImplementedError


d2l.exercises.check_lenet_num_params(lenet_num_params)

# %% [markdown]
# **3. What the arithmetic costs.** Parameters are not compute: a kernel is applied at every
# output position. Write `lenet_macs(c1, c2)`: the multiply-adds the convolutions and dense layers
# of that net spend on one 28×28 image. A convolution costs $c_i c_o k^2 h_\text{out} w_\text{out}$,
# a dense layer $d_i d_o$; leave out biases, activations and pooling. Then compare
# `lenet_macs(12, 32) / lenet_macs(6, 16)` with the same ratio of parameter counts: why does
# doubling the channels cost more compute than parameters?

# %% tags=["exercise"]
def lenet_macs(c1, c2):
    # your code here
    raise NotImplementedError


d2l.exercises.check_lenet_macs(lenet_macs)

# %% [markdown]
# The remaining exercises are open questions.
#
# 4. Remove `padding=2` from the first convolution. Predict every shape with `out_size` before
#    running `d2l.layer_shapes`. What must change in the dense head for the net to run?
# 5. Change one thing at a time: ReLU with average pooling, then sigmoid with max pooling.
#    Measure the first-layer gradient at the start, as in section 4, and train each. Which of the
#    two changes matters more here? Pick the winner on a validation split of the training
#    images, not on the test set.
# 6. Train the classic and the modern net with `torch.optim.SGD` and no momentum, at learning
#    rates 0.1 and 0.9. Which of them learns within a few epochs? Relate what you see to the
#    gradient norms of section 4, and explain why Adam, at a much smaller learning rate, trains
#    both.
# 7. Give the modern net Kaiming initialization (`nn.init.kaiming_uniform_(w,
#    nonlinearity="relu")`), which chapter 05 derived for ReLU, and compare it with Xavier.
#    Does the matched initialization help a net this shallow, trained with Adam?
# 8. Replace the two 5×5 convolutions by pairs of 3×3 convolutions. Work out the shapes first.
#    Does the receptive field of a unit after the second block change?
#
# <details><summary>Reference results for exercises 5, 6 and 7</summary>
#
# Measured with `OMP_NUM_THREADS=1 python benchmarks/exercise_refs/08_lenet.py` on a 2-core
# x86_64 CPU, torch 2.14.1. To keep the run short, every net trains for only 3 epochs (120 steps
# of batch 256) on 10 000 training images (1 000 per class) and is scored on 5 000 validation
# images held out from the training file. The full profile of this notebook takes 2 350 steps.
#
# *Exercise 5* (Adam, learning rate 0.01, Xavier initialization; the gradient norm is that of the
# first convolution's weight on one training batch, before any step):
#
# | activation | pooling | first-conv gradient norm at start, seed 0 | val acc, seed 0 | val acc, seed 1 |
# |---|---|---|---|---|
# | sigmoid | average | 0.0025 | 0.611 | 0.100 |
# | sigmoid | max | 0.0026 | 0.596 | 0.100 |
# | ReLU | average | 0.2379 | 0.807 | 0.818 |
# | ReLU | max | 0.2627 | 0.818 | 0.814 |
#
# The activation makes the difference: about 100 times more gradient at the first convolution
# with ReLU, whatever the pooling, and after 120 steps both ReLU nets are above 0.8 while the
# sigmoid nets are at 0.6 or still at chance (0.100) on their plateau, depending on the seed. The
# pooling moves the accuracy by at most 0.015, no more than the seed does.
#
# *Exercise 6* (SGD without momentum, Xavier initialization, seed 0, validation accuracy):
#
# | net | lr 0.1 | lr 0.9 |
# |---|---|---|
# | classic (sigmoid, average) | 0.100 | 0.100 |
# | modern (ReLU, max) | 0.401 | 0.100 |
#
# In 120 steps the classic net learns at neither rate; the modern net learns at 0.1 and stays at
# chance level at 0.9.
#
# *Exercise 7* (modern net, Adam, learning rate 0.01, validation accuracy):
#
# | initialization | val acc, seed 0 | val acc, seed 1 |
# |---|---|---|
# | Xavier (the runs of exercise 5) | 0.818 | 0.814 |
# | Kaiming | 0.837 | 0.840 |
#
# On this short run Kaiming initialization helps the ReLU net by about two points, more than the
# seed moves it.
#
# </details>
