"""The real MNIST in ../shared/data/mnist (the team's and CI's copy): d2lmini verifies and reads
it. A learner's clone has no ../shared, and there these tests skip."""

from pathlib import Path

import pytest
import torch

import d2lmini as d2l

MNIST = Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist"
pytestmark = pytest.mark.skipif(not (MNIST / "train-images-idx3-ubyte.gz").exists(),
                                reason="no ../shared/data/mnist here (a learner's clone)")

# The class counts of MNIST's training and test sets, as published with the data set
TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """A cache of its own, so the test neither reads nor fills the user's."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("D2LMINI_DATA", raising=False)
    monkeypatch.setenv("D2LMINI_PROFILE", "full")
    return tmp_path / "cache"


def test_load_data_mnist_verifies_and_reads_all_of_the_real_files(cache):
    train_iter, test_iter = d2l.load_data_mnist(1000, root=MNIST)
    assert len(train_iter.images) == 60_000 and len(test_iter.images) == 10_000
    assert torch.bincount(train_iter.labels, minlength=10).tolist() == TRAIN_COUNTS
    assert torch.bincount(test_iter.labels, minlength=10).tolist() == TEST_COUNTS
    X, y = next(iter(test_iter))
    assert X.shape == (1000, 1, 28, 28) and X.dtype == torch.float32 and y.dtype == torch.int64
    assert 0 <= X.min() and X.max() <= 1 and X.max() == 1  # full-intensity strokes exist
    assert y[:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]  # the test set's well-known start


def test_a_damaged_copy_of_the_real_files_is_refused_by_name(cache, tmp_path):
    import gzip
    folder = tmp_path / "damaged"
    folder.mkdir()
    for f in MNIST.glob("*.gz"):
        (folder / f.name).write_bytes(f.read_bytes())
    raw = bytearray(gzip.decompress((folder / "t10k-labels-idx1-ubyte.gz").read_bytes()))
    raw[100] = (raw[100] + 1) % 10  # one label changed
    (folder / "t10k-labels-idx1-ubyte.gz").write_bytes(gzip.compress(bytes(raw)))
    with pytest.raises(d2l.CorruptDataError, match="t10k-labels-idx1-ubyte"):
        d2l.load_data_mnist(100, root=folder)


def test_the_smoke_profile_takes_a_class_balanced_subset_of_the_real_files(cache, monkeypatch):
    monkeypatch.setenv("D2LMINI_PROFILE", "smoke")
    train_iter, test_iter = d2l.load_data_mnist(50, root=MNIST)
    assert torch.bincount(train_iter.labels, minlength=10).tolist() == [20] * 10
    assert torch.bincount(test_iter.labels, minlength=10).tolist() == [10] * 10
