"""Devices, seeds and profiles: try_gpu, get_device, set_seed, current_profile, cap_epochs,
Profile. Each plausible mistake is refused at the call with an error naming the argument."""

import pytest
import torch
from torch import nn

import d2lmini as d2l


# --- try_gpu -------------------------------------------------------------------------------

@pytest.mark.parametrize("i,error", [(-1, ValueError), (1.0, TypeError), (True, TypeError),
                                     ("0", TypeError), ("cuda:0", TypeError)])
def test_try_gpu_rejects_bad_indices(i, error):
    with pytest.raises(error, match="i must be a non-negative int"):
        d2l.try_gpu(i)


def test_try_gpu_falls_back_when_gpu_i_is_missing():
    # the classic contract: gpu(i) if it exists, else what there is
    assert d2l.try_gpu(torch.cuda.device_count()) == d2l.try_gpu(10**6)
    assert d2l.try_gpu().type in {"cuda", "mps", "cpu"}


# --- get_device ----------------------------------------------------------------------------

def test_get_device_turns_names_and_none_into_devices():
    assert d2l.get_device("cpu") == torch.device("cpu")
    assert d2l.get_device(torch.device("cpu")) == torch.device("cpu")
    assert d2l.get_device(None) == d2l.try_gpu()


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
@pytest.mark.parametrize("device", ["cuda", "cuda:0", torch.device("cuda")])
def test_get_device_refuses_cuda_without_a_gpu(device):
    with pytest.raises(ValueError, match=rf"device must be a device this machine has, got "
                                         rf"'{torch.device(device)}'; no CUDA device is available; "
                                         rf"d2l.try_gpu\(\) would pick {d2l.try_gpu()}"):
        d2l.get_device(device)


def test_get_device_refuses_a_gpu_index_past_the_last(monkeypatch):
    # pretend to be a one-GPU machine: "cuda:3" names a GPU that is not there
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    with pytest.raises(ValueError, match=r"device must be a device this machine has, got 'cuda:3'; "
                                         r"this machine has 1 CUDA device\(s\), cuda:0 to cuda:0; "
                                         r"d2l.try_gpu\(\) would pick cuda:0"):
        d2l.get_device("cuda:3")
    assert d2l.get_device("cuda:0") == torch.device("cuda:0")


@pytest.mark.skipif(torch.backends.mps.is_available(), reason="this machine has MPS")
def test_get_device_refuses_mps_off_a_mac():
    with pytest.raises(ValueError, match=r"device must be a device this machine has, got 'mps'; "
                                         r"no MPS device is available; d2l.try_gpu\(\) would pick"):
        d2l.get_device("mps")


@pytest.mark.parametrize("name", ["gpu", "CUDA", " cuda", "cuda:x"])
def test_get_device_refuses_misspelt_names(name):
    with pytest.raises(ValueError, match=r"device must be a device name such as 'cpu', 'cuda', "
                                         rf"'cuda:0' or 'mps', got '{name}'"):
        d2l.get_device(name)


def test_get_device_refuses_a_bare_index_with_a_hint():
    with pytest.raises(TypeError, match=r"device must be a torch.device, a string such as 'cuda:0', "
                                        r"or None, got 1; for GPU number 1 write d2l.try_gpu\(1\)"):
        d2l.get_device(1)


def test_get_device_refuses_other_types():
    with pytest.raises(TypeError, match="device must be a torch.device, a string such as 'cuda:0', "
                                        "or None, got a Linear"):
        d2l.get_device(nn.Linear(1, 1))


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_train_ch5_refuses_a_missing_gpu_before_reading_any_batch():
    class Untouchable:
        def __iter__(self):
            raise AssertionError("a batch was read before the device was checked")

        def __len__(self):
            return 1

    net = nn.Linear(2, 2)
    with pytest.raises(ValueError, match="device must be a device this machine has, got 'cuda'"):
        d2l.train_ch5(net, Untouchable(), Untouchable(), 16, torch.optim.SGD(net.parameters(), lr=0.1),
                      "cuda", 1)


# --- set_seed ------------------------------------------------------------------------------

@pytest.mark.parametrize("seed,error,expected", [
    (True, TypeError, "seed must be a non-negative int, got True"),
    (1.5, TypeError, "seed must be a non-negative int, got 1.5"),
    ("42", TypeError, "seed must be a non-negative int, got '42'"),
    (None, TypeError, "seed must be a non-negative int, got None"),
    (-1, ValueError, "seed must be a non-negative int, got -1"),
    (2**64, ValueError, "seed must be an int below 2\\*\\*64, got 18446744073709551616"),
])
def test_set_seed_rejects_bad_seeds(seed, error, expected):
    with pytest.raises(error, match=expected):
        d2l.set_seed(seed)


def test_set_seed_accepts_the_whole_range():
    for seed in (0, 2**32, 2**64 - 1):
        d2l.set_seed(seed)
        first = torch.rand(3)
        d2l.set_seed(seed)
        assert torch.equal(torch.rand(3), first)


# --- profiles ------------------------------------------------------------------------------

@pytest.mark.parametrize("num_epochs,error", [(0, ValueError), (-2, ValueError), (2.0, TypeError),
                                              (True, TypeError), ("3", TypeError), (None, TypeError)])
def test_cap_epochs_rejects_bad_num_epochs(num_epochs, error, monkeypatch):
    monkeypatch.setenv("D2LMINI_PROFILE", "full")
    with pytest.raises(error, match="num_epochs must be a positive int"):
        d2l.cap_epochs(num_epochs)


def test_cap_epochs_caps_in_smoke_only(monkeypatch):
    monkeypatch.setenv("D2LMINI_PROFILE", "full")
    assert d2l.cap_epochs(7) == 7
    monkeypatch.setenv("D2LMINI_PROFILE", "smoke")
    assert d2l.cap_epochs(7) == 1


def test_current_profile_names_the_variable_and_the_choices(monkeypatch):
    monkeypatch.setenv("D2LMINI_PROFILE", "fast")
    with pytest.raises(ValueError, match="D2LMINI_PROFILE must be one of 'full', 'quick', 'smoke', got 'fast'"):
        d2l.current_profile()


def test_current_profile_forgives_case_and_blanks(monkeypatch):
    monkeypatch.setenv("D2LMINI_PROFILE", " Smoke ")
    assert d2l.current_profile().name == "smoke"
    monkeypatch.setenv("D2LMINI_PROFILE", "")
    assert d2l.current_profile().name == "full"


@pytest.mark.parametrize("args,error,expected", [
    ((None, 1, 1, 1), TypeError, "name must be a non-empty string, got None"),
    (("", 1, 1, 1), ValueError, "name must be a non-empty string, got ''"),
    (("tiny", 0, 1, 1), ValueError, "train_per_class must be a positive int, got 0"),
    (("tiny", 1, 2.5, 1), TypeError, "test_per_class must be a positive int, got 2.5"),
    (("tiny", 1, 1, -1), ValueError, "max_epochs must be a positive int, got -1"),
])
def test_profile_checks_its_fields(args, error, expected):
    with pytest.raises(error, match=expected):
        d2l.Profile(*args)


def test_profile_accepts_no_limits():
    assert d2l.Profile("mine", None, None, None).max_epochs is None
