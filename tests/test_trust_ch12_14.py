"""The checks chapters 12-14 make after training, and DenseNet-121's comparison with torchvision,
each shown to reject a concrete counterexample (issue 27). Every check is the chapter's own
function, built from its twin by `benchmarks/chapter_nets.py`, never a copy."""

import math
import sys
from pathlib import Path

import pytest
import torch
from torch import nn

import d2lmini as d2l

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from chapter_nets import chapter_namespace  # noqa: E402

SCHEDULED = ["12_googlenet", "13_resnet", "14_densenet"]
BATCH_NORMED = {"13_resnet": "resnet18()", "14_densenet": "densenet()"}
HAVE_FASHION = Path("/usr/share/datasets/fashion-mnist").is_dir()


@pytest.fixture(scope="module", params=SCHEDULED)
def chapter(request):
    return chapter_namespace(request.param)


# ---- the learning rate followed the cosine schedule, every step ----

def scheduled_run(steps=4, lr=0.1, extra_hook=None, interrupt_at=None):
    """A small run through d2l.train_ch5 set up as the chapters do (schedule over the run's
    steps, a hook recording the learning rate after each step); `extra_hook(optimizer, schedule)`
    may add a hook before the recorder, `interrupt_at` raises KeyboardInterrupt (Ctrl-C) in the
    forward pass of that batch (counted from 0)."""
    torch.manual_seed(0)
    data = [(torch.rand(8, 1, 4, 4), torch.arange(8) % 4) for _ in range(steps)]
    net = nn.Sequential(nn.Flatten(), nn.Linear(16, 4))
    calls = []
    if interrupt_at is not None:
        def stop(module, args):
            calls.append(1)
            if len(calls) == interrupt_at + 1:
                raise KeyboardInterrupt
        net.register_forward_pre_hook(stop)
    optimizer = torch.optim.SGD(net.parameters(), lr=lr)
    schedule = d2l.cosine_schedule(optimizer, steps)
    if extra_hook is not None:
        extra_hook(optimizer, schedule)
    lrs = []
    optimizer.register_step_post_hook(lambda opt, args, kwargs: lrs.append(opt.param_groups[0]["lr"]))
    history = d2l.train_ch5(net, data, data[:1], 8, optimizer, "cpu", 1)
    return lrs, schedule, history, optimizer


def final_lr_check(optimizer, steps, lr, total_steps):
    """The check the chapters made before issue 27: the learning rate at the end equals the
    formula at t = the steps taken."""
    expected = lr / 2 * (1 + math.cos(math.pi * steps / total_steps))
    return math.isclose(optimizer.param_groups[0]["lr"], expected, rel_tol=1e-6)


def test_the_schedule_check_passes_a_run_that_follows_the_cosine(chapter):
    lrs, schedule, history, _ = scheduled_run()
    chapter["check_cosine_schedule"](lrs, schedule, history.steps, 0.1, 4)
    assert lrs[1] == pytest.approx(0.05)  # eta_0 / 2 at t = T/2


def test_the_schedule_check_holds_after_ctrl_c(chapter, capsys):
    lrs, schedule, history, _ = scheduled_run(interrupt_at=2)
    assert history.interrupted and history.steps == 2 and "interrupted" in capsys.readouterr().out
    chapter["check_cosine_schedule"](lrs, schedule, history.steps, 0.1, 4)


def test_the_schedule_check_rejects_a_schedule_that_steps_twice_per_step(chapter):
    def twice(optimizer, schedule):
        optimizer.register_step_post_hook(lambda opt, args, kwargs: schedule.step())

    with pytest.warns(UserWarning, match="past total_steps"):
        lrs, schedule, history, optimizer = scheduled_run(extra_hook=twice)
    assert final_lr_check(optimizer, history.steps, 0.1, 4)  # the old check passed it: both end at 0
    with pytest.raises(AssertionError, match="must advance once per step"):
        chapter["check_cosine_schedule"](lrs, schedule, history.steps, 0.1, 4)


def test_the_schedule_check_rejects_a_schedule_that_ends_at_0_along_another_curve(chapter):
    def linear(optimizer, schedule):  # the same steps, a straight line from lr to 0 instead
        schedule.lr_lambdas[0] = lambda step: max(0.0, 1 - step / 4)

    lrs, schedule, history, optimizer = scheduled_run(extra_hook=linear)
    assert final_lr_check(optimizer, history.steps, 0.1, 4)  # the old check passed it too
    with pytest.raises(AssertionError, match="after 1 of 4 steps"):
        chapter["check_cosine_schedule"](lrs, schedule, history.steps, 0.1, 4)


# ---- the running statistics that eval mode uses were collected (13, 14) ----

def batch_norm_run(stem, momentum, steps=2):
    """The chapter's net, trained `steps` SGD steps on Fashion-MNIST at 32x32 with every batch
    norm's momentum set to `momentum`; returns the chapter's namespace, the net and the kept
    batch's training-mode loss before and after."""
    ns = chapter_namespace(stem)
    d2l.set_seed(0)
    net = eval(BATCH_NORMED[stem], ns)
    for m in net.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.momentum = momentum
    train_iter, _ = d2l.load_data_fashion_mnist(16, resize=32)
    batches = [batch for _, batch in zip(range(steps), train_iter)]
    optimizer = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
    X_kept, y_kept = batches[0]
    before = d2l.batch_loss(net, X_kept, y_kept, train_mode=True)
    d2l.train_ch5(net, batches, batches[:1], 16, optimizer, "cpu", 1)
    return ns, net, before, d2l.batch_loss(net, X_kept, y_kept, train_mode=True)


@pytest.mark.skipif(not HAVE_FASHION, reason="Debian's dataset-fashion-mnist is not installed")
@pytest.mark.parametrize("stem", sorted(BATCH_NORMED))
def test_the_running_statistics_check_passes_batch_norms_with_the_default_momentum(stem):
    ns, net, _, _ = batch_norm_run(stem, momentum=0.1)
    ns["check_running_stats_updated"](net)


@pytest.mark.skipif(not HAVE_FASHION, reason="Debian's dataset-fashion-mnist is not installed")
@pytest.mark.parametrize("stem", sorted(BATCH_NORMED))
def test_the_running_statistics_check_rejects_batch_norms_that_never_update_them(stem):
    ns, net, before, after = batch_norm_run(stem, momentum=0.0)
    assert after < before  # the kept batch's training-mode loss, the old check, falls all the same
    with pytest.raises(AssertionError, match="still hold their initial running statistics"):
        ns["check_running_stats_updated"](net)


def test_the_running_statistics_check_names_a_single_stale_batch_norm():
    ns = chapter_namespace("13_resnet")
    net = ns["resnet18"]()
    net(torch.rand(4, 1, 32, 32))  # one step's worth of statistics, training mode
    ns["check_running_stats_updated"](net)
    nn.init.zeros_(net.stage3[1].bn2.running_mean)
    nn.init.ones_(net.stage3[1].bn2.running_var)
    with pytest.raises(AssertionError, match=r"1 batch norms .*stage3\.1\.bn2"):
        ns["check_running_stats_updated"](net)


# ---- forward-invariant to the convolution weights' scale (13, 14) ----

@pytest.mark.parametrize("stem", sorted(BATCH_NORMED))
def test_the_forward_invariance_check_rejects_a_net_without_batch_norm(stem):
    check = chapter_namespace(stem)["check_forward_invariant"]
    torch.manual_seed(0)
    every_conv_feeds_bn = nn.Sequential(
        nn.Conv2d(1, 8, 3, bias=False), nn.BatchNorm2d(8), nn.ReLU(),
        nn.Conv2d(8, 8, 3, bias=False), nn.BatchNorm2d(8), nn.ReLU(),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 10))
    check(every_conv_feeds_bn, torch.rand(8, 1, 12, 12), torch.arange(8), alpha=math.sqrt(6))
    googlenet = chapter_namespace("12_googlenet")["googlenet"]()  # no batch norm anywhere
    with pytest.raises(AssertionError):
        check(googlenet, torch.rand(8, 1, 32, 32), torch.arange(8), alpha=math.sqrt(6))


# ---- DenseNet-121: the same function as torchvision's, not only the same parameters ----

@pytest.fixture(scope="module")
def densenet_chapter():
    return chapter_namespace("14_densenet")


def misbuilt(ns, how):
    """Chapter 14's densenet_bc() with one part built wrong; its parameters are unchanged."""
    ns = dict(ns)  # densenet_bc looks its parts up in the chapter's namespace: patch a copy
    build = ns["densenet_bc"]
    build = type(build)(build.__code__, ns, build.__name__, build.__defaults__)
    if how == "new channels first":
        class NewFirst(ns["DenseBlock"]):
            def forward(self, x):
                for layer in self.layers:
                    x = torch.cat([layer(x), x], dim=1)
                return x
        ns["DenseBlock"] = NewFirst
    elif how == "no ReLUs in the layers":
        def layer(in_channels, growth_rate, width_factor=4):
            width = width_factor * growth_rate
            return nn.Sequential(nn.BatchNorm2d(in_channels), nn.Identity(),
                                 nn.Conv2d(in_channels, width, 1, bias=False),
                                 nn.BatchNorm2d(width), nn.Identity(),
                                 nn.Conv2d(width, growth_rate, 3, padding=1, bias=False))
        ns["bottleneck_layer"] = layer
    elif how == "max-pool transitions":
        def transition(in_channels, out_channels):
            return nn.Sequential(nn.BatchNorm2d(in_channels), nn.ReLU(),
                                 nn.Conv2d(in_channels, out_channels, 1, bias=False),
                                 nn.MaxPool2d(kernel_size=2, stride=2))
        ns["transition"] = transition
    net = build()
    if how == "average-pool stem":
        net.stem[3] = nn.AvgPool2d(kernel_size=3, stride=2, padding=1)
    return net


def test_densenet121_built_from_the_chapters_parts_computes_torchvisions_function(densenet_chapter):
    torch.manual_seed(0)
    densenet_chapter["check_same_function"](
        densenet_chapter["densenet_bc"](), densenet_chapter["torchvision"].models.densenet121(),
        torch.rand(2, 3, 64, 64))


@pytest.mark.parametrize("how", ["new channels first", "no ReLUs in the layers",
                                 "max-pool transitions", "average-pool stem"])
def test_a_misbuilt_densenet121_has_torchvisions_parameters_but_fails_the_comparison(
        densenet_chapter, how):
    torch.manual_seed(0)
    ours = misbuilt(densenet_chapter, how)
    reference = densenet_chapter["torchvision"].models.densenet121()
    assert d2l.num_params(ours) == d2l.num_params(reference) == 7_978_856  # the old checks pass
    assert [p.shape for p in ours.parameters()] == [p.shape for p in reference.parameters()]
    with pytest.raises(AssertionError):
        densenet_chapter["check_same_function"](ours, reference, torch.rand(2, 3, 64, 64))
