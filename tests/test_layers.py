"""Layers: FlattenLayer, GlobalAvgPool2d, corr2d, layer_shapes."""

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
    with pytest.raises(ValueError, match=r"\(N, C, H, W\)"):
        d2l.GlobalAvgPool2d()(torch.zeros(3, 4))


def test_corr2d_matches_conv2d():
    X, K = torch.randn(6, 7), torch.randn(2, 3)
    expected = F.conv2d(X[None, None], K[None, None])[0, 0]
    torch.testing.assert_close(d2l.corr2d(X, K), expected)
    with pytest.raises(ValueError, match="2-D"):
        d2l.corr2d(torch.zeros(1, 3, 3), K)


def test_layer_shapes_walks_top_level_layers():
    net = nn.Sequential(nn.Conv2d(1, 4, 3), nn.MaxPool2d(2), d2l.FlattenLayer(), nn.Linear(4 * 13 * 13, 10))
    shapes = [s for _, s in d2l.layer_shapes(net, torch.zeros(2, 1, 28, 28), verbose=False)]
    assert shapes == [(2, 4, 26, 26), (2, 4, 13, 13), (2, 676), (2, 10)]


def test_layer_shapes_leaves_batch_norm_statistics_and_mode_alone():
    net = nn.Sequential(nn.Conv2d(1, 3, 3), nn.BatchNorm2d(3), nn.ReLU())
    before = net[1].running_mean.clone()
    shapes = d2l.layer_shapes(net, torch.randn(1, 1, 5, 5) + 10, verbose=False)
    assert shapes[-1][1] == (1, 3, 3, 3)
    assert torch.equal(net[1].running_mean, before) and net.training
