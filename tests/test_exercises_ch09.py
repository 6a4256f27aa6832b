"""The exercise checks of 09_alexnet: each accepts the reference solution, reports an untouched
stub as not attempted, and rejects the typical mistakes with a hint at the cause."""

import random

import numpy as np
import pytest
import torch
import torchvision
from torch import nn
from torchvision.transforms import v2

import d2lmini as d2l
from d2lmini.exercises import ExerciseFailed

ex = d2l.exercises


def stub(*args):
    raise NotImplementedError


# 09.1 the smallest input side -------------------------------------------------------------------

def test_min_side_reference(capsys):
    ex.check_alexnet_min_side(193)
    assert "correct" in capsys.readouterr().out


def test_min_side_stub(capsys):
    ex.check_alexnet_min_side(None)
    assert "not attempted yet" in capsys.readouterr().out


def test_min_side_reference_is_what_the_network_accepts():
    def alexnet():  # the notebook's layers; the head's 6400 inputs fix the last maps at 5 x 5
        return nn.Sequential(
            nn.Conv2d(1, 96, 11, 4, 1), nn.MaxPool2d(3, 2), nn.Conv2d(96, 256, 5, padding=2),
            nn.MaxPool2d(3, 2), nn.Conv2d(256, 384, 3, padding=1), nn.Conv2d(384, 384, 3, padding=1),
            nn.Conv2d(384, 256, 3, padding=1), nn.MaxPool2d(3, 2), nn.Flatten(), nn.Linear(6400, 10))

    with torch.device("meta"):
        net = alexnet()
        assert net(torch.empty(1, 1, 193, 193)).shape == (1, 10)
        with pytest.raises(RuntimeError):
            net(torch.empty(1, 1, 192, 192))


@pytest.mark.parametrize("answer", [193.0, np.int64(193), torch.tensor(193)])
def test_min_side_accepts_any_form_of_the_number(answer, capsys):
    ex.check_alexnet_min_side(answer)
    assert "correct" in capsys.readouterr().out


@pytest.mark.parametrize("answer,hint", [
    (65, "1 x 1 maps, but the flatten then gives 256 numbers"),  # ignored the dense layer
    (192, "gives 4 x 4 maps"),  # off by one
    (227, "gives 6 x 6 maps"),  # the original's input size
    (224, "a smaller side does too"),  # the size the notebook uses
    ("193", "expected one number"),
    (True, "expected one number"),
    (193.5, "a whole number"),
])
def test_min_side_mistakes(answer, hint):
    with pytest.raises(ExerciseFailed, match=hint):
        ex.check_alexnet_min_side(answer)


# 09.2 parameters of the original AlexNet ----------------------------------------------------------

def imagenet_alexnet():
    return [nn.Conv2d(3, 96, 11, 4), nn.Conv2d(96, 256, 5, padding=2, groups=2),
            nn.Conv2d(256, 384, 3, padding=1), nn.Conv2d(384, 384, 3, padding=1, groups=2),
            nn.Conv2d(384, 256, 3, padding=1, groups=2),
            nn.Linear(256 * 6 * 6, 4096), nn.Linear(4096, 4096), nn.Linear(4096, 1000)]


def test_params_reference(capsys):
    with torch.device("meta"):
        count = sum(d2l.num_params(layer) for layer in imagenet_alexnet())
    ex.check_imagenet_alexnet_params(count)
    assert "correct (60,965,224 parameters" in capsys.readouterr().out


def test_params_accepts_a_numpy_count(capsys):
    ex.check_imagenet_alexnet_params(np.int64(60_965_224))
    assert "correct" in capsys.readouterr().out


def test_params_stub(capsys):
    ex.check_imagenet_alexnet_params(None)
    assert "not attempted yet" in capsys.readouterr().out


def without_groups():
    with torch.device("meta"):
        return sum(d2l.num_params(nn.Conv2d(m.in_channels, m.out_channels, m.kernel_size))
                   if isinstance(m, nn.Conv2d) else d2l.num_params(m) for m in imagenet_alexnet())


def without_biases():
    with torch.device("meta"):
        return sum(m.weight.numel() for m in imagenet_alexnet())


def torchvision_alexnet():
    with torch.device("meta"):
        return d2l.num_params(torchvision.models.alexnet())


@pytest.mark.parametrize("count,hint", [
    (without_groups, "groups=2"),
    (without_biases, "left out the biases"),
    (lambda: 49_430_888, "5 x 5 final maps"),
    (torchvision_alexnet, "torchvision's alexnet"),
    (lambda: 60_000_000, "rounds to 60 million"),
    (lambda: 60_965_225, "is not the count"),
])
def test_params_mistakes(count, hint):
    with pytest.raises(ExerciseFailed, match=hint):
        ex.check_imagenet_alexnet_params(count())


# 09.3 a random flip per image --------------------------------------------------------------------

def random_flip(X):
    flip = torch.rand(len(X), 1, 1, 1) < 0.5
    return torch.where(flip, X.flip(-1), X)


def flip_each_with_v2(X):  # one transform call per image, as section 5 of the notebook does
    flip = v2.RandomHorizontalFlip(p=0.5)
    return torch.stack([flip(img) for img in X])


def flip_with_python_random(X):
    return torch.stack([img.flip(-1) if random.random() < 0.5 else img for img in X])


def flip_with_numpy(X):
    coins = torch.from_numpy(np.random.rand(len(X)) < 0.5).reshape(-1, 1, 1, 1)
    return torch.where(coins, X.flip(-1), X)


own_generator = torch.Generator().manual_seed(123)  # created once, outside the function


def flip_with_own_generator(X):
    coins = torch.rand(len(X), generator=own_generator) < 0.5
    return torch.where(coins.reshape(-1, 1, 1, 1), X.flip(-1), X)


def flip_in_place(X):
    for i in range(len(X)):
        if torch.rand(()) < 0.5:
            X[i] = X[i].flip(-1)
    return X


@pytest.mark.parametrize("answer", [random_flip, flip_each_with_v2, flip_with_python_random,
                                    flip_with_numpy, flip_with_own_generator, flip_in_place])
def test_flip_valid_answers(answer, capsys):
    ex.check_random_flip(answer)
    assert "correct" in capsys.readouterr().out


def test_flip_does_not_disturb_the_global_rng():
    torch.manual_seed(1)
    expected = torch.rand(3)
    torch.manual_seed(1)
    ex.check_random_flip(random_flip)
    torch.testing.assert_close(torch.rand(3), expected)


def test_flip_stub(capsys):
    ex.check_random_flip(stub)
    assert "not attempted yet" in capsys.readouterr().out


def every_other_image(X):
    out = X.clone()
    out[::2] = X[::2].flip(-1)
    return out


def every_other_random_start(X):
    start = int(torch.randint(2, ()))
    out = X.clone()
    out[start::2] = X[start::2].flip(-1)
    return out


def reseeds_torch(X):
    torch.manual_seed(0)
    return random_flip(X)


def fresh_generator(X):
    g = torch.Generator().manual_seed(0)
    coins = torch.rand(len(X), generator=g) < 0.5
    return torch.where(coins.reshape(-1, 1, 1, 1), X.flip(-1), X)


def by_content(X):  # "random-looking", but the same images every time
    bright = X.mean(dim=(1, 2, 3)) > X.mean()
    return torch.where(bright.reshape(-1, 1, 1, 1), X.flip(-1), X)


def first_half(X):
    out = X.clone()
    out[:len(X) // 2] = X[:len(X) // 2].flip(-1)
    return out


def runs_of_four(X):  # a fresh coin for each group of four neighbours
    coins = (torch.rand((len(X) + 3) // 4) < 0.5).repeat_interleave(4)[:len(X)]
    return torch.where(coins.reshape(-1, 1, 1, 1), X.flip(-1), X)


def front_flipped_more(X):  # the probability falls along the batch
    p = torch.linspace(0.9, 0.1, len(X))
    return torch.where((torch.rand(len(X)) < p).reshape(-1, 1, 1, 1), X.flip(-1), X)


@pytest.mark.parametrize("wrong,hint", [
    (lambda X: X.flip(-1) if torch.rand(()) < 0.5 else X, "one random choice per image"),  # whole batch
    (lambda X: torch.where(torch.rand(len(X), 1, 1, 1) < 0.5, X.flip(-2), X), "upside down"),
    (lambda X: torch.where(torch.rand(len(X), X.shape[1], 1, 1) < 0.5, X.flip(-1), X),
     "flip all channels of an image together"),  # a coin per channel
    (lambda X: torch.where(torch.rand(len(X), 1, 1, 1) < 0.9, X.flip(-1), X), "probability 1/2"),
    (lambda X: X.flip(0), "reversed the order of the images"),
    (every_other_image, "flipped exactly the same"),
    (every_other_random_start, "flipped exactly the same"),
    (reseeds_torch, "Do not reseed inside the function"),
    (fresh_generator, "Do not reseed inside the function"),
    (by_content, "do not pick images by position or by content"),
    (first_half, "flipped exactly the same"),
    (runs_of_four, "follow the images' positions"),
    (front_flipped_more, "in the first half of a batch"),
])
def test_flip_mistakes(wrong, hint):
    with pytest.raises(ExerciseFailed, match=hint):
        ex.check_random_flip(wrong)


# 09.4 predictions without dropout ----------------------------------------------------------------

def predict(net, X):
    modes = [(m, m.training) for m in net.modules()]
    net.eval()
    with torch.no_grad():
        labels = net(X).argmax(dim=1)
    for m, was in modes:
        m.training = was
    return labels


def restores_with_train(net, X):
    # the hint before issue 27: right while every layer shares one mode, but net.train(was)
    # puts a frozen submodule back into training mode
    was_training = net.training
    net.eval()
    with torch.no_grad():
        labels = net(X).argmax(dim=1)
    net.train(was_training)
    return labels


def test_predict_reference(capsys):
    ex.check_predict_without_dropout(predict)
    assert "correct" in capsys.readouterr().out


def test_predict_stub(capsys):
    ex.check_predict_without_dropout(stub)
    assert "not attempted yet" in capsys.readouterr().out


def forgets_eval(net, X):
    with torch.no_grad():
        return net(X).argmax(dim=1)


def never_restores(net, X):
    net.eval()
    with torch.no_grad():
        return net(X).argmax(dim=1)


def always_back_to_training(net, X):
    net.eval()
    with torch.no_grad():
        labels = net(X).argmax(dim=1)
    net.train()
    return labels


def returns_scores(net, X):
    was_training = net.training
    net.eval()
    with torch.no_grad():
        scores = net(X)
    net.train(was_training)
    return scores


def sets_only_the_outer_flag(net, X):
    was_training = net.training
    net.eval()
    with torch.no_grad():
        labels = net(X).argmax(dim=1)
    net.training = was_training  # the submodules stay in evaluation mode
    return labels


def switches_only_dropout(net, X):
    for m in net.modules():
        if isinstance(m, nn.Dropout):
            m.eval()
    with torch.no_grad():
        return net(X).argmax(dim=1)


def zeroes_p(net, X):
    for m in net.modules():
        if isinstance(m, nn.Dropout):
            m.p = 0.0
    with torch.no_grad():
        return net(X).argmax(dim=1)


def predict_with_inference_mode(net, X):
    modes = {name: m.training for name, m in net.named_modules()}
    net.train(False)
    try:
        with torch.inference_mode():
            return net(X).argmax(1)
    finally:
        for name, m in net.named_modules():
            m.train(modes[name])  # parents come before their children: the last word is each own


def predict_restoring_only_if_needed(net, X):
    was_training = [m for m in net.modules() if m.training]
    net.eval()
    scores = net(X).detach()
    for m in was_training:
        m.training = True
    return scores.argmax(dim=1)


def predict_restoring_only_the_old_way_if_needed(net, X):
    was_training = net.training
    net.eval()
    scores = net(X).detach()
    if was_training:
        net.train()
    return scores.argmax(dim=1)


def restores_the_frozen_ones_only(net, X):
    # puts frozen layers back in evaluation mode, but a layer left in training mode inside a net
    # in evaluation mode stays switched off
    was_training, frozen = net.training, [m for m in net.modules() if not m.training]
    net.eval()
    with torch.no_grad():
        labels = net(X).argmax(dim=1)
    net.train(was_training)
    for m in frozen:
        m.training = False
    return labels


def eval_only_what_trains(net, X):
    # switches off only the modules in training mode and switches back exactly those
    training = [m for m in net.modules() if m.training]
    for m in training:
        m.training = False
    with torch.no_grad():
        labels = net(X).argmax(dim=1)
    for m in training:
        m.training = True
    return labels


@pytest.mark.parametrize("answer", [predict, predict_with_inference_mode,
                                    predict_restoring_only_if_needed, eval_only_what_trains])
def test_predict_valid_answers(answer, capsys):
    ex.check_predict_without_dropout(answer)
    assert "correct" in capsys.readouterr().out


@pytest.mark.parametrize("wrong,hint", [
    (forgets_eval, "dropout was still zeroing units"),
    (sets_only_the_outer_flag, "Dropout layers.* were left in evaluation mode"),
    (switches_only_dropout, "Dropout layers.* were left in evaluation mode"),
    (zeroes_p, "changed the dropout probability"),
    (never_restores, "came in training mode and left in evaluation mode"),
    (always_back_to_training, "came in evaluation mode and left in training mode"),
    (returns_scores, "argmax over the class dim"),
    # layers in mixed modes (issue 27): both of these pass every net whose layers share one mode
    (restores_with_train, r"came in training mode with its body net\[0\] frozen in evaluation "
                          r"mode, and not every module got its own mode back: net\[0\] "
                          r"\(Sequential\) came in evaluation mode and left in training mode; "
                          r"remember every module's own flag"),
    (predict_restoring_only_the_old_way_if_needed, r"net\[0\] \(Sequential\) came in evaluation "
                                                   r"mode and left in training mode"),
    (restores_the_frozen_ones_only, r"came in evaluation mode with its head's dropout "
                                    r"net\[1\]\[2\] in training mode, and not every module got "
                                    r"its own mode back: net\[1\]\[2\] \(Dropout\) came in "
                                    r"training mode and left in evaluation mode"),
])
def test_predict_mistakes(wrong, hint):
    with pytest.raises(ExerciseFailed, match=hint):
        ex.check_predict_without_dropout(wrong)
