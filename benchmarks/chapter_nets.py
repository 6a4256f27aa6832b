"""The nets that chapters 08-14 train, built from the chapters' own code: the twin in
`notebooks/py/` is parsed and only its top-level imports, function and class definitions, and
constants built from literals (such as VGG-11's architecture table) are run, in order: no
training, no data. `benchmarks/fast_path.py` and `benchmarks/cifar10_results.py` build their nets
this way.

`chapter_net("13_resnet")` returns `(net, side)`: a fresh ResNet-18 and the image side it trains on.
"""

from __future__ import annotations

import ast
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]

# chapter -> (the expression the chapter trains, the image side of its loader)
TRAINED = {
    "08_lenet": ("lenet(nn.ReLU, nn.MaxPool2d)", 28),
    "09_alexnet": ("alexnet()", 224),
    "10_vgg": ("vgg(small_arch)", 224),
    "11_nin": ("nin()", 224),
    "12_googlenet": ("googlenet()", 96),
    "13_resnet": ("resnet18()", 96),
    "14_densenet": ("densenet()", 96),
}
SAFE_CALLS = {"tuple", "list", "range", "len", "dict"}


def _definitions_only(node: ast.stmt) -> bool:
    if isinstance(node, (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.ClassDef)):
        return True
    if isinstance(node, ast.Assign) and all(isinstance(t, ast.Name) for t in node.targets):
        calls = [n for n in ast.walk(node.value) if isinstance(n, ast.Call)]
        return all(isinstance(c.func, ast.Name) and c.func.id in SAFE_CALLS for c in calls)
    return False


def chapter_namespace(stem: str) -> dict:
    """The names a chapter defines, without running any of its work. A constant computed from a
    result of the chapter's work (a NameError here) is not needed by a builder and is skipped."""
    tree = ast.parse((ROOT / "notebooks" / "py" / f"{stem}.py").read_text())
    namespace: dict = {"__name__": f"chapter_{stem}"}
    for node in filter(_definitions_only, tree.body):
        code = compile(ast.Module(body=[node], type_ignores=[]), f"{stem}.py", "exec")
        try:
            exec(code, namespace)
        except NameError:
            if not isinstance(node, ast.Assign):
                raise
    return namespace


def chapter_net(stem: str) -> tuple[torch.nn.Module, int]:
    """A fresh copy of the net chapter `stem` trains, and the image side it trains on."""
    expression, side = TRAINED[stem]
    return eval(expression, chapter_namespace(stem)), side
