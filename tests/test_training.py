"""Training loops: both loss conventions, errors, history, device handling, accuracy."""

import copy

import pytest
import torch
from torch import nn

import d2lmini as d2l


@pytest.fixture(autouse=True)
def full_profile(monkeypatch):
    monkeypatch.setenv("D2LMINI_PROFILE", "full")


def blobs(n=120, seed=0):
    """Three separable Gaussian blobs in 2-D, served as (X, y) batches of 16."""
    gen = torch.Generator().manual_seed(seed)
    y = torch.arange(n) % 3
    centres = torch.tensor([[3.0, 0.0], [-3.0, 0.0], [0.0, 3.0]])
    X = centres[y] + 0.5 * torch.randn(n, 2, generator=gen)
    return [(X[i:i + 16], y[i:i + 16]) for i in range(0, n, 16)]


def test_sgd_params_and_optimizer_take_the_same_steps():
    """Per-example loss + d2l.sgd and mean loss + optim.SGD at the same lr must agree exactly:
    the loop must neither divide twice nor forget to divide."""
    data = blobs()
    torch.manual_seed(0)
    scratch = nn.Linear(2, 3)
    concise = copy.deepcopy(scratch)
    d2l.train_ch3(scratch, data, data, nn.CrossEntropyLoss(reduction="none"), 2, 16,
                  params=list(scratch.parameters()), lr=0.1)
    d2l.train_ch3(concise, data, data, nn.CrossEntropyLoss(), 2, 16,
                  optimizer=torch.optim.SGD(concise.parameters(), lr=0.1))
    for a, b in zip(scratch.parameters(), concise.parameters()):
        torch.testing.assert_close(a, b)


def test_sum_reduced_loss_is_converted_too():
    data = blobs()
    torch.manual_seed(0)
    a = nn.Linear(2, 3)
    b = copy.deepcopy(a)
    d2l.train_ch3(a, data, data, nn.CrossEntropyLoss(reduction="sum"), 1, 16,
                  optimizer=torch.optim.SGD(a.parameters(), lr=0.1))
    d2l.train_ch3(b, data, data, nn.CrossEntropyLoss(), 1, 16,
                  optimizer=torch.optim.SGD(b.parameters(), lr=0.1))
    for p, q in zip(a.parameters(), b.parameters()):
        torch.testing.assert_close(p, q)


def test_train_ch3_learns_and_returns_history(capsys):
    data = blobs()
    torch.manual_seed(0)
    net = nn.Linear(2, 3)
    history = d2l.train_ch3(net, data, data, nn.CrossEntropyLoss(), 3, 16,
                            optimizer=torch.optim.SGD(net.parameters(), lr=0.1))
    assert set(history) == {"train_loss", "train_acc", "test_acc", "seconds"}
    assert len(history["test_acc"]) == 3
    assert history["train_loss"][-1] < history["train_loss"][0]
    assert history["test_acc"][-1] > 0.95
    lines = [l for l in capsys.readouterr().out.splitlines() if l.startswith("epoch")]
    assert len(lines) == 3 and "test acc" in lines[0] and "examples/sec" in lines[0]


def test_scalar_loss_without_reduction_is_refused():
    data = blobs()
    net = nn.Linear(2, 3)
    with pytest.raises(ValueError, match="reduction"):
        d2l.train_ch3(net, data, data, lambda y_hat, y: nn.functional.cross_entropy(y_hat, y),
                      1, 16, optimizer=torch.optim.SGD(net.parameters(), lr=0.1))


def test_train_ch3_needs_an_optimizer_or_params_and_lr():
    data = blobs()
    net = nn.Linear(2, 3)
    for kwargs in ({}, {"params": list(net.parameters())}, {"lr": 0.1}):
        with pytest.raises(ValueError, match="optimizer"):
            d2l.train_ch3(net, data, data, nn.CrossEntropyLoss(), 1, 16, **kwargs)


@pytest.mark.parametrize("num_epochs", [0, -1, 1.5])
def test_num_epochs_must_be_positive(num_epochs):
    data = blobs()
    net = nn.Linear(2, 3)
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    with pytest.raises((TypeError, ValueError), match="num_epochs must be a positive int"):
        d2l.train_ch3(net, data, data, nn.CrossEntropyLoss(), num_epochs, 16, optimizer=opt)
    with pytest.raises((TypeError, ValueError), match="num_epochs must be a positive int"):
        d2l.train_ch5(net, data, data, 16, opt, "cpu", num_epochs)


def test_divergence_names_epoch_and_batch():
    data = blobs()
    data[3] = (torch.full_like(data[3][0], float("nan")), data[3][1])  # 4th batch poisons the loss
    net = nn.Linear(2, 3)
    with pytest.raises(d2l.TrainingDiverged, match=r"epoch 1, batch 4 of 8"):
        d2l.train_ch5(net, data, data, 16, torch.optim.SGD(net.parameters(), lr=0.1), "cpu", 2)


def test_huge_learning_rate_is_reported_as_divergence():
    data = [(X * 1e3, y) for X, y in blobs()]
    net = nn.Sequential(nn.Linear(2, 64), nn.ReLU(), nn.Linear(64, 3))
    with pytest.raises(d2l.TrainingDiverged, match="epoch"):
        d2l.train_ch3(net, data, data, nn.CrossEntropyLoss(), 5, 16,
                      optimizer=torch.optim.SGD(net.parameters(), lr=1e6))


def test_train_ch5_accepts_device_strings_and_none(capsys):
    data = blobs()
    for device in ("cpu", torch.device("cpu"), None):
        net = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 3))
        history = d2l.train_ch5(net, data, data, 16, torch.optim.Adam(net.parameters(), 0.05),
                                device, 2)
        assert len(history["train_loss"]) == 2
    assert "training on" in capsys.readouterr().out
    with pytest.raises(ValueError, match="device"):
        d2l.train_ch5(net, data, data, 16, torch.optim.Adam(net.parameters()), "no-such-device", 1)


def test_smoke_profile_caps_epochs(monkeypatch, capsys):
    monkeypatch.setenv("D2LMINI_PROFILE", "smoke")
    data = blobs()
    net = nn.Linear(2, 3)
    history = d2l.train_ch5(net, data, data, 16, torch.optim.SGD(net.parameters(), lr=0.1), "cpu", 5)
    assert len(history["test_acc"]) == 1
    assert "1 of 5 epochs" in capsys.readouterr().out


def test_unknown_profile_is_an_error(monkeypatch):
    monkeypatch.setenv("D2LMINI_PROFILE", "fast")
    with pytest.raises(ValueError, match="D2LMINI_PROFILE"):
        d2l.current_profile()


def test_evaluate_accuracy_restores_mode_and_uses_no_grad():
    seen = []

    class Probe(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(2, 3)

        def forward(self, x):
            seen.append((self.training, torch.is_grad_enabled()))
            return self.lin(x)

    data = blobs(32)
    net = Probe()
    for mode in (True, False):
        net.train(mode)
        acc = d2l.evaluate_accuracy(data, net)
        assert 0 <= acc <= 1
        assert net.training is mode
    assert all(state == (False, False) for state in seen)


def test_evaluate_accuracy_counts_correctly():
    X = torch.eye(3)
    y = torch.tensor([0, 1, 0])
    assert d2l.evaluate_accuracy([(X, y)], nn.Identity()) == pytest.approx(2 / 3)


def test_batch_loss_in_eval_mode_leaves_the_net_and_random_state_as_they_were():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(4, 8), nn.Dropout(0.5), nn.Linear(8, 3)).train()
    X, y = torch.randn(6, 4), torch.tensor([0, 1, 2, 0, 1, 2])
    state = torch.get_rng_state()
    loss = d2l.batch_loss(net, X, y)
    assert net.training and torch.equal(torch.get_rng_state(), state)
    with torch.no_grad():
        expected = nn.functional.cross_entropy(net.eval()(X), y).item()
    assert loss == pytest.approx(expected)


def test_batch_loss_in_train_mode_uses_batch_statistics_on_a_copy():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(4, 5), nn.BatchNorm1d(5), nn.Dropout(0.3), nn.Linear(5, 3)).eval()
    X, y = 3 + 2 * torch.randn(16, 4), torch.arange(16) % 3
    buffers = {k: v.clone() for k, v in net.state_dict().items()}
    state = torch.get_rng_state()
    loss = d2l.batch_loss(net, X, y, train_mode=True)
    assert not net.training and torch.equal(torch.get_rng_state(), state)
    assert all(torch.equal(v, buffers[k]) for k, v in net.state_dict().items())
    probe = copy.deepcopy(net).train()
    with torch.no_grad():  # the same dropout mask: the random state was restored
        expected = nn.functional.cross_entropy(probe(X), y).item()
    assert loss == pytest.approx(expected)
    assert loss != pytest.approx(d2l.batch_loss(net, X, y))  # eval mode: running statistics


def test_batch_loss_refuses_bad_arguments_by_name():
    net, X, y = nn.Linear(4, 3), torch.randn(6, 4), torch.zeros(6, dtype=torch.long)
    with pytest.raises(TypeError, match="net"):
        d2l.batch_loss(lambda X: X, X, y)
    with pytest.raises(TypeError, match="X"):
        d2l.batch_loss(net, X.long(), y)
    with pytest.raises(TypeError, match="y"):
        d2l.batch_loss(net, X, y.float())
    with pytest.raises(ValueError, match="one label per image"):
        d2l.batch_loss(net, X, y[:5])
    with pytest.raises(TypeError, match="train_mode"):
        d2l.batch_loss(net, X, y, train_mode=1)


def test_check_accuracy_asserts_in_full_only(monkeypatch):
    history = {"test_acc": [0.5, 0.6]}
    with pytest.raises(AssertionError, match="below the floor"):
        d2l.check_accuracy(history, 0.9)
    assert d2l.check_accuracy(history, 0.55) == 0.6
    monkeypatch.setenv("D2LMINI_PROFILE", "smoke")
    assert d2l.check_accuracy(history, 0.9) == 0.6


def test_try_gpu_and_get_device():
    device = d2l.try_gpu()
    assert device.type in {"cuda", "mps", "cpu"}
    assert d2l.get_device("cpu") == torch.device("cpu")
    with pytest.raises(TypeError, match="device"):
        d2l.get_device(3)


def test_cosine_schedule_follows_the_formula_per_step():
    import math
    w = nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([w], lr=0.2)
    d2l.cosine_schedule(opt, 10)
    for _ in range(4):
        w.grad = torch.ones(1)
        opt.step()
    assert opt.param_groups[0]["lr"] == pytest.approx(0.1 * (1 + math.cos(math.pi * 4 / 10)))
    with pytest.raises(ValueError, match="total_steps"):
        d2l.cosine_schedule(opt, 0)


def test_num_params_counts_weights_and_biases():
    assert d2l.num_params(nn.Linear(3, 4)) == 16


# ---- plausible mistakes: each refused at the call, naming the argument (issue 10) ----

def linear_and_sgd():
    net = nn.Linear(2, 3)
    return net, torch.optim.SGD(net.parameters(), lr=0.1)


def test_labels_shaped_b_by_1_are_refused_not_counted_wrong():
    data = blobs()
    column = [(X, y.reshape(-1, 1)) for X, y in data]
    net, opt = linear_and_sgd()
    with pytest.raises(ValueError, match=r"the labels y of data_iter must be a 1-D integer tensor"
                                         r".*shape \(16, 1\).*y.reshape\(-1\)"):
        d2l.evaluate_accuracy(column, net)
    with pytest.raises(ValueError, match="the labels y of train_iter must be"):
        d2l.train_ch3(net, column, data, nn.CrossEntropyLoss(), 1, 16, optimizer=opt)
    with pytest.raises(ValueError, match="the labels y of test_iter must be"):
        d2l.train_ch5(net, data, column, 16, opt, "cpu", 1)


def test_float_labels_and_uint8_images_are_refused():
    data = blobs()
    net, opt = linear_and_sgd()
    with pytest.raises(ValueError, match="the labels y of data_iter must be a 1-D integer"):
        d2l.evaluate_accuracy([(X, y.float()) for X, y in data], net)
    images = [(torch.randint(0, 255, (4, 2), dtype=torch.uint8), torch.zeros(4, dtype=torch.long))]
    with pytest.raises(TypeError, match=r"the images X of train_iter must be a floating-point "
                                        r"tensor, got a torch.uint8 tensor.*X.float\(\) / 255"):
        d2l.train_ch5(net, images, data, 4, opt, "cpu", 1)


def test_scores_of_the_wrong_shape_are_refused():
    data = blobs()
    net = nn.Sequential(nn.Linear(2, 3), nn.Flatten(0))  # (B*3,): forgot the class axis
    with pytest.raises(ValueError, match=r"net\(X\) must be class scores shaped \(batch, num_classes\)"):
        d2l.evaluate_accuracy(data, net)


def test_a_generator_of_parameters_is_refused():
    data = blobs()
    net = nn.Linear(2, 3)
    with pytest.raises(TypeError, match=r"params must be a list of tensors, got a generator; .*"
                                        r"list\(net.parameters\(\)\)"):
        d2l.train_ch3(net, data, data, nn.CrossEntropyLoss(reduction="none"), 2, 16,
                      params=net.parameters(), lr=0.1)


def test_params_and_optimizer_together_are_refused():
    data = blobs()
    net, opt = linear_and_sgd()
    with pytest.raises(ValueError, match="either optimizer=... or params=... and lr=..., got both"):
        d2l.train_ch3(net, data, data, nn.CrossEntropyLoss(), 1, 16,
                      params=list(net.parameters()), lr=0.1, optimizer=opt)
    with pytest.raises(ValueError, match="lr missing"):
        d2l.train_ch3(net, data, data, nn.CrossEntropyLoss(), 1, 16, params=list(net.parameters()))


@pytest.mark.parametrize("lr,error", [("0.1", TypeError), (float("nan"), ValueError), (-1.0, ValueError)])
def test_bad_learning_rates_are_refused(lr, error):
    data = blobs()
    net = nn.Linear(2, 3)
    with pytest.raises(error, match="lr must be"):
        d2l.train_ch3(net, data, data, nn.CrossEntropyLoss(), 1, 16, params=list(net.parameters()), lr=lr)


def test_an_optimizer_of_another_net_is_refused():
    data = blobs()
    net, _ = linear_and_sgd()
    _, other = linear_and_sgd()
    with pytest.raises(ValueError, match="optimizer must be built over this net's parameters"):
        d2l.train_ch5(net, data, data, 16, other, "cpu", 1)
    with pytest.raises(ValueError, match="optimizer must be built over this net's parameters"):
        d2l.train_ch3(net, data, data, nn.CrossEntropyLoss(), 1, 16, optimizer=other)


def test_missing_optimizer_and_non_module_net_are_named():
    data = blobs()
    net, _ = linear_and_sgd()
    with pytest.raises(TypeError, match=r"optimizer must be a torch.optim.Optimizer, .*got None"):
        d2l.train_ch5(net, data, data, 16, None, "cpu", 1)
    with pytest.raises(TypeError, match="net must be a torch.nn.Module"):
        d2l.train_ch5(lambda X: X, data, data, 16, None, "cpu", 1)


def test_empty_iterables_are_named():
    data = blobs()
    net, opt = linear_and_sgd()
    with pytest.raises(ValueError, match="test_iter must be an iterable that yields at least one batch"):
        d2l.train_ch5(net, data, [], 16, opt, "cpu", 1)
    with pytest.raises(ValueError, match="test_iter must be an iterable that yields at least one batch"):
        d2l.train_ch5(net, data, iter([]), 16, opt, "cpu", 1)
    with pytest.raises(ValueError, match="data_iter must be an iterable that yields at least one batch"):
        d2l.evaluate_accuracy([], net)
    with pytest.raises(TypeError, match="train_iter must be an iterable of"):
        d2l.train_ch5(net, torch.zeros(3), data, 16, opt, "cpu", 1)


def test_check_accuracy_names_its_arguments():
    with pytest.raises(TypeError, match="history must be the dict that train_ch3/train_ch5 returned, got None"):
        d2l.check_accuracy(None, 0.5)
    with pytest.raises(ValueError, match="floor must be a number in"):
        d2l.check_accuracy({"test_acc": [0.9]}, 90)
    with pytest.raises(ValueError, match="history must be the history of at least one finished epoch"):
        d2l.check_accuracy({"test_acc": []}, 0.5)


def test_cosine_schedule_twice_is_refused_and_never_climbs_back():
    w = nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([w], lr=0.2)
    d2l.cosine_schedule(opt, 3)
    with pytest.raises(ValueError, match="optimizer must be an optimizer without a cosine schedule yet"):
        d2l.cosine_schedule(opt, 3)
    lrs = []
    with pytest.warns(UserWarning, match="past total_steps=3; the learning rate stays 0"):
        for _ in range(6):
            w.grad = torch.ones(1)
            opt.step()
            lrs.append(opt.param_groups[0]["lr"])
    assert lrs[2:] == [0.0, 0.0, 0.0, 0.0] and lrs[0] > lrs[1] > 0
    with pytest.raises(TypeError, match="optimizer must be a torch.optim.Optimizer"):
        d2l.cosine_schedule([w], 3)


# ---- progress, estimate, Ctrl-C (issue 11) ----

class InterruptAt:
    """A train_iter that raises KeyboardInterrupt (what Ctrl-C raises) in pass `at_pass`."""

    def __init__(self, data, at_pass):
        self.data, self.at_pass, self.passes = data, at_pass, 0

    def __len__(self):
        return len(self.data)

    def __iter__(self):
        self.passes += 1
        for i, batch in enumerate(self.data):
            if self.passes == self.at_pass and i == 2:
                raise KeyboardInterrupt
            yield batch


@pytest.mark.parametrize("loop", ["train_ch3", "train_ch5"])
def test_ctrl_c_returns_the_finished_epochs_and_keeps_the_weights(capsys, loop):
    data = blobs()
    torch.manual_seed(0)
    net, opt = linear_and_sgd()
    before = net.weight.detach().clone()
    train_iter = InterruptAt(data, at_pass=3)
    if loop == "train_ch3":
        history = d2l.train_ch3(net, train_iter, data, nn.CrossEntropyLoss(), 5, 16, optimizer=opt)
    else:
        history = d2l.train_ch5(net, train_iter, data, 16, opt, "cpu", 5)
    out = capsys.readouterr().out
    assert "training interrupted during epoch 3 of 5: returning the history of the 2 finished epochs" in out
    assert all(len(v) == 2 for v in history.values())
    assert not torch.equal(net.weight, before)  # the weights learned so far are kept
    # the two finished epochs plus two batches of the third: the same as training that much
    torch.manual_seed(0)
    again, opt2 = linear_and_sgd()
    for X, y in data * 2 + data[:2]:
        opt2.zero_grad()
        nn.functional.cross_entropy(again(X), y).backward()
        opt2.step()
    torch.testing.assert_close(net.weight, again.weight)


def test_estimate_is_printed_once_and_warns_on_long_cpu_runs(capsys, monkeypatch):
    from d2lmini import progress
    data = blobs()
    net, opt = linear_and_sgd()
    d2l.train_ch5(net, data, data, 16, opt, "cpu", 2)
    out = capsys.readouterr().out
    assert out.count("estimated time for 2 epochs on cpu: ") == 1
    assert "long on a CPU" not in out
    monkeypatch.setattr(progress, "LONG_RUN_SECONDS", 0.0)
    monkeypatch.setenv("D2LMINI_PROFILE", "full")
    d2l.train_ch5(net, data, data, 16, opt, "cpu", 1)
    out = capsys.readouterr().out
    assert "that is long on a CPU" in out
    # the quick profile is named with its cost measured here: one epoch of this run
    assert "`%env D2LMINI_PROFILE=quick` before the first import: all the data, 1 epoch, " in out


# ---- round 2 (issue 18): the net's output is checked before the loss, every mistake named ----

class Reshaped(nn.Module):
    """Wraps a (B, 2) -> (B, 3) linear net and reshapes or repackages its scores."""

    def __init__(self, how):
        super().__init__()
        self.linear, self.how = nn.Linear(2, 3), how

    def forward(self, X):
        scores = self.linear(X)
        return {"4d": lambda: scores[:, :, None, None], "flat": lambda: scores[:, 0],
                "tuple": lambda: (scores, scores), "one": lambda: scores[:, :1]}[self.how]()


@pytest.mark.parametrize("how, error, match", [
    ("4d", ValueError, r"net\(X\) must be class scores.*1 x 1 spatial axes: end the net with nn.Flatten"),
    ("flat", ValueError, r"net\(X\) must be class scores shaped \(batch, num_classes\)"),
    ("tuple", TypeError, r"net\(X\) must be class scores.*got a tuple of 2.*several values"),
    ("one", ValueError, r"net\(X\) must be at least two class scores.*always class 0"),
])
@pytest.mark.parametrize("loop", ["ch3", "ch5", "eval"])
def test_net_output_is_checked_before_the_loss(how, error, match, loop):
    data = blobs()
    net = Reshaped(how)
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    with pytest.raises(error, match=match):
        if loop == "ch3":
            d2l.train_ch3(net, data, data, nn.CrossEntropyLoss(), 1, 16, optimizer=opt)
        elif loop == "ch5":
            d2l.train_ch5(net, data, data, 16, opt, "cpu", 1)
        else:
            d2l.evaluate_accuracy(data, net)


@pytest.mark.parametrize("bad_batch", [0, 5])
def test_labels_out_of_range_are_named_with_their_batch(bad_batch):
    data = blobs()
    X, y = data[bad_batch]
    data[bad_batch] = (X, torch.where(y == 2, 3, y))  # a label 3 for 3 scores
    net, opt = linear_and_sgd()
    with pytest.raises(ValueError, match=rf"class indices in 0..2.*label 3 in batch {bad_batch + 1}"):
        d2l.train_ch3(net, data, blobs(), nn.CrossEntropyLoss(), 1, 16, optimizer=opt)
    with pytest.raises(ValueError, match=r"labels y of data_iter must be class indices in 0..2"):
        d2l.evaluate_accuracy(data, net)  # silently 0.03 before


def test_float64_data_or_a_double_net_is_named():
    data = blobs()
    net, opt = linear_and_sgd()
    with pytest.raises(TypeError, match=r"images X of train_iter must be torch.float32, the dtype "
                                        r"of the net's weights.*X.float\(\)"):
        d2l.train_ch5(net, [(X.double(), y) for X, y in data], data, 16, opt, "cpu", 1)
    net.double()
    with pytest.raises(TypeError, match="must be torch.float64"):
        d2l.train_ch5(net, data, data, 16, opt, "cpu", 1)


def test_int32_labels_train():
    data = [(X, y.int()) for X, y in blobs()]
    net, opt = linear_and_sgd()
    history = d2l.train_ch3(net, data, data, nn.CrossEntropyLoss(), 2, 16, optimizer=opt)
    assert history["test_acc"][-1] > 0.9


def test_a_single_pair_or_batches_of_three_are_named():
    X, y = torch.cat([b[0] for b in blobs()]), torch.cat([b[1] for b in blobs()])
    net, opt = linear_and_sgd()
    with pytest.raises(TypeError, match=r"train_iter must be an iterable of \(X, y\) batches, got a "
                                        r"single pair.*\[\(X, y\)\]"):
        d2l.train_ch3(net, (X, y), (X, y), nn.CrossEntropyLoss(), 1, 16, optimizer=opt)
    triples = [(X, y, torch.zeros(len(y))) for X, y in blobs()]
    with pytest.raises(TypeError, match=r"each batch of train_iter must be a pair \(X, y\), got 3 items"):
        d2l.train_ch3(net, triples, blobs(), nn.CrossEntropyLoss(), 1, 16, optimizer=opt)


def test_wrong_losses_are_named_at_the_call():
    data = blobs()
    net, opt = linear_and_sgd()
    with pytest.raises(TypeError, match=r"loss must be .*got the class CrossEntropyLoss; create "
                                        r"one: loss=CrossEntropyLoss\(\)"):
        d2l.train_ch3(net, data, data, nn.CrossEntropyLoss, 1, 16, optimizer=opt)
    with pytest.raises(ValueError, match=r"loss must be a classification loss.*MSELoss"):
        d2l.train_ch3(net, data, data, nn.MSELoss(), 1, 16, optimizer=opt)
    with pytest.raises(ValueError, match=r"nn.NLLLoss\(\) on scores that are not log-probabilities"):
        d2l.train_ch3(net, data, data, nn.NLLLoss(), 1, 16, optimizer=opt)
    logsoftmax = nn.Sequential(nn.Linear(2, 3), nn.LogSoftmax(dim=1))
    d2l.train_ch3(logsoftmax, data, data, nn.NLLLoss(), 1, 16,
                  optimizer=torch.optim.SGD(logsoftmax.parameters(), lr=0.1))  # the right use


def test_params_the_net_does_not_use_are_named():
    data = blobs()
    net = nn.Linear(2, 3)
    stray = torch.zeros(3, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"params\[2\] must be a tensor the net's output depends "
                                           r"on.*another net's"):
        d2l.train_ch3(net, data, data, nn.CrossEntropyLoss(reduction="none"), 1, 16,
                      params=[*net.parameters(), stray], lr=0.1)


def test_a_batch_norm_net_with_a_last_batch_of_one_is_explained():
    X, y = torch.cat([b[0] for b in blobs(n=33)]), torch.cat([b[1] for b in blobs(n=33)])
    data = [(X[i:i + 16], y[i:i + 16]) for i in range(0, 33, 16)]  # 16, 16, 1
    net = nn.Sequential(nn.Linear(2, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 3))
    with pytest.raises(ValueError, match=r"batch 3 of train_iter holds 1 example.*batch norm.*"
                                         r"drop_last=True"):
        d2l.train_ch5(net, data, data, 16, torch.optim.SGD(net.parameters(), lr=0.1), "cpu", 1)


def test_the_classic_learning_rate_with_a_mean_loss_stops_with_the_explanation():
    data = blobs()
    net = nn.Linear(2, 3)
    with pytest.raises(ValueError, match=r"lr=100 with a loss that averages.*classic d2l helper.*"
                                         r"lr=100 / 256 = 0.3906"):
        d2l.train_ch3(net, data, data, nn.CrossEntropyLoss(), 1, 256,
                      params=list(net.parameters()), lr=100.0)
    # the same lr on a per-example loss is the classic step too: not refused by this rule
    other = nn.Linear(2, 3)
    with pytest.raises(d2l.TrainingDiverged):
        d2l.train_ch3(other, [(X * 1e3, y) for X, y in data], data,
                      nn.CrossEntropyLoss(reduction="none"), 3, 16,
                      params=list(other.parameters()), lr=100.0)


def test_a_loss_that_explodes_without_nan_is_divergence():
    data = [(X * 1e3, y) for X, y in blobs()]
    net = nn.Linear(2, 3)
    with pytest.raises(d2l.TrainingDiverged, match=r"over 100 times the first batch's"):
        d2l.train_ch3(net, data, data, nn.CrossEntropyLoss(), 3, 16,
                      optimizer=torch.optim.SGD(net.parameters(), lr=10.0))


def test_evaluate_accuracy_tests_a_classic_function_net_with_is_training_false():
    data = blobs()
    linear = nn.Linear(2, 3)
    calls = []

    def net(X, is_training=True):  # the classic scratch dropout net's signature
        calls.append(is_training)
        return linear(X) if not is_training else torch.zeros(len(X), 3)

    acc = d2l.evaluate_accuracy(data, net)
    assert calls and not any(calls)
    assert acc == d2l.evaluate_accuracy(data, linear)


def test_progress_wording_reads_right_for_one_and_for_none():
    from d2lmini.profile import plural
    from d2lmini.progress import _about
    assert plural(1, "batch", "batches") == "1 batch" and plural(3, "batch", "batches") == "3 batches"
    assert plural(0, "finished epoch") == "0 finished epochs"
    assert _about(0.2) == "under 1 s" and _about(30) == "about 30 s" and _about(600) == "about 10 min"


def test_progress_in_a_kernel_is_text_a_saved_notebook_can_show_anywhere():
    """No widget views: a reopened notebook shows no "Error displaying widget: model not found",
    and a viewer outside the browser shows text (issue 19)."""
    import nbformat
    from nbclient import NotebookClient
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(
        "import torch, d2lmini as d2l\nfrom torch import nn\n"
        "X = torch.randn(64, 2); y = (X[:, 0] > 0).long()\n"
        "data = [(X[i:i + 16], y[i:i + 16]) for i in range(0, 64, 16)]\n"
        "net = nn.Linear(2, 2)\n"
        "history = d2l.train_ch5(net, data, data, 16, torch.optim.SGD(net.parameters(), lr=0.1), 'cpu', 1)")]
    NotebookClient(nb, timeout=120, kernel_name="python3").execute()
    outputs = nb.cells[0].outputs
    assert not any("application/vnd.jupyter.widget-view+json" in o.get("data", {}) for o in outputs)
    bar = "".join(o.text for o in outputs if o.output_type == "stream" and o.name == "stdout")
    assert "epoch 1/1:" in bar  # the bar, on stdout with the printed lines (tests/test_long_runs.py)
