"""The benchmark helpers keep working as the chapters change: every chapter's trained net can be
built from its twin, the fast-path benchmark times a step on each path, and the CIFAR-10
script trains with each chapter's optimizer."""

import ast
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

import chapter_nets  # noqa: E402
import cifar10_results  # noqa: E402
import fast_path  # noqa: E402


@pytest.mark.parametrize("stem", sorted(chapter_nets.TRAINED))
def test_every_trained_net_is_built_from_its_chapter_and_maps_images_to_ten_scores(stem):
    net, side = chapter_nets.chapter_net(stem)
    with torch.no_grad():
        assert net.eval()(torch.rand(2, 1, side, side)).shape == (2, 10)


def test_the_builder_namespace_runs_no_training_cell():
    ns = chapter_nets.chapter_namespace("13_resnet")
    assert callable(ns["resnet18"]) and "history" not in ns and "train_iter" not in ns


@pytest.mark.parametrize("mode", ["fp32", "bf16", "fp32 + channels_last"])
def test_fast_path_times_one_step_on_each_path(mode):
    assert 0 < fast_path.seconds_per_step("08_lenet", mode, steps=1, batch_size=8) < 60


def chapter_optimizer(stem: str, net: torch.nn.Module) -> torch.optim.Optimizer:
    """The optimizer the chapter's training cell builds, rebuilt on `net`: the first
    `optimizer = torch.optim.X(net.parameters(), ...)` of the twin, with the chapter's own `lr`."""
    tree = ast.parse((ROOT / "notebooks" / "py" / f"{stem}.py").read_text())
    lr = call = None
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Tuple) and lr is None:
            names = [t.id for t in node.targets[0].elts if isinstance(t, ast.Name)]
            if "lr" in names and isinstance(node.value, ast.Tuple):
                lr = ast.literal_eval(node.value.elts[names.index("lr")])
        if (isinstance(node, ast.Assign) and getattr(node.targets[0], "id", None) == "optimizer"
                and call is None):
            call = node.value
    assert lr is not None and call is not None, f"{stem}: no lr or optimizer line found"
    return eval(compile(ast.Expression(call), stem, "eval"), {"torch": torch, "net": net, "lr": lr})


@pytest.mark.parametrize("key", [run.key for run in cifar10_results.RUNS])
def test_the_cifar10_runs_use_their_chapters_optimizer(key):
    """The CIFAR-10/MNIST script writes each recipe out again: it must not drift from the chapter."""
    run = next(r for r in cifar10_results.RUNS if r.key == key)
    net = torch.nn.Linear(2, 2)
    ours, theirs = run.optimizer(net), chapter_optimizer(run.chapter, net)
    assert type(ours) is type(theirs)
    keys = ("lr", "momentum", "weight_decay", "betas")
    assert ({k: ours.defaults.get(k) for k in keys} == {k: theirs.defaults.get(k) for k in keys})
