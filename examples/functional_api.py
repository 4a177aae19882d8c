"""The functional API: a residual MLP, and a model with two inputs and two outputs.

1. Residual MLP on the spirals (a hard 2-D classification): ``h = h + Dense(h)`` blocks built
   with ``nnx.Input``, ``Add`` and ``nnx.Model(inputs, outputs)``, against the same depth
   without the skip connections.
2. Two inputs, two outputs: a house's ``features`` (8 numbers) and its ``area`` (4 numbers)
   go through their own towers, are concatenated, and predict its ``price`` (regression, MSE)
   and whether it ``sells`` within a month (sigmoid + binary cross-entropy), with
   ``loss_weights`` and a metric per output; the history has Keras's per-output keys.

Run: python examples/functional_api.py
"""

from __future__ import annotations

from typing import Any

import numpy as np
from _util import run

import nnx
from nnx.datasets import make_spirals
from nnx.layers import Add, Concatenate, Dense


def residual_mlp(width: int, blocks: int, skip: bool, seed: int = 0) -> nnx.models.Model:
    """``blocks`` tanh layers of ``width`` units, each added to its input when ``skip``."""
    x = nnx.Input(shape=(2,), name="point")
    h = Dense(width, activation="tanh", name="stem")(x)
    for i in range(blocks):
        f = Dense(width, activation="tanh", name=f"block{i}")(h)
        h = Add(name=f"skip{i}")([h, f]) if skip else f
    y = Dense(3, activation="softmax", name="cls")(h)
    return nnx.Model(x, y, seed=seed, name="residual" if skip else "plain")


def two_input_model(seed: int = 0) -> nnx.models.Model:
    features = nnx.Input(shape=(8,), name="features")
    area = nnx.Input(shape=(4,), name="area")
    a = Dense(16, activation="relu", name="features_tower")(features)
    b = Dense(8, activation="relu", name="area_tower")(area)
    h = Dense(16, activation="relu", name="joint")(Concatenate(name="join")([a, b]))
    price = Dense(1, name="price")(h)
    sells = Dense(1, activation="sigmoid", name="sells")(h)
    return nnx.Model([features, area], [price, sells], seed=seed, name="houses")


def houses(n: int, seed: int) -> tuple[list[np.ndarray], list[np.ndarray]]:
    rng = np.random.default_rng(seed)
    features, area = rng.normal(size=(n, 8)), rng.normal(size=(n, 4))
    price = features[:, :3].sum(1) + np.tanh(area[:, 0] * area[:, 1]) + 0.1 * rng.normal(size=n)
    sells = (price - 2 * area[:, 2] + 0.3 * rng.normal(size=n) < 0).astype(float)
    return [features, area], [price[:, None], sells[:, None]]


def main(quick: bool = False, out: Any = None) -> dict[str, Any]:
    X, y = make_spirals(n_samples=300, n_classes=3, noise=0.1, seed=0)
    epochs = 60 if quick else 300
    results: dict[str, Any] = {}
    for skip in (True, False):
        model = residual_mlp(32, 6, skip)
        model.compile(nnx.optimizers.Adam(0.003), "sparse_categorical_crossentropy", ["accuracy"])
        history = model.fit(X, y, epochs=epochs, batch_size=32, verbose=0)
        results[f"{model.name}_accuracy"] = history.history["accuracy"][-1]

    model = two_input_model()
    model.compile(
        nnx.optimizers.Adam(0.01),
        loss={"price": "mse", "sells": "binary_crossentropy"},
        loss_weights={"price": 1.0, "sells": 0.5},
        metrics={"price": ["mae"], "sells": ["accuracy"]},
    )
    (xs, ys), (xs_test, ys_test) = houses(800, 1), houses(400, 2)
    history = model.fit(
        {"features": xs[0], "area": xs[1]},
        {"price": ys[0], "sells": ys[1]},
        epochs=15 if quick else 60,
        batch_size=32,
        validation_data=(xs_test, ys_test),
        verbose=0,
    )
    test = model.evaluate(xs_test, ys_test, return_dict=True)
    results["history_keys"] = list(history.history)
    results["test_price_mae"] = test["price_mae"]
    results["test_sells_accuracy"] = test["sells_accuracy"]
    lines: list[str] = []
    model.summary(print_fn=lines.append)
    results["table"] = "\n".join(lines)
    return results


if __name__ == "__main__":
    run(main, __doc__)
