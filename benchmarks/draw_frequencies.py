"""How often the random-draw claims of chapters 02 and 04 hold over fresh draws.

A seeded notebook shows one draw. Where its text says what that draw did, this script measures
how often the same thing happens when everything random in the experiment is drawn again, so
that the chapter can say so, and so that it asserts only what holds in (nearly) every draw.

* `02`: the untrained softmax regression of chapter 02, weights from N(0, 0.01²), bias 0, on the
  test set of the full profile (all 10 000 images) and of the smoke profile (the first 10 of each
  class): the share of the pictures that get the most frequent top class, and the chapter's
  statements about a set of 100 draws (the spread of their accuracies, the mean near 1/10).
* `04`: chapter 04's synthetic problems, with fresh data and the chapter's own fixed seeds for the
  folds and the minibatch order: the polynomial fits (20 training, 200 validation points), the
  degree cross-validation picks, and the weight-decay and early-stopping runs (80 training,
  100 validation, 1000 test examples).

Each claim prints as "held in k of N draws". The functions below restate the chapters' code;
`tests/test_trust_ch01_05.py` checks that their constants match the twins.

Usage: `python benchmarks/draw_frequencies.py [02] [04] [--draws N]` (both parts by default;
a few minutes on two cores at the default counts: 152 s on the 2-core AMD EPYC, shared).
"""

from __future__ import annotations

import argparse
import math
import platform
import statistics
import time
from collections import Counter
from collections.abc import Callable

import torch

import d2lmini as d2l

# --- chapter 02 ---

NUM_INPUTS, NUM_OUTPUTS, W_STD = 28 * 28, 10, 0.01


def test_sets() -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    """Flattened test images in [0, 1] and labels: all of them (full and quick profiles) and the
    smoke profile's first 10 of each class."""
    _, _, images, labels = d2l.read_fashion_mnist()
    X = images.reshape(len(images), -1).float() / 255
    keep = d2l.balanced_subset(labels, 10)
    return {"full test set (10 000)": (X, labels), "smoke test set (100)": (X[keep], labels[keep])}


def softmax_draws(num_draws: int, set_size: int = 100) -> None:
    print(f"## Chapter 02: {num_draws} fresh draws of W ~ N(0, {W_STD}²), b = 0\n")
    gen = torch.Generator().manual_seed(2024)
    for name, (X, y) in test_sets().items():
        shares, accs = [], []
        for start in range(0, num_draws, 100):
            W = W_STD * torch.randn(min(100, num_draws - start), NUM_INPUTS, NUM_OUTPUTS, generator=gen)
            top = (X @ W).argmax(dim=2)  # (draws, pictures): the predicted class
            counts = torch.stack([torch.bincount(t, minlength=NUM_OUTPUTS) for t in top])
            shares += (counts.max(dim=1).values / len(y)).tolist()
            accs += (top == y).float().mean(dim=1).tolist()
        shares_sorted = sorted(shares)
        print(f"### {name}\n")
        print("largest share of one predicted class: min {:.3f}, 1 % quantile {:.3f}, median {:.3f}, "
              "max {:.3f}".format(shares_sorted[0], shares_sorted[len(shares) // 100],
                                  statistics.median(shares), shares_sorted[-1]))
        report([("more than half of the pictures get the same top class", [s > 0.5 for s in shares]),
                ("the most frequent top class takes more than 0.2 of the pictures",
                 [s > 0.2 for s in shares]),
                ("the most frequent top class takes more than 0.15 of the pictures",
                 [s > 0.15 for s in shares])])
        sets = [accs[i:i + set_size] for i in range(0, len(accs) - set_size + 1, set_size)]
        if sets:
            print(f"\n{len(sets)} sets of {set_size} draws each (the chapter's second cell):")
            report([("min accuracy < 0.05 and max > 0.15",
                     [min(a) < 0.05 and max(a) > 0.15 for a in sets]),
                    ("mean within 4 standard errors of 1/10",
                     [abs(statistics.mean(a) - 0.1) < 4 * statistics.stdev(a) / math.sqrt(len(a))
                      for a in sets])], unit="sets")
        print()


# --- chapter 04: polynomials ---

N_TRAIN, N_VALID, NOISE = 20, 200, 0.1
DEGREES, CV_DEGREES, NUM_FOLD_SEEDS, CV_SEED = range(16), range(11), 20, 1


def true_curve(x: torch.Tensor) -> torch.Tensor:
    return 0.5 - 2 * x + 0.8 * x**2 + 3 * x**3


def poly_features(x: torch.Tensor, degree: int) -> torch.Tensor:
    return torch.stack([x**i for i in range(degree + 1)], dim=1)


def fit_poly(x: torch.Tensor, y: torch.Tensor, degree: int) -> torch.Tensor:
    return torch.linalg.lstsq(poly_features(x, degree), y.unsqueeze(1)).solution.squeeze(1)


def poly_loss(coef: torch.Tensor, x: torch.Tensor, y: torch.Tensor) -> float:
    return d2l.squared_loss(poly_features(x, len(coef) - 1) @ coef, y).mean().item()


def fold_indices(n: int, k: int, seed: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """The chapter's k folds: torch.randperm after torch.manual_seed(seed), cut by tensor_split;
    (train_idx, valid_idx) for each round."""
    torch.manual_seed(seed)
    folds = torch.randperm(n).tensor_split(k)
    return [(torch.cat([fold for j, fold in enumerate(folds) if j != i]), folds[i]) for i in range(k)]


def cv_scores(x: torch.Tensor, y: torch.Tensor, seeds: range, k: int = 5) -> torch.Tensor:
    """The chapter's k-fold score of every degree in CV_DEGREES for every fold seed, shape
    (seeds, degrees): the mean validation loss over the k rounds. The k * len(seeds) least-squares
    problems of one degree are solved in one batched call (k divides n: equal fold sizes)."""
    rounds = [r for seed in seeds for r in fold_indices(len(x), k, seed)]
    train_idx = torch.stack([t for t, _ in rounds])
    valid_idx = torch.stack([v for _, v in rounds])
    scores = []
    for degree in CV_DEGREES:
        A = poly_features(x, degree)
        coef = torch.linalg.lstsq(A[train_idx], y[train_idx].unsqueeze(2)).solution
        y_hat = (A[valid_idx] @ coef).squeeze(2)
        losses = d2l.squared_loss(y_hat, y[valid_idx]).mean(dim=1)  # one per round
        scores.append(losses.reshape(len(seeds), k).mean(dim=1))
    return torch.stack(scores, dim=1)


def polynomial_draw(seed: int) -> dict:
    gen = torch.Generator().manual_seed(seed)
    x_all = torch.rand(N_TRAIN + N_VALID, dtype=torch.float64, generator=gen) * 2 - 1
    y_all = true_curve(x_all) + NOISE * torch.randn(len(x_all), dtype=torch.float64, generator=gen)
    x_tr, y_tr, x_va, y_va = x_all[:N_TRAIN], y_all[:N_TRAIN], x_all[N_TRAIN:], y_all[N_TRAIN:]
    tr, va = [], []
    for degree in DEGREES:
        coef = fit_poly(x_tr, y_tr, degree)
        tr.append(poly_loss(coef, x_tr, y_tr))
        va.append(poly_loss(coef, x_va, y_va))
    one = cv_scores(x_tr, y_tr, range(CV_SEED, CV_SEED + 1))[0]
    many = cv_scores(x_tr, y_tr, range(NUM_FOLD_SEEDS))
    picks = Counter(many.argmin(dim=1).tolist())
    return {"tr": tr, "va": va, "ratios": [v / va[3] for v in va],
            "cv_one": one.tolist(), "cv_pick": int(one.argmin()), "cv_many": many,
            "picks": picks, "repeated_pick": int(many.mean(dim=0).argmin())}


POLY_FLOOR = NOISE**2 / 2

def lowest_degree(d: dict) -> int:
    return min(DEGREES, key=lambda k: d["va"][k])


# What chapter 04 asserts about its polynomial draw: each must hold in every draw.
POLYNOMIAL_ASSERTS: list[tuple[str, Callable[[dict], bool]]] = [
    ("validation loss > 3 x the cubic's at degrees 0-2", lambda d: all(r > 3 for r in d["ratios"][:3])),
    ("validation loss at degree 15 > the cubic's", lambda d: d["ratios"][15] > 1),
    ("the line's training loss > 2 x the cubic's and > 2 x the noise level",
     lambda d: d["tr"][1] > 2 * d["tr"][3] and d["tr"][1] > 2 * POLY_FLOOR),
    ("the line's validation loss > 3 x the cubic's", lambda d: d["va"][1] > 3 * d["va"][3]),
    ("the cubic's training loss < 3 x the noise level", lambda d: d["tr"][3] < 3 * POLY_FLOOR),
    ("training loss never rises with the degree",
     lambda d: all(b <= a + 1e-12 for a, b in zip(d["tr"], d["tr"][1:]))),
    ("validation loss lowest at degree 3 or above", lambda d: lowest_degree(d) >= 3),
    ("degree 15: validation loss > 5 x its training loss", lambda d: d["va"][15] > 5 * d["tr"][15]),
]

# What it says about its own draw, quoted with how often it holds.
POLYNOMIAL_DRAW_FACTS: list[tuple[str, Callable[[dict], bool]]] = [
    ("validation loss > 10 x the cubic's at degrees 0-2", lambda d: all(r > 10 for r in d["ratios"][:3])),
    ("validation loss lowest at the true degree 3", lambda d: lowest_degree(d) == 3),
    ("validation loss < 1.35 x the cubic's at degrees 4-7", lambda d: all(1 < r < 1.35 for r in d["ratios"][4:8])),
    ("validation loss < 2 x the cubic's at degrees 4-7", lambda d: all(r < 2 for r in d["ratios"][4:8])),
    ("validation loss > 1.5 x the cubic's at degrees 8-15", lambda d: all(r > 1.5 for r in d["ratios"][8:])),
    ("validation loss > 1000 x the cubic's at degree 15", lambda d: d["ratios"][15] > 1000),
    ("the cubic's training and validation losses < 2 x the noise level",
     lambda d: d["tr"][3] < 2 * POLY_FLOOR and d["va"][3] < 2 * POLY_FLOOR),
    ("the cubic's validation loss < 2 x its training loss", lambda d: d["va"][3] < 2 * d["tr"][3]),
    ("degree 15: validation loss > 10 x its training loss and > 10 x the cubic's",
     lambda d: d["va"][15] > 10 * d["tr"][15] and d["va"][15] > 10 * d["va"][3]),
    ("5-fold CV with fold seed 1 scores the line worse than the cubic",
     lambda d: d["cv_one"][1] > d["cv_one"][3]),
    ("5-fold CV with fold seed 1 picks degree 3", lambda d: d["cv_pick"] == 3),
    ("5-fold CV with fold seed 1 picks a degree below 3", lambda d: d["cv_pick"] < 3),
    ("the 20 fold seeds pick more than one degree", lambda d: len(d["picks"]) >= 2),
    ("the 20 fold seeds pick at least 3 different degrees", lambda d: len(d["picks"]) >= 3),
    ("fewer than 10 of the 20 fold seeds pick degree 3", lambda d: d["picks"][3] < NUM_FOLD_SEEDS / 2),
    ("no fold seed picks a degree below 3", lambda d: min(d["picks"]) >= 3),
    ("no fold seed picks a degree above 8", lambda d: max(d["picks"]) <= 8),
    ("repeated CV (mean over the 20 fold seeds) picks degree 3", lambda d: d["repeated_pick"] == 3),
]


# --- chapter 04: weight decay and early stopping ---

NUM_INPUTS_WD, NOISE_WD, TRUE_B = 100, 0.5, 0.05
BATCH_SIZE_WD, LR_WD, NUM_EPOCHS_WD, ORDER_SEED = 20, 0.1, 50, 2
LAMBDAS = [0, 0.01, 0.03, 0.1, 0.3, 1, 3]
CURVE_EPOCHS, PATIENCE = 200, 10
WD_FLOOR = NOISE_WD**2 / 2


def mean_squared_loss(w, b, X, y) -> float:
    return d2l.squared_loss(d2l.linreg(X, w, b), y).mean().item()


def sgd_runs(X: torch.Tensor, y: torch.Tensor, num_epochs: int) -> list[list[tuple]]:
    """The chapter's scratch runs, one per lambda in LAMBDAS, side by side: zero start, the
    minibatch order of `d2l.data_iter` after `d2l.set_seed(2)` (the same for every lambda), and
    the step `d2l.sgd` takes on the summed per-example loss 1/2 (xw + b - y)^2 + lambda/2 ||w||^2,
    with its gradient written out: w -= lr (X^T r / B + lambda w), b -= lr sum(r) / B. Returns,
    for every epoch from 0 (the start) to num_epochs, the (w, b) of each lambda."""
    lambd = torch.tensor(LAMBDAS, dtype=torch.float32)
    W = torch.zeros(NUM_INPUTS_WD, len(LAMBDAS))
    b = torch.zeros(len(LAMBDAS))
    history = [[(W[:, [i]].clone(), b[[i]].clone()) for i in range(len(LAMBDAS))]]
    ids = torch.arange(len(X))
    d2l.set_seed(ORDER_SEED)
    for _ in range(num_epochs):
        for idx, _ in d2l.data_iter(BATCH_SIZE_WD, ids, ids):
            Xb, yb = X[idx], y[idx]
            r = Xb @ W + b - yb  # (batch, lambdas): each run's residuals
            W -= LR_WD * (Xb.T @ r / len(idx) + lambd * W)
            b -= LR_WD * r.sum(dim=0) / len(idx)
        history.append([(W[:, [i]].clone(), b[[i]].clone()) for i in range(len(LAMBDAS))])
    return history


def stop_early(valid_losses: list[float], patience: int) -> int:
    best = 0
    for epoch, loss in enumerate(valid_losses):
        if loss < valid_losses[best]:
            best = epoch
        elif epoch - best >= patience:
            break
    return best


def weight_decay_draw(seed: int) -> dict:
    gen = torch.Generator().manual_seed(seed)
    true_w = torch.full((NUM_INPUTS_WD, 1), 0.1)

    def data(n):
        X = torch.randn(n, NUM_INPUTS_WD, generator=gen)
        return X, X @ true_w + TRUE_B + NOISE_WD * torch.randn(n, 1, generator=gen)

    (X_tr, y_tr), (X_va, y_va), (X_te, y_te) = data(80), data(100), data(1000)
    history = sgd_runs(X_tr, y_tr, CURVE_EPOCHS)  # epoch 50 of every lambda: the chapter's runs
    runs = dict(zip(LAMBDAS, history[NUM_EPOCHS_WD]))
    train = {lambd: mean_squared_loss(*runs[lambd], X_tr, y_tr) for lambd in LAMBDAS}
    valid = {lambd: mean_squared_loss(*runs[lambd], X_va, y_va) for lambd in LAMBDAS}
    best = min(LAMBDAS, key=valid.get)
    test = {lambd: mean_squared_loss(*runs[lambd], X_te, y_te) for lambd in (0, best)}
    test_mean = d2l.squared_loss(y_tr.mean().expand_as(y_te), y_te).mean().item()
    snapshots = [epoch[LAMBDAS.index(0)] for epoch in history]  # lambda = 0, epochs 0 to 200
    curve_tr = [mean_squared_loss(*s, X_tr, y_tr) for s in snapshots]
    curve_va = [mean_squared_loss(*s, X_va, y_va) for s in snapshots]
    best_epoch = min(range(len(snapshots)), key=curve_va.__getitem__)
    return {"norms": [runs[lambd][0].norm().item() for lambd in LAMBDAS],
            "train": train, "valid": valid, "best": best, "test": test, "test_mean": test_mean,
            "curve_tr": curve_tr, "curve_va": curve_va, "best_epoch": best_epoch,
            "stop": stop_early(curve_va, PATIENCE),
            "test_early": mean_squared_loss(*snapshots[best_epoch], X_te, y_te),
            "test_200": mean_squared_loss(*snapshots[CURVE_EPOCHS], X_te, y_te)}


def _increasing(values) -> bool:
    return all(a < b for a, b in zip(values, values[1:]))


# What chapter 04 asserts about its weight-decay draw: each must hold in every draw.
WEIGHT_DECAY_ASSERTS: list[tuple[str, Callable[[dict], bool]]] = [
    ("a larger lambda gives a smaller ||w||", lambda d: _increasing(d["norms"][::-1])),
    ("a larger lambda gives a higher training loss", lambda d: _increasing([d["train"][l] for l in LAMBDAS])),
    ("lambda = 0: training loss < 0.1 x the noise level", lambda d: d["train"][0] < 0.1 * WD_FLOOR),
    ("lambda = 0: validation loss > 2 x the noise level", lambda d: d["valid"][0] > 2 * WD_FLOOR),
    ("validation picks some decay (lambda > 0)", lambda d: d["best"] > 0),
    ("test: chosen lambda < lambda = 0", lambda d: d["test"][d["best"]] < d["test"][0]),
    ("test: chosen lambda beats predicting the mean", lambda d: d["test"][d["best"]] < d["test_mean"]),
    ("training loss falls: epoch 200 < epoch 50 < the best epoch",
     lambda d: d["curve_tr"][-1] < d["curve_tr"][50] < d["curve_tr"][d["best_epoch"]]),
    ("the best epoch lies between 1 and 49",
     lambda d: 0 < d["best_epoch"] < 50),
    ("patience 10 stops at the best epoch", lambda d: d["stop"] == d["best_epoch"]),
    ("test: early stop < lambda = 0 after 50 epochs", lambda d: d["test_early"] < d["test"][0]),
    ("test: early stop within a fifth of the chosen lambda's",
     lambda d: abs(d["test_early"] - d["test"][d["best"]]) < 0.2 * d["test"][d["best"]]),
    ("test: 200 epochs worse than 50 epochs", lambda d: d["test_200"] > d["test"][0]),
]

# What it says about its own draw, quoted with how often it holds.
WEIGHT_DECAY_DRAW_FACTS: list[tuple[str, Callable[[dict], bool]]] = [
    ("lambda = 0: validation loss > 3 x the noise level", lambda d: d["valid"][0] > 3 * WD_FLOOR),
    ("validation picks some decay, not the largest", lambda d: 0 < d["best"] < LAMBDAS[-1]),
    ("test: chosen lambda < 0.8 x lambda = 0", lambda d: d["test"][d["best"]] < 0.8 * d["test"][0]),
    ("test: lambda = 0 after 50 epochs < the mean's", lambda d: d["test"][0] < d["test_mean"]),
    ("test: 0.8 x the mean's < lambda = 0 < the mean's",
     lambda d: 0.8 * d["test_mean"] < d["test"][0] < d["test_mean"]),
    ("the best epoch lies between 1 and 10", lambda d: 0 < d["best_epoch"] <= 10),
    ("its validation loss < 0.9 x epoch 50's",
     lambda d: d["curve_va"][d["best_epoch"]] < 0.9 * d["curve_va"][50]),
    ("validation loss at epoch 200 > at epoch 50", lambda d: d["curve_va"][-1] > d["curve_va"][50]),
    ("test: early stop < 0.8 x lambda = 0 after 50 epochs",
     lambda d: d["test_early"] < 0.8 * d["test"][0]),
    ("test: early stop within a tenth of the chosen lambda's",
     lambda d: abs(d["test_early"] - d["test"][d["best"]]) < 0.1 * d["test"][d["best"]]),
    ("test: 200 epochs worse than predicting the mean", lambda d: d["test_200"] > d["test_mean"]),
]


def report(claims: list[tuple[str, list[bool]]], unit: str = "draws") -> None:
    print("| claim | held in | share |\n|---|---|---|")
    for text, held in claims:
        print(f"| {text} | {sum(held)} of {len(held)} {unit} | {100 * sum(held) / len(held):.1f} % |")


def model_selection_draws(num_poly: int, num_wd: int) -> None:
    print(f"## Chapter 04: polynomial fits and degree selection, {num_poly} fresh data draws\n")
    draws = [polynomial_draw(seed) for seed in range(num_poly)]
    print("Asserted in the chapter:\n")
    report([(text, [claim(d) for d in draws]) for text, claim in POLYNOMIAL_ASSERTS])
    print("\nSaid of the chapter's own draw:\n")
    report([(text, [claim(d) for d in draws]) for text, claim in POLYNOMIAL_DRAW_FACTS])
    high = sorted(max(d["ratios"][4:8]) for d in draws)
    print(f"\ndegree with the lowest validation loss: "
          f"{dict(sorted(Counter(lowest_degree(d) for d in draws).items()))}")
    print(f"5-fold CV (fold seed 1) picks: {dict(sorted(Counter(d['cv_pick'] for d in draws).items()))}")
    print(f"largest validation ratio over degrees 4-7: median {statistics.median(high):.3g}, "
          f"max {high[-1]:.3g}")
    print(f"different degrees picked by the 20 fold seeds: "
          f"{dict(sorted(Counter(len(d['picks']) for d in draws).items()))}")
    print(f"\n## Chapter 04: weight decay and early stopping, {num_wd} fresh data draws\n")
    draws = [weight_decay_draw(seed) for seed in range(num_wd)]
    print("Asserted in the chapter:\n")
    report([(text, [claim(d) for d in draws]) for text, claim in WEIGHT_DECAY_ASSERTS])
    print("\nSaid of the chapter's own draw:\n")
    report([(text, [claim(d) for d in draws]) for text, claim in WEIGHT_DECAY_DRAW_FACTS])
    print(f"\nlambda chosen on validation: {dict(sorted(Counter(d['best'] for d in draws).items()))}")
    print(f"best epoch: median {statistics.median(d['best_epoch'] for d in draws)}, "
          f"max {max(d['best_epoch'] for d in draws)}")
    print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("parts", nargs="*", help="02, 04 or both (the default)")
    parser.add_argument("--draws", type=int, default=None,
                        help="draws per part (default: 2000 for 02, 1000 polynomial and 300 "
                             "weight-decay draws for 04)")
    args = parser.parse_args()
    args.parts = args.parts or ["02", "04"]
    if set(args.parts) - {"02", "04"}:
        parser.error(f"parts must be 02 and/or 04, got {args.parts}")
    print(f"{platform.machine()}, {torch.get_num_threads()} threads, torch {torch.__version__}\n")
    start = time.perf_counter()
    if "02" in args.parts:
        softmax_draws(args.draws or 2000)
    if "04" in args.parts:
        torch.set_num_threads(1)  # small problems: one thread is faster than two
        model_selection_draws(args.draws or 1000, args.draws or 300)
    print(f"{time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
