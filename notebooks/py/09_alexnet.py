# %% [markdown]
# # 09 · AlexNet: a deeper CNN with ReLU, dropout and augmentation
#
# LeNet (chapter 08) showed that a few convolutions and a small dense head can read
# 28 × 28 clothing images. AlexNet (Krizhevsky, Sutskever and Hinton, 2012) is the network that
# made the same recipe win on ImageNet, with far bigger images and far more parameters. Little in
# it is new on its own; what mattered was putting together a handful of choices that let a large
# network train at all:
#
# 1. **ReLU** activations instead of sigmoids, so gradients survive many layers;
# 2. **dropout** in the big dense layers, so the ~40 million weights there do not memorise the
#    training set;
# 3. **data augmentation**: random flips and crops that show the network a slightly different
#    picture of every image on every pass;
# 4. **large inputs and GPUs**: 224 × 224 pixels, five convolutional layers, a 4096-wide head.
#
# In this notebook we
# - check why ReLU keeps gradients alive where sigmoid does not;
# - build AlexNet for one-channel Fashion-MNIST images resized to 224 × 224 and walk a batch
#   through it layer by layer, checking every shape against the output-size formula;
# - count its parameters and see where they live;
# - watch dropout behave differently in training and evaluation;
# - try flips and random crops with `torchvision.transforms.v2`;
# - train the network with `d2l.train_ch5`.

# %%
import torch
from torch import nn
import d2lmini as d2l

d2l.set_seed(0)
print(d2l.profile_summary())

# %% [markdown]
# ## 1. ReLU keeps the gradient alive
#
# The sigmoid $\sigma(x) = 1/(1+e^{-x})$ has derivative $\sigma'(x) = \sigma(x)\,(1-\sigma(x))$,
# which never exceeds $\tfrac14$ and is nearly zero once $|x|$ is a few units. Backpropagation
# multiplies one such factor per layer, so through $L$ sigmoid layers the gradient shrinks by at
# least $4^{L}$. The rectified linear unit
#
# $$\operatorname{ReLU}(x) = \max(0, x), \qquad \operatorname{ReLU}'(x) = \begin{cases}1 & x > 0\\ 0 & x < 0\end{cases}$$
#
# passes the gradient through unchanged wherever the unit is active. It is also cheaper: a
# comparison instead of an exponential. We let autograd compute both derivatives.

# %%
x = torch.linspace(-6, 6, 121, requires_grad=True)
torch.sigmoid(x).sum().backward()
sigmoid_grad = x.grad.clone()
x.grad = None
torch.relu(x).sum().backward()
relu_grad = x.grad.clone()

print(f"largest sigmoid derivative: {sigmoid_grad.max():.4f}")
print(f"ReLU derivative on x > 0: {relu_grad[x > 0].unique().tolist()}")
print(f"8 sigmoid layers shrink a gradient by at least {0.25 ** 8:.1e}")

# The sigmoid derivative peaks at 1/4 (at x = 0); ReLU's is exactly 1 wherever x > 0.
torch.testing.assert_close(sigmoid_grad.max(), torch.tensor(0.25))
assert torch.all(relu_grad[x > 0] == 1) and torch.all(relu_grad[x < 0] == 0)

# %% [markdown]
# ## 2. The network
#
# The original AlexNet took 3-channel 224 × 224 photographs and predicted 1000 classes, and was
# split over two GPUs of its day. Our version keeps its layer sizes but reads one grey channel and
# predicts our 10 classes:
#
# - an **11 × 11** convolution with stride 4 and 96 channels: a big window, because a 224-pixel
#   image needs to be shrunk fast;
# - a **5 × 5** convolution with 256 channels, then three **3 × 3** convolutions (384, 384, 256);
# - **3 × 3 max-pooling with stride 2** (overlapping windows) after the first, second and fifth
#   convolution;
# - a head of two dense layers of **4096** units, each followed by dropout, then 10 outputs.
#
# ![AlexNet as a stack of layers, with the output shape of each](../Pics/09_alexnet.svg)
#
# We keep all layers in one flat `nn.Sequential`, so that `d2l.layer_shapes` can visit them one
# at a time. The weights start from Kaiming initialisation (chapter 05), the choice made for
# ReLU layers: it keeps the activation variance roughly constant from layer to layer, so eight
# layers neither blow up nor fade the signal at the start of training.

# %%
def alexnet(in_channels=1, num_classes=10, dropout=0.5):
    net = nn.Sequential(
        nn.Conv2d(in_channels, 96, kernel_size=11, stride=4, padding=1), nn.ReLU(),
        nn.MaxPool2d(kernel_size=3, stride=2),
        nn.Conv2d(96, 256, kernel_size=5, padding=2), nn.ReLU(),
        nn.MaxPool2d(kernel_size=3, stride=2),
        nn.Conv2d(256, 384, kernel_size=3, padding=1), nn.ReLU(),
        nn.Conv2d(384, 384, kernel_size=3, padding=1), nn.ReLU(),
        nn.Conv2d(384, 256, kernel_size=3, padding=1), nn.ReLU(),
        nn.MaxPool2d(kernel_size=3, stride=2),
        d2l.FlattenLayer(),
        nn.Linear(256 * 5 * 5, 4096), nn.ReLU(), nn.Dropout(dropout),
        nn.Linear(4096, 4096), nn.ReLU(), nn.Dropout(dropout),
        nn.Linear(4096, num_classes),
    )
    for layer in net:
        if isinstance(layer, (nn.Conv2d, nn.Linear)):
            nn.init.kaiming_normal_(layer.weight, nonlinearity="relu")
            nn.init.zeros_(layer.bias)
    return net


net = alexnet()

# %% [markdown]
# ### Shape walk
#
# A convolution or pooling window of size $k$ with padding $p$ and stride $s$ turns a side of
# $n$ pixels into
#
# $$n_{\text{out}} = \left\lfloor \frac{n + 2p - k}{s} \right\rfloor + 1 .$$
#
# We compute every layer's expected output shape with this formula, independently of PyTorch,
# then push one 224 × 224 image through the network with `d2l.layer_shapes` and compare.

# %%
def out_side(n, k, s=1, p=0):
    return (n + 2 * p - k) // s + 1


def expected_shapes(net, channels, side):
    """Each layer's output shape (batch of 1), from the output-size formula alone."""
    shapes = []
    for layer in net:
        if isinstance(layer, nn.Conv2d):
            channels = layer.out_channels
            side = out_side(side, layer.kernel_size[0], layer.stride[0], layer.padding[0])
        elif isinstance(layer, nn.MaxPool2d):
            side = out_side(side, layer.kernel_size, layer.stride, layer.padding)
        elif isinstance(layer, d2l.FlattenLayer):
            channels, side = channels * side * side, None
        elif isinstance(layer, nn.Linear):
            channels = layer.out_features
        shapes.append((1, channels) if side is None else (1, channels, side, side))
    return shapes


X = torch.rand(1, 1, 224, 224)
walk = d2l.layer_shapes(net, X)

assert [shape for _, shape in walk] == expected_shapes(net, 1, 224)
# the three pools take 54 -> 26 -> 12 -> 5, so the head sees 256 * 5 * 5 = 6400 numbers
assert dict(walk)["13:FlattenLayer"] == (1, 6400)
assert walk[-1][1] == (1, 10)

# %% [markdown]
# ### Where the parameters live
#
# A convolution with $c_i$ input and $c_o$ output channels and a $k \times k$ kernel holds
# $c_o (c_i k^2 + 1)$ parameters; a dense layer from $n_i$ to $n_o$ units holds $n_o(n_i + 1)$.
# The counts below come from these formulas; PyTorch's own count must agree.

# %%
conv_layers = [(1, 96, 11), (96, 256, 5), (256, 384, 3), (384, 384, 3), (384, 256, 3)]
dense_layers = [(6400, 4096), (4096, 4096), (4096, 10)]
conv_params = sum(c_o * (c_i * k * k + 1) for c_i, c_o, k in conv_layers)
dense_params = sum(n_o * (n_i + 1) for n_i, n_o in dense_layers)
total = d2l.num_params(net)

print(f"convolutions: {conv_params:>11,} parameters")
print(f"dense head:   {dense_params:>11,} parameters ({dense_params / total:.1%})")
print(f"total:        {total:>11,} parameters")

assert total == conv_params + dense_params
assert dense_params / total > 0.9  # the head, not the convolutions, is where overfitting lurks

# %% [markdown]
# Nine parameters in ten sit in the three dense layers. That is why AlexNet puts dropout there
# and not after the convolutions, whose weights are shared over every position of the image and
# so see far more data per parameter.
#
# ## 3. Dropout in the classifier
#
# During training, `nn.Dropout(p)` zeroes each activation with probability $p$ and multiplies the
# survivors by $1/(1-p)$, so the expected value of every unit is unchanged (chapter 04 built this
# from scratch). In evaluation mode it does nothing. The head of our network is everything after
# the flatten layer; we feed it one fixed feature vector twice in each mode.

# %%
head = net[14:]  # dense - ReLU - dropout - dense - ReLU - dropout - dense
features = torch.rand(1, 6400)

with torch.no_grad():
    head.train()
    a, b = head(features), head(features)
    head.eval()
    c, d = head(features), head(features)
net.train()

print("training mode:  ", a[0, :3].tolist(), b[0, :3].tolist())
print("evaluation mode:", c[0, :3].tolist(), d[0, :3].tolist())
assert not torch.equal(a, b)  # a fresh random mask on every pass
torch.testing.assert_close(c, d)  # dropout is switched off for evaluation

# With p = 0.5 every kept unit is doubled, every dropped one is 0.
kept = nn.Dropout(0.5).train()(torch.ones(10_000))
assert set(kept.unique().tolist()) == {0.0, 2.0}
print(f"fraction kept: {(kept > 0).float().mean():.3f}, mean: {kept.mean():.3f}")

# %% [markdown]
# `d2l.evaluate_accuracy` switches the network to evaluation mode while it measures test accuracy,
# and `d2l.train_ch5` back to training mode for every epoch, so dropout is on exactly when it
# should be.
#
# ## 4. The data at 224 × 224
#
# Fashion-MNIST images are 28 × 28. AlexNet's first layer, with its 11 × 11 window and stride 4,
# would shrink such an image to 5 × 5 at once, so we stretch every image to 224 × 224 instead.
# This adds no information (it is interpolation), but it lets us run the network as designed;
# the price is 64 times as many pixels per image. The loader resizes whole batches at once, on
# the training device.

# %%
batch_size = 128
train_iter, test_iter = d2l.load_data_fashion_mnist(batch_size, resize=224)
X, y = next(iter(train_iter))
print(X.shape, X.dtype, y.shape, f"{len(train_iter)} training batches")
assert X.shape == (batch_size, 1, 224, 224) and X.dtype == torch.float32
assert 0 <= X.min() and X.max() <= 1

# %% [markdown]
# ## 5. Data augmentation
#
# A coat is still a coat when mirrored left to right, or when the picture is cropped a little
# and zoomed. Augmentation applies such label-preserving changes at random every time an image is
# used, so in ten epochs the network never sees exactly the same picture twice; it cannot simply
# memorise the training pixels. The original AlexNet trained on random 224 × 224 crops of
# 256 × 256 photographs and their mirror images, and also jittered the colours.
#
# `torchvision.transforms.v2` provides these operations for tensors. Two details matter:
#
# - A transform called on a batch tensor draws **one** random choice for the whole batch. For a
#   different flip or crop per image, call it once per image.
# - Only label-preserving changes are allowed. A horizontal flip is fine for clothes, while a
#   vertical flip would turn shoes upside down, which never happens in the test set.

# %%
from torchvision.transforms import v2

flip = v2.RandomHorizontalFlip(p=1.0)  # p = 1: always flip, to see it clearly
crop = v2.RandomResizedCrop(224, scale=(0.6, 1.0), ratio=(0.8, 1.25), antialias=True)
augment = v2.Compose([v2.RandomHorizontalFlip(p=0.5), crop])


def augment_batch(X, transform):
    """Apply `transform` to each image separately, so each gets its own random draw."""
    return torch.stack([transform(img) for img in X]).clamp(0, 1)


images = X[:6]
flipped = flip(images)
cropped = augment_batch(images, crop)
mixed = augment_batch(images, augment)

# A flip reverses the column order, and flipping twice gives the image back.
torch.testing.assert_close(flipped, images.flip(-1))
torch.testing.assert_close(flip(flipped), images)
# Crops are zoomed back to 224 x 224, so the network sees the same input shape.
assert cropped.shape == images.shape and mixed.shape == images.shape

# Six copies of one image: one call on the batch crops all six alike,
# one call per image crops each differently.
copies = images[:1].expand(6, -1, -1, -1)
whole = crop(copies)
each = augment_batch(copies, crop)
assert all(torch.equal(whole[0], img) for img in whole[1:])
assert not any(torch.equal(each[0], img) for img in each[1:])

labels = d2l.get_fashion_mnist_labels(y[:6])
for name, batch in [("original", images), ("flipped", flipped), ("random crop", cropped),
                    ("flip or not, then crop", mixed)]:
    axes = d2l.show_fashion_mnist(batch, labels)
    axes[0].figure.suptitle(name, fontsize=9, y=1.05)

# %% [markdown]
# `d2l.load_data_fashion_mnist` serves the images as they are; it does not augment. We train
# without augmentation below: for ten epochs on 60 000 images, dropout is enough regularisation
# to reach our target, and the comparison with augmentation is left as an exercise.
#
# ## 6. Training
#
# We train with the optimiser settings of the AlexNet paper: minibatches of 128, stochastic
# gradient descent with learning rate 0.01, momentum 0.9 and weight decay 0.0005 (chapter 04's
# L2 penalty). Momentum keeps a running average of past gradients,
#
# $$\mathbf{v} \leftarrow 0.9\,\mathbf{v} + \nabla_{\mathbf{w}} \ell, \qquad
# \mathbf{w} \leftarrow \mathbf{w} - \eta\,\mathbf{v},$$
#
# which smooths the noisy minibatch steps and, on a long consistent slope, moves about ten times
# as far as plain SGD with the same $\eta$.
#
# A 224 × 224 AlexNet needs nearly a billion multiply-adds per image, over a thousand times as
# many as LeNet; on a GPU ten epochs take minutes, on a CPU hours. `d2l.try_gpu()` picks the
# fastest device there is. We train the network built above (its weights are still the fresh
# Kaiming initialisation: nothing so far has updated them).

# %%
lr, num_epochs = 0.01, 10
device = d2l.try_gpu()
optimizer = torch.optim.SGD(net.parameters(), lr=lr, momentum=0.9, weight_decay=5e-4)
history = d2l.train_ch5(net, train_iter, test_iter, batch_size, optimizer, device, num_epochs)

# %%
assert all(torch.isfinite(torch.tensor(history["train_loss"])))
assert len(history["test_acc"]) == len(history["train_loss"]) >= 1
d2l.check_accuracy(history, 0.90)

# %% [markdown]
# The live plot above shows the training loss with the training and test accuracy after every
# epoch. Training accuracy is measured with dropout switched on, test accuracy with it off; that
# is one reason the test curve can lie above the training curve early on.
#
# Finally, a few test images with the true class on top and the prediction below.

# %%
X_test, y_test = next(iter(test_iter))
X_test, y_test = X_test[:6].to(device), y_test[:6]
net.eval()
with torch.no_grad():
    predicted = net(X_test).argmax(dim=1).cpu()
assert predicted.shape == y_test.shape
titles = [f"{t}\n{p}" for t, p in zip(d2l.get_fashion_mnist_labels(y_test),
                                      d2l.get_fashion_mnist_labels(predicted))]
d2l.show_fashion_mnist(X_test.cpu(), titles);

# %% [markdown]
# ## Summary
#
# - AlexNet is LeNet scaled up: 224 × 224 inputs, five convolutions, a 4096-wide dense head,
#   about 46 million parameters, more than 90 % of them in the dense layers.
# - ReLU passes gradients through active units unchanged; sigmoid shrinks them by at least 4 per
#   layer.
# - Dropout in the dense head regularises the layers that hold most of the parameters; it is
#   active in training mode only.
# - Augmentation (flips, crops, colour changes) makes every pass over the data a little different;
#   apply random transforms per image.
#
# ## Exercises
#
# 1. Replace every `nn.ReLU` by `nn.Sigmoid` and train for two epochs. What happens to the loss,
#    and how does it relate to the bound $4^{-L}$ from section 1?
# 2. Train with `dropout=0` and compare the gap between training and test accuracy after ten
#    epochs with the gap you got above.
# 3. Wrap `train_iter` in a small class whose `__iter__` yields `(augment_batch(X, augment), y)`
#    and train with it. Does augmentation help within ten epochs? Within thirty?
# 4. Use the shape formula to find the smallest input side for which AlexNet still produces a
#    valid output. Check your answer with `d2l.layer_shapes`.
# 5. The first dense layer alone holds about 26 million parameters. Halve the head's width to
#    2048 and count the parameters again. How much test accuracy do you lose?
