"""What a long run says and draws (issue 26, items 4 and 7): the interrupt line names a checkpoint
only when one was written, the long-run advice fits whether one is passed, and the live curves
move inside an epoch."""

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
    assert ("this run saves a checkpoint after every epoch" in out) == with_checkpoint


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
