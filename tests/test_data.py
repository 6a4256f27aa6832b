"""Fashion-MNIST, MNIST and CIFAR-10: the lookup order, checksum verification (before unpickling),
the smoke subset and the in-memory loader, on small fake files written here with their checksums
made the known ones."""

import gzip
import hashlib
import importlib.util
import os
import pickle
import struct
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

import d2lmini as d2l
from d2lmini import data as data_module
from d2lmini import validate

ROOT = Path(__file__).resolve().parents[1]
NAMES = ["train-images-idx3-ubyte", "train-labels-idx1-ubyte",
         "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"]
CIFAR_FILES = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch", "batches.meta"]


def idx_bytes(tensor: torch.Tensor) -> bytes:
    """An idx file as LeCun's format defines it: magic (0, 0, uint8 code 8, ndim), sizes, data."""
    header = struct.pack(">BBBB", 0, 0, 8, tensor.ndim) + struct.pack(f">{tensor.ndim}I", *tensor.shape)
    return header + tensor.to(torch.uint8).numpy().tobytes()


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def write_idx_set(folder: Path, seed: int, gz: bool = True) -> tuple[dict, dict]:
    """A 40/20-image look-alike of an idx data set in `folder`; returns its tensors and sums."""
    gen = torch.Generator().manual_seed(seed)
    tensors = {
        NAMES[0]: torch.randint(0, 256, (40, 28, 28), generator=gen),
        NAMES[1]: torch.arange(40) % 10,
        NAMES[2]: torch.randint(0, 256, (20, 28, 28), generator=gen),
        NAMES[3]: torch.arange(20) % 10,
    }
    folder.mkdir(parents=True, exist_ok=True)
    sums = {}
    for name, t in tensors.items():
        raw = idx_bytes(t)
        sums[name] = md5(raw)
        if gz:
            (folder / f"{name}.gz").write_bytes(gzip.compress(raw))
        else:
            (folder / name).write_bytes(raw)
    return tensors, sums


def write_cifar_set(folder: Path, seed: int = 0) -> tuple[dict, dict]:
    """A CIFAR-10 look-alike in torchvision's layout: five training batches of 20 images (labels
    0..9 twice), a test batch of 30 (0..9 three times) and batches.meta, each a pickle as in the
    python version. Returns the arrays and the files' sums."""
    rng = np.random.default_rng(seed)
    arrays, sums = {}, {}
    folder.mkdir(parents=True, exist_ok=True)
    for name in CIFAR_FILES:
        if name == "batches.meta":
            content = {"label_names": list(d2l.get_cifar10_labels(range(10))), "num_vis": 3072}
        else:
            n = 30 if name == "test_batch" else 20
            content = {"batch_label": name, "labels": [i % 10 for i in range(n)],
                       "data": rng.integers(0, 256, (n, 3072), dtype=np.uint8)}
            arrays[name] = content
        raw = pickle.dumps(content, protocol=2)
        (folder / name).write_bytes(raw)
        sums[name] = md5(raw)
    return arrays, sums


class Tripwire:
    """Unpickling this creates the file `path`: a stand-in for a pickle that runs code."""

    def __init__(self, path: Path):
        self.path = str(path)

    def __reduce__(self):
        return open, (self.path, "w")


@pytest.fixture
def isolated(tmp_path, monkeypatch):
    """No data anywhere: empty cache, no Debian folder, no $D2LMINI_DATA, a network that fails (and
    counts the attempts), the full profile."""
    monkeypatch.setattr(data_module.FASHION_MNIST, "system_dir", tmp_path / "no-debian")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("D2LMINI_DATA", raising=False)
    monkeypatch.setenv("D2LMINI_PROFILE", "full")
    attempts = []

    def no_network(spec, root):
        attempts.append(spec.name)
        raise OSError("network is unreachable")

    monkeypatch.setattr(data_module, "_download", no_network)
    return attempts


@pytest.fixture
def tiny_set(tmp_path, monkeypatch, isolated):
    """A Fashion-MNIST look-alike (gzipped) in tmp_path/data, its checksums made the known ones."""
    folder = tmp_path / "data"
    tensors, sums = write_idx_set(folder, seed=0)
    monkeypatch.setattr(data_module.FASHION_MNIST, "checksums", sums)
    return folder, tensors


@pytest.fixture
def tiny_mnist(tmp_path, monkeypatch, isolated):
    """An MNIST look-alike (plain files) in tmp_path/mnist, its checksums made MNIST's."""
    folder = tmp_path / "mnist"
    tensors, sums = write_idx_set(folder, seed=1, gz=False)
    monkeypatch.setattr(data_module.MNIST, "checksums", sums)
    return folder, tensors


@pytest.fixture
def tiny_cifar(tmp_path, monkeypatch, isolated):
    """A CIFAR-10 look-alike under tmp_path/cifar/cifar-10-batches-py, its checksums made the
    known ones."""
    folder = tmp_path / "cifar"
    arrays, sums = write_cifar_set(folder / "cifar-10-batches-py")
    monkeypatch.setattr(data_module.CIFAR10, "checksums", sums)
    return folder, arrays


# ---- Fashion-MNIST -------------------------------------------------------------------------

def test_valid_set_loads_in_order_and_shape(tiny_set):
    folder, tensors = tiny_set
    train_iter, test_iter = d2l.load_data_fashion_mnist(8, root=folder)
    assert len(train_iter) == 5 and len(test_iter) == 3  # ceil(40/8), ceil(20/8)
    X, y = next(iter(test_iter))
    assert X.dtype == torch.float32 and X.shape == (8, 1, 28, 28)
    assert y.dtype == torch.int64
    torch.testing.assert_close(X[:, 0], tensors[NAMES[2]][:8].float() / 255)  # test set in order
    assert torch.equal(y, tensors[NAMES[3]][:8])


def test_train_batches_are_reshuffled_each_pass_and_cover_everything(tiny_set):
    folder, _ = tiny_set
    train_iter, _ = d2l.load_data_fashion_mnist(16, root=folder)
    passes = [torch.cat([y for _, y in train_iter]) for _ in range(2)]
    assert [len(p) for p in passes] == [40, 40]
    assert sorted(passes[0].tolist()) == sorted((torch.arange(40) % 10).tolist())
    images = torch.cat([X for X, _ in train_iter])
    assert not torch.equal(passes[0], passes[1])
    assert images.min() >= 0 and images.max() <= 1


@pytest.mark.parametrize("resize, shape", [(32, (32, 32)), ((20, 36), (20, 36))])
def test_resize_is_applied_to_the_batch_and_stays_in_range(tiny_set, resize, shape):
    folder, _ = tiny_set
    _, test_iter = d2l.load_data_fashion_mnist(8, resize=resize, root=folder)
    X, _ = next(iter(test_iter))
    assert X.shape == (8, 1, *shape)
    assert X.min() >= 0 and X.max() <= 1


def test_env_var_is_used_when_no_root_is_given(tiny_set, monkeypatch):
    folder, _ = tiny_set
    monkeypatch.setenv("D2LMINI_DATA", str(folder))
    train_iter, _ = d2l.load_data_fashion_mnist(40)
    assert len(train_iter) == 1


def test_gzipped_data_is_decompressed_into_the_cache_and_found_there_next(tiny_set, tmp_path):
    folder, _ = tiny_set
    d2l.load_data_fashion_mnist(8, root=folder)
    cached = tmp_path / "cache" / "d2lmini" / "FashionMNIST" / "raw"
    assert sorted(p.name for p in cached.iterdir()) == sorted(NAMES)
    for gz in folder.iterdir():
        gz.unlink()
    assert len(d2l.load_data_fashion_mnist(8)[0]) == 5  # now served from the cache


def test_cache_comes_before_debian_and_debian_before_the_download(tiny_set, tmp_path, monkeypatch,
                                                                 isolated):
    folder, _ = tiny_set
    monkeypatch.setattr(data_module.FASHION_MNIST, "system_dir", folder)  # "Debian" holds the set
    paths = d2l.locate_fashion_mnist()
    assert isolated == []  # found in the Debian folder: no download tried
    cached = tmp_path / "cache" / "d2lmini" / "FashionMNIST" / "raw"
    assert all(p.parent == cached for p in paths.values())  # decompressed into the cache
    for gz in folder.iterdir():
        gz.unlink()
    assert d2l.locate_fashion_mnist() == paths  # the cache is looked at first


@pytest.mark.parametrize("damage", ["altered", "truncated"])
def test_corrupt_file_is_refused_by_name_with_both_checksums(tiny_set, damage):
    folder, _ = tiny_set
    path = folder / f"{NAMES[2]}.gz"
    raw = bytearray(gzip.decompress(path.read_bytes()))
    if damage == "altered":
        raw[500] ^= 0xFF
    else:
        raw = raw[:-100]
    path.write_bytes(gzip.compress(bytes(raw)))
    with pytest.raises(d2l.CorruptDataError) as err:
        d2l.load_data_fashion_mnist(8, root=folder)
    message = str(err.value)
    assert str(path) in message
    assert md5(bytes(raw)) in message
    assert data_module.FASHION_MNIST.checksums[NAMES[2]] in message
    assert "not the published Fashion-MNIST file" in message and "another data set" in message


def test_file_that_is_not_gzip_is_refused_by_name(tiny_set):
    folder, _ = tiny_set
    path = folder / f"{NAMES[1]}.gz"
    path.write_bytes(b"this is not gzip")
    with pytest.raises(d2l.CorruptDataError, match=NAMES[1]):
        d2l.load_data_fashion_mnist(8, root=folder)


def test_mnist_files_in_a_fashion_mnist_lookup_are_named_as_mnist(tiny_set, tiny_mnist):
    mnist_folder, _ = tiny_mnist
    with pytest.raises(d2l.CorruptDataError) as err:
        d2l.load_data_fashion_mnist(8, root=mnist_folder)
    message = str(err.value)
    assert "is MNIST's train-images-idx3-ubyte, not Fashion-MNIST's" in message
    assert "corrupt" not in message


def test_a_file_verified_for_one_data_set_is_checked_anew_for_another(tiny_set, tiny_mnist):
    mnist_folder, _ = tiny_mnist
    assert len(d2l.load_data_mnist(8, root=mnist_folder)[0]) == 5  # verified as MNIST: fine
    with pytest.raises(d2l.CorruptDataError, match="not Fashion-MNIST's"):
        d2l.load_data_fashion_mnist(8, root=mnist_folder)


def test_nothing_anywhere_offline_gives_one_error_with_three_ways(tiny_set, isolated):
    with pytest.raises(d2l.DataNotFoundError) as err:
        d2l.load_data_fashion_mnist(8)  # the set sits in tmp_path/data, which nobody named
    message = str(err.value)
    assert "apt-get install dataset-fashion-mnist" in message and "three ways" in message
    assert "D2LMINI_DATA" in message and "root=" in message
    assert "download" in message
    assert isolated == ["Fashion-MNIST"]  # the download was the last resort


@pytest.mark.parametrize("how", ["root", "env"])
@pytest.mark.parametrize("state", ["missing", "empty", "other files", "a file"])
def test_a_named_place_without_the_data_is_an_error_naming_it(tiny_set, tmp_path, monkeypatch,
                                                               isolated, how, state):
    folder, _ = tiny_set
    d2l.load_data_fashion_mnist(8, root=folder)  # now a good copy sits in the cache
    place = tmp_path / "named"
    if state == "empty":
        place.mkdir()
    elif state == "other files":
        write_cifar_set(place / "cifar-10-batches-py")
        (place / "notes.txt").write_text("not data")
    elif state == "a file":
        place.write_text("not a folder")
    if how == "env":
        monkeypatch.setenv("D2LMINI_DATA", str(place))
    with pytest.raises(d2l.DataNotFoundError) as err:
        d2l.load_data_fashion_mnist(8, root=place if how == "root" else None)
    message = str(err.value)
    assert str(place) in message
    assert ("root=" if how == "root" else "$D2LMINI_DATA=") in message
    assert {"missing": "does not exist", "empty": "holds no Fashion-MNIST files",
            "other files": "holds no Fashion-MNIST files", "a file": "is not a folder"}[state] in message
    assert isolated == []  # and no download either


def test_root_wins_over_the_env_var(tiny_set, tmp_path, monkeypatch):
    folder, _ = tiny_set
    monkeypatch.setenv("D2LMINI_DATA", str(tmp_path / "elsewhere"))
    assert len(d2l.load_data_fashion_mnist(40, root=folder)[0]) == 1


def test_partial_folder_names_the_missing_files(tiny_set):
    folder, _ = tiny_set
    (folder / f"{NAMES[3]}.gz").unlink()
    with pytest.raises(d2l.DataNotFoundError, match=NAMES[3]):
        d2l.load_data_fashion_mnist(8, root=folder)


@pytest.mark.parametrize("kwargs, error, word", [
    ({"batch_size": 0}, ValueError, "batch_size"), ({"batch_size": 1.5}, TypeError, "batch_size"),
    ({"batch_size": True}, TypeError, "batch_size"),
    ({"batch_size": 8, "resize": 0}, ValueError, "resize"),
    ({"batch_size": 8, "resize": (28,)}, TypeError, "resize"),
    ({"batch_size": 8, "resize": "96"}, TypeError, "resize"),
    ({"batch_size": 8, "resize": (28, -1)}, ValueError, "resize"),
    ({"batch_size": 8, "root": 3}, TypeError, "root"),
    ({"batch_size": 8, "device": "gpu0"}, ValueError, "device"),
])
@pytest.mark.parametrize("loader", ["load_data_fashion_mnist", "load_data_mnist", "load_data_cifar10"])
def test_bad_arguments_name_themselves_before_any_data_is_looked_for(isolated, loader, kwargs,
                                                                     error, word):
    with pytest.raises(error, match=word):
        getattr(d2l, loader)(**kwargs)
    assert isolated == []


def test_smoke_profile_takes_a_balanced_subset(tiny_set, monkeypatch):
    folder, _ = tiny_set
    monkeypatch.setattr(data_module, "current_profile",
                        lambda: d2l.Profile("smoke", 2, 1, 1))
    train_iter, test_iter = d2l.load_data_fashion_mnist(100, root=folder)
    train_labels = next(iter(train_iter))[1]
    test_labels = next(iter(test_iter))[1]
    assert torch.bincount(train_labels, minlength=10).tolist() == [2] * 10
    assert test_labels.tolist() == list(range(10))


def test_labels_to_names():
    assert d2l.get_fashion_mnist_labels(torch.tensor([0, 9])) == ["t-shirt", "ankle boot"]
    assert d2l.get_fashion_mnist_labels(torch.tensor(9)) == ["ankle boot"]
    assert d2l.get_fashion_mnist_labels(np.array([1])) == ["trouser"]
    assert d2l.get_mnist_labels(range(10)) == list("0123456789")
    assert d2l.get_cifar10_labels([0, 3, 9]) == ["airplane", "cat", "truck"]
    with pytest.raises(ValueError, match="labels must be integers in 0..9, got 10"):
        d2l.get_fashion_mnist_labels([10])
    with pytest.raises(TypeError, match="labels must be integers in 0..9, got 1.5"):
        d2l.get_cifar10_labels(torch.tensor([1.5]))
    with pytest.raises(TypeError, match="labels must be a tensor or a sequence"):
        d2l.get_mnist_labels(3)


# ---- MNIST ---------------------------------------------------------------------------------

def test_mnist_loads_plain_and_gzipped_files_verified_by_their_contents(tiny_mnist, tmp_path,
                                                                        monkeypatch):
    folder, tensors = tiny_mnist
    train_iter, test_iter = d2l.load_data_mnist(8, resize=14, root=folder)
    X, y = next(iter(test_iter))
    assert X.shape == (8, 1, 14, 14) and X.dtype == torch.float32 and y.dtype == torch.int64
    assert torch.equal(y, tensors[NAMES[3]][:8])
    gz_folder = tmp_path / "mnist-gz" / "MNIST" / "raw"  # torchvision's layout, gzipped
    gz_folder.mkdir(parents=True)
    for name in NAMES:
        (gz_folder / f"{name}.gz").write_bytes(gzip.compress((folder / name).read_bytes()))
    _, test_gz = d2l.load_data_mnist(8, root=tmp_path / "mnist-gz")
    assert torch.equal(next(iter(test_gz))[0], next(iter(d2l.load_data_mnist(8, root=folder)[1]))[0])
    (folder / NAMES[0]).write_bytes(idx_bytes(torch.zeros(40, 28, 28)))  # a plain file, altered
    with pytest.raises(d2l.CorruptDataError, match="not the published MNIST file"):
        d2l.load_data_mnist(8, root=folder)


def test_mnist_offline_lists_two_ways_and_no_debian_package(isolated):
    with pytest.raises(d2l.DataNotFoundError) as err:
        d2l.load_data_mnist(8)
    message = str(err.value)
    assert "two ways" in message and "apt-get" not in message
    assert isolated == ["MNIST"]


# ---- CIFAR-10 ------------------------------------------------------------------------------

def test_cifar10_batches_are_three_channel_floats_in_range(tiny_cifar):
    folder, arrays = tiny_cifar
    train_iter, test_iter = d2l.load_data_cifar10(16, root=folder)
    assert len(train_iter) == 7 and len(test_iter) == 2  # ceil(100/16), ceil(30/16)
    X, y = next(iter(test_iter))
    assert X.shape == (16, 3, 32, 32) and X.dtype == torch.float32 and y.dtype == torch.int64
    assert X.min() >= 0 and X.max() <= 1
    expected = torch.from_numpy(arrays["test_batch"]["data"][:16].reshape(16, 3, 32, 32)).float() / 255
    torch.testing.assert_close(X, expected)  # channel-first, test set in order
    assert y.tolist() == arrays["test_batch"]["labels"][:16]
    train_labels = torch.cat([y for _, y in train_iter])
    assert torch.bincount(train_labels).tolist() == [10] * 10  # all five training batches


def test_cifar10_resize_and_normalize(tiny_cifar):
    folder, arrays = tiny_cifar
    _, plain = d2l.load_data_cifar10(30, root=folder)
    _, resized = d2l.load_data_cifar10(30, resize=(40, 24), root=folder)
    _, normalized = d2l.load_data_cifar10(30, root=folder, normalize=True)
    X = next(iter(plain))[0]
    R = next(iter(resized))[0]
    N = next(iter(normalized))[0]
    assert R.shape == (30, 3, 40, 24) and 0 <= R.min() and R.max() <= 1
    mean = torch.tensor(data_module.CIFAR10_MEAN).view(1, 3, 1, 1)
    std = torch.tensor(data_module.CIFAR10_STD).view(1, 3, 1, 1)
    torch.testing.assert_close(N, (X - mean) / std)
    with pytest.raises(TypeError, match="normalize must be True or False"):
        d2l.load_data_cifar10(30, root=folder, normalize="yes")


def test_cifar10_lookup_order_and_layouts(tiny_cifar, tmp_path, monkeypatch, isolated):
    folder, _ = tiny_cifar
    batches = folder / "cifar-10-batches-py"
    assert len(d2l.load_data_cifar10(100, root=batches)[0]) == 1  # the batches folder itself
    monkeypatch.setenv("D2LMINI_DATA", str(folder))
    assert len(d2l.load_data_cifar10(100)[0]) == 1  # $D2LMINI_DATA, torchvision's layout
    monkeypatch.delenv("D2LMINI_DATA")
    with pytest.raises(d2l.DataNotFoundError, match="two ways"):
        d2l.load_data_cifar10(100)  # nobody named it and the cache is empty
    assert isolated == ["CIFAR-10"]
    (tmp_path / "cache" / "d2lmini").mkdir(parents=True)
    batches.rename(tmp_path / "cache" / "d2lmini" / "cifar-10-batches-py")
    assert len(d2l.load_data_cifar10(100)[0]) == 1  # the cache, where the download puts it
    assert isolated == ["CIFAR-10"]  # no second download attempt
    with pytest.raises(d2l.DataNotFoundError, match="root='.*named'.*does not exist"):
        d2l.load_data_cifar10(100, root=tmp_path / "named")  # no fall-back to the cached copy


def test_cifar10_smoke_subset_is_class_balanced(tiny_cifar, monkeypatch):
    folder, _ = tiny_cifar
    monkeypatch.setattr(data_module, "current_profile", lambda: d2l.Profile("smoke", 3, 2, 1))
    train_iter, test_iter = d2l.load_data_cifar10(100, root=folder)
    train_labels = next(iter(train_iter))[1]
    test_labels = torch.cat([y for _, y in test_iter])
    assert torch.bincount(train_labels, minlength=10).tolist() == [3] * 10
    assert torch.bincount(test_labels, minlength=10).tolist() == [2] * 10


def test_cifar10_pickle_is_checked_before_it_is_unpickled(tiny_cifar, tmp_path, monkeypatch):
    folder, _ = tiny_cifar
    marker = tmp_path / "the-pickle-ran"
    payload = pickle.dumps(Tripwire(marker))
    path = folder / "cifar-10-batches-py" / "data_batch_3"
    path.write_bytes(payload)
    unpickled = []
    real_loads = pickle.loads
    monkeypatch.setattr(pickle, "loads", lambda *a, **k: unpickled.append(1) or real_loads(*a, **k))
    with pytest.raises(d2l.CorruptDataError) as err:
        d2l.load_data_cifar10(8, root=folder)
    message = str(err.value)
    assert str(path) in message and "data_batch_3" in message
    assert md5(payload) in message and data_module.CIFAR10.checksums["data_batch_3"] in message
    assert unpickled == [] and not marker.exists()  # refused before anything was unpickled
    real_loads(payload)  # the control: unpickling this file does run its code
    assert marker.exists()


def test_cifar10_reader_checks_the_very_bytes_it_unpickles(tiny_cifar, tmp_path):
    folder, _ = tiny_cifar
    paths = data_module._locate(data_module.CIFAR10, folder)  # all seven verified here
    marker = tmp_path / "the-pickle-ran"
    paths["test_batch"].write_bytes(pickle.dumps(Tripwire(marker)))  # swapped after the lookup
    with pytest.raises(d2l.CorruptDataError, match="test_batch"):
        data_module._read_cifar10(data_module.CIFAR10, paths)
    assert not marker.exists()


def test_cifar10_meta_file_is_required_and_verified(tiny_cifar):
    folder, _ = tiny_cifar
    meta = folder / "cifar-10-batches-py" / "batches.meta"
    meta.write_bytes(pickle.dumps({"label_names": ["x"] * 10}))
    with pytest.raises(d2l.CorruptDataError, match="batches.meta"):
        d2l.load_data_cifar10(8, root=folder)
    meta.unlink()
    with pytest.raises(d2l.DataNotFoundError, match="missing batches.meta"):
        d2l.load_data_cifar10(8, root=folder)


def test_the_published_checksum_tables_are_complete():
    assert list(data_module.FASHION_MNIST_MD5) == NAMES == list(data_module.MNIST_MD5)
    assert list(data_module.CIFAR10_MD5) == CIFAR_FILES
    every_sum = [s for table in (data_module.FASHION_MNIST_MD5, data_module.MNIST_MD5,
                                 data_module.CIFAR10_MD5) for s in table.values()]
    assert len(set(every_sum)) == 15 and all(len(s) == 32 for s in every_sum)


def test_cifar10_checksums_are_torchvisions():
    from torchvision.datasets import CIFAR10
    published = dict(CIFAR10.train_list + CIFAR10.test_list)
    published[CIFAR10.meta["filename"]] = CIFAR10.meta["md5"]
    assert data_module.CIFAR10_MD5 == published


# ---- InMemoryLoader ------------------------------------------------------------------------

IMAGES = torch.randint(0, 256, (10, 6, 6), dtype=torch.uint8)
LABELS = torch.arange(10)


@pytest.mark.parametrize("shape, channels", [((10, 6, 6), 1), ((10, 1, 6, 6), 1), ((10, 3, 6, 6), 3)])
def test_loader_takes_one_and_three_channel_images(shape, channels):
    images = torch.randint(0, 256, shape, dtype=torch.uint8)
    loader = d2l.InMemoryLoader(images, LABELS.int(), 4, False, resize=8)
    batches = list(loader)
    assert [len(y) for _, y in batches] == [4, 4, 2]
    assert batches[0][0].shape == (4, channels, 8, 8) and batches[0][1].dtype == torch.int64


@pytest.mark.parametrize("kwargs, error, message", [
    ({"batch_size": 0}, ValueError, "batch_size must be a positive int, got 0"),
    ({"batch_size": 2.0}, TypeError, "batch_size must be a positive int, got 2.0"),
    ({"images": IMAGES.numpy()}, TypeError, "images must be a torch.Tensor, got a numpy uint8 array"),
    ({"images": IMAGES.float()}, TypeError, "images must be a uint8 tensor"),
    ({"images": IMAGES[0]}, ValueError, "images must be a 3-D or 4-D tensor"),
    ({"labels": LABELS.float()}, TypeError, "labels must be an integer tensor"),
    ({"labels": LABELS.view(10, 1)}, ValueError, "labels must be a 1-D tensor"),
    ({"labels": LABELS[:9]}, ValueError, r"labels must be a tensor with one label per image \(10\)"),
    ({"labels": list(range(10))}, TypeError, "labels must be a torch.Tensor"),
    ({"shuffle": 1}, TypeError, "shuffle must be True or False, got 1"),
    ({"shuffle": "yes"}, TypeError, "shuffle must be True or False"),
    ({"resize": 0}, ValueError, "resize must be None, a positive int or a pair"),
    ({"resize": (8,)}, TypeError,
     r"resize must be None, a positive int or a pair of positive ints, got \(8,\)"),
    ({"resize": 2.5}, TypeError, "resize must be"),
    ({"normalize": ((0.5,), (0.0,))}, ValueError, r"normalize\[1\]\[0\] must be a finite positive number"),
    ({"normalize": ((0.5, 0.5, 0.5), (1, 1, 1))}, ValueError, "normalize must be None or a pair"),
])
def test_loader_refuses_bad_arguments_by_name(kwargs, error, message):
    args = {"images": IMAGES, "labels": LABELS, "batch_size": 4, "shuffle": False, **kwargs}
    with pytest.raises(error, match=message):
        d2l.InMemoryLoader(**args)


def test_loader_validates_once_per_call_not_per_batch(monkeypatch):
    loader = d2l.InMemoryLoader(IMAGES, LABELS, 1, True, resize=4, normalize=((0.5,), (0.25,)))

    def per_batch(*args, **kwargs):
        raise AssertionError("a validation ran while serving batches")

    for name in ("tensor", "integer_tensor", "positive_int", "boolean", "image_size", "fail",
                 "positive_number"):
        monkeypatch.setattr(validate, name, per_batch)
    assert sum(len(y) for _, y in loader) == 10


def test_loader_normalizes_per_channel():
    images = torch.full((2, 3, 2, 2), 255, dtype=torch.uint8)
    loader = d2l.InMemoryLoader(images, torch.zeros(2, dtype=torch.long), 2, False,
                                normalize=([0.5, 0.0, 1.0], [0.5, 2.0, 1.0]))
    X, _ = next(iter(loader))
    assert X[:, :, 0, 0].tolist() == [[1.0, 0.5, 0.0]] * 2


def test_balanced_subset_checks_its_arguments():
    assert d2l.balanced_subset(torch.tensor([0, 1, 0, 1, 1]), 1).tolist() == [0, 1]
    with pytest.raises(ValueError, match="per_class"):
        d2l.balanced_subset(torch.tensor([0, 1]), 0)
    with pytest.raises(TypeError, match="labels"):
        d2l.balanced_subset(torch.tensor([0.0, 1.0]), 1)


# ---- the CIFAR-10 benchmark ----------------------------------------------------------------

def load_benchmark():
    if str(ROOT / "benchmarks") not in sys.path:  # as `python benchmarks/...` has it: its helpers
        sys.path.insert(0, str(ROOT / "benchmarks"))
    spec = importlib.util.spec_from_file_location("cifar10_results",
                                                  ROOT / "benchmarks" / "cifar10_results.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["cifar10_results"] = module  # its dataclass looks its module up there
    spec.loader.exec_module(module)
    return module


def test_benchmark_without_data_stops_at_once_with_the_data_error(isolated, monkeypatch):
    bench = load_benchmark()
    monkeypatch.setattr(d2l, "train_ch5", lambda *a, **k: pytest.fail("training started"))
    monkeypatch.setattr(bench, "chapter_namespace", lambda stem: pytest.fail("builders loaded"))
    start = time.perf_counter()
    with pytest.raises(d2l.DataNotFoundError, match="CIFAR-10 was not found"):
        bench.main([])
    with pytest.raises(d2l.DataNotFoundError, match="MNIST was not found"):
        bench.main(["--nets", "nin-mnist"])
    assert time.perf_counter() - start < 5
    assert isolated == ["CIFAR-10", "MNIST"]


def test_benchmark_builds_every_chapter_net_for_three_channels():
    bench = load_benchmark()
    namespaces = {}
    for run in bench.RUNS:
        if run.chapter not in namespaces:
            namespaces[run.chapter] = bench.chapter_namespace(run.chapter)
        channels = 3 if run.dataset == "cifar10" else 1
        with torch.device("meta"):  # shapes only: no memory, no arithmetic
            net = run.build(namespaces[run.chapter], channels)
            out = net(torch.empty(2, channels, run.resize, run.resize))
        assert out.shape == (2, 10), run.key
        assert next(net.parameters()).shape[1] == channels, run.key  # the first layer's input
    nin = bench.with_zeroed_head(namespaces["11_nin"], 3)
    assert torch.count_nonzero(nin[7][-1].weight) == 0  # chapter 11's zeroed last convolution


# ---- the real data, where it is installed ---------------------------------------------------

@pytest.mark.skipif(not Path("/usr/share/datasets/fashion-mnist").is_dir(),
                    reason="Debian's dataset-fashion-mnist is not installed")
def test_real_debian_data_verifies_and_loads(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))  # force the Debian folder, not a cache
    monkeypatch.delenv("D2LMINI_DATA", raising=False)
    train_x, train_y, test_x, test_y = d2l.read_fashion_mnist()
    assert train_x.shape == (60000, 28, 28) and test_x.shape == (10000, 28, 28)
    assert train_x.dtype == torch.uint8
    assert torch.bincount(train_y).tolist() == [6000] * 10
    assert torch.bincount(test_y).tolist() == [1000] * 10


def _real_copy(folder: str) -> bool:
    places = [Path(os.environ["D2LMINI_DATA"])] if os.environ.get("D2LMINI_DATA") else []
    return any((p / folder).is_dir() for p in places + [d2l.cache_dir()])


@pytest.mark.skipif(not _real_copy("cifar-10-batches-py"), reason="no copy of CIFAR-10 here")
def test_real_cifar10_matches_its_normalisation_constants():
    train_x, train_y, test_x, _ = data_module._read(data_module.CIFAR10, None)
    assert train_x.shape == (50000, 3, 32, 32) and test_x.shape == (10000, 3, 32, 32)
    assert torch.bincount(train_y).tolist() == [5000] * 10
    pixels = train_x.permute(1, 0, 2, 3).reshape(3, -1).double() / 255
    mean, std = pixels.mean(dim=1), pixels.std(dim=1, correction=0)
    torch.testing.assert_close(mean, torch.tensor(data_module.CIFAR10_MEAN, dtype=torch.double),
                               atol=6e-5, rtol=0)
    torch.testing.assert_close(std, torch.tensor(data_module.CIFAR10_STD, dtype=torch.double),
                               atol=6e-5, rtol=0)


@pytest.mark.skipif(not _real_copy("MNIST/raw"), reason="no copy of MNIST here")
def test_real_mnist_verifies_and_loads():
    train_x, train_y, test_x, _ = data_module._read(data_module.MNIST, None)
    assert train_x.shape == (60000, 28, 28) and test_x.shape == (10000, 28, 28)
    assert train_y.min() == 0 and train_y.max() == 9


# ---- The cache: nothing an interrupted fill leaves may block a load (issue 18) ----------------

CACHED = ("cache", "d2lmini", "FashionMNIST", "raw")


@pytest.fixture
def debian_set(tiny_set, tmp_path, monkeypatch):
    """The gzipped look-alike stands in for Debian's copy; returns (folder, tensors, cache folder)."""
    folder, tensors = tiny_set
    monkeypatch.setattr(data_module.FASHION_MNIST, "system_dir", folder)
    return folder, tensors, tmp_path.joinpath(*CACHED)


def test_a_partial_cache_is_passed_over_and_refilled(debian_set, capsys):
    folder, tensors, cached = debian_set
    cached.mkdir(parents=True)
    (cached / NAMES[0]).write_bytes(idx_bytes(tensors[NAMES[0]]))  # what Ctrl-C after file 1 leaves
    train_iter, _ = d2l.load_data_fashion_mnist(8)
    assert len(train_iter) == 5
    assert "holds only part of Fashion-MNIST" in capsys.readouterr().out  # said, not raised
    assert sorted(p.name for p in cached.iterdir()) == sorted(NAMES)  # refilled


def test_ctrl_c_during_a_fill_leaves_no_debris_and_blocks_nothing(debian_set, monkeypatch):
    folder, _, cached = debian_set
    real_write = Path.write_bytes
    writes = []

    def interrupted_write(self, data):
        writes.append(self.name)
        if len(writes) == 2:  # Ctrl-C while the second file is written
            real_write(self, data[: len(data) // 2])
            raise KeyboardInterrupt
        return real_write(self, data)

    monkeypatch.setattr(Path, "write_bytes", interrupted_write)
    with pytest.raises(KeyboardInterrupt):
        d2l.load_data_fashion_mnist(8)
    monkeypatch.setattr(Path, "write_bytes", real_write)
    assert [p.name for p in cached.iterdir()] == [NAMES[0]]  # one whole file, no .tmp<PID>
    assert len(d2l.load_data_fashion_mnist(8)[0]) == 5  # and the next load works


def test_debris_of_a_dead_process_is_swept(debian_set):
    import subprocess
    folder, _, cached = debian_set
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()
    cached.mkdir(parents=True)
    debris = cached / f"{NAMES[0]}.tmp{dead}"
    debris.write_bytes(b"half a file")
    d2l.load_data_fashion_mnist(8)
    assert not debris.exists()


def test_a_damaged_cache_file_is_dropped_and_refilled(debian_set, capsys):
    folder, tensors, cached = debian_set
    d2l.load_data_fashion_mnist(8)  # fills the cache
    data_module._VERIFIED.clear()  # a new process
    (cached / NAMES[2]).write_bytes(b"\0" * 100)
    _, test_iter = d2l.load_data_fashion_mnist(8)
    assert "removed a damaged file from the cache" in capsys.readouterr().out
    assert torch.equal(test_iter.labels, tensors[NAMES[3]])
    assert (cached / NAMES[2]).read_bytes() == idx_bytes(tensors[NAMES[2]])


def test_an_unwritable_cache_does_not_refuse_good_data(tiny_set, tmp_path, monkeypatch, capsys):
    folder, tensors = tiny_set
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder would go")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))  # nothing can be written under it
    for _ in range(2):
        train_iter, _ = d2l.load_data_fashion_mnist(8, root=folder)
        assert torch.equal(train_iter.labels.sort().values, tensors[NAMES[1]].sort().values)
    out = capsys.readouterr().out
    assert out.count("cannot write the cache") == 1  # said once


def test_a_cached_copy_changed_after_it_was_verified_is_checked_again(tiny_set, tmp_path):
    folder, tensors = tiny_set
    d2l.load_data_fashion_mnist(8, root=folder)
    copy = tmp_path.joinpath(*CACHED, NAMES[2])
    tampered = bytearray(copy.read_bytes())
    tampered[-1] ^= 0xFF  # same size, other contents
    copy.write_bytes(bytes(tampered))
    os.utime(copy, ns=(time.time_ns(), time.time_ns() + 10**9))
    _, test_iter = d2l.load_data_fashion_mnist(8, root=folder)  # same process, same .gz
    X = torch.cat([X for X, _ in test_iter])  # in order, the tampered last image included
    torch.testing.assert_close(X[:, 0], tensors[NAMES[2]].float() / 255)  # not the tampered copy


def test_dotted_idx_names_are_accepted(tiny_mnist):
    folder, tensors = tiny_mnist
    for name in NAMES:
        (folder / name).rename(folder / name.replace("-idx", ".idx"))
    train_iter, test_iter = d2l.load_data_mnist(8, root=folder)
    assert len(train_iter) == 5 and len(test_iter) == 3


def test_a_named_partial_folder_says_what_to_do(tiny_set):
    folder, _ = tiny_set
    (folder / f"{NAMES[3]}.gz").unlink()
    with pytest.raises(d2l.DataNotFoundError, match=r"missing t10k-labels-idx1-ubyte\. Put the "
                       r"missing files there too"):
        d2l.load_data_fashion_mnist(8, root=folder)


def test_channels_last_images_are_refused_not_resized_on_the_wrong_axes():
    images = torch.zeros(4, 28, 28, 1, dtype=torch.uint8)
    with pytest.raises(ValueError, match=r"images must be shaped \(N, C, H, W\).*permute\(0, 3, 1, 2\)"):
        d2l.InMemoryLoader(images, torch.zeros(4, dtype=torch.long), 2, False, resize=32)


@pytest.mark.parametrize("shuffle", [False, True])
def test_editing_a_batch_in_place_leaves_the_data_set_alone(shuffle):
    labels = torch.arange(8) % 10
    loader = d2l.InMemoryLoader(torch.zeros(8, 4, 4, dtype=torch.uint8), labels.clone(), 4, shuffle)
    for X, y in loader:
        y[y > 4] = 0
        X += 1
    assert torch.equal(loader.labels, labels) and int(loader.images.max()) == 0


@pytest.mark.parametrize("size", [np.int64(32), torch.tensor(32), (np.int32(32), 32)])
def test_resize_takes_numbers_as_learners_write_them(tiny_set, size):
    folder, _ = tiny_set
    X, _ = next(iter(d2l.load_data_fashion_mnist(8, resize=size, root=folder)[1]))
    assert X.shape == (8, 1, 32, 32)
