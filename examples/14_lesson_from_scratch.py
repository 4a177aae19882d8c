"""Lesson "Neural networks from scratch" reproduced with the lesson's data, weights and settings.

The lesson's code prints these results without showing them; the lesson's figure here is what
its own NumPy code computes (re-run below, ``lesson_*``), and nnx must give the same numbers:

1. one gradient-descent step ``w = 0.5 - 0.1 * 2.0`` -> 0.3 (an nnx ``SGD(0.1)`` step);
2. one backprop step of a sigmoid neuron, ``x = (0.5, 0.8)``, ``w = (0.1, -0.2)``, target 1,
   rate 0.1, gradient ``(y - p) p (1 - p) x`` (half squared error): nnx's ``Dense(1, sigmoid,
   use_bias=False)`` with MSE (whose gradient is twice as large) at rate 0.05;
3. the AND perceptron: zero weights, rate 0.1, 10 epochs, samples in order -> 0 0 0 1;
4. XOR by plain gradient descent without biases: ``np.random.seed(1)``, weights
   ``uniform(-1, 1)`` (2x2 and 2x1), sigmoid everywhere, rate 0.5, 10000 full-batch epochs on
   the summed half squared error (nnx: MSE, whose batch mean of 4 halves the gradient twice
   over: rate 0.5 * 2 = 1.0).

Without biases every unit's boundary passes through the origin: after 10000 epochs the net
outputs (0.06, 0.84, 0.84, 0.56), (1, 1) still on the wrong side (accuracy 0.75). The modern
variant (biases, tanh hidden layer, cross-entropy, Adam) solves XOR in 300 epochs.

Run: python examples/14_lesson_from_scratch.py
"""

from __future__ import annotations

from typing import Any

import numpy as np
from _util import lesson_table, run

import nnx
from nnx.estimators import Perceptron
from nnx.layers import Dense, Parameter

XOR_X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
XOR_Y = np.array([[0.0], [1.0], [1.0], [0.0]])


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-z))


def gradient_step() -> tuple[float, float]:
    b = nnx.backends.get_backend("numpy")
    w = Parameter(b.asarray([0.5], dtype="float64"), "w")
    w.grad = b.asarray([2.0], dtype="float64")
    nnx.optimizers.SGD(0.1).step([w])
    return 0.5 - 0.1 * 2.0, float(w.value[0])


def neuron_step() -> tuple[np.ndarray, np.ndarray]:
    x, w, y = np.array([0.5, 0.8]), np.array([0.1, -0.2]), 1.0
    p = _sigmoid(x @ w)
    lesson = w + 0.1 * (y - p) * p * (1 - p) * x
    model = nnx.Sequential(
        [Dense(1, activation="sigmoid", use_bias=False, input_shape=(2,))], dtype="float64"
    )
    model.set_weights([w.reshape(2, 1)])
    model.compile(nnx.optimizers.SGD(0.05), "mse")
    model.fit(x[None, :], np.array([[y]]), epochs=1, batch_size=1, verbose=0)
    return lesson, model.get_weights()[0].ravel()


def and_perceptron() -> tuple[list[int], list[int], np.ndarray]:
    X, y = np.array([[0, 0], [0, 1], [1, 0], [1, 1]]), np.array([0, 0, 0, 1])
    w = np.zeros(3)
    for _ in range(10):
        for xi, target in zip(X, y, strict=True):
            xi = np.insert(xi, 0, 1)
            w += 0.1 * (target - (1 if w @ xi >= 0 else 0)) * xi
    lesson = [1 if w @ np.insert(xi, 0, 1) >= 0 else 0 for xi in X]
    p = Perceptron(learning_rate=0.1, max_iter=10, shuffle=False).fit(X, y)
    return lesson, p.predict(X).tolist(), np.concatenate([[p.intercept_], p.coef_]) - w


def xor_weights() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.RandomState(1)
    return rng.uniform(-1, 1, (2, 2)), rng.uniform(-1, 1, (2, 1))


def lesson_xor(epochs: int) -> np.ndarray:
    """The lesson's loop; like the lesson, returns the last forward pass (before the last
    update)."""
    w1, w2 = xor_weights()
    for _ in range(epochs):
        hidden = _sigmoid(XOR_X @ w1)
        out = _sigmoid(hidden @ w2)
        d_out = (XOR_Y - out) * out * (1 - out)
        d_hidden = d_out @ w2.T * hidden * (1 - hidden)
        w2 = w2 + hidden.T @ d_out * 0.5
        w1 = w1 + XOR_X.T @ d_hidden * 0.5
    return out


def nnx_xor(epochs: int) -> np.ndarray:
    model = nnx.Sequential(
        [
            Dense(2, activation="sigmoid", use_bias=False, input_shape=(2,)),
            Dense(1, activation="sigmoid", use_bias=False),
        ],
        dtype="float64",
    )
    model.set_weights(list(xor_weights()))
    model.compile(nnx.optimizers.SGD(1.0), "mse")
    model.fit(XOR_X, XOR_Y, epochs=epochs - 1, batch_size=4, shuffle=False, verbose=0)
    return model.predict(XOR_X)  # the forward pass before the lesson's last update


def modern_xor(epochs: int) -> np.ndarray:
    model = nnx.Sequential(
        [Dense(4, activation="tanh", input_shape=(2,)), Dense(1, activation="sigmoid")], seed=0
    )
    model.compile(nnx.optimizers.Adam(0.05), "binary_crossentropy")
    model.fit(XOR_X, XOR_Y, epochs=epochs, batch_size=4, verbose=0)
    return model.predict(XOR_X)


def main(quick: bool = False, out: Any = None) -> dict[str, Any]:
    step_lesson, step_nnx = gradient_step()
    neuron_lesson, neuron_nnx = neuron_step()
    and_lesson, and_nnx, and_weight_gap = and_perceptron()
    epochs = 10000
    xor_lesson, xor_nnx, xor_modern = lesson_xor(epochs), nnx_xor(epochs), modern_xor(300)
    fmt = np.array2string
    rows = [
        ["updated weight", f"{step_lesson:g}", f"{step_nnx:g}"],
        ["updated neuron weights", fmt(neuron_lesson, precision=6), fmt(neuron_nnx, precision=6)],
        ["AND perceptron outputs", str(and_lesson), str(and_nnx)],
        [
            f"XOR, no bias, {epochs} epochs",
            fmt(xor_lesson.ravel(), precision=4),
            fmt(xor_nnx.ravel(), precision=4),
        ],
        ["XOR, modern variant (300 epochs)", "-", fmt(xor_modern.ravel(), precision=4)],
    ]
    return {
        "step": step_nnx,
        "neuron_gap": float(np.abs(neuron_lesson - neuron_nnx).max()),
        "and_outputs": and_nnx,
        "and_weight_gap": float(np.abs(and_weight_gap).max()),
        "xor_gap": float(np.abs(xor_lesson - xor_nnx).max()),
        "xor_no_bias_accuracy": float(((xor_nnx > 0.5) == XOR_Y).mean()),
        "xor_modern_accuracy": float(((xor_modern > 0.5) == XOR_Y).mean()),
        "table": lesson_table(rows),
    }


if __name__ == "__main__":
    run(main, __doc__)
