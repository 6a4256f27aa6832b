"""Interrupted runs, checkpoints that resume in a new process, and the precision choice (issue 16)."""

import math
import subprocess
import sys
import textwrap

import pytest
import torch
from torch import nn

import d2lmini as d2l
from d2lmini import precision as precisions
from test_training import InterruptAt


@pytest.fixture(autouse=True)
def full_profile(monkeypatch):
    monkeypatch.setenv("D2LMINI_PROFILE", "full")
    monkeypatch.delenv("D2LMINI_PRECISION", raising=False)


# One script, run in fresh processes: a small conv net with dropout, trained with SGD + momentum,
# a cosine schedule and d2l's shuffled in-memory loader (so the random state matters three ways:
# the shuffle, the dropout masks, and nothing else may drift). STOP_AT makes the loader raise
# KeyboardInterrupt in that pass, as Ctrl-C would.
SCRIPT = textwrap.dedent("""
    import sys, torch
    from torch import nn
    import d2lmini as d2l

    ckpt, out, stop_at = sys.argv[1], sys.argv[2], int(sys.argv[3])
    d2l.set_seed(0)
    g = torch.Generator().manual_seed(1)
    images = (torch.rand(96, 12, 12, generator=g) * 255).to(torch.uint8)
    labels = torch.arange(96) % 4
    train = d2l.InMemoryLoader(images, labels, 16, shuffle=True)
    test = d2l.InMemoryLoader(images[:32], labels[:32], 16, shuffle=False)

    class Stopping:
        def __init__(self, loader):
            self.loader, self.passes = loader, 0
        def __len__(self):
            return len(self.loader)
        def __iter__(self):
            self.passes += 1
            for i, batch in enumerate(self.loader):
                if self.passes == stop_at and i == 3:
                    raise KeyboardInterrupt
                yield batch

    net = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), d2l.FlattenLayer(), nn.Dropout(0.5),
                        nn.Linear(4 * 10 * 10, 4))
    opt = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9)
    d2l.cosine_schedule(opt, 3 * len(train))
    history = d2l.train_ch5(net, Stopping(train), test, 16, opt, "cpu", 3,
                            checkpoint=None if ckpt == "-" else ckpt)
    torch.save({"state": net.state_dict(), "history": dict(history), "steps": history.steps,
                "interrupted": history.interrupted, "lr": opt.param_groups[0]["lr"]}, out)
""")


def run_script(tmp_path, ckpt, out, stop_at):
    script = tmp_path / "run.py"
    script.write_text(SCRIPT)
    done = subprocess.run([sys.executable, str(script), str(ckpt), str(out), str(stop_at)],
                          capture_output=True, text=True, timeout=300,
                          env={**__import__("os").environ, "D2LMINI_PROFILE": "full"})
    assert done.returncode == 0, done.stderr
    return done.stdout, torch.load(out, weights_only=True)


def test_a_run_interrupted_in_epoch_2_resumes_in_a_new_process_as_if_never_stopped(tmp_path):
    _, whole = run_script(tmp_path, "-", tmp_path / "whole.pt", stop_at=0)
    ckpt = tmp_path / "runs" / "net.pt"
    out, first = run_script(tmp_path, ckpt, tmp_path / "first.pt", stop_at=2)
    assert first["interrupted"] and len(first["history"]["test_acc"]) == 1
    assert "the checkpoint" in out and "run the cell again to resume" in out
    assert first["steps"] == 6 + 3  # one epoch of 6 batches, then 3 of the interrupted one
    out, resumed = run_script(tmp_path, ckpt, tmp_path / "resumed.pt", stop_at=0)
    assert "resuming from checkpoint" in out and "1 of 3 epochs already done" in out
    assert not resumed["interrupted"] and resumed["steps"] == whole["steps"] == 18
    assert resumed["history"]["test_acc"] == whole["history"]["test_acc"]
    assert resumed["history"]["train_loss"] == whole["history"]["train_loss"]
    assert resumed["lr"] == whole["lr"]
    for key, value in whole["state"].items():
        torch.testing.assert_close(resumed["state"][key], value, rtol=0, atol=0)
    assert [p.name for p in ckpt.parent.iterdir()] == ["net.pt"]  # no temporary files left


def tiny_net_and_optimizer(width=3):
    torch.manual_seed(0)
    net = nn.Linear(2, width)
    return net, torch.optim.SGD(net.parameters(), lr=0.1)


def blobs():
    g = torch.Generator().manual_seed(0)
    y = torch.arange(48) % 3
    X = torch.randn(48, 2, generator=g) + 3 * nn.functional.one_hot(y, 3)[:, :2]
    return [(X[i:i + 16], y[i:i + 16]) for i in range(0, 48, 16)]


def test_a_finished_checkpoint_returns_the_whole_history_without_training(tmp_path, capsys):
    data, path = blobs(), tmp_path / "c.pt"
    net, opt = tiny_net_and_optimizer()
    history = d2l.train_ch3(net, data, data, nn.CrossEntropyLoss(), 2, 16, optimizer=opt,
                            checkpoint=path)
    weights = net.weight.detach().clone()
    net2, opt2 = tiny_net_and_optimizer()
    again = d2l.train_ch3(net2, data, data, nn.CrossEntropyLoss(), 2, 16, optimizer=opt2,
                          checkpoint=path)
    assert "2 of 2 epochs already done" in capsys.readouterr().out
    assert dict(again) == dict(history) and again.steps == history.steps == 6
    torch.testing.assert_close(net2.weight, weights)


def test_a_scratch_model_with_params_is_checkpointed_too(tmp_path):
    data, path = blobs(), tmp_path / "scratch.pt"
    W = torch.zeros(2, 3, requires_grad=True)
    d2l.train_ch3(lambda X: X @ W, data, data, nn.CrossEntropyLoss(reduction="none"), 1, 16,
                  params=[W], lr=0.1, checkpoint=path)
    W2 = torch.zeros(2, 3, requires_grad=True)
    d2l.train_ch3(lambda X: X @ W2, data, data, nn.CrossEntropyLoss(reduction="none"), 1, 16,
                  params=[W2], lr=0.1, checkpoint=path)
    torch.testing.assert_close(W2, W)


def dropout_net(p=0.5):
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(2, 3), nn.Dropout(p))


def train_with(path, net=None, opt=None, epochs=2, schedule=None, data=None, lr=0.1):
    """One train_ch5 run of a small net on the blobs, checkpointed at `path`."""
    net = dropout_net() if net is None else net
    opt = torch.optim.SGD(net.parameters(), lr=lr, momentum=0.9) if opt is None else opt
    if schedule is not None:
        d2l.cosine_schedule(opt, schedule)
    return d2l.train_ch5(net, blobs() if data is None else data, blobs(), 16, opt, "cpu", epochs,
                         checkpoint=path)


# Each change makes another run of the same code; its checkpoint is refused, naming the field.
# The first run is train_with(path, schedule=6) under the smoke profile (where train_ch5 caps the
# run at one epoch, as in quick).
MISMATCHES = {
    "profile": (dict(profile="quick"), r"profile: was 'smoke', now 'quick'"),
    "lr": (dict(lr=0.5), r"lr \(param group 0\): was 0\.1, now 0\.5"),
    "momentum": (dict(opt="nesterov"), r"nesterov \(param group 0\): was False, now True"),
    "dropout": (dict(net=lambda: dropout_net(0.0)),
                r"net: was `\(1\): Dropout\(p=0\.5, inplace=False\)`, now `\(1\): Dropout\(p=0\.0, "),
    "width": (dict(net=lambda: nn.Sequential(nn.Linear(2, 4), nn.Dropout(0.5))),
              r"net: was `\(0\): Linear\(in_features=2, out_features=3, bias=True\)`, now "
              r"`\(0\): Linear\(in_features=2, out_features=4"),
    "schedule length": (dict(schedule=12),
                        r"schedule: was '[^']*\(total_steps=6\)', now '[^']*\(total_steps=12\)'"),
    "no schedule": (dict(schedule=None), r"schedule: was '[^']*\(total_steps=6\)', now none"),
    "data size": (dict(data=blobs()[:2]), r"training batches: was 3, now 2"),
    "batch size": (dict(data=[(X[:8], y[:8]) for X, y in blobs()]), r"batch size: was 16, now 8"),
    # smoke caps 2 and 3 epochs alike at one: the same run, which resumes
    "epochs capped alike": (dict(epochs=3), None),
    "optimizer": (dict(opt="adam"), r"optimizer: was 'SGD', now 'Adam'"),
}


@pytest.mark.parametrize("change", list(MISMATCHES))
def test_a_checkpoint_of_another_run_is_refused_naming_the_file_and_each_field(
        tmp_path, monkeypatch, change):
    path = tmp_path / "c.pt"
    monkeypatch.setenv("D2LMINI_PROFILE", "smoke")
    first = train_with(path, schedule=6)
    kwargs, message = MISMATCHES[change]
    kwargs = dict(kwargs)
    monkeypatch.setenv("D2LMINI_PROFILE", kwargs.pop("profile", "smoke"))
    kwargs.setdefault("schedule", 6)
    if callable(kwargs.get("net")):
        kwargs["net"] = kwargs["net"]()
    if kwargs.get("opt") in ("adam", "nesterov"):
        net = kwargs.setdefault("net", dropout_net())
        kwargs["opt"] = (torch.optim.Adam(net.parameters(), lr=0.1) if kwargs["opt"] == "adam" else
                         torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9, nesterov=True))
    if message is None:
        assert dict(train_with(path, **kwargs)) == dict(first)
        return
    with pytest.raises(d2l.CheckpointMismatch, match=message) as info:
        train_with(path, **kwargs)
    text = str(info.value)
    assert text.startswith(f"checkpoint {path} belongs to another run")
    assert "pass another checkpoint= path" in text and f"delete {path} to start it over" in text
    assert len(text.splitlines()) == 3, text  # one field differs, one line names it


def test_a_run_of_another_length_is_refused(tmp_path):
    path = tmp_path / "c.pt"
    train_with(path, epochs=2)  # the full profile (this file's fixture): no cap
    with pytest.raises(d2l.CheckpointMismatch, match=r"\n  epochs: was 2, now 3\n"):
        train_with(path, epochs=3)


def test_every_differing_field_is_named_on_its_own_line(tmp_path, monkeypatch):
    path = tmp_path / "c.pt"
    monkeypatch.setenv("D2LMINI_PROFILE", "smoke")
    train_with(path, schedule=6)
    monkeypatch.setenv("D2LMINI_PROFILE", "quick")
    with pytest.raises(d2l.CheckpointMismatch) as info:
        train_with(path, net=dropout_net(0.1), lr=0.05, schedule=469)
    fields = [line.split(":")[0].strip() for line in str(info.value).splitlines()[1:-1]]
    assert fields == ["profile", "net", "lr (param group 0)", "schedule"]


def test_the_same_run_resumes_after_its_schedule_moved_the_lr(tmp_path):
    """A scheduled run's lr changes as it trains: the record holds the lr it started from, so
    running the cell again with the same optimizer, after an interrupt, resumes."""
    path = tmp_path / "c.pt"
    net = dropout_net()
    opt = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
    d2l.cosine_schedule(opt, 9)
    d2l.train_ch5(net, InterruptAt(blobs(), 2), blobs(), 16, opt, "cpu", 3, checkpoint=path)
    assert opt.param_groups[0]["lr"] < 0.1  # the schedule moved it
    history = d2l.train_ch5(net, InterruptAt(blobs(), 0), blobs(), 16, opt, "cpu", 3, checkpoint=path)
    assert history.epochs_done == 3 and history.steps == 9


def test_a_learners_own_net_and_optimizer_need_nothing_extra(tmp_path):
    class Mine(nn.Module):
        def __init__(self, width):
            super().__init__()
            self.w = nn.Parameter(torch.zeros(2, width))  # a shape the repr does not show

        def forward(self, X):
            return X @ self.w

    path = tmp_path / "mine.pt"
    net = Mine(3)
    d2l.train_ch5(net, blobs(), blobs(), 16, torch.optim.RMSprop(net.parameters(), lr=0.01), "cpu", 1,
                  checkpoint=path)
    net = Mine(3)
    again = d2l.train_ch5(net, blobs(), blobs(), 16, torch.optim.RMSprop(net.parameters(), lr=0.01),
                          "cpu", 1, checkpoint=path)
    assert again.epochs_done == 1
    net = Mine(3)
    with pytest.raises(d2l.CheckpointMismatch, match=r"alpha \(param group 0\): was 0\.99, now 0\.9"):
        d2l.train_ch5(net, blobs(), blobs(), 16, torch.optim.RMSprop(net.parameters(), lr=0.01,
                      alpha=0.9), "cpu", 1, checkpoint=path)
    net = Mine(4)
    with pytest.raises(d2l.CheckpointMismatch, match=r"w: was \(2, 3\), now \(2, 4\)"):
        d2l.train_ch5(net, blobs(), blobs(), 16, torch.optim.RMSprop(net.parameters(), lr=0.01),
                      "cpu", 1, checkpoint=path)


def test_a_scratch_models_params_are_part_of_its_run(tmp_path):
    data, path = blobs(), tmp_path / "scratch.pt"
    W = torch.zeros(2, 3, requires_grad=True)
    d2l.train_ch3(lambda X: X @ W, data, data, nn.CrossEntropyLoss(reduction="none"), 1, 16,
                  params=[W], lr=0.1, checkpoint=path)
    W = torch.zeros(2, 4, requires_grad=True)
    with pytest.raises(d2l.CheckpointMismatch, match=r"params: was \[\[2, 3\]\], now \[\[2, 4\]\]"):
        d2l.train_ch3(lambda X: X @ W, data, data, nn.CrossEntropyLoss(reduction="none"), 1, 16,
                      params=[W], lr=0.1, checkpoint=path)


def test_a_checkpoint_of_the_earlier_format_is_refused_clearly(tmp_path):
    path = tmp_path / "old.pt"
    train_with(path)
    state = torch.load(path, weights_only=True)
    del state["run"]
    state["format"] = "d2lmini-checkpoint-1"
    torch.save(state, path)
    with pytest.raises(d2l.CheckpointMismatch, match=r"written by an earlier d2lmini "
                       r"\(d2lmini-checkpoint-1\), which did not record the run") as info:
        train_with(path)
    assert f"delete {path} to start the run over" in str(info.value)
    state["format"] = "something else"
    torch.save(state, path)
    with pytest.raises(d2l.CheckpointMismatch, match="is not a d2lmini checkpoint"):
        train_with(path)


class CountingBatches:
    """A train_iter that counts the batches it served, to prove a refusal came before training."""

    def __init__(self, data):
        self.data, self.served = data, 0

    def __len__(self):
        return len(self.data)

    def __iter__(self):
        for batch in self.data:
            self.served += 1
            yield batch


@pytest.mark.parametrize("where", ["/proc/run.pt", "file/run.pt", "file/deeper/run.pt"])
def test_a_path_where_no_file_can_be_written_is_refused_before_training(tmp_path, monkeypatch, where):
    (tmp_path / "file").write_text("a file, not a folder")
    monkeypatch.chdir(tmp_path)
    train = CountingBatches(blobs())
    net, opt = tiny_net_and_optimizer()
    with pytest.raises(ValueError, match="checkpoint must be a path where a checkpoint file can be "
                       f"written, got '{where}': ") as info:
        d2l.train_ch5(net, train, blobs(), 16, opt, "cpu", 1, checkpoint=where)
    assert train.served == 0
    reason = "writing in /proc fails" if where.startswith("/proc") else "file is a file, not a folder"
    assert reason in str(info.value)
    assert list(tmp_path.iterdir()) == [tmp_path / "file"]  # no probe left behind
    W = torch.zeros(2, 3, requires_grad=True)
    with pytest.raises(ValueError, match=f"got '{where}'"):
        d2l.train_ch3(lambda X: X @ W, train, blobs(), nn.CrossEntropyLoss(reduction="none"), 1, 16,
                      params=[W], lr=0.1, checkpoint=where)
    assert train.served == 0


def test_a_damaged_checkpoint_or_a_folder_is_refused_by_name(tmp_path):
    data = blobs()
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a checkpoint")
    net, opt = tiny_net_and_optimizer()
    with pytest.raises(d2l.CheckpointMismatch, match="bad.pt cannot be read"):
        d2l.train_ch5(net, data, data, 16, opt, "cpu", 1, checkpoint=bad)
    with pytest.raises(ValueError, match="checkpoint must be a file path"):
        d2l.train_ch5(net, data, data, 16, opt, "cpu", 1, checkpoint=tmp_path)
    with pytest.raises(TypeError, match="checkpoint must be a file path"):
        d2l.train_ch5(net, data, data, 16, opt, "cpu", 1, checkpoint=3)


def test_an_interrupted_history_says_so_and_check_accuracy_does_not_blame_the_floor(capsys):
    data = blobs()
    net, opt = tiny_net_and_optimizer()
    history = d2l.train_ch5(net, InterruptAt(data, 3), data, 16, opt, "cpu", 4)
    assert history.interrupted and history.epochs_done == 2 and history.epochs_planned == 4
    assert history.steps == 2 * 3 + 2  # two epochs of 3 batches, 2 of the third
    capsys.readouterr()
    d2l.check_accuracy(history, 0.999)  # would fail if it were checked
    out = capsys.readouterr().out
    assert "test accuracy" in out and "after 2 of 4 epochs finished: the run was interrupted, so no floor is checked" in out
    net, opt = tiny_net_and_optimizer()
    history = d2l.train_ch5(net, InterruptAt(data, 1), data, 16, opt, "cpu", 4)
    capsys.readouterr()
    assert math.isnan(d2l.check_accuracy(history, 0.5))  # stopped in epoch 1: nothing to check
    assert "no test accuracy yet: 0 of 4 epochs finished" in capsys.readouterr().out


def test_check_accuracy_asserts_only_floors_measured_in_the_current_profile(monkeypatch, capsys):
    history = {"test_acc": [0.7]}
    with pytest.raises(AssertionError, match="below the floor 0.800 measured for the full"):
        d2l.check_accuracy(history, 0.8, quick=0.6)
    monkeypatch.setenv("D2LMINI_PROFILE", "quick")
    with pytest.raises(AssertionError, match="measured for the quick profile"):
        d2l.check_accuracy(history, 0.6, quick=0.75)
    assert d2l.check_accuracy(history, 0.9) == 0.7  # no quick floor: reported, not asserted
    assert "no floor measured in this profile yet" in capsys.readouterr().out
    monkeypatch.setenv("D2LMINI_PROFILE", "full")
    d2l.check_accuracy(history, target=0.95)
    assert "target 0.950, not yet measured" in capsys.readouterr().out
    with pytest.raises(ValueError, match="got both"):
        d2l.check_accuracy(history, 0.6, target=0.9)
    with pytest.raises(ValueError, match="quick must be"):
        d2l.check_accuracy(history, quick=1.5)


def conv_net():
    return nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Conv2d(4, 4, 3), d2l.FlattenLayer(),
                         nn.Linear(4 * 4 * 4, 3))


def test_auto_precision_is_bf16_only_for_conv_nets_on_native_hardware(monkeypatch):
    cpu = torch.device("cpu")
    monkeypatch.setattr(precisions, "bf16_native", lambda device: True)
    assert precisions.choose(None, cpu, conv_net()).name == "bf16"
    assert precisions.choose(None, cpu, nn.Linear(2, 3)).name == "fp32"
    assert precisions.choose("fp32", cpu, conv_net()).name == "fp32"
    monkeypatch.setattr(precisions, "bf16_native", lambda device: False)
    auto = precisions.choose(None, cpu, conv_net())
    assert auto.name == "fp32" and auto.channels_last  # no bf16 here, the layout still helps
    assert not precisions.choose("fp32", cpu, conv_net()).fast  # the plain reference
    assert not precisions.choose(None, cpu, nn.Linear(2, 3)).fast
    assert precisions.choose("bf16", cpu, conv_net()).name == "bf16"  # forced: emulated, slow
    monkeypatch.setenv("D2LMINI_PRECISION", "bf16")
    assert precisions.choose(None, cpu, conv_net()).name == "bf16"
    monkeypatch.setenv("D2LMINI_PRECISION", "half")
    with pytest.raises(ValueError, match="D2LMINI_PRECISION must be one of 'auto', 'bf16', "
                                         "'fp16', 'fp32'"):
        precisions.choose(None, cpu, conv_net())
    with pytest.raises(ValueError, match="precision must be one of"):
        precisions.choose("half", cpu, conv_net())
    with pytest.raises(TypeError, match="precision must be one of"):
        precisions.choose(16, cpu, conv_net())


def image_blobs():
    g = torch.Generator().manual_seed(0)
    y = torch.arange(48) % 3
    X = torch.rand(48, 1, 8, 8, generator=g) + y.view(-1, 1, 1, 1)
    return [(X[i:i + 16], y[i:i + 16]) for i in range(0, 48, 16)]


@pytest.mark.parametrize("precision", ["bf16", "fp32", "auto"])
def test_both_paths_train_and_evaluation_agrees_with_the_loop(capsys, precision):
    data = image_blobs()
    torch.manual_seed(0)
    net = conv_net()
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    history = d2l.train_ch5(net, data, data, 16, opt, "cpu", 3, precision=precision)
    out = capsys.readouterr().out
    native = d2l.bf16_native(torch.device("cpu"))  # the auto path is bf16 only where it is native
    assert ("bf16 autocast, channels_last" in out) == (precision == "bf16" or
                                                       (precision == "auto" and native))
    assert ("fp32, channels_last" in out) == (precision == "auto" and not native)
    assert history["train_loss"][-1] < history["train_loss"][0]
    assert net[2].weight.dtype == torch.float32  # autocast leaves the weights in float32
    channels_last = net[2].weight.is_contiguous(memory_format=torch.channels_last)
    assert channels_last == (precision != "fp32")
    assert d2l.evaluate_accuracy(data, net, precision=precision) == history["test_acc"][-1]


def test_bf16_native_reads_the_cpu_flags(monkeypatch):
    monkeypatch.setattr(precisions, "_cpu_flags", lambda: frozenset({"avx2", "avx512_bf16"}))
    assert precisions.bf16_native(torch.device("cpu"))
    monkeypatch.setattr(precisions, "_cpu_flags", lambda: frozenset({"avx2"}))
    assert not precisions.bf16_native(torch.device("cpu"))
    assert not precisions.bf16_native(torch.device("meta"))


def test_history_shows_as_one_line_and_check_accuracy_survives_python_dash_o(tmp_path):
    net, opt = tiny_net_and_optimizer()
    history = d2l.train_ch5(net, blobs(), blobs(), 16, opt, "cpu", 2)
    assert repr(history).startswith("History(2 of 2 epochs, last test acc ") and "\n" not in repr(history)
    assert dict(history)["test_acc"] == history["test_acc"]
    script = tmp_path / "o.py"
    script.write_text("import d2lmini as d2l\n"
                      "try:\n    d2l.check_accuracy({'test_acc': [0.1]}, 0.85)\n"
                      "except AssertionError as e:\n    print('refused:', e)\n")
    done = subprocess.run([sys.executable, "-O", str(script)], capture_output=True, text=True,
                          env={**__import__("os").environ, "D2LMINI_PROFILE": "full"}, timeout=120)
    assert "refused: test accuracy 0.100 is below the floor 0.850" in done.stdout, done.stderr
