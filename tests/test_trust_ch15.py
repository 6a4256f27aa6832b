"""Every kind of check in chapter 15 can fail: each test runs the chapter's twin (the code the
notebook runs, read from `notebooks/py/`) with one line changed into the mistake a check guards
against (a wrong optimizer update, a wrong schedule, a wrong formula, a run that does not start
from the same point) and shows that the chapter's own assert rejects it. The unchanged cells pass
on the same inputs (the fixture runs them all first), so a test fails if a check is weakened or a
cell drifts from what the test expects."""

from __future__ import annotations

import os
import re
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")

import d2lmini as d2l  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
STEM = "15_optimization"


def code_cells(stem: str) -> list[str]:
    """The code cells of a chapter's py:percent twin, in order (markdown cells left out)."""
    text = (ROOT / "notebooks" / "py" / f"{stem}.py").read_text()
    cells = re.split(r"^# %%.*$", text, flags=re.M)
    headers = re.findall(r"^# %%.*$", text, flags=re.M)
    return [body for header, body in zip(headers, cells[1:]) if "[markdown]" not in header]


def run(source: str, namespace: dict) -> None:
    exec(compile(source, "<twin cell>", "exec"), namespace)


@pytest.fixture(scope="module")
def twin():
    """The code cells and, for each, the namespace as it was before the cell ran: the whole twin
    runs once, unchanged, in the smoke profile, from the notebook's folder (as nbval runs it)."""
    cells = code_cells(STEM)
    namespace: dict = {"__name__": "__twin__"}
    before = []
    here = os.getcwd()
    os.chdir(ROOT / "notebooks")
    try:
        d2l.set_seed(0)
        for cell in cells:
            before.append(dict(namespace))
            run(cell, namespace)
    finally:
        os.chdir(here)
        matplotlib.pyplot.close("all")
    return cells, before


def index_of(cells: list[str], marker: str) -> int:
    found = [i for i, cell in enumerate(cells) if marker in cell]
    assert len(found) == 1, f"{len(found)} code cells contain {marker!r}"
    return found[0]


def rejects(twin, first: str, last: str, *changes: tuple[str, str]) -> None:
    """Run the cells from the one holding `first` to the one holding `last`, starting from the
    namespace the unchanged run had before them, with each (old, new) of `changes` made where
    `old` occurs (exactly once in the cells run); an assert must fail on the way."""
    cells, before = twin
    start, stop = index_of(cells, first), index_of(cells, last)
    sources = cells[start:stop + 1]
    for old, new in changes:
        assert sum(cell.count(old) for cell in sources) == 1, f"expected {old!r} once"
        sources = [cell.replace(old, new) for cell in sources]
    namespace = dict(before[start])
    here = os.getcwd()
    os.chdir(ROOT / "notebooks")
    try:
        with pytest.raises(AssertionError):
            for cell in sources:
                run(cell, namespace)
    finally:
        os.chdir(here)
        matplotlib.pyplot.close("all")


# --- section 1: the quadratic, the saddle, convexity, Newton, conjugate gradient ---

def test_no_zig_zag_is_caught(twin):
    rejects(twin, "below = gradient_descent", "below = gradient_descent",
            ("0.99 * 2 / L, 200)", "0.99 / L, 200)"))


def test_a_wrong_learning_rate_bound_is_caught(twin):
    # were the bound 2 / mu, both runs would be inside it; they both diverge instead
    rejects(twin, "below = gradient_descent", "below = gradient_descent",
            ("0.99 * 2 / L, 200)", "0.99 * 2 / mu, 200)"),
            ("1.01 * 2 / L, 200)", "1.01 * 2 / mu, 200)"))


def test_the_step_count_of_the_best_rate_is_exact(twin):
    rejects(twin, "steps_gd = steps_to_shrink", "steps_gd = steps_to_shrink",
            ("2 / (L + mu), 400)", "2 / (L + 2 * mu), 400)"))


def test_a_wrong_escape_time_from_the_saddle_is_caught(twin):
    rejects(twin, "lingering = {}", "lingering = {}",
            ("math.log(1 + 2 * 0.1)", "math.log(1 + 0.1)"))


def test_a_swap_that_changes_the_function_is_caught(twin):
    rejects(twin, "def swap_hidden_units", "def swap_hidden_units",
            ("other[3].weight.copy_(net[3].weight[:, order])", "pass"))


def test_the_midpoint_check_needs_a_trained_net(twin):
    # at the untrained start the midpoint happens to be no worse: the check would not pass there
    rejects(twin, "def swap_hidden_units", "def swap_hidden_units",
            ("for _ in range(50):", "for _ in range(0):"))


def test_a_gradient_step_is_no_newton_step(twin):
    rejects(twin, "def newton_step", "def newton_step",
            ("torch.linalg.solve(torch.autograd.functional.hessian(f, x), grad)", "grad"))


def test_newton_to_the_saddle_is_checked(twin):
    rejects(twin, "x_saddle = newton_step", "x_saddle = newton_step",
            ("torch.zeros(2, dtype=torch.float64))", "torch.ones(2, dtype=torch.float64))"))


def test_steepest_descent_does_not_pass_for_conjugate_gradient(twin):
    rejects(twin, "def conjugate_gradient", "def conjugate_gradient",
            ("p = r_new + (r_new @ r_new) / (r @ r) * p", "p = r_new"))


# --- section 2: minibatch noise, the linear scaling rule, SGD ---

def test_the_noise_formula_needs_its_finite_population_factor(twin):
    rejects(twin, "per_example = vmap", "per_example = vmap",
            ("sigma2 / B * (N - B) / (N - 1)", "sigma2 / B"))


def test_steps_without_scaled_rate_fail_the_scaling_check(twin):
    rejects(twin, "def sgd_steps", "def sgd_steps", ("[(X64, y64)], 4 * lr)", "[(X64, y64)], lr)"))


def test_an_sgd_step_off_by_a_thousandth_is_caught(twin):
    rejects(twin, "class ScratchOptimizer", "ours = trajectory(tiny, lambda p: SGD(p, lr=0.1)",
            ('p.sub_(group["lr"] * g)\n', 'p.sub_(group["lr"] * g * 1.001)\n'))


# --- section 3: momentum ---

def test_damped_momentum_is_caught(twin):
    rejects(twin, "class Momentum", "momentum_steps = steps_under_constant_gradient",
            ("v.mul_(beta).add_(g)", "v.mul_(beta).add_((1 - beta) * g)"))


def test_nesterov_written_as_heavy_ball_is_caught(twin):
    rejects(twin, "class Momentum", "for nesterov in (False, True):",
            ('g + beta * v if group["nesterov"] else v', 'v if group["nesterov"] else v'))


def test_the_momentum_ladder_needs_nesterov(twin):
    rejects(twin, "lr_q = 1 / L", "lr_q = 1 / L",
            ("nesterov=True)}", "nesterov=False)}"))


# --- section 4: AdaGrad, RMSProp, Adam, AdamW ---

def test_a_shifted_bias_correction_is_caught(twin):
    rejects(twin, "class AdaGrad", "T = 1000",
            ("m / (1 - beta1 ** t), v / (1 - beta2 ** t)",
             "m / (1 - beta1 ** (t + 1)), v / (1 - beta2 ** (t + 1))"))


def test_adagrad_summing_absolute_gradients_is_caught(twin):
    rejects(twin, "class AdaGrad", "pairs = {", ("s.add_(g * g)", "s.add_(g.abs())"))


def test_rmsprop_with_eps_inside_the_root_is_caught(twin):
    rejects(twin, "class AdaGrad", "pairs = {",
            ('s.mul_(alpha).add_((1 - alpha) * g * g)\n        p.sub_(group["lr"] * g / '
             '(s.sqrt() + group["eps"]))',
             's.mul_(alpha).add_((1 - alpha) * g * g)\n        p.sub_(group["lr"] * g / '
             '(s + group["eps"]).sqrt())'))


def test_l2_passed_off_as_decoupled_decay_is_caught(twin):
    rejects(twin, "class ScratchOptimizer", "wd = 0.1",
            ("p.mul_(1 - lr * wd)  # decoupled", "g = g + wd * p  # decoupled"))


def test_decoupled_decay_after_the_step_is_caught(twin):
    # the slip changes each step by only lr * wd times the step; float64 paths still see it
    rejects(twin, "class ScratchOptimizer", "wd = 0.1",
            ("p.mul_(1 - lr * wd)  # decoupled", "pass  # decoupled"),
            ("self.update(p, g, self.state[p], group)",
             "self.update(p, g, self.state[p], group)\n"
             "                if wd and group['decoupled']:\n"
             "                    p.mul_(1 - lr * wd)"))


# --- section 5: schedules ---

def test_the_noise_floor_check_rejects_a_slower_decay(twin):
    rejects(twin, "chains = 20_000", "chains = 20_000",
            ("x_decay - (x_decay - xi) / (k + 1)", "x_decay - (x_decay - xi) / (k + 1) ** 0.5"))


def test_a_warmup_that_wastes_its_first_step_is_caught(twin):
    rejects(twin, "def warmup_cosine", "def warmup_cosine",
            ("return (t + 1) / warmup", "return t / warmup"))


def test_a_cosine_over_the_wrong_length_is_caught(twin):
    rejects(twin, "def warmup_cosine", "def warmup_cosine",
            ("min(t, total) / total))", "min(t, total) / (total - 1)))"))


def test_adams_first_step_check_rejects_sgd(twin):
    rejects(twin, "first_step = (flat(net) - before)", "first_step = (flat(net) - before)",
            ("torch.optim.Adam(net.parameters(), lr=1e-3).step()",
             "torch.optim.SGD(net.parameters(), lr=1e-3).step()"))


# --- section 6: one start, one batch order ---

def test_runs_without_the_common_seed_are_caught(twin):
    rejects(twin, "histories = {}", "names = list(histories)",
            ("    d2l.set_seed(1)\n    histories[name]", "    histories[name]"))


def test_runs_from_different_starts_are_caught(twin):
    rejects(twin, "histories = {}", "names = list(histories)",
            ("    net.load_state_dict(start)\n    step_losses[name] = []",
             "    step_losses[name] = []"))


# --- section 7: NiN ---

def test_nin_without_the_zero_start_fails_the_first_step_check(twin):
    rejects(twin, "nin_iter, _ = ", "nin_iter, _ = ",
            ("nn.init.zeros_(nin_start[7][-1].weight)", "pass"))


def test_the_nin_comparison_rejects_sgd_in_adams_place(twin):
    rejects(twin, "nin_iter, _ = ", "nin_iter, _ = ",
            ('"Adam, lr 0.001": lambda p: torch.optim.Adam(p, lr=0.001)',
             '"Adam, lr 0.001": lambda p: torch.optim.SGD(p, lr=0.001)'))


def test_the_chapters_definitions_load_without_running_it():
    """benchmarks/exercise_refs/15_optimization.py builds the chapter's net and optimizers from
    the twin's definitions alone (benchmarks/chapter_nets.py): no cell's work may run there."""
    import sys
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from chapter_nets import chapter_namespace
    ns = chapter_namespace(STEM)
    assert callable(ns["mlp"]) and callable(ns["Adam"]) and "train_iter" not in ns
    assert d2l.num_params(ns["mlp"]()) == 269_322
