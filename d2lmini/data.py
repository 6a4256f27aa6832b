"""Fashion-MNIST, offline first: find the files, verify them, serve batches from memory.

Where `load_data_fashion_mnist` looks, in order: the `root` argument, `$D2LMINI_DATA`, the user
cache (`$XDG_CACHE_HOME/d2lmini`, else `~/.cache/d2lmini`), Debian's
`/usr/share/datasets/fashion-mnist` (package `dataset-fashion-mnist`), and last a torchvision
download into the cache. Files may be plain or gzipped; their *decompressed* bytes are checked
against the published MD5s, so a damaged file is refused by name instead of being trained on.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import math
import os
from collections.abc import Iterator, Sequence
from pathlib import Path

import torch

from .device import get_device
from .profile import current_profile

# MD5 of the decompressed idx files, as published with the data set (Zalando Research).
CHECKSUMS = {
    "train-images-idx3-ubyte": "f4a8712d7a061bf5bd6d2ca38dc4d50a",
    "train-labels-idx1-ubyte": "9018921c3c673c538a1fc5bad174d6f9",
    "t10k-images-idx3-ubyte": "8181f5470baa50b63fa0f6fddb340f0a",
    "t10k-labels-idx1-ubyte": "15d484375f8d13e6eb1aabb0c3f46965",
}
DEBIAN_DIR = Path("/usr/share/datasets/fashion-mnist")
DATA_ENV_VAR = "D2LMINI_DATA"
CLASS_NAMES = ("t-shirt", "trouser", "pullover", "dress", "coat",
               "sandal", "shirt", "sneaker", "bag", "ankle boot")


class CorruptDataError(ValueError):
    """A data file exists but its contents are not the published ones (02_softmax_regression)."""


class DataNotFoundError(FileNotFoundError):
    """No copy of Fashion-MNIST anywhere and no way to download one (02_softmax_regression)."""


def cache_dir() -> Path:
    """The user cache d2lmini keeps decompressed data in (02_softmax_regression)."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "d2lmini"


def _raw_dir(folder: Path) -> Path:
    """torchvision's layout under a root: <root>/FashionMNIST/raw."""
    return folder / "FashionMNIST" / "raw"


def _find(folder: Path, name: str) -> Path | None:
    for where in (folder, _raw_dir(folder)):
        for candidate in (where / name, where / f"{name}.gz"):
            if candidate.is_file():
                return candidate
    return None


def _verified_bytes(path: Path, name: str) -> bytes:
    try:
        data = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    except (OSError, EOFError, gzip.BadGzipFile) as err:
        raise CorruptDataError(f"{path}: cannot be read or decompressed ({err}); "
                               "delete it or replace it with a good copy") from None
    got = hashlib.md5(data).hexdigest()
    if got != CHECKSUMS[name]:
        raise CorruptDataError(
            f"{path} is corrupt: MD5 of its decompressed contents is {got}, expected "
            f"{CHECKSUMS[name]}; delete it or replace it with a good copy")
    return data


def _collect(folder: Path) -> dict[str, Path] | None:
    """Verified plain idx files from `folder`; gzipped ones are decompressed into the cache."""
    found = {name: _find(folder, name) for name in CHECKSUMS}
    if not any(found.values()):
        return None
    missing = [name for name, path in found.items() if path is None]
    if missing:
        raise DataNotFoundError(f"{folder} holds only part of Fashion-MNIST: "
                                f"missing {', '.join(missing)}")
    paths = {}
    for name, path in found.items():
        stamp = _stamp(path)
        if stamp in _VERIFIED and _VERIFIED[stamp].is_file():
            paths[name] = _VERIFIED[stamp]  # checked earlier in this process and unchanged since
            continue
        data = _verified_bytes(path, name)
        if path.suffix == ".gz":
            path = _raw_dir(cache_dir()) / name
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".tmp{os.getpid()}")
            tmp.write_bytes(data)
            tmp.replace(path)
        _VERIFIED[stamp] = _VERIFIED[_stamp(path)] = path
        paths[name] = path
    return paths


# Files verified in this process, by (path, size, mtime): a changed file is checked again.
_VERIFIED: dict[tuple[str, int, int], Path] = {}


def _stamp(path: Path) -> tuple[str, int, int]:
    st = path.stat()
    return str(path.resolve()), st.st_size, st.st_mtime_ns


def _download(root: Path) -> None:
    from torchvision.datasets import FashionMNIST
    FashionMNIST(root=str(root), train=True, download=True)
    FashionMNIST(root=str(root), train=False, download=True)


def locate_fashion_mnist(root: str | os.PathLike | None = None) -> dict[str, Path]:
    """Paths of the four verified, decompressed idx files, looked up in the documented order
    (02_softmax_regression)."""
    places = []
    if root is not None:
        places.append(Path(root).expanduser())
    if os.environ.get(DATA_ENV_VAR):
        places.append(Path(os.environ[DATA_ENV_VAR]).expanduser())
    places += [cache_dir(), DEBIAN_DIR]
    for place in places:
        paths = _collect(place)
        if paths is not None:
            return paths
    try:
        _download(cache_dir())
    except Exception as err:  # any failure to fetch ends in the same advice
        raise DataNotFoundError(
            "Fashion-MNIST was not found (looked in: " + ", ".join(map(str, places)) +
            f") and could not be downloaded ({type(err).__name__}: {err}). Provide it in one of "
            "three ways: (1) install Debian's package: apt-get install dataset-fashion-mnist; "
            "(2) put the four *-ubyte(.gz) files in a folder and pass root=that_folder or set "
            f"${DATA_ENV_VAR}; (3) connect to the internet once so torchvision can download them "
            f"into {cache_dir()}") from None
    return _collect(cache_dir())


def read_fashion_mnist(root: str | os.PathLike | None = None
                       ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """`(train_images, train_labels, test_images, test_labels)`: uint8 (N, 28, 28) images and
    int64 labels, read by torchvision's MNIST readers (02_softmax_regression)."""
    paths = locate_fashion_mnist(root)
    stamps = tuple(_stamp(paths[name]) for name in CHECKSUMS)
    return tuple(t.clone() for t in _read_idx(stamps))


@functools.lru_cache(maxsize=1)
def _read_idx(stamps: tuple[tuple[str, int, int], ...]) -> tuple[torch.Tensor, ...]:
    """The four tensors, read once per process for an unchanged set of files."""
    from torchvision.datasets.mnist import read_image_file, read_label_file
    train_x, train_y, test_x, test_y = (path for path, _, _ in stamps)
    return (read_image_file(train_x), read_label_file(train_y).long(),
            read_image_file(test_x), read_label_file(test_y).long())


def _check_resize(resize: object) -> tuple[int, int] | None:
    if resize is None:
        return None
    pair = (resize, resize) if isinstance(resize, int) else resize
    if (isinstance(pair, Sequence) and len(pair) == 2
            and all(isinstance(s, int) and not isinstance(s, bool) and s > 0 for s in pair)):
        return tuple(pair)
    raise ValueError(f"resize must be None, a positive int or a pair of positive ints, got {resize!r}")


def balanced_subset(labels: torch.Tensor, per_class: int) -> torch.Tensor:
    """Indices of the first `per_class` examples of every class, in data-set order
    (02_softmax_regression)."""
    keep = [torch.nonzero(labels == c).flatten()[:per_class] for c in labels.unique()]
    return torch.cat(keep).sort().values


class InMemoryLoader:
    """Minibatches of Fashion-MNIST served from uint8 tensors held in memory.

    Each batch is indexed at once, scaled to float32 in [0, 1], shaped (B, 1, H, W) and, when
    asked, resized as a whole batch on the loader's device; no per-image PIL work. `len()` is the
    number of batches; `to(device)` gives a loader whose batches are made on that device
    (02_softmax_regression)."""

    def __init__(self, images: torch.Tensor, labels: torch.Tensor, batch_size: int,
                 shuffle: bool, resize: tuple[int, int] | None = None):
        if images.dtype != torch.uint8 or images.ndim != 3:
            raise ValueError(f"images must be uint8 (N, H, W), got {images.dtype} {tuple(images.shape)}")
        if len(images) != len(labels):
            raise ValueError(f"images and labels differ in length: {len(images)} vs {len(labels)}")
        self.images, self.labels = images, labels
        self.batch_size, self.shuffle, self.resize = batch_size, shuffle, resize
        self._moved: dict[torch.device, InMemoryLoader] = {}

    @property
    def device(self) -> torch.device:
        return self.images.device

    def __len__(self) -> int:
        return math.ceil(len(self.images) / self.batch_size)

    def to(self, device: torch.device | str | None) -> InMemoryLoader:
        device = get_device(device)
        if device == self.device:
            return self
        if device not in self._moved:
            self._moved[device] = InMemoryLoader(self.images.to(device), self.labels.to(device),
                                                 self.batch_size, self.shuffle, self.resize)
        return self._moved[device]

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        n = len(self.images)
        order = torch.randperm(n).to(self.device) if self.shuffle else None
        for start in range(0, n, self.batch_size):
            if order is None:
                X, y = self.images[start:start + self.batch_size], self.labels[start:start + self.batch_size]
            else:
                idx = order[start:start + self.batch_size]
                X, y = self.images[idx], self.labels[idx]
            X = X.unsqueeze(1).float().div_(255)
            if self.resize is not None:
                from torchvision.transforms.functional import resize
                X = resize(X, list(self.resize), antialias=True).clamp_(0, 1)
            yield X, y


def load_data_fashion_mnist(batch_size: int, resize: int | tuple[int, int] | None = None,
                            root: str | os.PathLike | None = None, *,
                            device: torch.device | str | None = "cpu"
                            ) -> tuple[InMemoryLoader, InMemoryLoader]:
    """`(train_iter, test_iter)` over Fashion-MNIST: float32 (B, 1, H, W) batches in [0, 1] with
    int64 labels; training batches reshuffled every pass, test batches in order. In the smoke
    profile both are small class-balanced subsets. `device` (keyword only) is where the images are
    kept and each batch is made and resized; `train_ch5` moves the loaders to its own device
    (02_softmax_regression)."""
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
    size = _check_resize(resize)
    train_x, train_y, test_x, test_y = read_fashion_mnist(root)
    profile = current_profile()
    if profile.train_per_class is not None:
        keep = balanced_subset(train_y, profile.train_per_class)
        train_x, train_y = train_x[keep], train_y[keep]
    if profile.test_per_class is not None:
        keep = balanced_subset(test_y, profile.test_per_class)
        test_x, test_y = test_x[keep], test_y[keep]
    device = get_device(device)
    return (InMemoryLoader(train_x, train_y, batch_size, True, size).to(device),
            InMemoryLoader(test_x, test_y, batch_size, False, size).to(device))


def get_fashion_mnist_labels(labels) -> list[str]:
    """The class names of integer labels (a tensor or any iterable of ints)
    (02_softmax_regression)."""
    names = []
    for label in (labels.tolist() if isinstance(labels, torch.Tensor) else labels):
        if not 0 <= int(label) < len(CLASS_NAMES):
            raise ValueError(f"labels must lie in 0..9, got {label!r}")
        names.append(CLASS_NAMES[int(label)])
    return names
