"""Fashion-MNIST: the lookup order, checksum verification and the in-memory loader."""

import gzip
import hashlib
import struct
from pathlib import Path

import pytest
import torch

import d2lmini as d2l
from d2lmini import data as data_module

NAMES = ["train-images-idx3-ubyte", "train-labels-idx1-ubyte",
         "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"]


def idx_bytes(tensor: torch.Tensor) -> bytes:
    """An idx file as LeCun's format defines it: magic (0, 0, uint8 code 8, ndim), sizes, data."""
    header = struct.pack(">BBBB", 0, 0, 8, tensor.ndim) + struct.pack(f">{tensor.ndim}I", *tensor.shape)
    return header + tensor.to(torch.uint8).numpy().tobytes()


@pytest.fixture
def tiny_set(tmp_path, monkeypatch):
    """A 40/20-image Fashion-MNIST look-alike in tmp_path, with its checksums made the known ones,
    and every other place to find data (env var, cache, Debian, the network) shut off."""
    gen = torch.Generator().manual_seed(0)
    tensors = {
        NAMES[0]: torch.randint(0, 256, (40, 28, 28), generator=gen),
        NAMES[1]: torch.arange(40) % 10,
        NAMES[2]: torch.randint(0, 256, (20, 28, 28), generator=gen),
        NAMES[3]: torch.arange(20) % 10,
    }
    folder = tmp_path / "data"
    folder.mkdir()
    sums = {}
    for name, t in tensors.items():
        raw = idx_bytes(t)
        sums[name] = hashlib.md5(raw).hexdigest()
        (folder / f"{name}.gz").write_bytes(gzip.compress(raw))
    monkeypatch.setattr(data_module, "CHECKSUMS", sums)
    monkeypatch.setattr(data_module, "DEBIAN_DIR", tmp_path / "no-debian")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("D2LMINI_DATA", raising=False)
    monkeypatch.setenv("D2LMINI_PROFILE", "full")

    def no_network(root):
        raise OSError("network is unreachable")

    monkeypatch.setattr(data_module, "_download", no_network)
    return folder, tensors


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
    assert hashlib.md5(bytes(raw)).hexdigest() in message
    assert data_module.CHECKSUMS[NAMES[2]] in message


def test_file_that_is_not_gzip_is_refused_by_name(tiny_set):
    folder, _ = tiny_set
    path = folder / f"{NAMES[1]}.gz"
    path.write_bytes(b"this is not gzip")
    with pytest.raises(d2l.CorruptDataError, match=NAMES[1]):
        d2l.load_data_fashion_mnist(8, root=folder)


def test_nothing_anywhere_offline_gives_one_error_with_three_ways(tiny_set, tmp_path):
    with pytest.raises(d2l.DataNotFoundError) as err:
        d2l.load_data_fashion_mnist(8, root=tmp_path / "empty")
    message = str(err.value)
    assert "apt-get install dataset-fashion-mnist" in message
    assert "D2LMINI_DATA" in message and "root=" in message
    assert "download" in message


def test_partial_folder_names_the_missing_files(tiny_set):
    folder, _ = tiny_set
    (folder / f"{NAMES[3]}.gz").unlink()
    with pytest.raises(d2l.DataNotFoundError, match=NAMES[3]):
        d2l.load_data_fashion_mnist(8, root=folder)


@pytest.mark.parametrize("kwargs, word", [
    ({"batch_size": 0}, "batch_size"), ({"batch_size": 1.5}, "batch_size"),
    ({"batch_size": 8, "resize": 0}, "resize"), ({"batch_size": 8, "resize": (28,)}, "resize"),
    ({"batch_size": 8, "resize": "96"}, "resize"), ({"batch_size": 8, "resize": (28, -1)}, "resize"),
])
def test_bad_arguments_name_themselves(kwargs, word):
    with pytest.raises(ValueError, match=word):
        d2l.load_data_fashion_mnist(**kwargs)


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
    with pytest.raises(ValueError, match="labels"):
        d2l.get_fashion_mnist_labels([10])


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
