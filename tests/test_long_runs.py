"""What a long run says and draws (issue 26, items 4 and 7): the interrupt line names a checkpoint
only when one was written, the long-run advice fits whether one is passed, and the live curves
move inside an epoch."""

import os
import subprocess
import sys
import textwrap

import pytest
import torch
from torch import nn

import d2lmini as d2l
from d2lmini import plotting, progress


def blobs(n=96, batch=8):
    g = torch.Generator().manual_seed(0)
    y = torch.arange(n) % 3
    X = torch.rand(n, 4, generator=g) + y.view(-1, 1)
    return [(X[i:i + batch], y[i:i + batch]) for i in range(0, n, batch)]


class StopsAt(list):
    """Batches that raise KeyboardInterrupt (Jupyter's stop button) at one batch of one pass."""

    def __init__(self, data, epoch, batch):
        super().__init__(data)
        self.stop, self.passes = (epoch, batch), 0

    def __iter__(self):
        self.passes += 1
        for i, item in enumerate(super().__iter__()):
            if (self.passes, i) == self.stop:
                raise KeyboardInterrupt
            yield item


def fit(data, epochs=2, **kw):
    torch.manual_seed(0)
    net = nn.Linear(4, 3)
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    return d2l.train_ch5(net, data, blobs(), 8, opt, "cpu", epochs, **kw)


@pytest.fixture
def full_profile(monkeypatch):
    monkeypatch.setenv("D2LMINI_PROFILE", "full")


def test_an_interrupt_before_any_checkpoint_says_none_was_written(tmp_path, capsys, full_profile):
    path = tmp_path / "run.pt"
    history = fit(StopsAt(blobs(), 1, 5), checkpoint=path)
    out = capsys.readouterr().out
    assert history.interrupted and not path.exists()
    assert "no checkpoint was written yet" in out and "starts the run over" in out
    assert "holds the run" not in out


def test_an_interrupt_after_a_checkpoint_says_what_it_holds(tmp_path, capsys, full_profile):
    path = tmp_path / "run.pt"
    fit(StopsAt(blobs(), 2, 5), checkpoint=path)
    out = capsys.readouterr().out
    assert path.exists() and f"the checkpoint {path} holds the run after epoch 1" in out


def test_an_interrupt_without_checkpoint_mentions_none(capsys, full_profile):
    fit(StopsAt(blobs(), 1, 5))
    assert "checkpoint" not in capsys.readouterr().out


@pytest.mark.parametrize("with_checkpoint", [False, True])
def test_the_long_run_advice_fits_whether_a_checkpoint_is_passed(tmp_path, capsys, monkeypatch,
                                                                  full_profile, with_checkpoint):
    monkeypatch.setattr(progress, "LONG_RUN_SECONDS", 0.0)
    fit(blobs(), 1, checkpoint=tmp_path / "run.pt" if with_checkpoint else None)
    out = capsys.readouterr().out
    assert "that is long on a CPU" in out
    assert ("checkpoint=PATH lets a run survive a restart" in out) != with_checkpoint
    assert ("this run saves a checkpoint after every epoch and every 300 s of training inside "
            "one" in out) == with_checkpoint


class Handle:
    def update(self, fig):
        pass


def test_the_live_curves_get_points_inside_each_epoch(monkeypatch, full_profile):
    import IPython.display
    monkeypatch.setattr(plotting, "_in_notebook", lambda: True)
    monkeypatch.setattr(IPython.display, "display", lambda fig, display_id: Handle())
    drawn = []
    real_add = plotting.Animator.add
    monkeypatch.setattr(plotting.Animator, "add",
                        lambda self, x, ys: (drawn.append((x, ys)), real_add(self, x, ys)))
    fit(blobs(n=160), epochs=2)  # 20 batches an epoch: a point every 2 batches
    train_xs = [x for x, ys in drawn]
    test_xs = [x for x, ys in drawn if ys[2] is not None]
    assert test_xs == [1, 2]  # the test accuracy once per epoch
    assert [x for x in train_xs if x < 1] == pytest.approx([i / 10 for i in range(1, 10)])
    assert len(train_xs) == 20 and sorted(train_xs) == train_xs
    animator_losses = [ys[0] for x, ys in drawn]
    assert all(0 < loss < 5 for loss in animator_losses)


def test_animator_draws_a_curve_only_where_it_has_a_value(monkeypatch):
    import IPython.display
    monkeypatch.setattr(plotting, "_in_notebook", lambda: True)
    monkeypatch.setattr(IPython.display, "display", lambda fig, display_id: Handle())
    animator = d2l.Animator(2)
    animator.add(0.5, (1.0, 0.4, None))
    animator.add(1, (0.8, 0.5, 0.45))
    assert animator.xs == [[0.5, 1], [0.5, 1], [1]] and animator.ys[2] == [0.45]


# --- checkpoints inside an epoch ----------------------------------------------------------------
# One script, run in fresh processes: a small conv net with dropout, SGD with momentum, a cosine
# schedule and a shuffled loader (d2l's, or torch's DataLoader), saving after every batch
# (checkpoint_every tiny). STOP makes the loader raise KeyboardInterrupt at one batch of one pass.
MID_EPOCH_SCRIPT = textwrap.dedent("""
    import sys, torch
    from torch import nn
    import d2lmini as d2l

    ckpt, out, stop_pass, stop_batch, kind = sys.argv[1:6]
    stop = (int(stop_pass), int(stop_batch))
    d2l.set_seed(0)
    g = torch.Generator().manual_seed(1)
    images = (torch.rand(96, 12, 12, generator=g) * 255).to(torch.uint8)
    labels = torch.arange(96) % 4
    if kind == "d2l":
        train = d2l.InMemoryLoader(images, labels, 16, shuffle=True)
    else:
        data = torch.utils.data.TensorDataset(images.float().unsqueeze(1) / 255, labels)
        train = torch.utils.data.DataLoader(data, batch_size=16, shuffle=True)
    test = d2l.InMemoryLoader(images[:32], labels[:32], 16, shuffle=False)

    class Stopping:
        def __init__(self, loader):
            self.loader, self.passes = loader, 0
        def __len__(self):
            return len(self.loader)
        def __iter__(self):
            self.passes += 1
            for i, batch in enumerate(self.loader):
                if (self.passes, i) == stop:
                    raise KeyboardInterrupt
                yield batch

    net = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), d2l.FlattenLayer(), nn.Dropout(0.5),
                        nn.Linear(4 * 10 * 10, 4))
    opt = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9)
    schedule = d2l.cosine_schedule(opt, 3 * len(train))
    history = d2l.train_ch5(net, Stopping(train), test, 16, opt, "cpu", 3,
                            checkpoint=None if ckpt == "-" else ckpt, checkpoint_every=1e-9)
    torch.save({"state": net.state_dict(), "history": dict(history), "steps": history.steps,
                "interrupted": history.interrupted, "lr": opt.param_groups[0]["lr"],
                "schedule_steps": schedule.last_epoch}, out)
""")


def run_mid_epoch(tmp_path, ckpt, name, stop, kind):
    script = tmp_path / "run.py"
    script.write_text(MID_EPOCH_SCRIPT)
    done = subprocess.run([sys.executable, str(script), str(ckpt), str(tmp_path / name),
                           str(stop[0]), str(stop[1]), kind], capture_output=True, text=True,
                          timeout=300, env={**os.environ, "D2LMINI_PROFILE": "full"})
    assert done.returncode == 0, done.stderr
    return done.stdout, torch.load(tmp_path / name, weights_only=True)


@pytest.mark.parametrize("kind", ["d2l", "DataLoader"])
def test_a_run_interrupted_mid_epoch_resumes_in_a_new_process_as_if_never_stopped(tmp_path, kind):
    _, whole = run_mid_epoch(tmp_path, "-", "whole.pt", (0, 0), kind)
    ckpt = tmp_path / "runs" / "net.pt"
    out, first = run_mid_epoch(tmp_path, ckpt, "first.pt", (2, 4), kind)  # epoch 2, batch 5 of 6
    assert first["interrupted"] and first["steps"] == 6 + 4
    assert f"the checkpoint {ckpt} holds the run at epoch 2, batch 4 of 6" in out
    out, resumed = run_mid_epoch(tmp_path, ckpt, "resumed.pt", (0, 0), kind)
    assert f"resuming from checkpoint {ckpt}: epoch 2, batch 5 of 6 (of 3 epochs)" in out
    assert "estimated time for the 1.33 epochs left" in out  # 4 of epoch 2's 6 batches were done
    assert not resumed["interrupted"] and resumed["steps"] == whole["steps"] == 18
    assert resumed["schedule_steps"] == whole["schedule_steps"] == 18
    for key in ("train_loss", "train_acc", "test_acc"):
        assert resumed["history"][key] == whole["history"][key], key
    assert resumed["lr"] == whole["lr"]
    for key, value in whole["state"].items():
        torch.testing.assert_close(resumed["state"][key], value, rtol=0, atol=0)
    assert [p.name for p in ckpt.parent.iterdir()] == ["net.pt"]  # no temporary files left


def test_checkpoint_every_is_checked_at_the_call(tmp_path):
    net = nn.Linear(4, 3)
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    with pytest.raises(ValueError, match="checkpoint_every must be"):
        d2l.train_ch5(net, blobs(), blobs(), 8, opt, "cpu", 1, checkpoint=tmp_path / "c.pt",
                      checkpoint_every=0)


BAR_CELL = """
import time, torch
from torch import nn
import d2lmini as d2l
X, y = torch.rand(640, 1, 28, 28), torch.arange(640) % 10
data = [(X[i:i + 32], y[i:i + 32]) for i in range(0, 640, 32)]
class Slow(nn.Module):  # 20 batches of 0.15 s: the estimate comes while the bar runs
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(784, 10))
    def forward(self, x):
        time.sleep(0.15)
        return self.net(x)
net = Slow()
history = d2l.train_ch5(net, data, data[:2], 32, torch.optim.SGD(net.parameters(), lr=0.1),
                        "cpu", 1)
"""


def rendered(text: str) -> list[str]:
    """The lines a notebook shows for a stream's text: a carriage return restarts its line."""
    return [line.split("\r")[-1] for line in text.split("\n")]


def test_in_jupyter_the_bar_leaves_no_frozen_line_and_no_blank_stderr(tmp_path, monkeypatch):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    monkeypatch.setenv("D2LMINI_PROFILE", "full")
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(BAR_CELL)])
    nbclient.NotebookClient(nb, timeout=120, kernel_name="python3").execute()
    outputs = nb.cells[0].outputs
    assert not [o for o in outputs if o.get("name") == "stderr"]
    text = "".join(o.get("text", "") for o in outputs if o.get("name") == "stdout")
    lines = [line for line in rendered(text) if line.strip()]
    assert any(line.startswith("estimated time for 1 epoch") for line in lines)
    assert lines[-1].startswith("epoch 1/1, loss")
    assert not [line for line in lines if line.startswith("epoch 1/1:")]  # no bar left behind
    assert len(rendered(text)) == len(lines) + 1  # no blank line but the one after the last


def test_a_scratch_models_learning_rate_is_part_of_its_run(tmp_path, full_profile):
    data, path = blobs(), tmp_path / "scratch.pt"

    def run(lr):
        W = torch.zeros(4, 3, requires_grad=True)
        return d2l.train_ch3(lambda X: X @ W, data, data, nn.CrossEntropyLoss(reduction="none"),
                             1, 8, params=[W], lr=lr, checkpoint=path)

    run(0.1)
    with pytest.raises(d2l.CheckpointMismatch, match=r"lr \(d2l.sgd\): was 0.1, now 0.5"):
        run(0.5)
    assert run(0.1).epochs_done == 1  # the same run resumes (finished: nothing to train)
