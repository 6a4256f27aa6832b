# %% [markdown]
# # 08 · LeNet: the first convolutional network, then and now
#
# LeNet (LeCun et al., 1998) read handwritten digits on bank cheques. It is the smallest network
# that has every part of a modern CNN: convolutions that look at small neighbourhoods, pooling
# that shrinks the image, and a few dense layers that turn the resulting features into class
# scores. In this chapter you will
#
# * build the classic LeNet (sigmoid activations, average pooling) with `nn.Sequential`;
# * walk an image through it layer by layer and predict every shape, and every parameter count,
#   with a formula before the code confirms it;
# * train it on Fashion-MNIST with `d2l.train_ch5`, the training loop every later CNN chapter uses;
# * swap in two modern choices, ReLU and max pooling, keep everything else equal, and compare the
#   two learning curves.

# %%
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
# The original network was fed 32×32 digits. Fashion-MNIST images are 28×28, so we pad the first
# convolution by 2 pixels on each side: a 5×5 kernel over a 32×32 padded image gives back 28×28
# maps, exactly as in the original. The figure is drawn by `Pics/scripts/08_lenet.py`.
#
# We write one function that builds either flavour of LeNet, so that the classic and modern nets
# differ *only* in the activation and the pooling we pass in.

# %%
def lenet(activation=nn.Sigmoid, pooling=nn.AvgPool2d):
    """LeNet-5 for 28x28 single-channel images; `activation` and `pooling` are layer classes."""
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
# Activations keep the shape; only convolutions (channels, and size when unpadded), pooling
# (size) and the flatten step change it. Note how the image shrinks from 28×28 to 5×5 while the
# channels grow from 1 to 16: the network trades spatial resolution for more kinds of features.
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

# %% [markdown]
# Of about 62 thousand parameters, the two convolutions hold fewer than 2 600. The first dense
# layer alone holds 48 thousand: weight sharing makes convolutions cheap in parameters (though
# not in arithmetic, since each kernel is applied at every position), and most of LeNet's
# parameters sit in the head.
#
# ## 3. Training the classic LeNet
#
# The sigmoid saturates, so gradients reaching the first layers are small; we help it in two
# ways. First, Xavier initialization (chapter 05), which is designed for activations that behave
# linearly near zero, such as the sigmoid and tanh. Second, Adam instead of plain SGD: it scales
# every parameter's step by a running estimate of its gradient's size, so the early layers,
# whose gradients are small, still move. With Adam's usual learning rate of 0.001 the sigmoid net
# lingers near chance accuracy for many steps before it starts to learn; 0.01 shortens that
# plateau to a fraction of the first epoch.
# The loss is cross-entropy (built into `train_ch5`).

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

d2l.set_seed(0)
classic = lenet(nn.Sigmoid, nn.AvgPool2d)
init_weights(classic, nn.init.xavier_uniform_)
optimizer = torch.optim.Adam(classic.parameters(), lr=lr)
history_classic = d2l.train_ch5(classic, train_iter, test_iter, batch_size, optimizer, device,
                                num_epochs)

# %%
assert len(history_classic["test_acc"]) == len(history_classic["train_loss"]) >= 1
assert all(torch.isfinite(torch.tensor(history_classic["train_loss"])))
# the trained net is evaluated again, outside the loop: without dropout or batch norm, eval mode
# changes nothing, so the number must match the loop's last epoch
assert abs(d2l.evaluate_accuracy(test_iter, classic) - history_classic["test_acc"][-1]) < 1e-3
d2l.check_accuracy(history_classic, 0.83)

# %% [markdown]
# ## 4. A modern LeNet: ReLU and max pooling
#
# Two changes that became standard after LeNet:
#
# * **ReLU** $\max(0, x)$ instead of the sigmoid. Its gradient is exactly 1 for every positive
#   input, so it does not shrink the signal on the way back through the layers (chapter 03). For
#   ReLU we use Kaiming initialization, the variant of Xavier derived for it (chapter 05).
# * **Max pooling** instead of averaging: each 2×2 window keeps its strongest response, so a
#   feature that fires anywhere in the window survives the downsampling undiluted.
#
# Everything else, the layer sizes, the optimizer, the learning rate and the number of epochs,
# stays the same, so any difference comes from these two choices.

# %%
d2l.set_seed(0)
modern = lenet(nn.ReLU, nn.MaxPool2d)
init_weights(modern, nn.init.kaiming_uniform_)
modern_shapes = d2l.layer_shapes(modern, X, verbose=False)
assert [shape for _, shape in modern_shapes] == expected  # same shapes as the classic net
assert d2l.num_params(modern) == sum(by_formula)  # and same parameters

optimizer = torch.optim.Adam(modern.parameters(), lr=lr)
history_modern = d2l.train_ch5(modern, train_iter, test_iter, batch_size, optimizer, device,
                               num_epochs)

# %%
assert all(torch.isfinite(torch.tensor(history_modern["train_loss"])))
assert abs(d2l.evaluate_accuracy(test_iter, modern) - history_modern["test_acc"][-1]) < 1e-3
d2l.check_accuracy(history_modern, 0.86)

# %% [markdown]
# ## 5. The two side by side
#
# `train_ch5` drew each run's curves as it trained; here are both runs in one plot (in the smoke
# profile each run is a single point). On the full data set expect the classic net to start more
# slowly, since its sigmoid layers pass back only small gradients at first, and the ReLU net to
# lead at every epoch.

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
assert y_pred.shape == y_test.shape

# %% [markdown]
# ## Summary
#
# * A CNN is an encoder of convolution, activation and pooling blocks followed by a dense head;
#   LeNet is the smallest complete example.
# * Every output size follows from $\lfloor (n + 2p - k)/s \rfloor + 1$, and every parameter count
#   from $c_o(c_i k^2 + 1)$ or $d_o(d_i + 1)$; `d2l.layer_shapes` confirms them on a real batch.
# * Convolutions are cheap in parameters; most of LeNet's parameters are in the first dense layer.
# * ReLU with max pooling trains faster and reaches a higher accuracy than the original sigmoid
#   with average pooling, at the same size and cost.
#
# ## Exercises
#
# 1. Remove `padding=2` from the first convolution. Predict every shape with `out_size` before
#    running `d2l.layer_shapes`. What must change in the dense head for the net to run?
# 2. Train the classic LeNet with `torch.optim.SGD` and no momentum. Find a learning rate at which
#    it learns at all within 10 epochs. Why does the sigmoid net need such a large one?
# 3. Change one thing at a time in the modern net: ReLU with average pooling, then sigmoid with
#    max pooling. Which of the two changes matters more here?
# 4. Double the channels of both convolutions (12 and 32). How do the parameter count and the
#    multiply-adds per image change? Does the accuracy follow?
# 5. Replace the two 5×5 convolutions by pairs of 3×3 convolutions. Work out the shapes first.
#    Does the receptive field of a unit after the second block change?
