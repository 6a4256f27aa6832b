"""A personal notebook written against the classic helpers, run as a script from a folder outside
the checkout: every classic signature must work verbatim."""

import subprocess
import sys
import textwrap

import pytest

SCRIPT = textwrap.dedent("""
    import torch
    from torch import nn
    import d2lmini as d2l

    d2l.set_seed(0)
    X, y = torch.randn(100, 2), torch.randn(100, 1)
    w = torch.zeros(2, 1, requires_grad=True)
    b = torch.zeros(1, requires_grad=True)
    for Xb, yb in d2l.data_iter(10, X, y):
        d2l.squared_loss(d2l.linreg(Xb, w, b), yb).sum().backward()
        d2l.sgd([w, b], 0.03, 10)
        w.grad.zero_(); b.grad.zero_()

    batch_size = 64
    train_iter, test_iter = d2l.load_data_fashion_mnist(batch_size, resize=96)
    Xb, yb = next(iter(train_iter))
    assert Xb.shape == (batch_size, 1, 96, 96) and Xb.dtype == torch.float32, Xb.shape
    assert yb.dtype == torch.int64 and 0 <= Xb.min() and Xb.max() <= 1
    net = nn.Sequential(nn.Conv2d(1, 8, 5, stride=4), nn.ReLU(), d2l.GlobalAvgPool2d(),
                        d2l.FlattenLayer(), nn.Linear(8, 10))
    optimizer = torch.optim.Adam(net.parameters(), lr=0.01)
    device, num_epochs = d2l.try_gpu(), 2
    history = d2l.train_ch5(net, train_iter, test_iter, batch_size, optimizer, device, num_epochs)
    assert len(history["test_acc"]) == 1  # smoke profile: epochs capped
    print("CONTRACT OK", d2l.evaluate_accuracy(test_iter, net))
""")


@pytest.mark.skipif(not __import__("pathlib").Path("/usr/share/datasets/fashion-mnist").is_dir(),
                    reason="Debian's dataset-fashion-mnist is not installed")
def test_classic_script_runs_outside_the_checkout(tmp_path, monkeypatch):
    monkeypatch.setenv("D2LMINI_PROFILE", "smoke")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    (tmp_path / "my_notebook.py").write_text(SCRIPT)
    result = subprocess.run([sys.executable, "my_notebook.py"], cwd=tmp_path,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "CONTRACT OK" in result.stdout
    assert "training on" in result.stdout and "epoch 1/1" in result.stdout
