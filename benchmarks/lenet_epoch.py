"""One LeNet epoch on all of Fashion-MNIST (train + test accuracy), three ways, in one run:

* d2lmini: `load_data_fashion_mnist` + `train_ch5`, as the notebooks use them;
* bare:    a hand-written loop over the same tensors, already scaled in memory, with the same
           sums kept on the device: the floor any helper can reach;
* classic: torchvision `FashionMNIST` + `ToTensor` + `DataLoader` (per-image PIL conversion) with
           the same training loop, as the classic helpers feed it.

Each is run `--repeats` times, alternating, and the fastest run of each counts. Prints a markdown
table with the ratios. Usage: `python benchmarks/lenet_epoch.py [--device cpu] [--repeats 2]`.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import platform
import time

os.environ["D2LMINI_PROFILE"] = "full"  # every image, whatever the caller's shell says

import torch  # noqa: E402
from torch import nn  # noqa: E402

import d2lmini as d2l  # noqa: E402

BATCH, LR = 256, 0.9


def lenet() -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.Sigmoid(), nn.AvgPool2d(2, 2),
        nn.Conv2d(6, 16, 5), nn.Sigmoid(), nn.AvgPool2d(2, 2),
        nn.Flatten(), nn.Linear(16 * 5 * 5, 120), nn.Sigmoid(),
        nn.Linear(120, 84), nn.Sigmoid(), nn.Linear(84, 10))


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def bare_epoch(train_x, train_y, test_x, test_y, device) -> float:
    """The same work as train_ch5's epoch, written out over pre-scaled tensors on `device`."""
    d2l.set_seed(0)
    net = lenet().to(device)
    opt = torch.optim.SGD(net.parameters(), lr=LR)
    loss_fn = nn.CrossEntropyLoss()
    synchronize(device)
    start = time.perf_counter()
    net.train()
    loss_sum = torch.zeros((), device=device)
    correct = torch.zeros((), dtype=torch.int64, device=device)
    order = torch.randperm(len(train_x)).to(device)
    for i in range(0, len(train_x), BATCH):
        idx = order[i:i + BATCH]
        X, y = train_x[idx], train_y[idx]
        y_hat = net(X)
        loss = loss_fn(y_hat, y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        loss_sum += loss.detach() * len(y)
        correct += (y_hat.argmax(1) == y).sum()
    net.eval()
    test_correct = torch.zeros((), dtype=torch.int64, device=device)
    with torch.no_grad():
        for i in range(0, len(test_x), BATCH):
            test_correct += (net(test_x[i:i + BATCH]).argmax(1) == test_y[i:i + BATCH]).sum()
    _ = (loss_sum.item(), correct.item(), test_correct.item() / len(test_x))
    return time.perf_counter() - start


def helper_epoch(train_iter, test_iter, device) -> float:
    d2l.set_seed(0)
    net = lenet()
    opt = torch.optim.SGD(net.parameters(), lr=LR)
    synchronize(device)
    start = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):
        d2l.train_ch5(net, train_iter, test_iter, BATCH, opt, device, 1)
    synchronize(device)
    return time.perf_counter() - start


def classic_loaders(num_workers: int):
    from torch.utils.data import DataLoader
    from torchvision import datasets, transforms
    d2l.locate_fashion_mnist()  # makes sure the decompressed files sit in the cache
    root = str(d2l.cache_dir())
    to_tensor = transforms.ToTensor()
    train = datasets.FashionMNIST(root, train=True, transform=to_tensor, download=False)
    test = datasets.FashionMNIST(root, train=False, transform=to_tensor, download=False)
    return (DataLoader(train, BATCH, shuffle=True, num_workers=num_workers),
            DataLoader(test, BATCH, shuffle=False, num_workers=num_workers))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default=None, help="default: d2l.try_gpu()")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--workers", type=int, default=4,
                        help="DataLoader workers of the classic pipeline (the classic helpers use 4)")
    args = parser.parse_args()
    device = d2l.get_device(args.device)

    start = time.perf_counter()
    train_iter, test_iter = d2l.load_data_fashion_mnist(BATCH)
    load_s = time.perf_counter() - start
    tx, ty, vx, vy = d2l.read_fashion_mnist()
    scaled = [t.to(device) for t in (tx.unsqueeze(1).float() / 255, ty, vx.unsqueeze(1).float() / 255, vy)]
    classic = classic_loaders(args.workers)

    runs = {"d2lmini": [], "bare": [], "classic": []}
    bare_epoch(*[t[:2048] for t in scaled], device)  # warm-up: kernels, allocator, threads
    for _ in range(args.repeats):
        runs["d2lmini"].append(helper_epoch(train_iter, test_iter, device))
        runs["bare"].append(bare_epoch(*scaled, device))
        runs["classic"].append(helper_epoch(*classic, device))
    best = {k: min(v) for k, v in runs.items()}

    print(f"\nOne LeNet epoch (60 000 train + 10 000 test images, batch {BATCH}) on {device}; "
          f"{platform.machine()}, {os.cpu_count()} CPUs, torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads; best of {args.repeats}\n")
    print("| pipeline | seconds | vs bare loop |")
    print("|---|---|---|")
    for name, label in (("bare", "bare loop over in-memory tensors"),
                        ("d2lmini", "d2lmini load_data_fashion_mnist + train_ch5"),
                        ("classic", f"classic FashionMNIST + ToTensor + DataLoader({args.workers} workers)")):
        print(f"| {label} | {best[name]:.2f} | {best[name] / best['bare']:.3f}x |")
    print(f"\nd2lmini is {100 * (best['d2lmini'] / best['bare'] - 1):+.1f} % vs the bare loop and "
          f"{best['classic'] / best['d2lmini']:.2f}x faster than the classic pipeline. "
          f"(Reading + verifying the data once: {load_s:.2f} s, not counted.) "
          f"All runs: " + ", ".join(f"{k} {['%.2f' % s for s in v]}" for k, v in runs.items()))


if __name__ == "__main__":
    main()
