"""linear / moons / circles with sigmoid, tanh, relu, leaky_relu hidden layers: nnx's
MLPClassifier against scikit-learn's MLPClassifier with the same settings (test accuracy,
mean over seeds; scikit-learn has no leaky_relu, so its relu is the reference there).

Run: python examples/05_activations_vs_sklearn.py
"""

from __future__ import annotations

import time
import warnings
from typing import Any

import numpy as np
from _util import run, table
from sklearn.neural_network import MLPClassifier as SkMLP
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from nnx.data import train_test_split
from nnx.datasets import make_circles, make_classification, make_moons
from nnx.estimators import MLPClassifier

ACTIVATIONS = {"sigmoid": "logistic", "tanh": "tanh", "relu": "relu", "leaky_relu": "relu"}


def datasets(seed: int, n: int) -> dict[str, tuple[Any, Any]]:
    linear = make_classification(
        seed=seed,
        n_samples=n,
        n_features=2,
        n_redundant=0,
        n_informative=2,
        n_clusters_per_class=1,
        class_sep=1.0,
        flip_y=0.02,
    )
    return {
        "linear": linear,
        "moons": make_moons(n, noise=0.2, seed=seed),
        "circles": make_circles(n, noise=0.1, factor=0.5, seed=seed),
    }


def main(quick: bool = False, out: Any = None) -> dict[str, Any]:
    seeds = [0] if quick else [0, 1, 2]
    settings = {
        "hidden_layer_sizes": (16, 16),
        "learning_rate_init": 0.01,
        "batch_size": 32,
        "max_iter": 60 if quick else 300,
    }
    scores: dict[tuple[str, str, str], list[float]] = {}
    seconds = {"nnx": 0.0, "sklearn": 0.0}
    for seed in seeds:
        for name, (X, y) in datasets(seed, 300 if quick else 600).items():
            X_train, X_test, y_train, y_test = train_test_split(X, y, 0.3, seed=seed)
            for act, sk_act in ACTIVATIONS.items():
                for lib, est in (
                    ("nnx", MLPClassifier(activation=act, random_state=seed, **settings)),
                    ("sklearn", SkMLP(activation=sk_act, random_state=seed, **settings)),
                ):
                    model = make_pipeline(StandardScaler(), est)
                    start = time.perf_counter()
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")  # ConvergenceWarning at max_iter
                        model.fit(X_train, y_train)
                    seconds[lib] += time.perf_counter() - start
                    scores.setdefault((name, act, lib), []).append(model.score(X_test, y_test))
    rows, gaps = [], []
    for name in ("linear", "moons", "circles"):
        for act in ACTIVATIONS:
            ours, theirs = (scores[(name, act, lib)] for lib in ("nnx", "sklearn"))
            gap = float(np.mean(ours) - np.mean(theirs))
            gaps.append(gap)
            rows.append(
                [
                    name,
                    act,
                    float(np.mean(ours)),
                    float(np.std(ours)),
                    float(np.mean(theirs)),
                    float(np.std(theirs)),
                    gap,
                ]
            )
    header = [
        "data",
        "activation",
        "nnx acc",
        "nnx sd",
        "sklearn acc",
        "sklearn sd",
        "nnx - sklearn",
    ]
    return {
        "seeds": len(seeds),
        "mean_gap": float(np.mean(gaps)),
        "worst_gap": float(np.min(gaps)),
        "nnx_seconds": seconds["nnx"],
        "sklearn_seconds": seconds["sklearn"],
        "table": table(header, rows),
    }


if __name__ == "__main__":
    run(main, __doc__)
