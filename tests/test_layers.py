"""Layers: FlattenLayer, GlobalAvgPool2d, corr2d, layer_shapes, num_params.

The contract tests come first; then, per helper, the plausible mistakes a learner makes, each
refused with an error naming the argument (`name must be ..., got ...`)."""

import pytest
import torch
import torch.nn.functional as F
from torch import nn

import d2lmini as d2l


def test_flatten_keeps_batch_axis():
    assert d2l.FlattenLayer()(torch.zeros(4, 3, 5, 2)).shape == (4, 30)


def test_global_avg_pool_gives_channel_means():
    X = torch.randn(2, 3, 5, 7)
    out = d2l.GlobalAvgPool2d()(X)
    assert out.shape == (2, 3, 1, 1)
    torch.testing.assert_close(out, F.adaptive_avg_pool2d(X, 1))


def test_corr2d_matches_conv2d():
    X, K = torch.randn(6, 7), torch.randn(2, 3)
    expected = F.conv2d(X[None, None], K[None, None])[0, 0]
    torch.testing.assert_close(d2l.corr2d(X, K), expected)


def test_layer_shapes_walks_top_level_layers():
    net = nn.Sequential(nn.Conv2d(1, 4, 3), nn.MaxPool2d(2), d2l.FlattenLayer(), nn.Linear(4 * 13 * 13, 10))
    walk = d2l.layer_shapes(net, torch.zeros(2, 1, 28, 28), verbose=False)
    assert walk == [("0:Conv2d", (2, 4, 26, 26)), ("1:MaxPool2d", (2, 4, 13, 13)),
                    ("2:FlattenLayer", (2, 676)), ("3:Linear", (2, 10))]


def test_layer_shapes_leaves_batch_norm_statistics_and_mode_alone():
    net = nn.Sequential(nn.Conv2d(1, 3, 3), nn.BatchNorm2d(3), nn.ReLU())
    before = net[1].running_mean.clone()
    shapes = d2l.layer_shapes(net, torch.randn(1, 1, 5, 5) + 10, verbose=False)
    assert shapes[-1][1] == (1, 3, 3, 3)
    assert torch.equal(net[1].running_mean, before) and net.training


# --- FlattenLayer --------------------------------------------------------------------------

def test_flatten_rejects_a_non_tensor():
    with pytest.raises(TypeError, match="FlattenLayer input x must be a torch.Tensor, got a list"):
        d2l.FlattenLayer()([[1.0, 2.0]])


def test_flatten_rejects_a_0d_tensor():
    with pytest.raises(ValueError, match=r"FlattenLayer input x must be a tensor with a batch axis"):
        d2l.FlattenLayer()(torch.tensor(1.0))


def test_flatten_handles_an_empty_batch_and_a_1d_batch():
    # an empty batch raised inside reshape(0, -1) before
    assert d2l.FlattenLayer()(torch.zeros(0, 3, 4)).shape == (0, 12)
    assert d2l.FlattenLayer()(torch.arange(5.0)).shape == (5, 1)


# --- GlobalAvgPool2d -----------------------------------------------------------------------

@pytest.mark.parametrize("shape", [(3, 4), (2, 3, 4), (1, 2, 3, 4, 5)])
def test_global_avg_pool_rejects_the_wrong_ndim(shape):
    dims = ", ".join(map(str, shape))
    with pytest.raises(ValueError, match=r"GlobalAvgPool2d input x must be a 4-D tensor \(N, C, H, W\), "
                                         rf"got a torch.float32 tensor of shape \({dims}\)"):
        d2l.GlobalAvgPool2d()(torch.zeros(shape))


def test_global_avg_pool_rejects_integer_images():
    with pytest.raises(TypeError, match=r"GlobalAvgPool2d input x must be a floating-point tensor, "
                                        r"got a torch.uint8 .*\.float\(\)"):
        d2l.GlobalAvgPool2d()(torch.zeros(1, 3, 4, 4, dtype=torch.uint8))


def test_global_avg_pool_rejects_a_non_tensor():
    import numpy as np
    with pytest.raises(TypeError, match="GlobalAvgPool2d input x must be a torch.Tensor, got a numpy"):
        d2l.GlobalAvgPool2d()(np.zeros((1, 3, 4, 4)))


# --- corr2d --------------------------------------------------------------------------------

def test_corr2d_on_uint8_does_not_wrap_around():
    # silently wrong before: 4 * (20 * 20) = 1600 came out as 1600 mod 256 = 64
    X = torch.full((3, 3), 20, dtype=torch.uint8)
    K = torch.full((2, 2), 20, dtype=torch.uint8)
    Y = d2l.corr2d(X, K)
    assert Y.dtype == torch.float32 and torch.equal(Y, torch.full((2, 2), 1600.0))


def test_corr2d_on_integers_returns_float32_as_the_classic_helper():
    Y = d2l.corr2d(torch.arange(9).reshape(3, 3), torch.tensor([[0, 1], [2, 3]]))
    assert Y.dtype == torch.float32  # the classic corr2d fills a float32 torch.zeros
    assert torch.equal(Y, torch.tensor([[19.0, 25.0], [37.0, 43.0]]))


def test_corr2d_on_mixed_small_integers_and_bools_counts_right():
    X = torch.full((2, 3), -100, dtype=torch.int8)
    K = torch.full((1, 2), 200, dtype=torch.uint8)  # int8 x uint8 computes in int16: overflow
    assert torch.equal(d2l.corr2d(X, K), torch.full((2, 2), -40000.0))
    B = torch.ones(3, 3, dtype=torch.bool)
    assert torch.equal(d2l.corr2d(B, B[:2, :2]), torch.full((2, 2), 4.0))  # not True


def test_corr2d_keeps_floating_dtypes():
    X, K = torch.randn(4, 4, dtype=torch.float64), torch.randn(2, 2, dtype=torch.float64)
    assert d2l.corr2d(X, K).dtype == torch.float64
    assert d2l.corr2d(torch.arange(16).reshape(4, 4), torch.ones(2, 2)).dtype == torch.float32


@pytest.mark.parametrize("name", ["X", "K"])
def test_corr2d_rejects_lists(name):
    args = {"X": torch.zeros(3, 3), "K": torch.ones(2, 2)}
    args[name] = args[name].tolist()
    with pytest.raises(TypeError, match=f"{name} must be a torch.Tensor, got a list"):
        d2l.corr2d(**args)


def test_corr2d_rejects_a_batched_image():
    with pytest.raises(ValueError, match=r"X must be a 2-D tensor, got a torch.float32 tensor "
                                         r"of shape \(1, 3, 3\)"):
        d2l.corr2d(torch.zeros(1, 3, 3), torch.ones(2, 2))


def test_corr2d_rejects_a_kernel_larger_than_the_image():
    with pytest.raises(ValueError, match=r"K must be no larger than X \(2, 5\), got a torch.float32 "
                                         r"tensor of shape \(3, 3\)"):
        d2l.corr2d(torch.zeros(2, 5), torch.ones(3, 3))


def test_corr2d_rejects_an_empty_kernel():
    # silently wrong before: a (0, 2) kernel gave a larger-than-X map of zeros
    with pytest.raises(ValueError, match="K must be a kernel with at least one row and one column"):
        d2l.corr2d(torch.zeros(3, 3), torch.ones(0, 2))


def test_corr2d_keeps_gradients_for_kernel_learning():
    K = torch.zeros(1, 2, requires_grad=True)
    d2l.corr2d(torch.randn(4, 5), K).sum().backward()
    assert K.grad is not None and K.grad.shape == (1, 2)


# --- layer_shapes --------------------------------------------------------------------------

def test_layer_shapes_walks_a_net_whose_children_do_not_chain():
    torchvision = pytest.importorskip("torchvision")
    net = torchvision.models.resnet18(num_classes=10)  # forward adds skips and flattens
    walk = d2l.layer_shapes(net, torch.rand(1, 3, 64, 64), verbose=False)
    assert walk == [("conv1:Conv2d", (1, 64, 32, 32)), ("bn1:BatchNorm2d", (1, 64, 32, 32)),
                    ("relu:ReLU", (1, 64, 32, 32)), ("maxpool:MaxPool2d", (1, 64, 16, 16)),
                    ("layer1:Sequential", (1, 64, 16, 16)), ("layer2:Sequential", (1, 128, 8, 8)),
                    ("layer3:Sequential", (1, 256, 4, 4)), ("layer4:Sequential", (1, 512, 2, 2)),
                    ("avgpool:AdaptiveAvgPool2d", (1, 512, 1, 1)), ("fc:Linear", (1, 10))]


class Residual(nn.Module):
    """A block whose children run in another order than they are registered, one of them twice,
    one not at all."""

    def __init__(self):
        super().__init__()
        self.unused = nn.Linear(3, 3)
        self.act = nn.ReLU()
        self.lin = nn.Linear(3, 3)

    def forward(self, x):
        return self.act(x + self.lin(self.act(x)))


def test_layer_shapes_lists_children_in_call_order(capsys):
    walk = d2l.layer_shapes(Residual(), torch.zeros(2, 3))
    assert walk == [("act:ReLU", (2, 3)), ("lin:Linear", (2, 3)), ("act:ReLU", (2, 3))]
    out = capsys.readouterr().out
    assert "lin:Linear               output shape (2, 3)" in out
    assert "(not called by net's forward on X: unused)" in out


def test_layer_shapes_reports_a_net_without_children():
    # silently wrong before: a single layer gave []
    assert d2l.layer_shapes(nn.Linear(3, 2), torch.zeros(4, 3), verbose=False) == [("net:Linear", (4, 2))]


def test_layer_shapes_takes_the_first_tensor_of_a_tuple_output(capsys):
    walk = d2l.layer_shapes(nn.Sequential(nn.LSTM(3, 5)), torch.zeros(7, 2, 3))
    assert walk == [("0:LSTM", (7, 2, 5))]
    assert "(the first of 3 tensors)" in capsys.readouterr().out


def test_layer_shapes_restores_every_module_mode_and_removes_its_hooks():
    net = nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2), nn.Dropout(0.5))
    net[1].eval()  # a learner froze batch norm: it must stay frozen
    d2l.layer_shapes(net, torch.zeros(1, 2), verbose=False)
    assert [m.training for m in net.modules()] == [True, True, False, True]
    assert all(not m._forward_hooks and not m._forward_pre_hooks for m in net.modules())
    net.eval()
    d2l.layer_shapes(net, torch.zeros(1, 2), verbose=False)
    assert not any(m.training for m in net.modules())


def test_layer_shapes_names_the_child_that_fails():
    net = nn.Sequential(nn.Conv2d(1, 4, 3), d2l.FlattenLayer(), nn.Linear(10, 2))
    with pytest.raises(RuntimeError) as info:
        d2l.layer_shapes(net, torch.zeros(1, 1, 8, 8), verbose=False)
    assert ("layer_shapes: the net failed on X of shape (1, 1, 8, 8), in 2:Linear on an input "
            "of shape (1, 144)") in info.value.__notes__
    assert all(not m._forward_hooks for m in net.modules())


def test_layer_shapes_rejects_a_function():
    with pytest.raises(TypeError, match="net must be a torch.nn.Module, got a function"):
        d2l.layer_shapes(lambda x: x, torch.zeros(1, 2))


def test_layer_shapes_rejects_a_module_list():
    with pytest.raises(TypeError, match=r"net must be a module with a forward method, got a "
                                        r"ModuleList; .*nn.Sequential"):
        d2l.layer_shapes(nn.ModuleList([nn.Linear(2, 2)]), torch.zeros(1, 2))


def test_layer_shapes_rejects_a_non_tensor_input():
    with pytest.raises(TypeError, match="X must be a torch.Tensor, got a list"):
        d2l.layer_shapes(nn.Linear(2, 2), [[0.0, 0.0]])


def test_layer_shapes_rejects_a_float64_input_by_name():
    with pytest.raises(TypeError, match=r"X must be a torch.float32 tensor on cpu, like net's "
                                        r"parameters, got a torch.float64 tensor"):
        d2l.layer_shapes(nn.Linear(2, 2), torch.zeros(1, 2, dtype=torch.float64))


def test_layer_shapes_accepts_integer_input_for_embeddings():
    net = nn.Sequential(nn.Embedding(10, 4), nn.Flatten())
    walk = d2l.layer_shapes(net, torch.tensor([[1, 2, 3]]), verbose=False)
    assert walk == [("0:Embedding", (1, 3, 4)), ("1:Flatten", (1, 12))]


# --- num_params ----------------------------------------------------------------------------

def test_num_params_rejects_a_parameter_generator():
    with pytest.raises(TypeError, match="net must be a torch.nn.Module, got a generator"):
        d2l.num_params(nn.Linear(3, 4).parameters())


def test_num_params_rejects_uninitialized_lazy_layers():
    with pytest.raises(ValueError, match=r"net must be a module whose parameters all have a shape, "
                                         r"got a Sequential; lazy layers"):
        d2l.num_params(nn.Sequential(nn.LazyLinear(4)))


def test_num_params_counts_shared_weights_once():
    shared = nn.Linear(3, 3)
    assert d2l.num_params(nn.Sequential(shared, nn.ReLU(), shared)) == 12
