"""nnx: neural networks from scratch, written once against the Python Array API.

The same layers, losses and optimizers run on NumPy (CPU), CuPy (CUDA GPU) and
array-api-strict (the conformance reference). Not related to Flax's ``flax.nnx``.

>>> import nnx
>>> nnx.get_backend("numpy").name
'numpy'
"""

from nnx import (
    activations,
    backends,
    callbacks,
    initializers,
    layers,
    losses,
    metrics,
    optimizers,
    regularizers,
)
from nnx.backends import available, get_backend, set_backend, use_backend
from nnx.gradcheck import GradientCheckError, gradcheck
from nnx.io import load
from nnx.models import Sequential

__version__ = "0.1.0"

__all__ = [
    "GradientCheckError",
    "Sequential",
    "__version__",
    "activations",
    "available",
    "backends",
    "callbacks",
    "get_backend",
    "gradcheck",
    "initializers",
    "layers",
    "load",
    "losses",
    "metrics",
    "optimizers",
    "regularizers",
    "set_backend",
    "use_backend",
]
