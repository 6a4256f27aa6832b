"""The exercise checks of 09_alexnet: each accepts the reference solution, reports an untouched
stub as not attempted, and rejects the typical mistakes with a hint at the cause."""

import pytest
import torch
import torchvision
from torch import nn

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


@pytest.mark.parametrize("answer,hint", [
    (65, "1 x 1 maps, but the flatten then gives 256 numbers"),  # ignored the dense layer
    (192, "gives 4 x 4 maps"),  # off by one
    (227, "gives 6 x 6 maps"),  # the original's input size
    (224, "a smaller side does too"),  # the size the notebook uses
    ("193", "answer with an int"),
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


def test_flip_reference(capsys):
    ex.check_random_flip(random_flip)
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


@pytest.mark.parametrize("wrong,hint", [
    (lambda X: X.flip(-1) if torch.rand(()) < 0.5 else X, "one random choice per image"),  # whole batch
    (lambda X: torch.where(torch.rand(len(X), 1, 1, 1) < 0.5, X.flip(-2), X), "upside down"),
    (lambda X: torch.where(torch.rand(len(X), X.shape[1], 1, 1) < 0.5, X.flip(-1), X),
     "flip all channels of an image together"),  # a coin per channel
    (lambda X: torch.where(torch.rand(len(X), 1, 1, 1) < 0.9, X.flip(-1), X), "probability 1/2"),
    (lambda X: X.flip(0), "reversed the order of the images"),
])
def test_flip_mistakes(wrong, hint):
    with pytest.raises(ExerciseFailed, match=hint):
        ex.check_random_flip(wrong)


# 09.4 predictions without dropout ----------------------------------------------------------------

def predict(net, X):
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


@pytest.mark.parametrize("wrong,hint", [
    (forgets_eval, "dropout was still zeroing units"),
    (never_restores, "came in training mode and left in evaluation mode"),
    (always_back_to_training, "came in evaluation mode and left in training mode"),
    (returns_scores, "argmax over the class dim"),
])
def test_predict_mistakes(wrong, hint):
    with pytest.raises(ExerciseFailed, match=hint):
        ex.check_predict_without_dropout(wrong)
