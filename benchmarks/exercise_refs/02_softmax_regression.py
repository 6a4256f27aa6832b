"""Reference results for the open exercises of 02_softmax_regression: learning rates, training on
raw scores with the log-sum-exp loss, and the confusion matrix.

Usage: `python benchmarks/exercise_refs/02_softmax_regression.py` (the full profile by default:
all 60 000 training and 10 000 test images, 20 epochs per run, five runs; about a minute of CPU
time on 2 cores). Each run is the chapter's scratch model (W ~ N(0, 0.01^2), b = 0, batch 256,
`d2l.train_ch3` with `d2l.sgd`) from the same seed; only the named thing changes.
"""

from __future__ import annotations

import torch

import d2lmini as d2l

NUM_INPUTS, NUM_OUTPUTS, BATCH_SIZE, NUM_EPOCHS = 784, 10, 256, 20


def softmax(O: torch.Tensor) -> torch.Tensor:
    E = torch.exp(O - O.max(dim=1, keepdim=True).values)
    return E / E.sum(dim=1, keepdim=True)


def cross_entropy(y_hat: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return -torch.log(y_hat[torch.arange(len(y)), y])


def cross_entropy_from_scores(O: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    shifted = O - O.max(dim=1, keepdim=True).values
    log_probs = shifted - torch.log(torch.exp(shifted).sum(dim=1, keepdim=True))
    return -log_probs[torch.arange(len(y)), y]


def train(train_iter, test_iter, lr: float, on_scores: bool = False):
    """The chapter's scratch model, trained; returns (net, history), history None if it diverged."""
    d2l.set_seed(0)
    W = torch.normal(0, 0.01, size=(NUM_INPUTS, NUM_OUTPUTS), requires_grad=True)
    b = torch.zeros(NUM_OUTPUTS, requires_grad=True)

    def net(X):
        scores = X.reshape(-1, NUM_INPUTS) @ W + b
        return scores if on_scores else softmax(scores)

    loss = cross_entropy_from_scores if on_scores else cross_entropy
    try:
        history = d2l.train_ch3(net, train_iter, test_iter, loss, NUM_EPOCHS, BATCH_SIZE,
                                params=[W, b], lr=lr)
    except d2l.TrainingDiverged as err:
        print(f"  lr {lr}: diverged: {err}")
        return net, None
    return net, history


def summary(history) -> str:
    return (f"train loss {history['train_loss'][-1]:.4f}, train acc {history['train_acc'][-1]:.3f}, "
            f"test acc {history['test_acc'][-1]:.3f} (best epoch {max(history['test_acc']):.3f})")


def main() -> None:
    print(d2l.profile_summary())
    train_iter, test_iter = d2l.load_data_fashion_mnist(BATCH_SIZE)
    results = {}
    for lr in (0.01, 0.1, 0.5, 1.0):
        net, history = train(train_iter, test_iter, lr)
        results[lr] = (net, history)
    print("Exercise 6: learning rates")
    for lr, (net, history) in results.items():
        if history is not None:
            with torch.no_grad():
                p_true = torch.cat([net(X)[torch.arange(len(y)), y] for X, y in train_iter])
            print(f"  lr {lr:<4}: {summary(history)}; smallest probability of a true class on the "
                  f"training set {p_true.min():.2e}; test acc per epoch "
                  f"{' '.join(f'{a:.3f}' for a in history['test_acc'])}")

    print("Exercise 7: net returns scores, loss = cross_entropy_from_scores (lr 0.1)")
    _, history = train(train_iter, test_iter, 0.1, on_scores=True)
    print(f"  scores + log-sum-exp: {summary(history)}")
    print(f"  softmax + cross_entropy: {summary(results[0.1][1])}")

    print("Exercise 8: confusion matrix of the lr 0.1 model on the test set (rows true, columns predicted)")
    net = results[0.1][0]
    confusion = torch.zeros(NUM_OUTPUTS, NUM_OUTPUTS, dtype=torch.long)
    with torch.no_grad():
        for X, y in test_iter:
            for t, p in zip(y, net(X).argmax(dim=1)):
                confusion[t, p] += 1
    names = d2l.get_fashion_mnist_labels(range(NUM_OUTPUTS))
    print("  " + " ".join(f"{n[:7]:>7}" for n in names))
    for name, row in zip(names, confusion):
        print(f"  {' '.join(f'{v:7d}' for v in row.tolist())}  {name}")
    pairs = confusion + confusion.T
    pairs.fill_diagonal_(0)
    top = sorted(((pairs[i, j].item(), i, j) for i in range(NUM_OUTPUTS) for j in range(i + 1, NUM_OUTPUTS)),
                 reverse=True)[:5]
    print("  most confused pairs (both directions):",
          "; ".join(f"{names[i]} / {names[j]} {n}" for n, i, j in top))
    per_class = confusion.diag().float() / confusion.sum(dim=1).float()
    print("  per-class test accuracy:", ", ".join(f"{n} {a:.2f}" for n, a in zip(names, per_class.tolist())))


if __name__ == "__main__":
    main()
