"""The fast path with learners' own nets, the arithmetic per device (GPUs stood in for), the fp16
path with its loss scaler, and the mistakes the loops name (issue 25)."""

import math

import pytest
import torch
from torch import nn
from torch.nn import functional as F

import d2lmini as d2l
from d2lmini import precision as precisions
from d2lmini import training


def blobs(n=48, size=12, classes=3, batch=16):
    """Images whose mean brightness gives the class: learnable in a few steps."""
    g = torch.Generator().manual_seed(0)
    y = torch.arange(n) % classes
    X = torch.rand(n, 1, size, size, generator=g) + y.view(-1, 1, 1, 1)
    return [(X[i:i + batch], y[i:i + batch]) for i in range(0, n, batch)]


class Features(nn.Module):
    """Conv, batch norm, dropout and pooling before the flatten: a failed channels-last try would
    leave traces (batch-norm statistics, random numbers) if the fallback did not undo them."""

    def __init__(self, flatten):
        super().__init__()
        self.conv = nn.Sequential(nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4), nn.ReLU(),
                                  nn.Dropout(0.3), nn.MaxPool2d(2))
        self.fc = nn.Linear(4 * 5 * 5, 3)
        self.flatten = flatten

    def forward(self, img):
        return self.fc(self.flatten(self.conv(img)))


class Pooled(nn.Module):
    """A `.view` after global pooling: (N, C, 1, 1) views fine in either layout."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Sequential(nn.Conv2d(1, 3, 3), nn.ReLU(), d2l.GlobalAvgPool2d())

    def forward(self, x):
        return self.conv(x).view(x.shape[0], -1)


LEARNER_NETS = {
    "view(B, -1)": (lambda: Features(lambda f: f.view(f.shape[0], -1)), True),
    "view(-1, C*H*W)": (lambda: Features(lambda f: f.view(-1, 4 * 5 * 5)), True),
    "view(x.size(0), n)": (lambda: Features(lambda f: f.view(f.size(0), 100)), True),
    "torch.flatten": (lambda: Features(lambda f: torch.flatten(f, 1)), False),
    "reshape": (lambda: Features(lambda f: f.reshape(len(f), -1)), False),
    "nn.Flatten": (lambda: Features(nn.Flatten()), False),
    "d2l.FlattenLayer": (lambda: Features(d2l.FlattenLayer()), False),
    "view after global pooling": (Pooled, False),
}


def train(make, precision=None, epochs=2, seed=0):
    d2l.set_seed(seed)
    net = make()
    opt = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
    data = blobs()
    history = d2l.train_ch5(net, data, data, 16, opt, "cpu", epochs, precision=precision)
    return net, history, data


@pytest.fixture
def full_profile(monkeypatch):
    monkeypatch.setenv("D2LMINI_PROFILE", "full")  # two epochs, not the smoke profile's one


@pytest.mark.parametrize("forced", [None, "bf16"])
@pytest.mark.parametrize("name", list(LEARNER_NETS))
def test_every_learner_net_trains_on_the_fast_path_and_evaluation_agrees(
        name, forced, capsys, monkeypatch, full_profile):
    if forced:
        monkeypatch.setenv("D2LMINI_PRECISION", forced)
    make, views = LEARNER_NETS[name]
    net, history, data = train(make)
    out = capsys.readouterr().out
    assert ("fails on channels_last activations" in out) == views
    assert out.count("fails on channels_last activations") <= 1
    assert "instead of .view(...)" in out or not views
    assert history.epochs_done == 2 and history.steps == 2 * len(data)
    assert history["train_loss"][1] < history["train_loss"][0]
    assert d2l.evaluate_accuracy(data, net) == history["test_acc"][-1]


@pytest.mark.parametrize("name", [n for n, (_, views) in LEARNER_NETS.items() if views])
def test_a_fallen_back_run_equals_a_run_started_in_the_default_layout(name, full_profile, capsys,
                                                                      monkeypatch):
    monkeypatch.setattr(precisions, "bf16_native", lambda device: False)  # auto: fp32 + channels_last
    make, _ = LEARNER_NETS[name]
    fallen, fallen_history, _ = train(make)  # tries channels_last, falls back on batch 1
    plain, plain_history, _ = train(make, precision="fp32")  # the default layout from the start
    assert "fails on channels_last activations" in capsys.readouterr().out
    assert dict(fallen_history) | {"seconds": None} == dict(plain_history) | {"seconds": None}
    for (key, a), b in zip(fallen.state_dict().items(), plain.state_dict().values()):
        torch.testing.assert_close(a, b, rtol=0, atol=0, msg=key)


def test_evaluate_accuracy_alone_falls_back_as_the_loop_does(capsys):
    make, _ = LEARNER_NETS["view(B, -1)"]
    net = make().to(memory_format=torch.channels_last)  # as a fast-path run would leave it
    data = blobs()
    acc = d2l.evaluate_accuracy(data, net, precision="bf16")
    assert 0 <= acc <= 1 and "fails on channels_last activations" in capsys.readouterr().out


def test_a_net_broken_in_both_layouts_gets_its_own_error_not_a_fallback(capsys):
    net = Features(lambda f: f.view(f.shape[0], 7))  # wrong in any layout
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    with pytest.raises(RuntimeError, match="shape"):
        d2l.train_ch5(net, blobs(), blobs(), 16, opt, "cpu", 1)
    assert "uses the default layout" not in capsys.readouterr().out


class ClassicAlexNet(nn.Module):
    """The structure of the classic book's section 5.6 AlexNet, feature.view(B, -1) included."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Sequential(
            nn.Conv2d(1, 96, 11, 4), nn.ReLU(), nn.MaxPool2d(3, 2),
            nn.Conv2d(96, 256, 5, 1, 2), nn.ReLU(), nn.MaxPool2d(3, 2),
            nn.Conv2d(256, 384, 3, 1, 1), nn.ReLU(), nn.Conv2d(384, 384, 3, 1, 1), nn.ReLU(),
            nn.Conv2d(384, 256, 3, 1, 1), nn.ReLU(), nn.MaxPool2d(3, 2))
        self.fc = nn.Sequential(nn.Linear(256 * 5 * 5, 4096), nn.ReLU(), nn.Dropout(0.5),
                                nn.Linear(4096, 4096), nn.ReLU(), nn.Dropout(0.5),
                                nn.Linear(4096, 10))

    def forward(self, img):
        feature = self.conv(img)
        return self.fc(feature.view(img.shape[0], -1))


def test_the_classic_alexnet_cell_runs_with_only_its_import_changed(capsys):
    """The book's training cell: batch 128 at 224 px, Adam at 0.001, train_ch5 (smoke profile:
    one epoch on 200 images)."""
    train_iter, test_iter = d2l.load_data_fashion_mnist(128, resize=224)
    net = ClassicAlexNet()
    optimizer = torch.optim.Adam(net.parameters(), lr=0.001)
    history = d2l.train_ch5(net, train_iter, test_iter, 128, optimizer, "cpu", 5)
    assert history.epochs_done == 1 and math.isfinite(history["train_loss"][0])
    assert "fails on channels_last activations" in capsys.readouterr().out


# --- the arithmetic per device, with torch.cuda's answers stood in for -------------------------

CARDS = {  # name: (compute capability, the path auto should pick)
    "Tesla T4": ((7, 5), "fp16"),
    "Tesla V100-SXM2-16GB": ((7, 0), "fp16"),
    "NVIDIA A100-SXM4-40GB": ((8, 0), "bf16"),
    "NVIDIA H100 80GB HBM3": ((9, 0), "bf16"),
    "Tesla P100-PCIE-16GB": ((6, 0), "fp32"),
}


def stand_in(monkeypatch, name):
    capability, _ = CARDS[name]

    def is_bf16_supported(including_emulation=True):
        return including_emulation or capability >= (8, 0)  # what torch.cuda answers on the card

    monkeypatch.setattr(torch.cuda, "get_device_name", lambda device=None: name)
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda device=None: capability)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", is_bf16_supported)


@pytest.mark.filterwarnings("ignore:torch.cuda.amp.GradScaler is enabled")  # no real GPU here
@pytest.mark.parametrize("card", list(CARDS))
def test_each_gpu_gets_the_arithmetic_it_computes_natively(card, monkeypatch):
    stand_in(monkeypatch, card)
    cuda = torch.device("cuda:0")
    chosen = precisions.choose(None, cuda, nn.Conv2d(1, 1, 1))
    assert chosen.name == CARDS[card][1] and chosen.channels_last
    assert precisions.bf16_native(cuda) == (chosen.name == "bf16")
    assert (chosen.grad_scaler() is not None) == (chosen.name == "fp16")
    line = f"training on {precisions.device_name(cuda)}, {chosen.describe()}"
    assert f"cuda:0 ({card})" in line and card in chosen.describe()
    assert f"compute capability {CARDS[card][0][0]}.{CARDS[card][0][1]}" in line
    assert {"bf16": "bf16 autocast", "fp16": "fp16 autocast with a GradScaler",
            "fp32": "fp32, channels_last"}[chosen.name] in line
    assert precisions.choose(None, cuda, nn.Linear(2, 2)).name == "fp32"  # dense nets: plain
    assert precisions.choose("fp32", cuda, nn.Conv2d(1, 1, 1)).fast is False


def test_torchs_plain_bf16_answer_counts_emulation_and_is_not_trusted(monkeypatch):
    """On a T4 `torch.cuda.is_bf16_supported()` says True (emulated); the old choice took it."""
    stand_in(monkeypatch, "Tesla T4")
    assert torch.cuda.is_bf16_supported() is True
    assert not precisions.bf16_native(torch.device("cuda"))


def test_forcing_a_path_says_so_and_warns_where_it_is_emulated(monkeypatch):
    monkeypatch.setattr(precisions, "bf16_native", lambda device: False)
    cpu = torch.device("cpu")
    forced = precisions.choose("fp16", cpu, nn.Conv2d(1, 1, 1))
    assert forced.name == "fp16" and "asked for with precision='fp16'" in forced.describe()
    assert "emulated" in forced.describe()
    monkeypatch.setenv("D2LMINI_PRECISION", "fp16")
    assert "D2LMINI_PRECISION=fp16" in precisions.choose(None, cpu, nn.Conv2d(1, 1, 1)).describe()
    with pytest.raises(ValueError, match="precision must be 'fp32' on mps"):
        precisions.choose("fp16", torch.device("mps"), nn.Conv2d(1, 1, 1))


def test_the_fp16_path_trains_on_the_cpu_with_its_scaler(capsys, full_profile):
    net, history, data = train(LEARNER_NETS["nn.Flatten"][0], precision="fp16", epochs=3)
    out = capsys.readouterr().out
    assert "fp16 autocast with a GradScaler, channels_last" in out
    assert history["train_loss"][-1] < history["train_loss"][0]
    assert history.steps <= 3 * len(data)
    assert d2l.evaluate_accuracy(data, net, precision="fp16") == history["test_acc"][-1]


def test_the_scaler_skips_a_step_whose_gradients_overflowed_and_says_so():
    w = nn.Parameter(torch.ones(3))
    opt = torch.optim.SGD([w], lr=0.1)
    scaler = torch.amp.GradScaler("cpu")
    assert training._optimizer_step(opt, (w * 2).sum(), scaler) is True
    before = w.detach().clone()
    assert training._optimizer_step(opt, (w * math.inf).sum(), scaler) is False
    torch.testing.assert_close(w.detach(), before)  # skipped: the weights did not move


def test_fp16_with_d2l_sgd_is_refused_at_the_call():
    w = torch.zeros(4, 3, requires_grad=True)
    data = [(torch.rand(8, 4), torch.arange(8) % 3)]
    with pytest.raises(ValueError, match="fp16's loss scaler steps a torch optimizer"):
        d2l.train_ch3(lambda X: X @ w, data, data, nn.CrossEntropyLoss(), 1, 8, [w], 0.1,
                      precision="fp16")


def test_a_checkpoint_taken_on_one_path_resumes_on_another(tmp_path, full_profile, capsys):
    path = tmp_path / "run.pt"
    data = blobs()

    def run(precision, stop_after_epoch=None):
        d2l.set_seed(0)
        net = LEARNER_NETS["nn.Flatten"][0]()
        opt = torch.optim.SGD(net.parameters(), lr=0.1)

        class Stopping(list):
            epochs = 0

            def __iter__(self):
                self.epochs += 1
                if stop_after_epoch is not None and self.epochs > stop_after_epoch:
                    raise KeyboardInterrupt
                return super().__iter__()

        return d2l.train_ch5(net, Stopping(data), data, 16, opt, "cpu", 3, precision=precision,
                             checkpoint=path)

    for first, then in (("bf16", "fp16"), ("fp16", "fp32")):
        path.unlink(missing_ok=True)
        assert run(first, stop_after_epoch=1).epochs_done == 1
        resumed = run(then)
        assert resumed.epochs_done == 3
        assert "1 of 3 epochs already done" in capsys.readouterr().out


# --- learner mistakes named at the call ---------------------------------------------------------

def small_cnn(*tail):
    return nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 10 * 10, 3),
                         *tail)


def fit5(net, data, epochs=1, lr=0.1):
    opt = torch.optim.SGD(net.parameters(), lr=lr)
    return d2l.train_ch5(net, data, data, 16, opt, "cpu", epochs)


def test_a_net_ending_in_softmax_fed_to_cross_entropy_is_named():
    with pytest.raises(ValueError, match="already probabilities.*drop the final nn.Softmax"):
        fit5(small_cnn(nn.Softmax(dim=1)), blobs())
    fit5(small_cnn(), blobs())  # raw scores: trains


def test_a_softmax_net_with_nn_cross_entropy_in_train_ch3_is_named_too():
    net = nn.Sequential(nn.Flatten(), nn.Linear(144, 3), nn.Softmax(dim=1))
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    with pytest.raises(ValueError, match="already probabilities"):
        d2l.train_ch3(net, blobs(), blobs(), nn.CrossEntropyLoss(), 1, 16, optimizer=opt)


@pytest.mark.parametrize("which", ["data", "net"])
def test_float64_in_evaluate_accuracy_is_named_as_in_the_loop(which):
    net, data = small_cnn(), blobs()
    if which == "data":
        data = [(X.double(), y) for X, y in data]
    else:
        net = net.double()
    with pytest.raises(TypeError, match="the images X of data_iter must be torch.float"):
        d2l.evaluate_accuracy(data, net)


def test_nan_images_in_the_first_batch_are_named_not_blamed_on_the_learning_rate():
    data = blobs()
    data[0][0][3, 0, 2, 2] = math.nan
    with pytest.raises(ValueError, match=r"must be finite numbers, got 1 NaN and 0 infinite "
                                         r"values in batch 1; .*fix the data"):
        fit5(small_cnn(), data)


def test_nan_images_in_a_later_batch_are_named_when_the_loss_becomes_nan():
    data = blobs()
    data[2][0][0, 0, 0, 0] = math.inf
    with pytest.raises(d2l.TrainingDiverged, match="the training images hold NaN or inf values "
                                                   r"\(batch 3 .*the learning rate is not"):
        fit5(small_cnn(), data)


def test_a_real_divergence_still_points_at_the_learning_rate():
    data = blobs()
    with pytest.raises(d2l.TrainingDiverged, match=r"look at the learning rate \(SGD with lr=1e\+10: lower it\)"):
        fit5(small_cnn(), data * 4, epochs=1, lr=1e10)


def test_an_empty_batch_is_named():
    data = blobs()
    data.insert(1, (data[0][0][:0], data[0][1][:0]))
    with pytest.raises(ValueError, match="batch 2 of train_iter must be at least one example"):
        fit5(small_cnn(), data)


def test_a_huge_finite_loss_at_chance_is_called_divergence(monkeypatch):
    """Pixels of 1e30 give a finite but enormous loss from the first batch on, so the "100 times
    the first batch" rule cannot see it; the loss far above ln(10) at chance accuracy can."""
    g = torch.Generator().manual_seed(1)
    X = torch.rand(160, 1, 12, 12, generator=g) * 1e30
    y = torch.randint(0, 10, (160,), generator=g)
    data = [(X[i:i + 16], y[i:i + 16]) for i in range(0, 160, 16)]
    net = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(400, 10))
    with pytest.raises(d2l.TrainingDiverged, match=r"far above ln\(10\) = 2.3.*at chance.*"
                                                   r"images range from .* to 1e\+30"):
        fit5(net, data, lr=0.01)


def test_checks_far_above_chance_spares_a_run_that_learns_or_sits_at_ln_c():
    from d2lmini import checks
    assert checks.far_above_chance(50.0, 0.1, 10)
    assert not checks.far_above_chance(2.31, 0.1, 10)  # a net that has learned nothing yet
    assert not checks.far_above_chance(50.0, 0.6, 10)  # bad loss but learning


def test_swapped_pairs_are_named_as_swapped():
    data = [(y, X) for X, y in blobs()]
    with pytest.raises(ValueError, match="the pair looks swapped"):
        fit5(small_cnn(), data)


@pytest.mark.parametrize("loss, message", [
    (d2l.squared_loss, "a regression loss, d2l.squared_loss"),
    (nn.BCEWithLogitsLoss(), "BCEWithLogitsLoss.*yes/no"),
])
def test_losses_for_other_tasks_are_named_in_train_ch3(loss, message):
    net = nn.Sequential(nn.Flatten(), nn.Linear(144, 3))
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    with pytest.raises(ValueError, match=message):
        d2l.train_ch3(net, blobs(), blobs(), loss, 1, 16, optimizer=opt)


def test_a_probability_cross_entropy_fed_raw_scores_is_named():
    def cross_entropy(y_hat, y):  # the scratch loss of chapter 02, written for probabilities
        return -torch.log(y_hat[range(len(y_hat)), y])

    net = nn.Sequential(nn.Flatten(), nn.Linear(144, 3))
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    with pytest.raises(ValueError, match="apply softmax to net"):
        d2l.train_ch3(net, blobs(), blobs(), cross_entropy, 1, 16, optimizer=opt)
    soft = nn.Sequential(nn.Flatten(), nn.Linear(144, 3), nn.Softmax(dim=1))
    opt = torch.optim.SGD(soft.parameters(), lr=0.01)
    d2l.train_ch3(soft, blobs(), blobs(), cross_entropy, 1, 16, optimizer=opt)  # right: trains


def test_a_mis_sized_layer_is_named_with_the_shape_it_got():
    net = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(64, 3))
    with pytest.raises(RuntimeError, match=r"failed in layer 3 \(Linear\(in_features=64.*input of "
                                           r"shape \(16, 400\).*got 400: set in_features=400"):
        fit5(net, blobs())
    wrong_channels = nn.Sequential(nn.Conv2d(3, 4, 3), nn.Flatten(), nn.Linear(400, 3))
    with pytest.raises(RuntimeError, match=r"layer 0 \(Conv2d.*takes 3 input channels and got 1"):
        fit5(wrong_channels, blobs())
