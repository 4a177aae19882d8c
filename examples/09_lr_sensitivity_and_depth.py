"""Learning-rate sensitivity (test MSE against the learning rate of SGD with momentum and of
Adam) and depth against test MSE on the 5-feature regression of example 08 (without outliers).
Saves lr_sensitivity.png and depth_vs_mse.png (true numeric axes: log rates, depths as numbers).

Run: python examples/09_lr_sensitivity_and_depth.py
"""

from __future__ import annotations

import math
from typing import Any

from _util import run, table

import nnx
from nnx.data import StandardScaler, train_test_split
from nnx.datasets import make_regression
from nnx.layers import Dense


def _fit(
    X_train: Any,
    y_train: Any,
    X_test: Any,
    y_test: Any,
    depth: int,
    lr: float,
    epochs: int,
    adam: bool = False,
) -> float:
    layers = [
        Dense(
            32,
            activation="relu",
            input_shape=(5,) if i == 0 else None,
            kernel_initializer="he_uniform",
        )
        for i in range(depth)
    ]
    model = nnx.Sequential([*layers, Dense(1)], seed=0)
    opt = nnx.optimizers.Adam(lr) if adam else nnx.optimizers.SGD(lr, momentum=0.9)
    model.compile(opt, "mse", metrics=["mse"])
    model.fit(X_train, y_train, epochs=epochs, batch_size=32, verbose=0)
    mse = model.evaluate(X_test, y_test, return_dict=True)["mse"]
    return mse if math.isfinite(mse) else float("inf")


def main(quick: bool = False, out: Any = None) -> dict[str, Any]:
    X, y = make_regression(1200, n_features=5, noise=0.1, nonlinear=True, seed=0)
    X_train, X_test, y_train, y_test = train_test_split(X, y, 0.25, seed=0)
    scaler = StandardScaler().fit(X_train)
    X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
    epochs = 10 if quick else 60
    rates = (1e-4, 1e-3, 1e-2) if quick else (1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1)
    depths = (1, 2) if quick else (1, 2, 3, 4, 6, 8)
    by_rate = {lr: _fit(X_train, y_train, X_test, y_test, 2, lr, epochs) for lr in rates}
    by_rate_adam = {
        lr: _fit(X_train, y_train, X_test, y_test, 2, lr, epochs, adam=True) for lr in rates
    }
    by_depth = {d: _fit(X_train, y_train, X_test, y_test, d, 3e-3, epochs) for d in depths}
    if out is not None:
        from nnx.plot import plot_study

        plot_study(
            {"SGD momentum 0.9": by_rate, "Adam": by_rate_adam},
            "learning rate",
            "test MSE",
            f"test MSE against learning rate (2 hidden layers, {epochs} epochs)",
            path=out / "lr_sensitivity.png",
            logx=True,
            logy=True,
        )
        plot_study(
            {"SGD momentum 0.9, lr 0.003": by_depth},
            "hidden layers",
            "test MSE",
            f"test MSE against depth ({epochs} epochs)",
            path=out / "depth_vs_mse.png",
            logy=True,
        )
    best_lr = min(by_rate, key=by_rate.__getitem__)
    return {
        "best_learning_rate": best_lr,
        "best_mse": by_rate[best_lr],
        "best_adam_learning_rate": min(by_rate_adam, key=by_rate_adam.__getitem__),
        "best_adam_mse": min(by_rate_adam.values()),
        "best_depth": min(by_depth, key=by_depth.__getitem__),
        "table": table(
            ["learning rate", "SGD momentum test MSE", "Adam test MSE"],
            [[f"{k:g}", v, by_rate_adam[k]] for k, v in by_rate.items()],
        )
        + "\n\n"
        + table(["hidden layers", "test MSE"], [[k, v] for k, v in by_depth.items()]),
    }


if __name__ == "__main__":
    run(main, __doc__)
