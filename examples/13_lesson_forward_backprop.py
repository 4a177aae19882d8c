"""Lesson "What is a neural network?" reproduced with the lesson's own weights and settings.

1. The 3-3-1 house-price forward pass (weights ``np.random.seed(42)``, ``randn``, zero biases,
   ReLU hidden, linear output) on (1200 sq ft, 3 bedrooms, location 8): the lesson prints
   -1401.69.
2. Backpropagation on three houses (features / 1000, labels 1 0 1), ReLU hidden, sigmoid
   output, full-batch gradient descent at 0.1 for 1000 epochs. The lesson's gradient
   ``dZ2 = A2 - Y`` is binary cross-entropy's, so nnx trains with ``binary_crossentropy`` and
   reports the MSE the lesson prints (before each update, as the lesson's loop does):
   0.4811 ... 0.0023; the house (1000, 3, 7) / 1000 is predicted 0.50.
3. The lesson's "optimized" network (weights ``randn * 0.01``, Adam, L2, dropout) starts at
   the loss 0.2500 it prints (nnx, same weights), then prints losses stuck near 0.2: its Adam
   divides by ``1 - beta_1`` instead of ``1 - beta_1^t`` (no bias correction that decays), its
   biases skip Adam, and its dropout masks come from NumPy's global generator, so those numbers
   are not reproducible by any other library. The modern variant below (nnx's Adam, an L2
   regularizer, dropout, standardized inputs) fits the three houses.

Run: python examples/13_lesson_forward_backprop.py
"""

from __future__ import annotations

from typing import Any

import numpy as np
from _util import lesson_table, run

import nnx
from nnx.data import StandardScaler
from nnx.layers import Dense, Dropout

LESSON_PRICE = -1401.69
LESSON_LOSSES = [0.4811, 0.1614, 0.1077, 0.0603, 0.0293, 0.0139, 0.0072, 0.0046, 0.0033, 0.0023]
LESSON_PREDICTION = 0.50
HOUSES = np.array([[1200, 3, 8], [850, 2, 5], [1500, 4, 9]], dtype=float)
EXPENSIVE = np.array([[1.0], [0.0], [1.0]])
NEW_HOUSE = np.array([[1000, 3, 7]], dtype=float)


def lesson_weights() -> list[np.ndarray]:
    """``np.random.seed(42)``, ``W1 = randn(3, 3)``, ``W2 = randn(1, 3)``, zero biases, as
    nnx's ``[kernel (in, out), bias]`` pairs (the lesson stores ``W`` as (out, in))."""
    rng = np.random.RandomState(42)
    w1, w2 = rng.randn(3, 3), rng.randn(1, 3)
    return [w1.T, np.zeros(3), w2.T, np.zeros(1)]


def _network(output_activation: str | None) -> nnx.Sequential:
    model = nnx.Sequential(
        [Dense(3, activation="relu", input_shape=(3,)), Dense(1, activation=output_activation)],
        dtype="float64",
    )
    model.set_weights(lesson_weights())
    return model


def house_price() -> float:
    return float(_network(None).predict(np.array([[1200.0, 3.0, 8.0]]))[0, 0])


def backprop(epochs: int = 1000) -> tuple[list[float], float]:
    """The lesson's training run; the MSE of every 100th epoch and the new house's output."""
    model = _network("sigmoid")
    model.compile(nnx.optimizers.SGD(0.1), "binary_crossentropy", metrics=["mse"])
    history = model.fit(
        HOUSES / 1000, EXPENSIVE, epochs=epochs, batch_size=3, shuffle=False, verbose=0
    )
    losses = [history.history["mse"][i] for i in range(0, epochs, 100)]
    return losses, float(model.predict(NEW_HOUSE / 1000)[0, 0])


def optimized_start() -> float:
    """The MSE of the lesson's "optimized" network before training (weights ``* 0.01``)."""
    model = _network("sigmoid")
    model.set_weights([w * 0.01 for w in lesson_weights()])
    return float(((model.predict(HOUSES / 1000) - EXPENSIVE) ** 2).mean())


def modern(epochs: int = 300) -> tuple[float, float]:
    """Standardized features, He-initialised ReLU layer, dropout, L2, Adam: (MSE, prediction)."""
    scaler = StandardScaler().fit(HOUSES)
    model = nnx.Sequential(
        [
            Dense(
                8,
                activation="relu",
                input_shape=(3,),
                kernel_initializer="he_normal",
                kernel_regularizer=nnx.regularizers.L2(0.01),
            ),
            Dropout(0.2),
            Dense(1, activation="sigmoid"),
        ],
        dtype="float64",
        seed=0,
    )
    model.compile(nnx.optimizers.Adam(0.01), "binary_crossentropy", metrics=["mse"])
    model.fit(scaler.transform(HOUSES), EXPENSIVE, epochs=epochs, batch_size=3, verbose=0)
    mse = model.evaluate(scaler.transform(HOUSES), EXPENSIVE, return_dict=True)["mse"]
    return mse, float(model.predict(scaler.transform(NEW_HOUSE))[0, 0])


def main(quick: bool = False, out: Any = None) -> dict[str, Any]:
    price = house_price()
    losses, prediction = backprop()
    start = optimized_start()
    modern_mse, modern_prediction = modern(100 if quick else 300)
    rows = [["house price (3-3-1 forward)", f"{LESSON_PRICE:.2f}", f"{price:.2f}"]]
    rows += [
        [f"epoch {100 * i} loss (MSE)", f"{a:.4f}", f"{b:.4f}"]
        for i, (a, b) in enumerate(zip(LESSON_LOSSES, losses, strict=True))
    ]
    rows += [["predicted category (1000, 3, 7)", f"{LESSON_PREDICTION:.2f}", f"{prediction:.2f}"]]
    rows += [["optimized network, epoch 0 loss", "0.2500", f"{start:.4f}"]]
    rows += [["modern variant: training MSE", "0.2088 (stuck)", f"{modern_mse:.4f}"]]
    return {
        "house_price": price,
        "losses": losses,
        "prediction": prediction,
        "optimized_start": start,
        "modern_mse": modern_mse,
        "modern_prediction": modern_prediction,
        "table": lesson_table(rows),
    }


if __name__ == "__main__":
    run(main, __doc__)
