"""The data sets of ``python -m nnx demo --dataset ...``, split and scaled.

>>> split = load_demo("xor", seed=0)
>>> split.X_train.shape, split.classes
((4, 2), 2)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from nnx.backends import get_backend
from nnx.data import StandardScaler, train_test_split
from nnx.datasets.sklearn import load_breast_cancer, load_digits
from nnx.datasets.synthetic import make_circles, make_moons, make_xor
from nnx.validation import check_choice

__all__ = ["DEMO_DATASETS", "DemoSplit", "load_demo"]

#: name -> default epochs
DEMO_DATASETS = {"moons": 50, "circles": 50, "xor": 300, "breast_cancer": 50, "digits": 50}


@dataclass
class DemoSplit:
    """Train/test arrays (host), the number of classes and a one-line description.

    Attributes:
        X_train, X_test, y_train, y_test: the split, host arrays.
        classes: the number of classes.
        description: one line for the demo's report.

    >>> load_demo("circles", samples=100).X_test.shape
    (25, 2)
    """

    X_train: Any
    X_test: Any
    y_train: Any
    y_test: Any
    classes: int
    description: str


def load_demo(name: str, seed: int = 0, samples: int = 1000, noise: float = 0.15) -> DemoSplit:
    """Load, split (75/25; XOR trains and tests on its 4 rows) and standardise a demo set.

    Binary targets are ``(n, 1)`` float32 columns, multi-class targets int64 labels.

    Args:
        name: one of :data:`DEMO_DATASETS`.
        seed: seed of the data and the split.
        samples, noise: for the synthetic 2-D sets.

    Returns:
        A :class:`DemoSplit`.

    >>> load_demo("moons", samples=200).y_train.shape
    (150, 1)
    """
    check_choice(name, "name", DEMO_DATASETS, who="load_demo")
    if name == "xor":
        X, y = make_xor()
        return DemoSplit(X, X, y, y, 2, "XOR truth table (4 rows, train = test)")
    if name == "moons":
        X, y = make_moons(samples, noise=noise, seed=seed)
        text = f"two moons, {samples} points, noise {noise}"
    elif name == "circles":
        X, y = make_circles(samples, noise=0.1, factor=0.5, seed=seed)
        text = f"two circles, {samples} points, noise 0.1"
    elif name == "breast_cancer":
        X, y = load_breast_cancer()
        text = "breast cancer (569 x 30, scikit-learn)"
    else:
        X, y = load_digits()
        text = "8x8 digits (1797 x 64, 10 classes, scikit-learn)"
    classes = int(y.max()) + 1
    if classes == 2:
        y = y.reshape(-1, 1).astype("float32")
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, seed=seed)
    if name in ("breast_cancer", "digits"):
        scaler = StandardScaler().fit(X_train)
        xp = get_backend("numpy").xp
        X_train = xp.astype(scaler.transform(X_train), xp.float32)
        X_test = xp.astype(scaler.transform(X_test), xp.float32)
    return DemoSplit(X_train, X_test, y_train, y_test, classes, text)
