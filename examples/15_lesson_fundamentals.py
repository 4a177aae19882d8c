"""Lesson "Neural network fundamentals" reproduced with the lesson's data and settings.

The lesson's cells print without showing their output; its figures here are what its own
NumPy code computes (re-run below as ``lesson_*``), and nnx must give the same numbers.

1. The perceptron on ``make_classification(100, 2 informative features, random_state=42)``:
   zero weights, rate 0.01, 1000 epochs, samples in order.
2. The [2, 10, 5, 1] MLP (sigmoid hidden layers, *linear* output, weights ``randn * 0.1``) on
   ``make_moons(200, noise=0.1, random_state=42)``, full-batch gradient descent at 0.01 on the
   gradient ``out - y`` (half the MSE's, so nnx's MSE runs at 0.005), 1000 epochs, the MSE
   printed every 100 epochs; predictions ``out > 0.5``. The lesson does not seed its weights:
   here ``np.random.seed(42)`` draws them. The lesson's backward pass updates each layer before
   propagating through it (so the error reaches the hidden layers through already-updated
   weights); nnx backpropagates through the weights of the forward pass, and the two differ by
   about 1e-6, below the 4 decimals printed.
3. Gradient descent, momentum (``v = 0.9 v + lr g``) and Adam on ``x^2 + y^2`` from (3, 2),
   rate 0.1, 50 steps. The lesson's Adam counts ``t`` once per *coordinate* (x at t = 1, 3, 5,
   ..., y at t = 2, 4, 6, ...), so its bias corrections differ from Adam's; nnx's is the
   published one, and the table shows how far apart the end points are.

Why the modern variant: a linear output trained on squared error, sigmoid hidden layers and a
0.01 rate leave the lesson's MLP far from converged after 1000 epochs; tanh hidden layers, a
sigmoid output with cross-entropy and Adam reach the moons' accuracy ceiling in 300.

Run: python examples/15_lesson_fundamentals.py
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
from _util import lesson_table, run

import nnx
from nnx.estimators import Perceptron
from nnx.layers import Dense


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-np.clip(z, -250, 250)))


def perceptron(epochs: int) -> tuple[np.ndarray, np.ndarray, float]:
    from sklearn.datasets import make_classification

    X, y = make_classification(
        n_samples=100,
        n_features=2,
        n_redundant=0,
        n_informative=2,
        n_clusters_per_class=1,
        random_state=42,
    )
    w, b = np.zeros(2), 0.0
    for _ in range(epochs):
        for xi, target in zip(X, y, strict=True):
            update = 0.01 * (target - (1 if xi @ w + b >= 0 else 0))
            w, b = w + update * xi, b + update
    p = Perceptron(learning_rate=0.01, max_iter=epochs, shuffle=False).fit(X, y)
    return np.append(w, b), np.append(p.coef_, p.intercept_), p.score(X, y)


def moons() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import make_moons

    return make_moons(n_samples=200, noise=0.1, random_state=42)


def mlp_weights() -> list[np.ndarray]:
    rng = np.random.RandomState(42)
    sizes = [2, 10, 5, 1]
    out = []
    for n_in, n_out in itertools.pairwise(sizes):
        out += [rng.randn(n_in, n_out) * 0.1, np.zeros(n_out)]
    return out


def lesson_mlp(X: np.ndarray, y: np.ndarray, epochs: int) -> tuple[list[float], np.ndarray]:
    """The lesson's MLP loop: losses every 100 epochs (before the update), final outputs."""
    params = mlp_weights()
    weights, biases = params[0::2], params[1::2]
    losses = []
    for epoch in range(epochs):
        acts, zs = [X], []
        for i, (w, b) in enumerate(zip(weights, biases, strict=True)):
            zs.append(acts[-1] @ w + b)
            acts.append(_sigmoid(zs[-1]) if i < len(weights) - 1 else zs[-1])
        if epoch % 100 == 0:
            losses.append(float(np.mean((acts[-1].ravel() - y) ** 2)))
        delta = acts[-1] - y.reshape(-1, 1)
        for i in range(len(weights) - 1, -1, -1):
            if i < len(weights) - 1:
                s = _sigmoid(zs[i])
                delta = delta @ weights[i + 1].T * s * (1 - s)
            weights[i] = weights[i] - 0.01 * acts[i].T @ delta / len(X)
            biases[i] = biases[i] - 0.01 * delta.sum(axis=0) / len(X)
    out = X
    for i, (w, b) in enumerate(zip(weights, biases, strict=True)):
        out = out @ w + b
        out = _sigmoid(out) if i < len(weights) - 1 else out
    return losses, out


def nnx_mlp(X: np.ndarray, y: np.ndarray, epochs: int) -> tuple[list[float], nnx.Sequential]:
    model = nnx.Sequential(
        [
            Dense(10, activation="sigmoid", input_shape=(2,)),
            Dense(5, activation="sigmoid"),
            Dense(1),
        ],
        dtype="float64",
    )
    model.set_weights(mlp_weights())
    model.compile(nnx.optimizers.SGD(0.005), "mse")
    history = model.fit(
        X, y.reshape(-1, 1), epochs=epochs, batch_size=len(X), shuffle=False, verbose=0
    )
    return history.history["loss"][::100], model


def modern_mlp(X: np.ndarray, y: np.ndarray) -> nnx.Sequential:
    model = nnx.Sequential(
        [
            Dense(10, activation="tanh", input_shape=(2,)),
            Dense(5, activation="tanh"),
            Dense(1, activation="sigmoid"),
        ],
        seed=0,
    )
    model.compile(nnx.optimizers.Adam(0.01), "binary_crossentropy")
    model.fit(X, y.reshape(-1, 1), epochs=300, batch_size=32, verbose=0)
    return model


def lesson_paths(steps: int = 50) -> dict[str, np.ndarray]:
    """The lesson's Optimizer class on x^2 + y^2 (its shared step counter included)."""
    paths = {}
    for method in ("sgd", "momentum", "adam"):
        p, buf, m, v, t = np.array([3.0, 2.0]), np.zeros(2), np.zeros(2), np.zeros(2), 0
        path = [p.copy()]
        for _ in range(steps):
            g = 2 * p
            for k in range(2):  # the lesson updates x, then y, each a call that counts t
                t += 1
                if method == "sgd":
                    p[k] -= 0.1 * g[k]
                elif method == "momentum":
                    buf[k] = 0.9 * buf[k] + 0.1 * g[k]
                    p[k] -= buf[k]
                else:
                    m[k] = 0.9 * m[k] + 0.1 * g[k]
                    v[k] = 0.999 * v[k] + 0.001 * g[k] ** 2
                    mh, vh = m[k] / (1 - 0.9**t), v[k] / (1 - 0.999**t)
                    p[k] -= 0.1 * mh / (np.sqrt(vh) + 1e-8)
            path.append(p.copy())
        paths[method] = np.array(path)
    return paths


def nnx_paths(steps: int = 50) -> dict[str, np.ndarray]:
    from nnx.plot import optimizer_trajectory

    opts = {
        "sgd": nnx.optimizers.SGD(0.1),
        "momentum": nnx.optimizers.SGD(0.1, momentum=0.9),
        "adam": nnx.optimizers.Adam(0.1, epsilon=1e-8),
    }
    return {k: optimizer_trajectory(o, lambda w: 2 * w, (3.0, 2.0), steps) for k, o in opts.items()}


def main(quick: bool = False, out: Any = None) -> dict[str, Any]:
    epochs = 1000
    w_lesson, w_nnx, p_accuracy = perceptron(20 if quick else 1000)
    X, y = moons()
    losses_lesson, out_lesson = lesson_mlp(X, y, epochs)
    losses_nnx, model = nnx_mlp(X, y, epochs)
    out_nnx = model.predict(X)
    accuracy = float(((out_nnx.ravel() > 0.5) == y).mean())
    modern = modern_mlp(X, y)
    modern_accuracy = float(((modern.predict(X).ravel() > 0.5) == y).mean())
    paths_lesson, paths_nnx = lesson_paths(), nnx_paths()
    rows = [
        [
            "perceptron weights, bias",
            np.array2string(w_lesson, precision=4),
            np.array2string(w_nnx, precision=4),
        ]
    ]
    rows += [
        [f"MLP epoch {100 * i} loss", f"{a:.4f}", f"{b:.4f}"]
        for i, (a, b) in enumerate(zip(losses_lesson, losses_nnx, strict=True))
    ]
    lesson_accuracy = float(((out_lesson.ravel() > 0.5) == y).mean())
    rows += [["MLP training accuracy", f"{lesson_accuracy:.3f}", f"{accuracy:.3f}"]]
    rows += [["modern MLP accuracy (tanh, sigmoid + BCE, Adam)", "-", f"{modern_accuracy:.3f}"]]
    rows += [
        [
            f"{k} end point after 50 steps",
            np.array2string(paths_lesson[k][-1], precision=4),
            np.array2string(paths_nnx[k][-1], precision=4),
        ]
        for k in paths_lesson
    ]
    if out is not None:
        from nnx.plot import plot_decision_boundary, plot_optimizer_trajectories

        plot_decision_boundary(
            model,
            X,
            y,
            path=out / "lesson_mlp_boundary.png",
            title="lesson's [2, 10, 5, 1] MLP (linear output) on moons",
        )
        plot_decision_boundary(
            modern,
            X,
            y,
            path=out / "modern_mlp_boundary.png",
            title="modern MLP (tanh, sigmoid output, Adam) on moons",
        )
        plot_optimizer_trajectories(
            {
                "gradient descent": nnx.optimizers.SGD(0.1),
                "momentum 0.9": nnx.optimizers.SGD(0.1, momentum=0.9),
                "Adam": nnx.optimizers.Adam(0.1, epsilon=1e-8),
            },
            surface="round",
            steps=50,
            path=out / "lesson_optimizer_paths.png",
        )
    return {
        "perceptron_gap": float(np.abs(w_lesson - w_nnx).max()),
        "perceptron_accuracy": p_accuracy,
        "losses_lesson": losses_lesson,
        "losses_nnx": losses_nnx,
        "mlp_gap": float(np.abs(out_lesson - out_nnx).max()),
        "mlp_accuracy": accuracy,
        "modern_accuracy": modern_accuracy,
        "sgd_gap": float(np.abs(paths_lesson["sgd"] - paths_nnx["sgd"]).max()),
        "momentum_gap": float(np.abs(paths_lesson["momentum"] - paths_nnx["momentum"]).max()),
        "adam_end_gap": float(np.abs(paths_lesson["adam"][-1] - paths_nnx["adam"][-1]).max()),
        "table": lesson_table(rows),
    }


if __name__ == "__main__":
    run(main, __doc__)
