"""d2lmini: the helpers of an executable deep-learning course, `import d2lmini as d2l`.

Every public name is re-exported here, so `d2l.train_ch5(...)` works; each docstring names the
notebook that introduces it. The signatures follow the classic PyTorch edition of Dive into Deep
Learning.
"""

from .data import (CLASS_NAMES, CorruptDataError, DataNotFoundError, InMemoryLoader,
                   balanced_subset, cache_dir, get_cifar10_labels, get_fashion_mnist_labels,
                   get_mnist_labels, load_data_cifar10, load_data_fashion_mnist, load_data_mnist,
                   locate_fashion_mnist, read_fashion_mnist)
from . import exercises
from .checkpoint import CheckpointMismatch
from .device import get_device, set_seed, try_gpu
from .exercises import ExerciseFailed
from .layers import FlattenLayer, GlobalAvgPool2d, corr2d, layer_shapes, num_params
from .linear import data_iter, linreg, sgd, squared_loss, synthetic_data
from .plotting import (Animator, semilogy, set_figsize, show_fashion_mnist, show_images,
                       use_svg_display)
from .precision import bf16_native
from .profile import Profile, cap_epochs, current_profile, profile_summary
from .schedules import cosine_schedule
from .training import (History, Timer, TrainingDiverged, batch_loss, check_accuracy,
                       evaluate_accuracy, train_ch3, train_ch5)

from .tracebacks import install as _install_tracebacks

__version__ = "0.1.0"
_install_tracebacks()  # in Jupyter, d2lmini's errors show the learner's line and the message


def __getattr__(name: str):
    """`d2l.plt` is `matplotlib.pyplot`, as in the classic package, imported on first use so
    that `import d2lmini` stays fast (03_mlp)."""
    if name == "plt":
        import matplotlib.pyplot as plt
        return plt
    raise AttributeError(f"module 'd2lmini' has no attribute {name!r}")

__all__ = [
    "CLASS_NAMES", "CorruptDataError", "DataNotFoundError", "InMemoryLoader", "balanced_subset",
    "cache_dir", "get_fashion_mnist_labels", "load_data_fashion_mnist", "locate_fashion_mnist",
    "read_fashion_mnist", "load_data_cifar10", "load_data_mnist", "get_cifar10_labels",
    "get_mnist_labels", "show_images", "get_device", "set_seed", "try_gpu", "FlattenLayer",
    "GlobalAvgPool2d", "corr2d", "layer_shapes", "num_params", "data_iter", "linreg", "sgd",
    "squared_loss", "synthetic_data", "ExerciseFailed", "Animator", "semilogy", "set_figsize",
    "show_fashion_mnist", "use_svg_display", "Profile", "cap_epochs", "current_profile",
    "profile_summary", "Timer", "TrainingDiverged", "check_accuracy", "cosine_schedule",
    "evaluate_accuracy", "batch_loss", "train_ch3", "train_ch5", "History", "CheckpointMismatch", "bf16_native",
]
