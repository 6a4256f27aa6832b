"""Reference results for the open exercises of 04_model_selection: polynomial fits with more data,
how much k-fold scores move with the folds, a finer lambda sweep for weight decay, and dropout
switched off.

Usage: `python benchmarks/exercise_refs/04_model_selection.py` (about 2 minutes of CPU time, one
thread). The synthetic problems follow the chapter's recipes but are drawn here from fixed seeds,
so the numbers differ slightly from the notebook's own draw. The dropout comparison trains on all
60 000 Fashion-MNIST training images for 10 epochs (the chapter trains for 20) and tests on all
10 000 test images. Run it in the full profile (the default; D2LMINI_PROFILE=smoke would
cap every run at one epoch).
"""

from __future__ import annotations

import torch
from torch import nn

import d2lmini as d2l


# --- polynomial regression (the chapter's cubic, noise 0.1, inputs uniform in [-1, 1]) ---

def true_curve(x):
    return 0.5 - 2 * x + 0.8 * x**2 + 3 * x**3


def poly_data(n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    x = torch.rand(n, generator=gen, dtype=torch.float64) * 2 - 1
    return x, true_curve(x) + 0.1 * torch.randn(n, generator=gen, dtype=torch.float64)


def poly_features(x, degree):
    return torch.stack([x**i for i in range(degree + 1)], dim=1)


def fit_poly(x, y, degree):
    return torch.linalg.lstsq(poly_features(x, degree), y.unsqueeze(1)).solution.squeeze(1)


def poly_loss(coef, x, y):
    return d2l.squared_loss(poly_features(x, len(coef) - 1) @ coef, y).mean().item()


def k_fold_indices(n, k, gen):
    folds = torch.randperm(n, generator=gen).tensor_split(k)
    for i in range(k):
        yield torch.cat([f for j, f in enumerate(folds) if j != i]), folds[i]


def cv_score(x, y, degree, k, seed):
    gen = torch.Generator().manual_seed(seed)
    losses = [poly_loss(fit_poly(x[tr], y[tr], degree), x[va], y[va])
              for tr, va in k_fold_indices(len(x), k, gen)]
    return sum(losses) / k


def polynomial_exercises() -> None:
    x_valid, y_valid = poly_data(1000, seed=99)
    print("Exercise 4: training loss / validation loss by degree, 20 and 200 training examples")
    for n in (20, 200):
        x, y = poly_data(n, seed=1)
        row = []
        for degree in (1, 3, 5, 10, 15):
            coef = fit_poly(x, y, degree)
            row.append(f"deg {degree}: {poly_loss(coef, x, y):.4f} / {poly_loss(coef, x_valid, y_valid):.4g}")
        print(f"  n = {n:>3}: " + "; ".join(row))

    print("Exercise 5: degree picked by 5-fold CV on 20 examples, for 10 fold seeds; and LOO")
    x, y = poly_data(20, seed=1)
    picks = []
    for seed in range(10):
        scores = {d: cv_score(x, y, d, 5, seed) for d in range(11)}
        picks.append(min(scores, key=scores.get))
        if seed < 3:
            print(f"  seed {seed}: CV loss deg 3 {scores[3]:.4f}, deg 4 {scores[4]:.4f}, "
                  f"deg 5 {scores[5]:.4f}, deg 8 {scores[8]:.3g}")
    print(f"  degrees picked over seeds 0-9: {picks}")
    loo = {d: cv_score(x, y, d, 20, 0) for d in range(11)}
    print(f"  leave-one-out (k = n = 20) picks degree {min(loo, key=loo.get)} "
          f"(deg 3 {loo[3]:.4f}, deg 4 {loo[4]:.4f})")


# --- weight decay (the chapter's problem: 100 features, 80 noisy training examples) ---

def weight_decay_exercise() -> None:
    num_inputs, noise = 100, 0.5
    true_w = torch.full((num_inputs, 1), 0.1)
    d2l.set_seed(0)

    def draw(n):
        X = torch.randn(n, num_inputs)
        return X, X @ true_w + 0.05 + noise * torch.randn(n, 1)

    (X_tr, y_tr), (X_va, y_va) = draw(80), draw(100)

    def train(lambd):
        w = torch.zeros(num_inputs, 1, requires_grad=True)
        b = torch.zeros(1, requires_grad=True)
        d2l.set_seed(2)
        for _ in range(50):
            for X, y in d2l.data_iter(20, X_tr, y_tr):
                l = d2l.squared_loss(X @ w + b, y) + lambd * (w**2).sum() / 2
                w.grad, b.grad = None, None
                l.sum().backward()
                d2l.sgd([w, b], 0.1, len(y))
        with torch.no_grad():
            return (w.norm().item(), d2l.squared_loss(X_tr @ w + b, y_tr).mean().item(),
                    d2l.squared_loss(X_va @ w + b, y_va).mean().item())

    print("Exercise 6: lambda from 1e-3 to 1e2 (zero init, lr 0.1, batch 20, 50 epochs; "
          "noise level 0.125)")
    for lambd in (1e-3, 1e-2, 0.1, 0.3, 1, 3, 10, 100):
        norm, tr, va = train(lambd)
        print(f"  lambda {lambd:>6}: ||w|| {norm:.3f}, train loss {tr:.4f}, validation loss {va:.4f}")


# --- dropout on and off (the chapter's 784-256-256-10 MLP) ---

def dropout_exercise() -> None:
    train_x, train_y, test_x, test_y = d2l.read_fashion_mnist()
    train_iter = d2l.InMemoryLoader(train_x, train_y, 256, True)
    test_iter = d2l.InMemoryLoader(test_x, test_y, 256, False)
    print("Exercise 8: dropout 0.2/0.5 against none (60 000 training images, 10 epochs, lr 0.2)")
    for p1, p2 in ((0.2, 0.5), (0.0, 0.0)):
        d2l.set_seed(0)
        net = nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Dropout(p1),
                            nn.Linear(256, 256), nn.ReLU(), nn.Dropout(p2), nn.Linear(256, 10))
        optimizer = torch.optim.SGD(net.parameters(), lr=0.2)
        history = d2l.train_ch3(net, train_iter, test_iter, nn.CrossEntropyLoss(), 10, 256,
                                optimizer=optimizer)
        train_acc = d2l.evaluate_accuracy(train_iter, net)  # eval mode: no dropout
        test_acc = history["test_acc"][-1]
        print(f"  dropout {p1}/{p2}: after the last epoch train acc (eval mode) {train_acc:.3f}, "
              f"test acc {test_acc:.3f}, gap {train_acc - test_acc:.3f}; test acc per epoch "
              f"{' '.join(f'{a:.3f}' for a in history['test_acc'])}")


def main() -> None:
    torch.set_num_threads(1)  # on a shared, busy machine one thread wastes no time waiting
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    polynomial_exercises()
    weight_decay_exercise()
    dropout_exercise()


if __name__ == "__main__":
    main()
