"""Fashion-MNIST, MNIST and CIFAR-10, offline first: find the files, verify them, serve batches
from memory.

One mechanism serves the three data sets. Each is described by a small `_Spec` (its name, the
folder torchvision keeps it in, its files with their published MD5 sums, its reader, its class
names); the lookup, verification, cache, smoke subset and loader below are shared.

Where a loader looks, in order:
1. the `root` argument, else `$D2LMINI_DATA`. A place the learner names is the only place looked
   at: if it lacks the data, the error names it; there is no fall-back to another copy.
2. the user cache (`$XDG_CACHE_HOME/d2lmini`, else `~/.cache/d2lmini`);
3. for Fashion-MNIST only, Debian's `/usr/share/datasets/fashion-mnist` (package
   `dataset-fashion-mnist`); MNIST and CIFAR-10 have no Debian package;
4. last, a torchvision download into the cache.

Every file is checked against its published MD5 before it is used, and a file that fails is
refused by name with both sums. The idx files of Fashion-MNIST and MNIST may be plain or gzipped;
their sums are those of the *decompressed* bytes (Debian rewrote the gzip headers of its copy, so
the .gz sums differ while the contents are identical); a gzipped file is decompressed into the
cache once it has passed (atomically, file by file; where the cache cannot be written, into a
temporary folder for the session, said once). The idx files may also carry the dotted names some
downloads use (`train-images.idx3-ubyte`). The cache is d2lmini's own: a partial or damaged set
there (what Ctrl-C during a fill leaves) never blocks a load; it is passed over and refilled from
the next place. CIFAR-10's files are Python pickles, and unpickling runs whatever code
the file asks for, so each file's bytes are checked before they are unpickled, never after.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import math
import numbers
import os
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import torch

from . import validate
from .device import get_device
from .profile import current_profile

DATA_ENV_VAR = "D2LMINI_DATA"
DEBIAN_DIR = Path("/usr/share/datasets/fashion-mnist")
CLASS_NAMES = ("t-shirt", "trouser", "pullover", "dress", "coat",
               "sandal", "shirt", "sneaker", "bag", "ankle boot")  # Fashion-MNIST's, in label order
MNIST_CLASS_NAMES = tuple("0123456789")
CIFAR10_CLASS_NAMES = ("airplane", "automobile", "bird", "cat", "deer",
                       "dog", "frog", "horse", "ship", "truck")  # as in CIFAR-10's batches.meta

# Per-channel (R, G, B) mean and standard deviation of the pixels of the 50 000 CIFAR-10 training
# images after scaling to [0, 1], computed on the CIFAR-10 training set (the values several
# independent computations agree on, e.g. in kuangliu/pytorch-cifar issue 129 and libffcv/ffcv
# pull request 322; we could not recompute them here, having no copy of the data:
# tests/test_data.py recomputes them whenever CIFAR-10 can be found).
CIFAR10_MEAN = (0.4914, 0.4822, 0.4465)
CIFAR10_STD = (0.2470, 0.2435, 0.2616)

# MD5 of the decompressed idx files of Fashion-MNIST (Zalando Research's release; Debian's copy
# decompresses to the same bytes).
FASHION_MNIST_MD5 = {
    "train-images-idx3-ubyte": "f4a8712d7a061bf5bd6d2ca38dc4d50a",
    "train-labels-idx1-ubyte": "9018921c3c673c538a1fc5bad174d6f9",
    "t10k-images-idx3-ubyte": "8181f5470baa50b63fa0f6fddb340f0a",
    "t10k-labels-idx1-ubyte": "15d484375f8d13e6eb1aabb0c3f46965",
}
# MD5 of the decompressed idx files of MNIST. torchvision publishes only the sums of the .gz files
# (torchvision/datasets/mnist.py, MNIST.resources: f68b3c2d..., d53e105e..., 9fb629c4...,
# ec29112d...); the sums of their decompressed contents below are the ones public projects list
# next to those .gz sums (e.g. prabhuomkar/pytorch-cpp, cmake/fetch_mnist.cmake,
# MNIST_EXTRACTED_FILE_MD5S), and the training-image file they describe has the size an idx file
# of 60 000 28 x 28 images must have (47 040 016 bytes).
MNIST_MD5 = {
    "train-images-idx3-ubyte": "6bbc9ace898e44ae57da46a324031adb",
    "train-labels-idx1-ubyte": "a25bea736e30d166cdddb491f175f624",
    "t10k-images-idx3-ubyte": "2646ac647ad5339dbf082846283269ea",
    "t10k-labels-idx1-ubyte": "27ae3e4e09519cfbb04c329615203637",
}
# MD5 of the files of CIFAR-10's python version, copied from torchvision 0.29.1
# (torchvision/datasets/cifar.py, CIFAR10.train_list, test_list and meta).
CIFAR10_MD5 = {
    "data_batch_1": "c99cafc152244af753f735de768cd75f",
    "data_batch_2": "d4bba439e000b95fd0a9bffe97cbabec",
    "data_batch_3": "54ebc095f3ab1f0389bbae665268c751",
    "data_batch_4": "634d18415352ddfa80567beed471001a",
    "data_batch_5": "482c414d41f54cd18b22e5b47cb7c3cb",
    "test_batch": "40351d587109b95175f43aff81a1287e",
    "batches.meta": "5ff9c542aee3614f3951f8cda6e48888",
}


class CorruptDataError(ValueError):
    """A data file exists but its contents are not the published ones: damaged, or a file of
    another data set (02_softmax_regression)."""


class DataNotFoundError(FileNotFoundError):
    """The data set is not where it was looked for and could not be downloaded
    (02_softmax_regression)."""


Tensors = tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]


@dataclass(eq=False)  # compared and hashed by identity: a spec is a key of the read cache
class _Spec:
    """One data set: its files and their checksums, torchvision's folder for it, its reader."""

    name: str
    torchvision_class: str  # the torchvision.datasets class that downloads it
    subdir: str  # torchvision's folder for it under a root
    checksums: dict[str, str]  # file name -> MD5 of its (decompressed) contents
    gzipped: bool  # whether a file may come as <name>.gz
    read: Callable[[_Spec, dict[str, Path]], Tensors]
    class_names: tuple[str, ...]
    put_hint: str  # how to put it in a folder, for the error messages
    system_dir: Path | None = None  # a folder a system package installs it into
    apt_package: str | None = None


def cache_dir() -> Path:
    """The user cache d2lmini keeps decompressed and downloaded data in (02_softmax_regression)."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "d2lmini"


def _md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def _mismatch(spec: _Spec, path: Path, name: str, got: str) -> str:
    """Why a file that fails its checksum is refused; names the data set it belongs to when its
    sum is one we know."""
    want = spec.checksums[name]
    what = "its decompressed contents" if spec.gzipped else "its contents"
    sums = f"MD5 of {what} is {got}, expected {want}"
    for other in DATASETS.values():
        for other_name, other_sum in other.checksums.items():
            if other_sum == got and (other, other_name) != (spec, name):
                return (f"{path} is {other.name}'s {other_name}, not {spec.name}'s {name} ({sums}); "
                        f"put {spec.name}'s own files there")
    return (f"{path} is not the published {spec.name} file {name}: {sums}; it is damaged or "
            "belongs to another data set: delete it or replace it with a good copy")


def _verified_bytes(spec: _Spec, path: Path, name: str) -> bytes:
    """The (decompressed) bytes of `path`, if their MD5 is the published one for `name`."""
    try:
        raw = path.read_bytes()
        data = gzip.decompress(raw) if path.suffix == ".gz" else raw
    except (OSError, EOFError, gzip.BadGzipFile, zlib.error) as err:
        raise CorruptDataError(f"{path}: cannot be read or decompressed ({err}); "
                               "delete it or replace it with a good copy") from None
    got = _md5(data)
    if got != spec.checksums[name]:
        raise CorruptDataError(_mismatch(spec, path, name, got))
    return data


def _spellings(name: str) -> tuple[str, ...]:
    """The names a file may have: the published one, and for the idx files the dotted one some
    downloads use (`train-images.idx3-ubyte`)."""
    dotted = name.replace("-idx", ".idx")
    return (name,) if dotted == name else (name, dotted)


def _find(spec: _Spec, folder: Path, name: str) -> Path | None:
    for where in (folder, folder / spec.subdir):
        for spelled in _spellings(name):
            for candidate in (where / spelled, where / f"{spelled}.gz") if spec.gzipped else (where / spelled,):
                if candidate.is_file():
                    return candidate
    return None


# Files verified in this process: (expected MD5, stamp of the file found) -> (the file to read,
# its stamp when verified). A changed file -- the one found or its decompressed copy -- is
# checked again, and a file checked for one data set is checked anew for another.
_VERIFIED: dict[tuple[str, tuple[str, int, int]], tuple[Path, tuple[str, int, int]]] = {}
_SAID: set[str] = set()  # messages already printed in this process


def _stamp(path: Path) -> tuple[str, int, int]:
    st = path.stat()
    return str(path.resolve()), st.st_size, st.st_mtime_ns


def _say_once(message: str) -> None:
    if message not in _SAID:
        _SAID.add(message)
        print(message)


def _still_verified(key: tuple[str, tuple[str, int, int]]) -> Path | None:
    """The file verified earlier under `key`, if it is there still, unchanged since."""
    if key not in _VERIFIED:
        return None
    path, stamp = _VERIFIED[key]
    try:
        return path if _stamp(path) == stamp else None
    except OSError:
        return None


def _sweep_debris(folder: Path) -> None:
    """Remove the `*.tmp<PID>` files an interrupted or killed fill left in `folder`, when the
    process that wrote them is gone."""
    for tmp in folder.glob("*.tmp*"):
        pid = tmp.name.rpartition(".tmp")[2]
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            tmp.unlink(missing_ok=True)  # its writer died: debris
        except PermissionError:
            pass  # another user's live process


def _write_atomic(path: Path, data: bytes) -> None:
    """Write `data` to `path` through a temporary file in the same folder, renamed into place; the
    temporary file is removed whatever stops the write (Ctrl-C included)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.tmp{os.getpid()}")
    try:
        tmp.write_bytes(data)
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


_SCRATCH: Path | None = None  # this process's folder for decompressed files, made when needed


def _scratch_dir() -> Path:
    """A folder of this process's own for decompressed files when the cache cannot be written."""
    global _SCRATCH
    if _SCRATCH is None:
        import atexit
        import shutil
        import tempfile
        _SCRATCH = Path(tempfile.mkdtemp(prefix="d2lmini-"))
        atexit.register(shutil.rmtree, _SCRATCH, ignore_errors=True)
    return _SCRATCH


def _decompressed_copy(spec: _Spec, name: str, data: bytes) -> Path:
    """Where the verified, decompressed bytes of `name` are kept: the cache, or where it cannot
    be written, a temporary folder of this process (said once)."""
    cached = cache_dir() / spec.subdir / name
    try:
        if cached.parent.is_dir():
            _sweep_debris(cached.parent)
        _write_atomic(cached, data)
        return cached
    except OSError as err:
        scratch = _scratch_dir() / spec.subdir / name
        _write_atomic(scratch, data)
        _say_once(f"d2lmini: cannot write the cache {cached.parent} ({err.strerror or err}); "
                  f"{spec.name} is decompressed into {scratch.parent} for this session instead, "
                  f"and again next time (set XDG_CACHE_HOME to a writable folder to keep it)")
        return scratch


def _collect(spec: _Spec, folder: Path, *, own_cache: bool = False) -> dict[str, Path] | None:
    """Verified plain files of `spec` in `folder` (None if it holds none of them); gzipped ones are
    decompressed into the cache once they have passed. In d2lmini's own cache (`own_cache`) a
    partial or damaged set is what an interrupted fill leaves: it is passed over (None), said
    once, and the next place refills it; elsewhere it is an error naming the folder."""
    found = {name: _find(spec, folder, name) for name in spec.checksums}
    if not any(found.values()):
        return None
    missing = [name for name, path in found.items() if path is None]
    if missing:
        if own_cache:
            _say_once(f"d2lmini: the cache {folder} holds only part of {spec.name} (an interrupted "
                      f"fill?): passed over, and refilled from the next place")
            return None
        raise DataNotFoundError(
            f"{folder} holds only part of {spec.name}: missing {', '.join(missing)}. Put the "
            f"missing files there too, or name a folder that holds all "
            f"{len(spec.checksums)}. {_ways(spec)}")
    paths = {}
    for name, path in found.items():
        want = spec.checksums[name]
        key = (want, _stamp(path))
        known = _still_verified(key)
        if known is not None:
            paths[name] = known  # checked earlier in this process, and neither file changed since
            continue
        try:
            data = _verified_bytes(spec, path, name)
        except CorruptDataError as err:
            if not own_cache:
                raise
            path.unlink(missing_ok=True)  # our own copy, damaged: drop it so it is refilled
            _say_once(f"d2lmini: removed a damaged file from the cache ({err}); refilling it "
                      "from the next place")
            return None
        if path.suffix == ".gz":
            path = _decompressed_copy(spec, name, data)
        _VERIFIED[key] = _VERIFIED[(want, _stamp(path))] = (path, _stamp(path))
        paths[name] = path
    return paths


def _ways(spec: _Spec) -> str:
    ways = [f"{spec.put_hint} and pass root=that_folder or set ${DATA_ENV_VAR}",
            f"connect to the internet once so torchvision can download it into {cache_dir()}"]
    if spec.apt_package:
        ways.insert(0, f"install Debian's package: apt-get install {spec.apt_package}")
    count = {2: "two", 3: "three"}[len(ways)]
    return f"Provide it in one of {count} ways: " + "; ".join(
        f"({i}) {way}" for i, way in enumerate(ways, 1))


def _download(spec: _Spec, root: Path) -> None:
    import torchvision.datasets
    dataset = getattr(torchvision.datasets, spec.torchvision_class)
    if spec.torchvision_class == "CIFAR10":  # fetch and unpack the archive; we read it ourselves
        from torchvision.datasets.utils import download_and_extract_archive
        download_and_extract_archive(dataset.url, str(root), filename=dataset.filename,
                                     md5=dataset.tgz_md5)
    else:  # the idx data sets fetch all four files on construction
        dataset(root=str(root), train=True, download=True)


def _named_place(root: str | os.PathLike | None) -> tuple[str, Path] | None:
    """The place the learner named, with how they named it: `root`, else `$D2LMINI_DATA`."""
    if root is not None:
        if not isinstance(root, (str, os.PathLike)):
            validate.fail("root", "None, a str or a path", root, error=TypeError)
        return f"root={os.fspath(root)!r}", Path(root).expanduser()
    if os.environ.get(DATA_ENV_VAR):
        return f"${DATA_ENV_VAR}={os.environ[DATA_ENV_VAR]!r}", Path(os.environ[DATA_ENV_VAR]).expanduser()
    return None


def _locate(spec: _Spec, root: str | os.PathLike | None) -> dict[str, Path]:
    """Paths of the verified files of `spec`, looked up in the documented order."""
    named = _named_place(root)
    if named is not None:
        how, folder = named
        paths = _collect(spec, folder) if folder.is_dir() else None
        if paths is None:
            state = ("does not exist" if not folder.exists() else "is not a folder"
                     if not folder.is_dir() else f"holds no {spec.name} files")
            first = next(iter(spec.checksums))
            raise DataNotFoundError(
                f"{how} names {folder}, which {state} (looked for {first}"
                f"{'(.gz)' if spec.gzipped else ''} in it and in {folder / spec.subdir}); a named "
                f"place is the only one looked at. {_ways(spec)}")
        return paths
    places = [cache_dir()] + ([spec.system_dir] if spec.system_dir is not None else [])
    for place in places:
        paths = _collect(spec, place, own_cache=place == cache_dir())
        if paths is not None:
            return paths
    try:
        _download(spec, cache_dir())
    except Exception as err:  # any failure to fetch ends in the same advice
        raise DataNotFoundError(
            f"{spec.name} was not found (looked in: {', '.join(map(str, places))}) and could not be "
            f"downloaded ({type(err).__name__}: {err}). {_ways(spec)}") from None
    paths = _collect(spec, cache_dir())
    if paths is None:
        raise DataNotFoundError(f"the download of {spec.name} left no files in {cache_dir()}. "
                                f"{_ways(spec)}")
    return paths


def _read(spec: _Spec, root: str | os.PathLike | None) -> Tensors:
    """`(train_images, train_labels, test_images, test_labels)` of `spec`, copies of tensors read
    once per process for an unchanged set of files."""
    paths = _locate(spec, root)
    stamps = tuple((name, _stamp(path)) for name, path in paths.items())
    return tuple(t.clone() for t in _read_cached(spec, stamps))


@functools.lru_cache(maxsize=3)
def _read_cached(spec: _Spec, stamps: tuple[tuple[str, tuple[str, int, int]], ...]) -> Tensors:
    return spec.read(spec, {name: Path(stamp[0]) for name, stamp in stamps})


def _read_idx(spec: _Spec, paths: dict[str, Path]) -> Tensors:
    """uint8 (N, 28, 28) images and int64 labels, read by torchvision's MNIST readers."""
    from torchvision.datasets.mnist import read_image_file, read_label_file
    return (read_image_file(str(paths["train-images-idx3-ubyte"])),
            read_label_file(str(paths["train-labels-idx1-ubyte"])).long(),
            read_image_file(str(paths["t10k-images-idx3-ubyte"])),
            read_label_file(str(paths["t10k-labels-idx1-ubyte"])).long())


def _read_cifar10(spec: _Spec, paths: dict[str, Path]) -> Tensors:
    """uint8 (N, 3, 32, 32) images and int64 labels from the pickled batches. Each file's bytes are
    checked against the published MD5 right here, and only those very bytes are unpickled, so a
    file swapped after the lookup is refused too."""
    import pickle

    import numpy as np

    def unpickle(name: str) -> dict:
        data = _verified_bytes(spec, paths[name], name)  # raises before any unpickling
        return pickle.loads(data, encoding="latin1")

    def stack(batches: list[dict]) -> tuple[torch.Tensor, torch.Tensor]:
        images = np.concatenate([np.asarray(b["data"], dtype=np.uint8) for b in batches])
        labels = [label for b in batches for label in b["labels"]]
        return (torch.from_numpy(images.reshape(-1, 3, 32, 32)),
                torch.tensor(labels, dtype=torch.int64))

    train = stack([unpickle(f"data_batch_{i}") for i in range(1, 6)])
    test = stack([unpickle("test_batch")])
    return (*train, *test)


FASHION_MNIST = _Spec(
    name="Fashion-MNIST", torchvision_class="FashionMNIST", subdir="FashionMNIST/raw",
    checksums=FASHION_MNIST_MD5, gzipped=True, read=_read_idx, class_names=CLASS_NAMES,
    put_hint="put the four *-ubyte(.gz) files in a folder", system_dir=DEBIAN_DIR,
    apt_package="dataset-fashion-mnist")
MNIST = _Spec(
    name="MNIST", torchvision_class="MNIST", subdir="MNIST/raw", checksums=MNIST_MD5,
    gzipped=True, read=_read_idx, class_names=MNIST_CLASS_NAMES,
    put_hint="put the four MNIST *-ubyte(.gz) files in a folder")
CIFAR10 = _Spec(
    name="CIFAR-10", torchvision_class="CIFAR10", subdir="cifar-10-batches-py",
    checksums=CIFAR10_MD5, gzipped=False, read=_read_cifar10, class_names=CIFAR10_CLASS_NAMES,
    put_hint="extract cifar-10-python.tar.gz (the python version) into a folder")
DATASETS = {"fashion_mnist": FASHION_MNIST, "mnist": MNIST, "cifar10": CIFAR10}


def locate_fashion_mnist(root: str | os.PathLike | None = None) -> dict[str, Path]:
    """Paths of the four verified, decompressed idx files, looked up in the documented order
    (02_softmax_regression)."""
    return _locate(FASHION_MNIST, root)


def read_fashion_mnist(root: str | os.PathLike | None = None) -> Tensors:
    """`(train_images, train_labels, test_images, test_labels)`: uint8 (N, 28, 28) images and
    int64 labels, read by torchvision's MNIST readers (02_softmax_regression)."""
    return _read(FASHION_MNIST, root)


def balanced_subset(labels: torch.Tensor, per_class: int) -> torch.Tensor:
    """Indices of the first `per_class` examples of every class, in data-set order
    (02_softmax_regression)."""
    validate.integer_tensor("labels", labels, ndim=1)
    validate.positive_int("per_class", per_class)
    keep = [torch.nonzero(labels == c).flatten()[:per_class] for c in labels.unique()]
    return torch.cat(keep).sort().values


class InMemoryLoader:
    """Minibatches served from uint8 images held in memory.

    `images` are uint8 (N, H, W) (one channel) or (N, C, H, W); `labels` a 1-D integer tensor
    with one entry per image. Each batch is indexed at once, scaled to float32 in [0, 1], shaped
    (B, C, H, W), resized as a whole batch on the loader's device when `resize` (an int or a pair)
    asks for it and, with `normalize=(mean, std)` (one value per channel), standardised per
    channel after that; no per-image PIL work. Labels come as int64. `len()` is the number of
    batches; `to(device)` gives a loader whose batches are made on that device
    (02_softmax_regression)."""

    def __init__(self, images: torch.Tensor, labels: torch.Tensor, batch_size: int,
                 shuffle: bool, resize: int | tuple[int, int] | None = None,
                 normalize: tuple[Sequence[float], Sequence[float]] | None = None):
        validate.tensor("images", images, ndim=(3, 4))
        if images.dtype != torch.uint8:
            validate.fail("images", "a uint8 tensor (pixel values 0..255)", images, error=TypeError)
        if images.ndim == 4 and images.shape[1] not in (1, 3, 4) and images.shape[-1] in (1, 3, 4):
            validate.fail("images", "shaped (N, C, H, W), channels first", images,
                          hint="these look channels-last (N, H, W, C): pass "
                               "images.permute(0, 3, 1, 2)")
        validate.integer_tensor("labels", labels, ndim=1)
        if len(labels) != len(images):
            validate.fail("labels", f"a tensor with one label per image ({len(images)})", labels)
        self.images, self.labels = images, labels.long()
        self.batch_size = validate.positive_int("batch_size", batch_size)
        self.shuffle = validate.boolean("shuffle", shuffle)
        self.resize = validate.image_size("resize", resize)
        self.normalize = self._check_normalize(normalize)
        self._stats = None if self.normalize is None else tuple(
            torch.tensor(v, dtype=torch.float32, device=images.device).view(1, -1, 1, 1)
            for v in self.normalize)
        self._moved: dict[torch.device, InMemoryLoader] = {}

    def _check_normalize(self, normalize: object) -> tuple[tuple[float, ...], tuple[float, ...]] | None:
        if normalize is None:
            return None
        channels = 1 if self.images.ndim == 3 else self.images.shape[1]
        expected = f"None or a pair (mean, std) of {channels}-value sequences"
        if not (isinstance(normalize, (tuple, list)) and len(normalize) == 2 and all(
                isinstance(v, Sequence) and len(v) == channels for v in normalize)):
            validate.fail("normalize", expected, normalize)
        mean = tuple(float(m) for m in normalize[0])
        std = tuple(validate.positive_number(f"normalize[1][{i}]", s) for i, s in enumerate(normalize[1]))
        return mean, std

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
                                                 self.batch_size, self.shuffle, self.resize,
                                                 self.normalize)
        return self._moved[device]

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        return self.batches()

    def batches(self, skip: int = 0) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """One pass, as iterating gives, from batch `skip` on: the shuffle is drawn as for a
        whole pass, and the skipped batches are never made (a checkpoint resumed mid-epoch)."""
        n = len(self.images)
        order = torch.randperm(n).to(self.device) if self.shuffle else None
        for start in range(skip * self.batch_size, n, self.batch_size):
            if order is None:  # a slice is a view: copy the labels so a batch edited in place
                X = self.images[start:start + self.batch_size]  # (X is copied by .float() below)
                y = self.labels[start:start + self.batch_size].clone()  # leaves the data set alone
            else:
                idx = order[start:start + self.batch_size]
                X, y = self.images[idx], self.labels[idx]
            if X.ndim == 3:
                X = X.unsqueeze(1)
            X = X.float().div_(255)
            if self.resize is not None:
                from torchvision.transforms.functional import resize
                X = resize(X, list(self.resize), antialias=True).clamp_(0, 1)
            if self._stats is not None:
                X = X.sub_(self._stats[0]).div_(self._stats[1])
            yield X, y


def _loaders(spec: _Spec, batch_size: int, resize: int | tuple[int, int] | None,
             root: str | os.PathLike | None, device: torch.device | str | None,
             normalize: tuple[Sequence[float], Sequence[float]] | None = None
             ) -> tuple[InMemoryLoader, InMemoryLoader]:
    """The shared body of the load_data_* functions: check, read, subset, serve."""
    validate.positive_int("batch_size", batch_size)
    size = validate.image_size("resize", resize)
    device = get_device(device)
    profile = current_profile()
    train_x, train_y, test_x, test_y = _read(spec, root)
    if profile.train_per_class is not None:
        keep = balanced_subset(train_y, profile.train_per_class)
        train_x, train_y = train_x[keep], train_y[keep]
    if profile.test_per_class is not None:
        keep = balanced_subset(test_y, profile.test_per_class)
        test_x, test_y = test_x[keep], test_y[keep]
    return (InMemoryLoader(train_x, train_y, batch_size, True, size, normalize).to(device),
            InMemoryLoader(test_x, test_y, batch_size, False, size, normalize).to(device))


def load_data_fashion_mnist(batch_size: int, resize: int | tuple[int, int] | None = None,
                            root: str | os.PathLike | None = None, *,
                            device: torch.device | str | None = "cpu"
                            ) -> tuple[InMemoryLoader, InMemoryLoader]:
    """`(train_iter, test_iter)` over Fashion-MNIST: float32 (B, 1, H, W) batches in [0, 1] with
    int64 labels; training batches reshuffled every pass, test batches in order. In the smoke
    profile both are small class-balanced subsets. `device` (keyword only) is where the images are
    kept and each batch is made and resized; `train_ch5` moves the loaders to its own device
    (02_softmax_regression)."""
    return _loaders(FASHION_MNIST, batch_size, resize, root, device)


def load_data_mnist(batch_size: int, resize: int | tuple[int, int] | None = None,
                    root: str | os.PathLike | None = None, *,
                    device: torch.device | str | None = "cpu"
                    ) -> tuple[InMemoryLoader, InMemoryLoader]:
    """`(train_iter, test_iter)` over MNIST's handwritten digits, with the contract of
    `load_data_fashion_mnist` (02_softmax_regression): float32 (B, 1, H, W) batches in [0, 1],
    int64 labels 0-9, the same lookup (no Debian package exists for MNIST) and the same smoke
    subset. Plain and gzipped files are both verified by the MD5 of their decompressed contents,
    so a plain file is held to the same published data as a .gz one. For the networks of
    09_alexnet to 14_densenet, unchanged."""
    return _loaders(MNIST, batch_size, resize, root, device)


def load_data_cifar10(batch_size: int, resize: int | tuple[int, int] | None = None,
                      root: str | os.PathLike | None = None, *,
                      device: torch.device | str | None = "cpu", normalize: bool = False
                      ) -> tuple[InMemoryLoader, InMemoryLoader]:
    """`(train_iter, test_iter)` over CIFAR-10, with the contract of `load_data_fashion_mnist`
    (02_softmax_regression) but three channels: float32 (B, 3, H, W) batches in [0, 1] (32 x 32
    unless resized), int64 labels. The files are torchvision's `cifar-10-batches-py` folder
    (data_batch_1..5, test_batch, batches.meta), found at `root`, under `root`, in `$D2LMINI_DATA`
    or the user cache; each is checked against torchvision's published MD5 before it is
    unpickled. `normalize=True` (keyword only) then subtracts the per-channel mean and divides by
    the standard deviation of the CIFAR-10 training set (`CIFAR10_MEAN`, `CIFAR10_STD`). For the
    networks of 09_alexnet to 14_densenet built with `in_channels=3`."""
    normalize = validate.boolean("normalize", normalize)
    return _loaders(CIFAR10, batch_size, resize, root, device,
                    (CIFAR10_MEAN, CIFAR10_STD) if normalize else None)


def _class_names(spec: _Spec, labels: object) -> list[str]:
    if isinstance(labels, torch.Tensor) or type(labels).__module__ == "numpy":
        if labels.ndim > 1:
            validate.fail("labels", "class indices, one per example (a 0-D or 1-D tensor)", labels,
                          hint="for one-hot rows or scores take labels.argmax(dim=1) first")
        labels = labels.reshape(-1).tolist()
    if isinstance(labels, (str, bytes)) or not hasattr(labels, "__iter__"):
        validate.fail("labels", "a tensor or a sequence of class indices", labels, error=TypeError)
    expected = f"integers in 0..{len(spec.class_names) - 1}"
    names = []
    for label in labels:
        if isinstance(label, bool) or not isinstance(label, numbers.Integral):
            validate.fail("labels", expected, label, error=TypeError)
        if not 0 <= label < len(spec.class_names):
            validate.fail("labels", expected, label)
        names.append(spec.class_names[int(label)])
    return names


def get_fashion_mnist_labels(labels: torch.Tensor | Sequence[int]) -> list[str]:
    """The class names of integer labels (a tensor or any iterable of ints)
    (02_softmax_regression)."""
    return _class_names(FASHION_MNIST, labels)


def get_mnist_labels(labels: torch.Tensor | Sequence[int]) -> list[str]:
    """The digits "0".."9" of MNIST's integer labels, as `get_fashion_mnist_labels`
    (02_softmax_regression)."""
    return _class_names(MNIST, labels)


def get_cifar10_labels(labels: torch.Tensor | Sequence[int]) -> list[str]:
    """CIFAR-10's class names (airplane, automobile, ..., truck) of integer labels, as
    `get_fashion_mnist_labels` (02_softmax_regression)."""
    return _class_names(CIFAR10, labels)
