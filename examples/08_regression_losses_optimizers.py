"""MSE+SGD, MSE+SGD-momentum, MSE+Adam and Huber+Adam on a 5-feature non-linear regression
(with a few outliers in the training targets): test MSE of each.

Run: python examples/08_regression_losses_optimizers.py
"""

from __future__ import annotations

from typing import Any

import numpy as np
from _util import run, table

import nnx
from nnx.data import StandardScaler, train_test_split
from nnx.datasets import make_regression
from nnx.layers import Dense

SETUPS = {
    "MSE + SGD": ("mse", lambda: nnx.optimizers.SGD(0.01)),
    "MSE + SGD momentum": ("mse", lambda: nnx.optimizers.SGD(0.01, momentum=0.9)),
    "MSE + Adam": ("mse", lambda: nnx.optimizers.Adam(0.003)),
    "Huber + Adam": ("huber", lambda: nnx.optimizers.Adam(0.003)),
}


def data(seed: int = 0) -> tuple[Any, ...]:
    X, y = make_regression(1200, n_features=5, noise=0.1, nonlinear=True, seed=seed)
    X_train, X_test, y_train, y_test = train_test_split(X, y, 0.25, seed=seed)
    rng = np.random.default_rng(seed)
    outliers = rng.choice(len(y_train), 20, replace=False)
    y_train = y_train.copy()
    y_train[outliers] += rng.choice([-8.0, 8.0], size=(20, 1)).astype("float32")
    scaler = StandardScaler().fit(X_train)
    return scaler.transform(X_train), scaler.transform(X_test), y_train, y_test


def main(quick: bool = False, out: Any = None) -> dict[str, Any]:
    X_train, X_test, y_train, y_test = data()
    rows, results = [], {}
    for label, (loss, optimizer) in SETUPS.items():
        model = nnx.Sequential(
            [
                Dense(32, activation="relu", input_shape=(5,)),
                Dense(16, activation="relu"),
                Dense(1),
            ],
            seed=0,
        )
        model.compile(optimizer(), loss, metrics=["mse"])
        model.fit(X_train, y_train, epochs=15 if quick else 100, batch_size=32, verbose=0)
        mse = model.evaluate(X_test, y_test, return_dict=True)["mse"]
        results[label] = mse
        rows.append([label, mse])
    results["table"] = table(["loss + optimizer", "test MSE"], rows)
    return results


if __name__ == "__main__":
    run(main, __doc__)
