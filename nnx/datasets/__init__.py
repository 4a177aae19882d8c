"""Small datasets for demos, tests and tutorials, as host NumPy arrays ``(X, y)``.

:mod:`~nnx.datasets.synthetic` (moons, circles, spirals, blobs, logic gates),
:mod:`~nnx.datasets.regression` (a 1-D curve, linear and non-linear tables, the tutorial
target), :mod:`~nnx.datasets.sklearn` (scikit-learn's ``make_classification`` and loaders,
``pip install "nnx-array[sklearn]"``) and :mod:`~nnx.datasets.demo` (the sets of
``python -m nnx demo``). ``train_test_split`` lives in :mod:`nnx.data` and is re-exported here.

>>> X, y = make_moons(100, seed=0)
>>> [part.shape for part in train_test_split(X, y, test_size=0.25, seed=0)]
[(75, 2), (25, 2), (75,), (25,)]
"""

from nnx.data import train_test_split
from nnx.datasets.regression import make_regression, make_regression_1d, make_tutorial_regression
from nnx.datasets.sklearn import load_breast_cancer, load_digits, make_classification
from nnx.datasets.synthetic import (
    logic_gate,
    make_blobs,
    make_circles,
    make_moons,
    make_spirals,
    make_xor,
)

__all__ = [
    "load_breast_cancer",
    "load_digits",
    "logic_gate",
    "make_blobs",
    "make_circles",
    "make_classification",
    "make_moons",
    "make_regression",
    "make_regression_1d",
    "make_spirals",
    "make_tutorial_regression",
    "make_xor",
    "train_test_split",
]
