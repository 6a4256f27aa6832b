"""The benchmark helpers keep working as the chapters change: every chapter's trained net can be
built from its twin, and the fast-path benchmark times a step on each path."""

import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

import chapter_nets  # noqa: E402
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
