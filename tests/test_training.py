"""Training loops: both loss conventions, errors, history, device handling, accuracy."""

import copy

import pytest
import torch
from torch import nn

import d2lmini as d2l


@pytest.fixture(autouse=True)
def full_profile(monkeypatch):
    monkeypatch.setenv("D2LMINI_PROFILE", "full")


def blobs(n=120, seed=0):
    """Three separable Gaussian blobs in 2-D, served as (X, y) batches of 16."""
    gen = torch.Generator().manual_seed(seed)
    y = torch.arange(n) % 3
    centres = torch.tensor([[3.0, 0.0], [-3.0, 0.0], [0.0, 3.0]])
    X = centres[y] + 0.5 * torch.randn(n, 2, generator=gen)
    return [(X[i:i + 16], y[i:i + 16]) for i in range(0, n, 16)]


def test_sgd_params_and_optimizer_take_the_same_steps():
    """Per-example loss + d2l.sgd and mean loss + optim.SGD at the same lr must agree exactly:
    the loop must neither divide twice nor forget to divide."""
    data = blobs()
    torch.manual_seed(0)
    scratch = nn.Linear(2, 3)
    concise = copy.deepcopy(scratch)
    d2l.train_ch3(scratch, data, data, nn.CrossEntropyLoss(reduction="none"), 2, 16,
                  params=list(scratch.parameters()), lr=0.1)
    d2l.train_ch3(concise, data, data, nn.CrossEntropyLoss(), 2, 16,
                  optimizer=torch.optim.SGD(concise.parameters(), lr=0.1))
    for a, b in zip(scratch.parameters(), concise.parameters()):
        torch.testing.assert_close(a, b)


def test_sum_reduced_loss_is_converted_too():
    data = blobs()
    torch.manual_seed(0)
    a = nn.Linear(2, 3)
    b = copy.deepcopy(a)
    d2l.train_ch3(a, data, data, nn.CrossEntropyLoss(reduction="sum"), 1, 16,
                  optimizer=torch.optim.SGD(a.parameters(), lr=0.1))
    d2l.train_ch3(b, data, data, nn.CrossEntropyLoss(), 1, 16,
                  optimizer=torch.optim.SGD(b.parameters(), lr=0.1))
    for p, q in zip(a.parameters(), b.parameters()):
        torch.testing.assert_close(p, q)


def test_train_ch3_learns_and_returns_history(capsys):
    data = blobs()
    torch.manual_seed(0)
    net = nn.Linear(2, 3)
    history = d2l.train_ch3(net, data, data, nn.CrossEntropyLoss(), 3, 16,
                            optimizer=torch.optim.SGD(net.parameters(), lr=0.1))
    assert set(history) == {"train_loss", "train_acc", "test_acc", "seconds"}
    assert len(history["test_acc"]) == 3
    assert history["train_loss"][-1] < history["train_loss"][0]
    assert history["test_acc"][-1] > 0.95
    lines = [l for l in capsys.readouterr().out.splitlines() if l.startswith("epoch")]
    assert len(lines) == 3 and "test acc" in lines[0] and "examples/sec" in lines[0]


def test_scalar_loss_without_reduction_is_refused():
    data = blobs()
    net = nn.Linear(2, 3)
    with pytest.raises(ValueError, match="reduction"):
        d2l.train_ch3(net, data, data, lambda y_hat, y: nn.functional.cross_entropy(y_hat, y),
                      1, 16, optimizer=torch.optim.SGD(net.parameters(), lr=0.1))


def test_train_ch3_needs_an_optimizer_or_params_and_lr():
    data = blobs()
    net = nn.Linear(2, 3)
    for kwargs in ({}, {"params": list(net.parameters())}, {"lr": 0.1}):
        with pytest.raises(ValueError, match="optimizer"):
            d2l.train_ch3(net, data, data, nn.CrossEntropyLoss(), 1, 16, **kwargs)


@pytest.mark.parametrize("num_epochs", [0, -1, 1.5])
def test_num_epochs_must_be_positive(num_epochs):
    data = blobs()
    net = nn.Linear(2, 3)
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    with pytest.raises(ValueError, match="num_epochs"):
        d2l.train_ch3(net, data, data, nn.CrossEntropyLoss(), num_epochs, 16, optimizer=opt)
    with pytest.raises(ValueError, match="num_epochs"):
        d2l.train_ch5(net, data, data, 16, opt, "cpu", num_epochs)


def test_divergence_names_epoch_and_batch():
    data = blobs()
    data[3] = (torch.full_like(data[3][0], float("nan")), data[3][1])  # 4th batch poisons the loss
    net = nn.Linear(2, 3)
    with pytest.raises(d2l.TrainingDiverged, match=r"epoch 1, batch 4 of 8"):
        d2l.train_ch5(net, data, data, 16, torch.optim.SGD(net.parameters(), lr=0.1), "cpu", 2)


def test_huge_learning_rate_is_reported_as_divergence():
    data = [(X * 1e3, y) for X, y in blobs()]
    net = nn.Sequential(nn.Linear(2, 64), nn.ReLU(), nn.Linear(64, 3))
    with pytest.raises(d2l.TrainingDiverged, match="epoch"):
        d2l.train_ch3(net, data, data, nn.CrossEntropyLoss(), 5, 16,
                      optimizer=torch.optim.SGD(net.parameters(), lr=1e6))


def test_train_ch5_accepts_device_strings_and_none(capsys):
    data = blobs()
    for device in ("cpu", torch.device("cpu"), None):
        net = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 3))
        history = d2l.train_ch5(net, data, data, 16, torch.optim.Adam(net.parameters(), 0.05),
                                device, 2)
        assert len(history["train_loss"]) == 2
    assert "training on" in capsys.readouterr().out
    with pytest.raises(ValueError, match="device"):
        d2l.train_ch5(net, data, data, 16, torch.optim.Adam(net.parameters()), "no-such-device", 1)


def test_smoke_profile_caps_epochs(monkeypatch, capsys):
    monkeypatch.setenv("D2LMINI_PROFILE", "smoke")
    data = blobs()
    net = nn.Linear(2, 3)
    history = d2l.train_ch5(net, data, data, 16, torch.optim.SGD(net.parameters(), lr=0.1), "cpu", 5)
    assert len(history["test_acc"]) == 1
    assert "1 of 5 epochs" in capsys.readouterr().out


def test_unknown_profile_is_an_error(monkeypatch):
    monkeypatch.setenv("D2LMINI_PROFILE", "fast")
    with pytest.raises(ValueError, match="D2LMINI_PROFILE"):
        d2l.current_profile()


def test_evaluate_accuracy_restores_mode_and_uses_no_grad():
    seen = []

    class Probe(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(2, 3)

        def forward(self, x):
            seen.append((self.training, torch.is_grad_enabled()))
            return self.lin(x)

    data = blobs(32)
    net = Probe()
    for mode in (True, False):
        net.train(mode)
        acc = d2l.evaluate_accuracy(data, net)
        assert 0 <= acc <= 1
        assert net.training is mode
    assert all(state == (False, False) for state in seen)


def test_evaluate_accuracy_counts_correctly():
    X = torch.eye(3)
    y = torch.tensor([0, 1, 0])
    assert d2l.evaluate_accuracy([(X, y)], nn.Identity()) == pytest.approx(2 / 3)


def test_check_accuracy_asserts_in_full_only(monkeypatch):
    history = {"test_acc": [0.5, 0.6]}
    with pytest.raises(AssertionError, match="below the floor"):
        d2l.check_accuracy(history, 0.9)
    assert d2l.check_accuracy(history, 0.55) == 0.6
    monkeypatch.setenv("D2LMINI_PROFILE", "smoke")
    assert d2l.check_accuracy(history, 0.9) == 0.6


def test_try_gpu_and_get_device():
    device = d2l.try_gpu()
    assert device.type in {"cuda", "mps", "cpu"}
    assert d2l.get_device("cpu") == torch.device("cpu")
    with pytest.raises(TypeError, match="device"):
        d2l.get_device(3)


def test_cosine_schedule_follows_the_formula_per_step():
    import math
    w = nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([w], lr=0.2)
    d2l.cosine_schedule(opt, 10)
    for _ in range(4):
        w.grad = torch.ones(1)
        opt.step()
    assert opt.param_groups[0]["lr"] == pytest.approx(0.1 * (1 + math.cos(math.pi * 4 / 10)))
    with pytest.raises(ValueError, match="total_steps"):
        d2l.cosine_schedule(opt, 0)


def test_num_params_counts_weights_and_biases():
    assert d2l.num_params(nn.Linear(3, 4)) == 16
