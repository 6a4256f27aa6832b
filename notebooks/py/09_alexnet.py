# %% [markdown]
# # 09 · AlexNet: a deeper CNN with ReLU and dropout, and a look at augmentation
#
# LeNet (chapter 08) showed that a few convolutions and a small dense head can read
# 28 × 28 clothing images. AlexNet (Krizhevsky, Sutskever and Hinton, 2012) is the network that
# made the same recipe work on ImageNet, with far bigger images and far more parameters: a variant
# of it won the ILSVRC-2012 competition with a top-5 test error of 15.3 %, against 26.2 % for
# the second-best entry. Few of its ingredients were new on their own; what mattered was putting together a
# handful of choices that let a large network train in days and not overfit:
#
# 1. **ReLU** activations instead of saturating ones such as tanh, which made training several
#    times faster;
# 2. **dropout** in the big dense layers, which hold most of the weights, against overfitting;
# 3. **data augmentation**: random crops and mirror images that show the network a slightly
#    different picture of an image on every pass (this chapter shows how to make them, but trains
#    without them: exercise 7 adds them);
# 4. **large inputs and GPUs**: 224 × 224 pixels, five convolutional layers, a 4096-wide head,
#    trained on two GPUs for five to six days.
#
# In this notebook we
# - measure what sigmoid and ReLU do to a gradient that passes through many layers;
# - build AlexNet for one-channel Fashion-MNIST images resized to 224 × 224 and walk a batch
#   through it layer by layer, checking every shape against the output-size formula;
# - count its parameters and its multiply-adds, and see where they live;
# - watch dropout behave differently in training and evaluation;
# - try flips and random crops with `torchvision.transforms.v2` (we do not train with them);
# - train the network with `d2l.train_ch5`, check that it learned, and look at the filters of
#   its first layer before and after training.

# %%
import torch
from torch import nn
import d2lmini as d2l

d2l.set_seed(0)
print(d2l.profile_summary())

# %% [markdown]
# ## 1. What the activation does to the gradient
#
# The sigmoid $\sigma(x) = 1/(1+e^{-x})$ has derivative $\sigma'(x) = \sigma(x)\,(1-\sigma(x))$,
# which never exceeds $\tfrac14$ (its value at $x = 0$) and is nearly zero once $|x|$ is a few
# units. The rectified linear unit
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

# The sigmoid derivative peaks at 1/4 (at x = 0); ReLU's is exactly 1 wherever x > 0.
torch.testing.assert_close(sigmoid_grad.max(), torch.tensor(0.25))
assert torch.all(relu_grad[x > 0] == 1) and torch.all(relu_grad[x < 0] == 0)

# %% [markdown]
# ### Through a stack of layers
#
# In a layer $\mathbf{h} = f(W\mathbf{x})$, backpropagation turns the gradient
# $\mathbf{g} = \partial \ell / \partial \mathbf{h}$ into
#
# $$\frac{\partial \ell}{\partial \mathbf{x}} = W^\top \big(f'(W\mathbf{x}) \odot \mathbf{g}\big):$$
#
# first the activation's derivative, then the weights. For the sigmoid the first factor is at most
# $\tfrac14$ in every coordinate, so one layer multiplies $\|\mathbf{g}\|$ by at most
# $\|W\|_2 / 4$ ($\|W\|_2$ is the largest factor by which $W$ stretches a vector), and $L$
# layers by at most $\prod_l \|W_l\|_2 / 4^L$. The derivatives alone contribute at most $4^{-L}$;
# whether the gradient really vanishes depends on the weights as well.
#
# We measure it. Eight layers of width $n = 128$, random Gaussian weights, a batch of 64 inputs:
# we push a random gradient back through the stack and compare its size at the bottom with its
# size at the top. Each row below changes one thing against another: rows 1 and 2 the weight
# scale of a sigmoid stack, rows 1 and 3 the activation, rows 3 and 4 the weight scale of a ReLU
# stack. A standard deviation of $1/\sqrt{n}$ keeps the length of a random vector on average
# (chapter 05), and $\sqrt{2/n}$ is Kaiming's scale for ReLU.

# %%
def gradient_ratio(activation, weight_std, depth=8, width=128, seed=0):
    """Backpropagate a random gradient through `depth` layers h = activation(W h). Returns the
    ratio |gradient at the input| / |gradient at the output|, the mean and the largest activation
    derivative met on the way, and the bound prod_l ||W_l||_2 * max f'_l on the ratio."""
    g = torch.Generator().manual_seed(seed)
    weights = torch.randn(depth, width, width, generator=g) * weight_std
    x = torch.randn(64, width, generator=g, requires_grad=True)
    h, derivatives = x, []
    for W in weights:
        z = (h @ W.T).detach().requires_grad_()
        activation(z).sum().backward()  # z.grad holds f'(z), one value per unit and example
        derivatives.append(z.grad)
        h = activation(h @ W.T)
    upstream = torch.randn(64, width, generator=g)
    h.backward(upstream)
    derivatives = torch.stack(derivatives)
    ratio = (x.grad.norm() / upstream.norm()).item()
    bound = (torch.linalg.matrix_norm(weights, ord=2) * derivatives.amax(dim=(1, 2))).prod().item()
    return ratio, derivatives.mean().item(), derivatives.max().item(), bound


n, depth = 128, 8
rows = {"sigmoid, std 1/sqrt(n)": (torch.sigmoid, 1 / n ** 0.5),
        "sigmoid, std 8/sqrt(n)": (torch.sigmoid, 8 / n ** 0.5),
        "ReLU,    std 1/sqrt(n)": (torch.relu, 1 / n ** 0.5),
        "ReLU,    std sqrt(2/n)": (torch.relu, (2 / n) ** 0.5)}
results = {name: gradient_ratio(f, std, depth) for name, (f, std) in rows.items()}

print(f"4^-{depth} = {0.25 ** depth:.1e}")
print(f"{'':24}{'gradient ratio':>15}{'mean f_prime':>14}{'max f_prime':>13}{'bound':>10}")
for name, (ratio, mean_d, max_d, bound) in results.items():
    print(f"{name:24}{ratio:>15.1e}{mean_d:>14.3f}{max_d:>13.3f}{bound:>10.1e}")

small, big = results["sigmoid, std 1/sqrt(n)"], results["sigmoid, std 8/sqrt(n)"]
relu_small, relu_kaiming = results["ReLU,    std 1/sqrt(n)"], results["ReLU,    std sqrt(2/n)"]
assert small[2] <= 0.25 and big[2] <= 0.25  # every sigmoid derivative met is at most 1/4
assert all(ratio <= bound for ratio, _, _, bound in results.values())  # the bound above holds
assert 1e-6 < small[0] < 1e-4  # small weights: shrunk about 10^5-fold, as 4^-8 suggests
assert big[0] > 1000 * 0.25 ** depth  # large weights: NOT shrunk by 4^-8 ...
assert 0.05 < big[0] < 1  # ... only to a ratio of order 10^-1
assert big[1] < small[1] / 2  # ... but most units sit in the flat tails of the sigmoid
assert small[0] < relu_small[0] / 100  # same weights, ReLU instead of sigmoid
assert 0.4 < relu_small[1] < 0.6  # about half of the ReLUs are active ...
assert 0.5 * 2 ** -4 < relu_small[0] < 2 * 2 ** -4  # ... costing about 1/sqrt(2) per layer
assert 0.5 < relu_kaiming[0] < 2  # ReLU at Kaiming's scale keeps the gradient's size

# %% [markdown]
# What the table shows:
#
# - With weights that keep a vector's length (row 1), the sigmoid stack shrinks the gradient by
#   about $10^5$, close to $4^8 \approx 6.6 \cdot 10^4$: the pre-activations stay small, so
#   $\sigma'$ stays near its maximum $\tfrac14$ and each layer costs a factor of about 4.
# - Eight times larger weights (row 2) offset most of it: the ratio is of order $10^{-1}$, not
#   $4^{-8}$. So "$L$ sigmoid layers shrink the gradient by $4^L$" is false in general; what is
#   true is that the derivatives contribute at most $4^{-L}$. The large weights pay for this by
#   pushing most units into the flat tails, where the mean derivative is far below $\tfrac14$.
# - ReLU with the same small weights (row 3) loses far less. Its derivative is 1 on the active
#   units and 0 on the others, and about half are active (the mean derivative is about 0.5), so
#   each layer keeps about $1/\sqrt2$ of the gradient's length: $2^{-4} \approx 0.06$ over eight
#   layers. Kaiming's scale $\sqrt{2/n}$ compensates for the inactive half (row 4), and the
#   gradient keeps its size through all eight layers.
#
# Krizhevsky et al. made the case for ReLU with a measurement against **tanh**, another
# saturating activation: on CIFAR-10, a four-layer convolutional network with ReLUs reached 25 %
# training error six times faster than the same network with tanh units (Figure 1 of their
# paper).

# %% [markdown]
# ## 2. The network
#
# The original AlexNet read 3-channel colour photographs and predicted 1000 classes. It was split
# over two GPUs with 3 GB of memory each: each GPU held half of every layer's channels, and the
# second, fourth and fifth convolutions saw only the channels on their own GPU. After the first
# two convolutions it also normalised each response by those at the same position in
# neighbouring channels ("local response normalisation"). Our version keeps the kernel sizes,
# strides and channel counts of the convolutions and the width of the head, and differs in four
# ways: it reads one grey channel, predicts our 10 classes, connects every convolution to all
# channels of the layer below (one device), and has no response normalisation (Simonyan and
# Zisserman, whose VGG networks chapter 10 builds, tested it and found that it did not improve
# their networks on ImageNet, while it cost memory and computation). The layers are:
#
# - an **11 × 11** convolution with stride 4 and 96 channels: a big window, because a 224-pixel
#   image needs to be shrunk fast;
# - a **5 × 5** convolution with 256 channels, then three **3 × 3** convolutions (384, 384, 256);
# - **3 × 3 max-pooling with stride 2** after the first, second and fifth convolution. The
#   windows overlap (stride 2 < width 3); the paper reports that this lowered its top-1 and top-5
#   error by 0.4 and 0.3 points against non-overlapping 2 × 2 windows;
# - a head of two dense layers of **4096** units, each followed by dropout, then 10 outputs.
#
# The paper calls its input 224 × 224, but the sizes it lists (55 × 55 maps after the first
# layer) work out for 227 × 227: $(227 - 11)/4 + 1 = 55$, while $224 - 11$ is not a multiple
# of 4. We pad the first convolution by 1 so that a 224 × 224 image gives 54 × 54 maps; our last
# pooled maps are then 5 × 5, where the original's are 6 × 6.
#
# ![AlexNet as a stack of layers, with the output shape of each](../Pics/09_alexnet.svg)
#
# We keep all layers in one flat `nn.Sequential`, so that `d2l.layer_shapes` can visit them one
# at a time. The convolutions and the two hidden dense layers start from Kaiming initialisation
# (chapter 05), which is derived for layers followed by a ReLU: it picks the weight scale so
# that, on average, a layer keeps the size of the signal it passes on, forwards and (row 4 above)
# backwards. Its factor 2 makes up for the half of the units that the ReLU zeroes. The output
# layer has no ReLU after it, so that factor has no reason there: it keeps PyTorch's default
# initialisation, weights drawn uniformly with variance $1/(3 n_\text{in})$, as in chapters 12
# and 13. Its small initial scores put the untrained network's loss near $\ln 10$, the loss of
# uniform guessing; section 6 measures it. The paper itself drew every weight from a Gaussian
# with standard deviation 0.01.

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
    for layer in net[:-1]:  # every layer followed by a ReLU; the output layer keeps the default
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
# the paper's sizes: 227 gives 55 x 55 after the first layer
assert out_side(227, 11, 4) == 55 and (224 - 11) % 4 != 0

# %% [markdown]
# A colour version, for 3-channel images such as CIFAR-10's, differs in one argument. We build it
# on PyTorch's `meta` device, whose tensors have shapes but no memory and no values: enough to
# check shapes without allocating a second network.

# %%
with torch.device("meta"):
    colour_net = alexnet(in_channels=3)
    colour_walk = d2l.layer_shapes(colour_net, torch.empty(1, 3, 224, 224), verbose=False)
assert colour_net[0].weight.shape == (96, 3, 11, 11)
assert [shape for _, shape in colour_walk] == expected_shapes(colour_net, 3, 224)
assert colour_walk[-1][1] == (1, 10)

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
assert dense_params / total > 0.9  # the head holds nine parameters in ten

# %% [markdown]
# Nine parameters in ten sit in the three dense layers, and that is where the paper used
# dropout, to reduce overfitting in those fully connected layers. A convolution's weights are
# shared by every position of the image, so each of them is fitted to far more input values than
# a weight of the head. (The original, with 3 channels, 1000 classes, 6 × 6 final maps and its
# two-GPU split, has the "60 million parameters" of the paper: exercise 2 counts them.)
#
# ## 3. Dropout in the classifier
#
# During training, `nn.Dropout(p)` zeroes each activation with probability $p$ and multiplies the
# survivors by $1/(1-p)$, so the expected value of every unit is unchanged (chapter 04 built this
# from scratch). In evaluation mode it does nothing. (The paper did the scaling the other way
# round: it kept the survivors as they were and multiplied the outputs by 0.5 at test time, which
# gives the same expected values.) The head of our network is everything after the flatten
# layer; we feed it one fixed feature vector twice in each mode.

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
assert out_side(28, 11, 4, 1) == 5  # what the first layer would make of a 28 x 28 image

# %% [markdown]
# ## 5. Data augmentation
#
# A coat is still a coat when mirrored left to right, or when the picture is cropped a little
# and zoomed. Augmentation applies such label-preserving changes at random every time an image is
# used, so the network rarely sees exactly the same picture twice and cannot simply memorise the
# training pixels. The original AlexNet brought every photograph to 256 × 256 (shorter side
# scaled to 256, then the centre cut out) and trained on random 224 × 224 patches of it and on
# their mirror images; it also shifted the intensities of the
# red, green and blue channels by random multiples of their principal components. At test time
# it averaged the network's softmax outputs over ten patches of each image: five 224 × 224
# patches of the 256 × 256 image (its four corners and its centre) and their mirror images
# (Section 4.1 of the paper; `v2.TenCrop(224)` cuts those ten).
#
# `torchvision.transforms.v2` provides such operations for tensors. We try two kinds of crop.
# AlexNet's enlarges the image to 256 × 256 and cuts a 224 × 224 window at a random place: a
# shift, with no zoom. `v2.RandomResizedCrop` cuts a window of random area and aspect ratio and
# scales it to 224 × 224, so it zooms as well. That one came later: the GoogLeNet paper
# (chapter 12; Szegedy et al., 2015, Section 6) reports good results with patches of 8 % to
# 100 % of the image's area and aspect ratios between 3/4 and 4/3, and torchvision's
# documentation calls it the crop popularly used to train the Inception networks; ours zooms
# less (60 % to 100 % of the area). Two details matter:
#
# - A transform called on a batch tensor draws **one** random choice for the whole batch. For a
#   different flip or crop per image, call it once per image.
# - Only label-preserving changes are allowed. A left-right mirror of a shirt is still a shirt;
#   a vertical flip would stand every shoe on its head, a view that upright product photos such
#   as Fashion-MNIST's do not show.

# %%
from torchvision.transforms import v2

flip = v2.RandomHorizontalFlip(p=1.0)  # p = 1: always flip, to see it clearly
alexnet_crop = v2.Compose([v2.Resize(256, antialias=True), v2.RandomCrop(224)])  # shift, no zoom
crop = v2.RandomResizedCrop(224, scale=(0.6, 1.0), ratio=(0.8, 1.25), antialias=True)  # zoom
augment = v2.Compose([v2.RandomHorizontalFlip(p=0.5), crop])


def augment_batch(X, transform):
    """Apply `transform` to each image separately, so each gets its own random draw."""
    return torch.stack([transform(img) for img in X]).clamp(0, 1)


images = X[:6]
flipped = flip(images)
shifted = augment_batch(images, alexnet_crop)
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
for name, batch in [("original", images), ("flipped", flipped),
                    ("AlexNet's crop: 224 x 224 of 256 x 256", shifted),
                    ("random-resized crop", cropped), ("flip or not, then random-resized crop", mixed)]:
    axes = d2l.show_fashion_mnist(batch, labels)
    axes[0].figure.suptitle(name, fontsize=9, y=1.05)

# %% [markdown]
# `d2l.load_data_fashion_mnist` serves the images as they are; it does not augment. We train
# without augmentation below; exercise 7 adds it.
#
# ## 6. Training
#
# First, the cost. A convolution computes, for each of its output values, $c_i k^2$
# multiply-adds; a dense layer $n_i$ per output. The function below adds these up with forward
# hooks while one image passes through, on the `meta` device, where nothing is really computed.
# The formula applied to the shapes of the walk must give the same number.

# %%
def multiply_adds(net, X):
    """Multiply-adds of one forward pass of `net` on `X`, summed over its convolutions and dense
    layers: (number of outputs) x (inputs each output reads)."""
    counts = []

    def count(layer, inputs, output):
        if isinstance(layer, nn.Conv2d):
            per_output = layer.in_channels // layer.groups * layer.kernel_size[0] * layer.kernel_size[1]
        else:
            per_output = layer.in_features
        counts.append(output.numel() * per_output)

    hooks = [m.register_forward_hook(count) for m in net.modules()
             if isinstance(m, (nn.Conv2d, nn.Linear))]
    try:
        with torch.no_grad():
            net(X)
    finally:
        for hook in hooks:
            hook.remove()
    return sum(counts)


with torch.device("meta"):
    macs = multiply_adds(alexnet(), torch.empty(1, 1, 224, 224))

conv_sides = [shape[2] for name, shape in walk if name.endswith(":Conv2d")]
by_formula = (sum(side * side * c_o * c_i * k * k
                  for side, (c_i, c_o, k) in zip(conv_sides, conv_layers))
              + sum(n_i * n_o for n_i, n_o in dense_layers))
print(f"one forward pass: {macs / 1e9:.2f} billion multiply-adds per image")
print(f"ten epochs of 60 000 images, forward and backward: about {3 * macs * 60_000 * 10:.1e}")
assert macs == by_formula
assert 0.9e9 < macs < 1e9  # nearly a billion

# %% [markdown]
# Nearly a billion multiply-adds per image for the forward pass, and the backward pass costs
# about twice as much again (one product for the gradient with respect to the inputs, one for the
# weights). Ten epochs of the full profile thus need about $1.7 \cdot 10^{15}$ multiply-adds for
# training alone. How long that takes depends on the machine. `benchmarks/fast_path.py` timed a
# training step of 128 images of this network (the README has its tables): 0.82 s on two cores of
# an Intel Xeon with native bf16, on the fast path described next, and 8.27 s on two cores of an
# AMD EPYC in float32. At $3 \cdot 0.94 \cdot 10^9 \cdot 128 \approx 3.6 \cdot 10^{11}$
# multiply-adds per step, that is about $4.4 \cdot 10^{11}$ and $4.4 \cdot 10^{10}$ multiply-adds
# per second, and the README estimates the ten epochs at 68 minutes and 11.4 hours. A data-centre
# GPU is built for far more: NVIDIA's datasheet gives an A100 a peak of 19.5 TFLOPS in float32 and
# 312 TFLOPS in bf16 on its tensor cores, about $10^{13}$ and $1.6 \cdot 10^{14}$ multiply-adds
# per second (one multiply-add is two floating-point operations); at the float32 peak the ten
# epochs would take under three minutes, and real runs reach only part of a peak.
# `d2l.train_ch5` prints its own estimate for your machine after the first batches, and
# `d2l.try_gpu()` picks the fastest device there is.
#
# ### A faster path: bfloat16 and channels-last
#
# Most of those multiply-adds do not need float32's 24 significant bits (about seven decimal
# digits). **bfloat16** keeps float32's sign and its 8 exponent bits, so it has float32's exponent
# range, and drops 16 of the 23 stored mantissa bits. That leaves 8 significant bits (7 stored,
# plus the leading 1 that is implied), about $8 \log_{10} 2 \approx 2.4$ decimal digits. With
# the same exponents but fewer mantissa bits its largest finite value is
# $(2 - 2^{-7}) \cdot 2^{127} \approx 3.39 \cdot 10^{38}$, just below float32's
# $3.40 \cdot 10^{38}$, so the few float32 values above about $3.396 \cdot 10^{38}$ round to
# infinity in bf16; anything of a size met in training fits in both. IEEE half precision
# (float16) makes the other trade: 10 stored mantissa bits (11 significant, about 3.3 digits)
# but 5 exponent bits, so it overflows above 65 504, and values below about $3 \cdot 10^{-8}$,
# half its smallest positive value $2^{-24}$, round to 0 (below its smallest normal value,
# $6.1 \cdot 10^{-5}$, they already keep fewer bits). Under
# `torch.autocast(..., dtype=torch.bfloat16)` the convolutions and matrix products read bf16
# inputs and add up their products in float32; the weights, the optimizer's momentum and the
# loss stay float32, so the small rounding of each product does not pile up over training.
#
# The memory layout matters too. A batch of shape (N, C, H, W) is normally stored with W
# varying fastest; **channels-last** stores the same values with C varying fastest, so the C
# values that a convolution combines at one pixel sit side by side. The fast convolution
# kernels of CPUs and GPUs want that order and otherwise reorder every activation first.
#
# Where bf16 is not native it is emulated, and slower than float32. So what `d2l.train_ch5` (and
# `d2l.evaluate_accuracy`) run a conv net with depends on the hardware:
#
# - **bf16 autocast, channels-last** where bf16 arithmetic is native: CUDA GPUs of compute
#   capability 8.0 and up (A100, the RTX 30 and 40 series, H100) and CPUs with AVX512-BF16 or AMX.
# - **float16 autocast with a gradient scaler, channels-last** on CUDA GPUs of compute capability
#   7.x (V100 is 7.0, T4 7.5), which have tensor cores for float16 but no bf16 arithmetic.
#   float16's 5 exponent bits are the catch: a small gradient rounds to 0 and is lost. So
#   `torch.amp.GradScaler` multiplies the loss by a large factor before the backward pass, which
#   multiplies every gradient by the same factor and lifts the small ones into float16's range,
#   and divides the gradients by it again before the optimizer step. When a gradient comes out
#   infinite or NaN, the factor was too large: that step is skipped and the factor lowered.
# - **float32, channels-last** on older GPUs and on CPUs without native bf16 (such as the AMD
#   EPYC below, with AVX2).
#
# A dense net, such as the MLPs of chapters 02 to 05, runs in plain float32 everywhere.
# `precision="fp16"` forces the float16 path (with its scaler) and `precision="bf16"` the bf16
# one on any CPU or CUDA device, emulated and slow where the hardware lacks them;
# `precision="fp32"` gives plain float32 in the default layout. A net whose forward pass fails on
# channels-last activations (one that calls `.view` on them, which needs the default memory
# order, as the classic PyTorch edition's AlexNet does with `feature.view(img.shape[0], -1)`)
# runs that training in the default layout, and one line says so. The first line of
# every run, "training on ...", names the device and the path.
#
# `benchmarks/fast_path.py` times the paths on each chapter's net: on two cores of an Intel Xeon
# with AMX (native bf16) a training step of this AlexNet took 0.82 s on the fast path against
# 2.97 s in plain float32, 3.6 times as fast; on two cores of an AMD EPYC without native bf16,
# where only the layout changes, 8.27 s against 8.34 s (the README has both tables).

# %%
import math

for dtype in (torch.float32, torch.bfloat16, torch.float16):
    info = torch.finfo(dtype)
    bits = round(-math.log2(info.eps)) + 1  # significant bits: the stored ones and the leading 1
    print(f"{str(dtype):15} largest {info.max:10.4g}   smallest normal {info.tiny:9.3g}   "
          f"{bits:2} significant bits, about {bits * math.log10(2):.1f} decimal digits")
bf16, fp32 = torch.finfo(torch.bfloat16), torch.finfo(torch.float32)
assert bf16.max == (2 - 2 ** -7) * 2 ** 127 < fp32.max and bf16.tiny == fp32.tiny  # same exponents
assert bf16.eps == 2 ** -7  # 7 stored mantissa bits after the leading 1: 8 significant bits
big = torch.tensor(3.4e38)  # finite in float32, just too large for bf16
assert big.isfinite() and big.to(torch.bfloat16).isinf()
assert torch.tensor(1 + 2 ** -9).to(torch.bfloat16).item() == 1.0  # rounded away in bf16
assert torch.tensor(70_000.0).to(torch.float16).isinf() and torch.tensor(70_000.0).to(torch.bfloat16).isfinite()
assert torch.tensor(1e-8).to(torch.float16) == 0 and torch.tensor(1e-8).to(torch.bfloat16) > 0

batch = torch.rand(2, 3, 4, 5)
print("strides (N, C, H, W), default:      ", batch.stride())
print("strides (N, C, H, W), channels_last:", batch.contiguous(memory_format=torch.channels_last).stride())
assert batch.stride()[-1] == 1 and batch.contiguous(memory_format=torch.channels_last).stride()[1] == 1
print(f"native bf16 on {d2l.try_gpu()}: {d2l.bf16_native(d2l.try_gpu())}")

# %% [markdown]
# The strides say how many positions in memory one step along each axis moves: W is the
# fastest axis by default (stride 1), C after the change.
#
# We train with the optimiser settings of the AlexNet paper: minibatches of 128, stochastic
# gradient descent with momentum 0.9, weight decay 0.0005 (chapter 04's L2 penalty) and a
# learning rate of 0.01, which the paper divided by 10 whenever the validation error stopped
# improving; we keep it constant for our ten epochs. Momentum keeps a running average of past
# gradients,
#
# $$\mathbf{v} \leftarrow 0.9\,\mathbf{v} + \nabla_{\mathbf{w}} \ell, \qquad
# \mathbf{w} \leftarrow \mathbf{w} - \eta\,\mathbf{v},$$
#
# which smooths the noisy minibatch steps and, on a long slope where the gradient stays the
# same, moves $1 + 0.9 + 0.9^2 + \dots = 10$ times as far per step as plain SGD with the same
# $\eta$. We train the network built above (its weights are still the fresh initialisation of
# section 2: nothing so far has updated them).
#
# Before training, we keep 32 of the training images of section 4 as a fixed **probe batch**
# and measure the network's loss on it, with dropout off, and we keep a copy of the first
# layer's filters. Both come back after training. The loss of the untrained network should sit
# near $\ln 10$ (section 2); for comparison we also score the same features with the output
# weights scaled up by $\sqrt 6$, to the variance $2/n_\text{in}$ that Kaiming's ReLU rule
# would give that layer (one change: the scale of the last layer's weights).
#
# Two keyword arguments help with long runs. `checkpoint="runs/alexnet.pt"` saves the net, the
# optimizer, the random state and the history after every epoch and every few minutes of training
# inside one (`checkpoint_every=`, in seconds), and when the file exists at the start, resumes
# where it was taken, at the saved batch with the same batch order: a run of many hours then
# survives a kernel restart (delete the file to start over; git ignores `runs/`).
# `precision="fp32"` turns the fast path off.

# %%
probe_X, probe_y = X[:32], y[:32]  # 32 training images from section 4, kept fixed
initial_filters = net[0].weight.detach().clone()

net.eval()
with torch.no_grad():
    features = net[:-1](probe_X)  # what reaches the output layer
    output = net[-1]
    scores = output(features)  # = net(probe_X)
    kaiming_scaled = features @ (output.weight * 6 ** 0.5).T + output.bias
net.train()
loss_before = nn.functional.cross_entropy(scores, probe_y).item()
loss_kaiming = nn.functional.cross_entropy(kaiming_scaled, probe_y).item()
print(f"untrained, dropout off: loss {loss_before:.3f} (ln 10 = {math.log(10):.3f}); "
      f"with the output weights at Kaiming's ReLU scale: {loss_kaiming:.3f}")
assert abs(loss_before - math.log(10)) < 0.5  # near uniform guessing
assert loss_kaiming > loss_before + 0.2  # larger weights, larger initial scores, larger loss

# %%
lr, num_epochs = 0.01, 10
device = d2l.try_gpu()
optimizer = torch.optim.SGD(net.parameters(), lr=lr, momentum=0.9, weight_decay=5e-4)
history = d2l.train_ch5(net, train_iter, test_iter, batch_size, optimizer, device, num_epochs)

# %%
def decay_only(start, optimizer, steps):
    """Where the weights `start` would be after `steps` steps of an optimizer of the same kind and
    settings as `optimizer` had the loss given them no gradient at all: the work of weight decay
    alone (they stay at `start` without weight decay)."""
    w = start.detach().clone().requires_grad_()
    replay = type(optimizer)([w], **optimizer.defaults)
    for _ in range(steps):
        w.grad = torch.zeros_like(w)  # no gradient from the loss; the optimizer adds the decay
        replay.step()
    return w.detach()


loss_after = d2l.batch_loss(net, probe_X, probe_y)
filters_now = net[0].weight.detach().cpu()
filters_decayed = decay_only(initial_filters, optimizer, history.steps)
start_norm = initial_filters.norm()
moved = ((filters_now - initial_filters).norm() / start_norm).item()
by_decay = ((filters_decayed - initial_filters).norm() / start_norm).item()
beyond_decay = ((filters_now - filters_decayed).norm() / start_norm).item()
print(f"after {history.steps} steps ({history.epochs_done} of {history.epochs_planned} epochs): "
      f"probe loss {loss_before:.3f} -> {loss_after:.3f}; first-layer weights moved by "
      f"{moved:.3%} of their norm, weight decay alone would have moved them by {by_decay:.4%}, "
      f"and they are {beyond_decay:.3%} of their norm away from where it would have put them")
if history.steps:
    assert beyond_decay > 1e-4  # the first layer learned from its gradient, not only decayed
if history.steps >= 100:
    assert loss_after < loss_before  # training lowered the loss on these fixed images
d2l.check_accuracy(history, quick=0.83, target=0.90);

# %% [markdown]
# The probe loss tells whether the training did its job, but it needs some patience: with
# learning rate 0.01 and momentum the first steps can overshoot, and the loss can rise before it
# falls, so a run of two steps, as in the smoke profile, may end above its start. The cell
# therefore asks for a lower probe loss once the run has taken 100 steps (a quick-profile epoch
# has 469), and in every run that took a step for a first layer that learned. That its weights
# moved would not show it: weight decay moves them too, shrinking every weight a little at every
# step, even in a first layer to which the loss sends no gradient at all (the starved layer that
# section 1 warns of). `decay_only` replays the optimizer's steps on a copy of the initial
# weights with a zero gradient, which is exactly what such a layer goes through, so a starved
# layer ends where `decay_only` puts it, up to rounding. The cell asks the weights to end more than
# 0.01 % of their norm away from that point, a hundred times the rounding error of the replay
# (`tests/test_trust_ch07_11.py` trains the network with the first layer's gradient forced to
# zero: it ends within $10^{-6}$ of the replay, and the check rejects it). In the smoke
# profile's two steps weight decay alone moved the weights by 0.0014 % of their norm, and they
# ended 0.44 % away from where it would have put them.
#
# The live plot above shows the training loss with the training and test accuracy after every
# epoch. `d2l.check_accuracy` compares the final test accuracy with the floor measured for the
# profile that runs (each floor sits a stated margin below an accuracy that
# `benchmarks/full_results.py` measured in that profile; the README lists them). No run of this
# chapter in the full profile has been measured yet, so there a target of 0.90 is printed, not
# checked. It is the figure that the classic PyTorch edition of Dive into Deep Learning (whose
# helpers d2lmini keeps) reports for an AlexNet of the same layer sizes on Fashion-MNIST at
# 224 × 224: a test accuracy of 0.902 after 5 epochs of Adam at learning rate 0.001, from
# PyTorch's default initialisation (its notebook `code/chapter05_CNN/5.6_alexnet.ipynb`). That
# recipe is not ours, so it is a figure to compare with, not a prediction. In the smoke profile
# the accuracy is only reported. The quick profile (all the data,
# one epoch) reached 0.868 on two cores of an Intel Xeon with native bf16, in 7.7 minutes of
# training, so its floor is 0.83. Training accuracy is measured with dropout switched on, test
# accuracy with it off; that is one reason the test curve can lie above the training curve early
# on.
#
# ### Accuracy figures of chapters 09 to 14 do not rank the networks
#
# From here on every chapter trains a CNN and prints a target or a floor for its test accuracy.
# Do not read these numbers as a ranking of AlexNet, VGG, NiN, GoogLeNet, ResNet and DenseNet:
# the chapters differ in more than the network.
#
# | chapter | network | input | initialisation | optimiser | learning rate | batch norm | dropout |
# |---|---|---|---|---|---|---|---|
# | 09 | AlexNet | 224 × 224 | Kaiming; output layer PyTorch's default | SGD, momentum 0.9, weight decay 0.0005 | 0.01, constant | no | 0.5, in the head |
# | 10 | VGG-11 at a quarter of its width | 224 × 224 | the same as 09 | the same as 09 | 0.01, constant | no | 0.5, in the head |
# | 11 | NiN | 224 × 224 | Kaiming; last 1 × 1 convolution zero | Adam | 0.001, constant | no | 0.5, before the last block |
# | 12 | GoogLeNet | 96 × 96 | Kaiming convolutions; output layer PyTorch's default | Adam | 0.001, cosine schedule | no | none |
# | 13 | ResNet-18 | 96 × 96 | PyTorch's default | SGD, momentum 0.9, weight decay 0.0005 | 0.05, cosine schedule | yes | none |
# | 14 | DenseNet | 96 × 96 | PyTorch's default | SGD, momentum 0.9, weight decay 0.0001 | 0.1, cosine schedule | yes | none |
#
# All train ten epochs in the full profile on batches of 128, but the resolution, the
# initialisation, the optimiser, the learning rate and its schedule, batch normalisation and
# dropout change from row to row, several at once. Any one of them can decide a run: in chapter
# 11's reference runs (one seed, 96 × 96 inputs, 120 steps) NiN under Adam reached a validation
# accuracy of 0.672 from its zero-started last layer and stayed at chance, 0.100, from the plain
# Kaiming start. On top of that, the full-profile figures of 09 to 13 are targets that no run of
# these notebooks has measured (14's was measured on a CPU; 09 to 11 say where their targets come
# from); a quick-profile floor comes from a single epoch (it
# rewards a recipe that learns fast at the start, not the one that ends best) and sits 0.03
# below the lowest of at most two measured runs from one seed. A fair
# comparison of two networks would train both on the same data, at the same resolution, with
# the same recipe and budget, over several seeds.
#
# ### What the first layer learned
#
# The first convolution's 96 filters look at the pixels directly, so they can be drawn as
# pictures. Krizhevsky et al. showed theirs after training on ImageNet (Figure 3 of the paper):
# filters tuned to edges of different orientations and to patterns of different frequencies,
# and coloured blobs. Ours read one grey channel, so each is an 11 × 11 grey-level pattern. We
# draw every filter divided by its own largest absolute weight, on a colour scale symmetric
# around 0: white is 0, red positive and blue negative weights. Left the filters as initialised
# (the copy taken before training), right the same filters now.
#
# What you see depends on the profile. In the smoke profile the network has taken two steps on
# 200 images: the filters are still their random start, and both pictures look alike (the
# relative change printed after training says by how much they differ). The quick profile's
# epoch (469 steps) and the full profile's ten epochs give them far more steps to change; what
# they turn into on Fashion-MNIST we have not recorded, so compare the two pictures after such a
# run yourself.

# %%
def filter_mosaic(weights, cols=12, gap=1):
    """The filters of a (n, 1, k, k) weight tensor side by side in rows of `cols`, each divided by
    its own largest absolute value (so 0 stays 0 and the range is [-1, 1]); NaN in the gaps."""
    w = weights[:, 0].detach().cpu()
    w = w / w.abs().amax(dim=(1, 2), keepdim=True)
    n, k = w.shape[0], w.shape[-1]
    rows = -(-n // cols)
    mosaic = torch.full((rows * (k + gap) - gap, cols * (k + gap) - gap), float("nan"))
    for i, f in enumerate(w):
        r, c = divmod(i, cols)
        mosaic[r * (k + gap):r * (k + gap) + k, c * (k + gap):c * (k + gap) + k] = f
    return mosaic


trained_filters = net[0].weight.detach().cpu()
before, after = filter_mosaic(initial_filters), filter_mosaic(trained_filters)
assert before.shape == (8 * 12 - 1, 12 * 12 - 1)  # 96 filters of 11 x 11 in 8 rows of 12
first = trained_filters[0, 0]
torch.testing.assert_close(after[:11, :11], first / first.abs().max())  # filter 0, top left
colours = d2l.plt.get_cmap("RdBu_r").with_extremes(bad="0.6")  # NaN gaps in grey
fig, axes = d2l.plt.subplots(1, 2, figsize=(9, 3.3))
for ax, title, mosaic in [(axes[0], "at initialisation", before),
                          (axes[1], f"after {history.steps} training steps", after)]:
    ax.imshow(mosaic.numpy(), cmap=colours, vmin=-1, vmax=1)
    ax.set_title(title, fontsize=9)
    ax.axis("off")

# %% [markdown]
# Finally, a few test images with the true class on top and the prediction below.

# %%
X_test, y_test = next(iter(test_iter))
X_test, y_test = X_test[:6].to(device), y_test[:6]
net.eval()
with torch.no_grad():
    predicted = net(X_test).argmax(dim=1).cpu()
titles = [f"{t}\n{p}" for t, p in zip(d2l.get_fashion_mnist_labels(y_test),
                                      d2l.get_fashion_mnist_labels(predicted))]
d2l.show_fashion_mnist(X_test.cpu(), titles);

# %% [markdown]
# ## Summary
#
# - AlexNet is LeNet scaled up: 224 × 224 inputs, five convolutions, a 4096-wide dense head.
#   Our one-channel version has about 46.8 million parameters, more than 90 % of them in the
#   dense layers, and needs nearly a billion multiply-adds per image.
# - In every layer the backward pass multiplies by the activation's derivative and by the
#   weights. The sigmoid's derivative is at most 1/4, so with weights that keep a vector's
#   length the gradient shrinks geometrically with depth; large weights can offset that, but push
#   the units into saturation. ReLU's derivative is 1 on active units, and at Kaiming's scale the
#   gradient keeps its size.
# - Dropout in the dense head regularises the layers that hold most of the parameters; it is
#   active in training mode only.
# - Augmentation (flips, crops, colour changes) makes every pass over the data a little different;
#   apply random transforms per image. AlexNet trained on random 224 × 224 crops of 256 × 256
#   images and their mirror images, and averaged ten crops at test time; the zooming
#   `RandomResizedCrop` came later, with GoogLeNet. This chapter makes such crops but trains
#   without them.
#
# ## Exercises
#
# The first four are checked: replace the stub, run the cell, and the check says whether your
# answer is right and, if not, what is off.
#
# **1.** What is the smallest input side $n$ for which `alexnet()` accepts an $n \times n$ image?
# Mind the first dense layer: it expects exactly $256 \cdot 5 \cdot 5$ inputs. Use the
# output-size formula (or `expected_shapes`), and check your answer with `d2l.layer_shapes`.

# %% tags=["exercise"]
smallest_side = None  # replace None with your answer

d2l.exercises.check_alexnet_min_side(smallest_side)

# %% [markdown]
# **2.** Count the parameters of the original ImageNet AlexNet: 3 input channels, 1000 classes,
# the convolutions of our network with no padding in the first one (a 227 × 227 input, so the
# last maps are 6 × 6), and the two-GPU split, in which the second, fourth and fifth convolutions
# see only half of the previous layer's channels (`groups=2` in `nn.Conv2d`). Compare with the
# "60 million" of the paper.

# %% tags=["exercise"]
imagenet_alexnet_params = None  # replace None with your count (an int)

d2l.exercises.check_imagenet_alexnet_params(imagenet_alexnet_params)

# %% [markdown]
# **3.** Write `random_flip(X)` that mirrors each image of a batch `X` of shape (N, C, H, W)
# left to right with probability 1/2, with its own random choice per image, drawn afresh on
# every call (section 5 showed that a `v2` transform called on the whole batch draws only one).

# %% tags=["exercise"]
def random_flip(X):
    # your code here
    raise NotImplementedError


d2l.exercises.check_random_flip(random_flip)

# %% [markdown]
# **4.** Write `predict(net, X)` that returns the predicted class of every example, with dropout
# switched off, and leaves `net`, every layer of it included, in the mode (training or
# evaluation) it was in before.

# %% tags=["exercise"]
def predict(net, X):
    # your code here
    raise NotImplementedError


d2l.exercises.check_predict_without_dropout(predict)

# %% [markdown]
# Open questions:
#
# 5. Give `alexnet` an `activation` argument and build it once with `nn.ReLU` and once with
#    `nn.Sigmoid`, from the same seed and the same initialisation. Push one batch of 32 training
#    images through each, backpropagate the loss, and print the gradient norm of each
#    convolution's weights. Which layers does the sigmoid network starve, and how does that fit
#    section 1? Then take 30 SGD steps (batches of 32, the optimiser above) with each network:
#    what happens to the loss?
# 6. Train with `dropout=0` and compare the gap between training and test accuracy after ten
#    epochs with the gap you got above (a GPU run: ten epochs of the full profile).
# 7. Wrap `train_iter` in a small class whose `__iter__` yields `(augment_batch(X, augment), y)`
#    and train with it. Does augmentation help within ten epochs? Within thirty? (Also a GPU
#    run.)
# 8. The first dense layer alone holds about 26 million parameters. Halve the head's width to
#    2048 and count the parameters again. How much test accuracy do you lose (a GPU run)?

# %% [markdown]
# <details><summary>Reference results for exercise 5</summary>
#
# Measured by `python benchmarks/exercise_refs/09_alexnet.py` on a 2-core x86_64 CPU with
# torch 2.14.1 (about 5 CPU-minutes): both networks from seed 0 with the notebook's
# initialisation (Kaiming, the output layer PyTorch's default), on the first 30 shuffled batches
# of 32 Fashion-MNIST training images (full data set, 224 × 224), SGD with lr 0.01, momentum 0.9,
# weight decay 0.0005.
#
# | | conv1 | conv2 | conv3 | conv4 | conv5 |
# |---|---|---|---|---|---|
# | gradient norm, ReLU | 1.7 | 7.7 | 8.4 | 10 | 9.8 |
# | gradient norm, sigmoid | 2.0e-4 | 3.6e-3 | 1.1e-2 | 4.4e-2 | 0.15 |
#
# | mean training loss | steps 1-10 | steps 11-20 | steps 21-30 |
# |---|---|---|---|
# | ReLU | 3.346 | 2.298 | 2.287 |
# | sigmoid | 3.040 | 3.980 | 5.155 |
#
# With sigmoids the gradient shrinks on its way down: the last convolution gets under a
# fiftieth of ReLU's gradient, the first about a ten-thousandth. In 30 steps the sigmoid
# network's loss rises, while the ReLU network's falls just below $\ln 10 \approx 2.30$, the
# loss of uniform guessing.
#
# </details>
