"""The advanced tutorial's 4 -> 6 -> 4 -> 1 network (ReLU, ReLU, sigmoid) with Xavier init,
SGD with momentum and step decay on the 4-feature non-linear regression scaled to [0, 1].
Targets: train R^2 > 0.85, test R^2 > 0.80, |train MSE - test MSE| < 0.01.

Run: python examples/10_tutorial_regression.py
"""

from __future__ import annotations

from typing import Any

from _util import run

import nnx
from nnx.data import StandardScaler, train_test_split
from nnx.datasets import make_tutorial_regression
from nnx.layers import Dense
from nnx.metrics import mean_squared_error, r2_score
from nnx.schedules import StepDecay


def main(quick: bool = False, out: Any = None) -> dict[str, Any]:
    X, y = make_tutorial_regression(2000, seed=0)
    X_train, X_test, y_train, y_test = train_test_split(X, y, 0.2, seed=0)
    scaler = StandardScaler().fit(X_train)
    X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
    batch, epochs = 32, 60 if quick else 300
    steps_per_epoch = -(-len(X_train) // batch)
    model = nnx.Sequential(
        [
            Dense(6, activation="relu", kernel_initializer="glorot_normal", input_shape=(4,)),
            Dense(4, activation="relu", kernel_initializer="glorot_normal"),
            Dense(1, activation="sigmoid", kernel_initializer="glorot_normal"),
        ],
        seed=0,
    )
    lr = StepDecay(0.1, rate=0.5, steps=100 * steps_per_epoch)
    model.compile(nnx.optimizers.SGD(lr, momentum=0.9), "mse", metrics=["r2"])
    model.fit(X_train, y_train, epochs=epochs, batch_size=batch, verbose=0)
    p_train, p_test = model.predict(X_train), model.predict(X_test)
    train_mse, test_mse = (
        float(mean_squared_error(y_train, p_train)),
        float(mean_squared_error(y_test, p_test)),
    )
    return {
        "train_r2": float(r2_score(y_train, p_train)),
        "test_r2": float(r2_score(y_test, p_test)),
        "train_mse": train_mse,
        "test_mse": test_mse,
        "mse_gap": abs(train_mse - test_mse),
    }


if __name__ == "__main__":
    run(main, __doc__)
