"""The checks of chapters 01-05 that issue 27 found unable to fail, rewritten so that they can:
each test runs a cell of the chapter's twin (the code the notebook runs, read from
`notebooks/py/`) on a concrete counterexample, or with one line of the cell changed into the
mistake it guards against, and shows that the cell's own assert rejects it. The unchanged cell
passes on the same inputs, so the test fails if the check is weakened or the cell drifts."""

from __future__ import annotations

import math
import re
import sys
import types
from pathlib import Path

import matplotlib
import pytest
import torch

matplotlib.use("Agg")

import d2lmini as d2l  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
TWINS = ROOT / "notebooks" / "py"


def code_cells(stem: str) -> list[str]:
    """The code cells of a chapter's py:percent twin, in order (markdown cells left out)."""
    text = (TWINS / f"{stem}.py").read_text()
    cells = re.split(r"^# %%.*$", text, flags=re.M)
    headers = re.findall(r"^# %%.*$", text, flags=re.M)
    return [body for header, body in zip(headers, cells[1:]) if "[markdown]" not in header]


def cell_with(stem: str, marker: str) -> str:
    """The one code cell of the twin that contains `marker`."""
    found = [cell for cell in code_cells(stem) if marker in cell]
    assert len(found) == 1, f"{stem}: {len(found)} code cells contain {marker!r}"
    return found[0]


def mutated(source: str, old: str, new: str) -> str:
    """`source` with the one occurrence of `old` replaced: the mistake a check must catch."""
    assert source.count(old) == 1, f"expected {old!r} once in the cell"
    return source.replace(old, new)


def run(source: str, namespace: dict) -> dict:
    exec(compile(source, "<twin cell>", "exec"), namespace)
    return namespace


def prefix_namespace(stem: str, marker: str, changes: tuple[tuple[str, str], ...] = ()) -> dict:
    """The namespace after running every code cell of the twin before the one holding `marker`
    (smoke profile: the tests run in it), each `(old, new)` of `changes` made in the cell that
    holds `old`."""
    cells = code_cells(stem)
    index = next(i for i, cell in enumerate(cells) if marker in cell)
    namespace: dict = {"__name__": "__twin__"}
    d2l.set_seed(0)
    for cell in cells[:index]:
        for old, new in changes:
            if old in cell:
                cell = mutated(cell, old, new)
        run(cell, namespace)
    return namespace


# --- 01: every example exactly once per pass, and the squared loss as maximum likelihood ---

READER_CHECK = "ids = torch.arange(len(features))"


def reader_namespace(data_iter) -> dict:
    features, labels = d2l.synthetic_data(torch.tensor([2.0, -3.4]), 4.2, 1000)
    return {"torch": torch, "d2l": types.SimpleNamespace(data_iter=data_iter),
            "features": features, "labels": labels}


def with_replacement(batch_size, features, labels):
    """The counterexample of issue 27: the right number of examples per pass, drawn with
    replacement, so some come twice and about 37 % never."""
    for start in range(0, len(features), batch_size):
        idx = torch.randint(len(features), (min(batch_size, len(features) - start),))
        yield features[idx], labels[idx]


def same_order_every_pass(batch_size, features, labels):
    """Each example once per pass, but one fixed shuffle: every epoch sees the same batches."""
    order = torch.randperm(len(features), generator=torch.Generator().manual_seed(0))
    for start in range(0, len(features), batch_size):
        idx = order[start:start + batch_size]
        yield features[idx], labels[idx]


def test_01_reader_check_passes_for_data_iter():
    run(cell_with("01_linear_regression", READER_CHECK), reader_namespace(d2l.data_iter))


def test_01_reader_check_rejects_sampling_with_replacement():
    ns = reader_namespace(with_replacement)
    seen = torch.cat([X for X, _ in with_replacement(64, torch.arange(1000), torch.arange(1000))])
    assert len(seen) == 1000 and len(seen.unique()) < 700  # the count alone would pass it
    with pytest.raises(AssertionError, match="exactly once"):
        run(cell_with("01_linear_regression", READER_CHECK), ns)


def test_01_reader_check_rejects_a_reader_that_never_reshuffles():
    with pytest.raises(AssertionError, match="new order"):
        run(cell_with("01_linear_regression", READER_CHECK), reader_namespace(same_order_every_pass))


ML_CHECK = "def neg_log_likelihood(y_hat):"


@pytest.fixture(scope="module")
def ch01_before_ml():
    return prefix_namespace("01_linear_regression", ML_CHECK)


def test_01_maximum_likelihood_identity_holds(ch01_before_ml):
    run(cell_with("01_linear_regression", ML_CHECK), dict(ch01_before_ml))


@pytest.mark.parametrize("old, new", [
    # the un-halved squared error: the identity needs the factor 1/2 of our loss
    ("summed_loss = d2l.squared_loss(", "summed_loss = 2 * d2l.squared_loss("),
    # the wrong noise level in the density: the constant and the scale both change
    ("Normal(y_hat.double(), sigma)", "Normal(y_hat.double(), 2 * sigma)"),
])
def test_01_maximum_likelihood_check_rejects_a_wrong_identity(ch01_before_ml, old, new):
    source = mutated(cell_with("01_linear_regression", ML_CHECK), old, new)
    with pytest.raises(AssertionError):
        run(source, dict(ch01_before_ml))


# --- 03: the scratch ReLU has the slope at 0 that the hand-written backpropagation assumes ---

RELU_CELL = "def relu(Z):"


@pytest.fixture(scope="module")
def ch03_before_relu():
    return prefix_namespace("03_mlp", RELU_CELL)


def test_03_scratch_relu_check_passes(ch03_before_relu):
    run(cell_with("03_mlp", RELU_CELL), dict(ch03_before_relu))


def test_03_scratch_relu_check_rejects_torch_maximum(ch03_before_relu):
    """The chapter's former ReLU: the same values, but autograd's slope at 0 is 1/2, not the 0
    of the mask [Z > 0] that section 6 and exercise 3 use."""
    source = mutated(cell_with("03_mlp", RELU_CELL), "torch.clamp(Z, min=0)",
                     "torch.maximum(Z, torch.zeros_like(Z))")
    with pytest.raises(AssertionError):
        run(source, dict(ch03_before_relu))


def test_03_the_slope_at_0_of_each_way_to_write_relu():
    """What section 2 prints and asserts, on the library itself."""
    z = torch.tensor([-1.0, 0.0, 1.0], requires_grad=True)
    slopes = {}
    for name, f in {"relu": torch.relu, "clamp": lambda t: torch.clamp(t, min=0),
                    "maximum": lambda t: torch.maximum(t, torch.zeros_like(t))}.items():
        (grad,) = torch.autograd.grad(f(z).sum(), z)
        slopes[name] = grad.tolist()
    assert slopes == {"relu": [0, 0, 1], "clamp": [0, 0, 1], "maximum": [0, 0.5, 1]}


# --- 05: the training check that could not fail, and the one that stays ---

TRAINING_CHECK = 'naive_losses = histories["N(0, 0.01^2)"]["train_loss"]'


@pytest.fixture(scope="module")
def ch05_after_training():
    return prefix_namespace("05_numerical_stability", TRAINING_CHECK)


def test_05_a_diverging_run_never_returns_a_history(ch05_after_training):
    """Why the chapter dropped `assert all(math.isfinite(v) for v in history["train_loss"])`:
    on the chapter's own net and loss, a run whose loss turns nan raises TrainingDiverged inside
    train_ch3, so no history with a non-finite loss ever reaches that line."""
    ns = ch05_after_training
    net = ns["deep_mlp"]().apply(ns["init_kaiming"])
    X, y = next(iter(ns["train_iter"]))
    poisoned = [(X, y), (torch.full_like(X, float("nan")), y)]
    with pytest.raises(d2l.TrainingDiverged):
        d2l.train_ch3(net, poisoned, poisoned, ns["loss"], 1, len(y),
                      optimizer=torch.optim.SGD(net.parameters(), lr=0.1))


def test_05_training_check_passes(ch05_after_training):
    run(cell_with("05_numerical_stability", TRAINING_CHECK), dict(ch05_after_training))


def test_05_training_check_rejects_a_naive_net_that_learned(ch05_after_training):
    """The check that replaces it can fail: give the naive net's place the Kaiming run's history,
    whose loss leaves ln 10."""
    ns = dict(ch05_after_training)
    ns["histories"] = {"N(0, 0.01^2)": ns["histories"]["Kaiming"], "Kaiming": ns["histories"]["Kaiming"]}
    assert abs(ns["histories"]["Kaiming"]["train_loss"][0] - math.log(10)) > 0.01
    with pytest.raises(AssertionError, match="ln 10"):
        run(cell_with("05_numerical_stability", TRAINING_CHECK), ns)


# --- 02: one draw's predicted classes hang together ---

SHARE_CHECK = "acc_untrained = accuracy_by_hand(test_iter, net)"


@pytest.fixture(scope="module")
def ch02_before_share():
    return prefix_namespace("02_softmax_regression", SHARE_CHECK)


def test_02_share_check_passes_on_the_test_pictures(ch02_before_share):
    run(cell_with("02_softmax_regression", SHARE_CHECK), dict(ch02_before_share))


def test_02_share_check_rejects_pictures_with_nothing_in_common(ch02_before_share):
    """The guesses of a fair die thrown anew for every picture: 10 000 pictures of zero-mean
    noise, which share nothing, get top classes close to a tenth each, and the check fails."""
    noise = torch.randn(10_000, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    labels = torch.arange(10_000) % 10
    batches = [(noise[i:i + 256], labels[i:i + 256]) for i in range(0, 10_000, 256)]
    ns = dict(ch02_before_share, test_iter=batches, X=batches[0][0])
    with pytest.raises(AssertionError):
        run(cell_with("02_softmax_regression", SHARE_CHECK), ns)
    assert ns["share"][0] < 0.12  # what the check saw: about a tenth


# --- 04: the draw-dependent asserts replaced by what held in every fresh draw ---
# (benchmarks/draw_frequencies.py 04 measures how often each holds; these show that each can fail)

RATIO_CHECK = "ratios = [v / valid_losses[3] for v in valid_losses]"
LOSSES_CHECK = "floor = noise**2 / 2"
LINE_DATA = ("return 0.5 - 2 * x + 0.8 * x**2 + 3 * x**3", "return 0.5 - 2 * x")
MANY_POINTS = ("n_train, n_valid, noise = 20, 200, 0.1", "n_train, n_valid, noise = 2000, 200, 0.1")


def test_04_polynomial_checks_pass_on_the_chapter_draw():
    ns = prefix_namespace("04_model_selection", RATIO_CHECK)
    run(cell_with("04_model_selection", RATIO_CHECK), ns)
    run(cell_with("04_model_selection", LOSSES_CHECK), ns)


def test_04_ratio_check_rejects_data_from_a_line():
    """If the labels came from a line, degrees 1 and 2 would not underfit."""
    ns = prefix_namespace("04_model_selection", RATIO_CHECK, (LINE_DATA,))
    with pytest.raises(AssertionError, match="degrees 0-2 underfit"):
        run(cell_with("04_model_selection", RATIO_CHECK), ns)


def test_04_losses_check_rejects_data_from_a_line():
    ns = prefix_namespace("04_model_selection", RATIO_CHECK, (LINE_DATA,))
    with pytest.raises(AssertionError, match="the line should underfit"):
        run(cell_with("04_model_selection", LOSSES_CHECK), ns)


def test_04_losses_check_rejects_a_degree_15_that_does_not_overfit():
    """With 2000 training points instead of 20, degree 15 no longer chases the noise."""
    ns = prefix_namespace("04_model_selection", RATIO_CHECK, (MANY_POINTS,))
    with pytest.raises(AssertionError, match="degree 15 should overfit"):
        run(cell_with("04_model_selection", LOSSES_CHECK), ns)


LAMBDA_CHECK = "best_lambda = min(lambdas, key=lambda lambd: losses_of(lambd)[1])"
CURVES_CHECK = "snapshots, curves = train_curves(200)"
EARLY_CHECK = "test_loss_early = mean_squared_loss(snapshots[best_epoch], X_test_wd, y_test_wd)"


@pytest.fixture(scope="module")
def ch04_before_early_test():
    return prefix_namespace("04_model_selection", EARLY_CHECK)


def test_04_weight_decay_checks_pass(ch04_before_early_test):
    run(cell_with("04_model_selection", EARLY_CHECK), dict(ch04_before_early_test))


def test_04_lambda_check_rejects_a_lambda_chosen_on_the_training_loss(ch04_before_early_test):
    """The classic mistake: the training loss always prefers no penalty."""
    source = mutated(cell_with("04_model_selection", LAMBDA_CHECK), "losses_of(lambd)[1])",
                     "losses_of(lambd)[0])")
    with pytest.raises(AssertionError, match="prefer some decay"):
        run(source, dict(ch04_before_early_test))


def test_04_curves_check_rejects_an_epoch_chosen_on_the_training_loss(ch04_before_early_test):
    """Chosen on the training loss, the 'best' epoch is one of the last: its training loss is
    the lowest, not above epoch 50's."""
    source = mutated(cell_with("04_model_selection", CURVES_CHECK),
                     'key=curves["validation"].__getitem__', 'key=curves["train"].__getitem__')
    with pytest.raises(AssertionError, match="training keeps fitting"):
        run(source, dict(ch04_before_early_test))


def test_04_curves_check_rejects_a_stop_before_the_first_epoch(ch04_before_early_test):
    source = mutated(cell_with("04_model_selection", CURVES_CHECK),
                     'best_epoch = min(range(len(snapshots)), key=curves["validation"].__getitem__)',
                     "best_epoch = 0")
    with pytest.raises(AssertionError, match="bottoms out before epoch 50"):
        run(source, dict(ch04_before_early_test))


def test_04_early_stopping_check_rejects_a_model_trained_to_the_end(ch04_before_early_test):
    """'Early stopping' that returns the last epoch is no better than training on."""
    ns = dict(ch04_before_early_test, best_epoch=200)
    with pytest.raises(AssertionError, match="early stopping should generalize better"):
        run(cell_with("04_model_selection", EARLY_CHECK), ns)


def test_04_training_on_check_rejects_a_run_that_stopped_at_epoch_50(ch04_before_early_test):
    """If the 200-epoch model were the 50-epoch one, training on would not have made it worse."""
    ns = dict(ch04_before_early_test)
    ns["snapshots"] = list(ns["snapshots"])
    ns["snapshots"][200] = ns["snapshots"][50]
    with pytest.raises(AssertionError, match="training on should make"):
        run(cell_with("04_model_selection", EARLY_CHECK), ns)


# --- the benchmark restates the chapters' experiments: its constants must be the twins' ---

def test_draw_frequencies_uses_the_chapters_constants():
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import draw_frequencies as bench

    ch02 = (TWINS / "02_softmax_regression.py").read_text()
    assert f"W = torch.normal(0, {bench.W_STD}, size=(num_inputs, num_outputs)" in ch02
    ch04 = (TWINS / "04_model_selection.py").read_text()
    expected_lines = [
        f"n_train, n_valid, noise = {bench.N_TRAIN}, {bench.N_VALID}, {bench.NOISE}",
        f"num_inputs, noise_wd = {bench.NUM_INPUTS_WD}, {bench.NOISE_WD}",
        f"true_w, true_b = torch.full((num_inputs, 1), 0.1), {bench.TRUE_B}",
        f"batch_size_wd, lr_wd, num_epochs_wd = {bench.BATCH_SIZE_WD}, {bench.LR_WD}, {bench.NUM_EPOCHS_WD}",
        f"lambdas = {bench.LAMBDAS}",
        f"num_fold_seeds = {bench.NUM_FOLD_SEEDS}",
        f"d2l.set_seed({bench.CV_SEED})  # the same folds for every degree",
        f"d2l.set_seed({bench.ORDER_SEED})  # the same minibatch order in every run",
        f"snapshots, curves = train_curves({bench.CURVE_EPOCHS})",
        f"stop_early(curves[\"validation\"], patience={bench.PATIENCE})",
        "return 0.5 - 2 * x + 0.8 * x**2 + 3 * x**3",
        "cv_scores[degree] = cv_score(x_train, y_train, degree, k=5)",
    ]
    for line in expected_lines:
        assert line in ch04, f"04's twin no longer has {line!r}: update benchmarks/draw_frequencies.py"
    assert list(bench.DEGREES) == list(range(16)) and list(bench.CV_DEGREES) == list(range(11))


def test_draw_frequencies_restates_the_chapters_weight_decay_runs():
    """The benchmark's side-by-side runs take the steps of the chapter's scratch loop."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import draw_frequencies as bench

    gen = torch.Generator().manual_seed(3)
    X = torch.randn(80, bench.NUM_INPUTS_WD, generator=gen)
    y = X @ torch.full((bench.NUM_INPUTS_WD, 1), 0.1) + 0.05 + 0.5 * torch.randn(80, 1, generator=gen)
    history = bench.sgd_runs(X, y, 3)
    for i, lambd in enumerate(bench.LAMBDAS):
        w = torch.zeros(bench.NUM_INPUTS_WD, 1, requires_grad=True)
        b = torch.zeros(1, requires_grad=True)
        d2l.set_seed(bench.ORDER_SEED)
        for _ in range(3):
            for Xb, yb in d2l.data_iter(bench.BATCH_SIZE_WD, X, y):
                loss = d2l.squared_loss(d2l.linreg(Xb, w, b), yb) + lambd * (w**2).sum() / 2
                w.grad, b.grad = None, None
                loss.sum().backward()
                d2l.sgd([w, b], bench.LR_WD, len(yb))
        torch.testing.assert_close(history[3][i][0], w.detach(), rtol=1e-5, atol=1e-6)
        torch.testing.assert_close(history[3][i][1], b.detach(), rtol=1e-5, atol=1e-6)
