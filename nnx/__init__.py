"""nnx: neural networks from scratch, written once against the Python Array API.

The same layers, losses and optimizers run on NumPy (CPU), CuPy (CUDA GPU) and
array-api-strict (the conformance reference). Not related to Flax's ``flax.nnx``.

>>> import nnx
>>> nnx.get_backend("numpy").name
'numpy'
"""

import importlib
from functools import cache
from types import ModuleType
from typing import Any

from nnx import (
    activations,
    backends,
    callbacks,
    constraints,
    data,
    datasets,
    diagnostics,
    distributed,
    initializers,
    layers,
    losses,
    metrics,
    models,
    ops,
    optimizers,
    plot,
    preprocessing,
    registry,
    regularizers,
    saving,
    schedules,
    training,
    utils,
    validation,
)
from nnx.backends import available, get_backend, set_backend, use_backend
from nnx.gradcheck import GradientCheckError, gradcheck
from nnx.lr_find import lr_find
from nnx.models import Input, Model, Sequential, load

__version__ = "0.1.0"

# NOTE: the estimators import scikit-learn (and with it SciPy, ~1 s), so they load on first use.
_ESTIMATORS = ("MLPClassifier", "MLPRegressor", "Perceptron")


@cache
def _legacy_io() -> ModuleType:
    """nnx 0.1's ``nnx.io``: the names of :mod:`nnx.saving`, plus ``load`` (:func:`nnx.load`)."""
    from nnx import saving

    module = ModuleType("nnx.io", "nnx 0.1's nnx.io: now nnx.saving, and nnx.load.")
    module.__dict__.update({name: getattr(saving, name) for name in saving.__all__}, load=load)
    return module


def __getattr__(name: str) -> Any:
    """Load the estimators on first use; resolve nnx 0.1's module names (``nnx.io``,
    ``nnx.nonfinite``) to where their contents live now."""
    if name == "estimators" or name in _ESTIMATORS:
        module = importlib.import_module("nnx.estimators")
        return module if name == "estimators" else getattr(module, name)
    if name == "io":
        return _legacy_io()
    if name == "nonfinite":
        return importlib.import_module("nnx.training.nonfinite")
    raise AttributeError(f"module 'nnx' has no attribute {name!r}")


__all__ = [
    "GradientCheckError",
    "Input",
    "MLPClassifier",
    "MLPRegressor",
    "Model",
    "Perceptron",
    "Sequential",
    "__version__",
    "activations",
    "available",
    "backends",
    "callbacks",
    "constraints",
    "data",
    "datasets",
    "diagnostics",
    "distributed",
    "estimators",
    "get_backend",
    "gradcheck",
    "initializers",
    "layers",
    "load",
    "losses",
    "lr_find",
    "metrics",
    "models",
    "ops",
    "optimizers",
    "plot",
    "preprocessing",
    "registry",
    "regularizers",
    "saving",
    "schedules",
    "set_backend",
    "training",
    "use_backend",
    "utils",
    "validation",
]
