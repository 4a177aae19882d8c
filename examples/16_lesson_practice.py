"""Lesson "ML practice: neural network fundamentals" reproduced with its data and settings.

The lesson's cells print without showing their output; its figures here are what its own
NumPy code computes (re-run below by ``lesson_train``), beside nnx with the same initial
weights:

1. Activations: a [10, 5] MLP (Xavier-uniform weights, ``np.random.seed(42)``), sigmoid
   output, cross-entropy, full-batch gradient descent at 0.1 for 1000 epochs, on the linear,
   moons and circles sets (500 points, 30 % test, standardized): test accuracy per activation.
2. Regression (``make_regression(500, 5, noise=10, random_state=42)``, standardized): SGD
   against Adam over 20 learning rates ``logspace(-3, 0, 20)`` on a [5, 10, 1] ReLU net, 100
   samples, 200 epochs. The lesson's "final loss" compares every target with every
   prediction (a broadcasting slip: ``mean_ij (y_i - p_j)^2 = var y + var p + (mean y -
   mean p)^2``), which does not measure the fit; nnx's run prints both it and the real MSE.
3. Depth against test MSE with Adam (0.001, 300 epochs, [5] + [20] * depth + [1]).
4. Damped momentum ``v = 0.9 v + 0.1 g``, ``w -= 0.01 v`` on [5, 20, 10, 1]: nnx's
   ``SGD(0.01, momentum=0.9, dampening=0.9)`` (torch's form: its first step is not damped,
   the lesson's starts from ``v = 0``) - the table shows the test MSE of both.

What the reproduction shows: the lesson's "final loss" grows as the fit improves (SGD 1.51 at
0.001 against 2.16 at 0.34, where the real MSE falls from 0.70 to 0.006), so its learning-rate
chart reads backwards; rates from 0.48 make SGD diverge. Why the modern variant: at 0.001 and
300 full-batch epochs Adam has not finished fitting, so the lesson's depth curve measures
under-training (test MSE 0.030-0.059); at 0.01 every depth fits better (0.012-0.021) and one
hidden layer is enough for this nearly linear target.

Run: python examples/16_lesson_practice.py
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import numpy as np
from _util import lesson_table, run

import nnx
from nnx.layers import Dense

ACTIVATIONS = {
    "sigmoid": (lambda z: 1 / (1 + np.exp(-np.clip(z, -500, 500))), lambda z, a: a * (1 - a)),
    "tanh": (np.tanh, lambda z, a: 1 - a**2),
    "relu": (lambda z: np.maximum(0, z), lambda z, a: (z > 0).astype(float)),
    "leaky_relu": (lambda z: np.where(z > 0, z, 0.01 * z), lambda z, a: np.where(z > 0, 1, 0.01)),
}


def xavier(sizes: list[int]) -> list[np.ndarray]:
    rng, out = np.random.RandomState(42), []
    for n_in, n_out in itertools.pairwise(sizes):
        limit = np.sqrt(6 / (n_in + n_out))
        out += [rng.uniform(-limit, limit, (n_out, n_in)), np.zeros((n_out, 1))]
    return out


def he(sizes: list[int]) -> list[np.ndarray]:
    rng, out = np.random.RandomState(42), []
    for n_in, n_out in itertools.pairwise(sizes):
        out += [rng.normal(0, np.sqrt(2.0 / n_in), (n_out, n_in)), np.zeros((n_out, 1))]
    return out


def lesson_train(
    params: list[np.ndarray],
    activation: str,
    output: str,
    X: np.ndarray,
    y: np.ndarray,
    epochs: int,
    step: Callable[..., None],
    grad: Callable[[np.ndarray, np.ndarray], np.ndarray],
) -> list[np.ndarray]:
    """The lesson's loop (column layout, ``W`` of shape (out, in)); returns the parameters."""
    params = [p.copy() for p in params]
    f, df = ACTIVATIONS[activation]
    for _ in range(epochs):
        acts, zs = [X.T], []
        for i in range(0, len(params), 2):
            zs.append(params[i] @ acts[-1] + params[i + 1])
            last = i == len(params) - 2
            acts.append(
                zs[-1]
                if last and output == "linear"
                else ACTIVATIONS["sigmoid"][0](zs[-1])
                if last
                else f(zs[-1])
            )
        dz, grads = grad(acts[-1], y), []
        for i in reversed(range(len(params) // 2)):
            grads = [dz @ acts[i].T, dz.sum(axis=1, keepdims=True), *grads]
            if i:
                dz = params[2 * i].T @ dz * df(zs[i - 1], acts[i])
        step(params, grads)
    return params


def _forward(params: list[np.ndarray], activation: str, output: str, X: np.ndarray) -> np.ndarray:
    a = X.T
    for i in range(0, len(params), 2):
        z = params[i] @ a + params[i + 1]
        last = i == len(params) - 2
        a = (
            z
            if last and output == "linear"
            else ACTIVATIONS["sigmoid"][0](z)
            if last
            else ACTIVATIONS[activation][0](z)
        )
    return a.T


def gd(lr: float) -> Callable[..., None]:
    def step(params: list[np.ndarray], grads: list[np.ndarray]) -> None:
        for p, g in zip(params, grads, strict=True):
            p -= lr * g

    return step


def damped(lr: float, beta: float = 0.9) -> Callable[..., None]:
    v: list[Any] = []

    def step(params: list[np.ndarray], grads: list[np.ndarray]) -> None:
        if not v:
            v.extend(np.zeros_like(p) for p in params)
        for i, (p, g) in enumerate(zip(params, grads, strict=True)):
            v[i] = beta * v[i] + (1 - beta) * g
            p -= lr * v[i]

    return step


def adam(lr: float) -> Callable[..., None]:
    state: dict[str, Any] = {"t": 0, "m": [], "v": []}

    def step(params: list[np.ndarray], grads: list[np.ndarray]) -> None:
        if not state["m"]:
            state["m"] = [np.zeros_like(p) for p in params]
            state["v"] = [np.zeros_like(p) for p in params]
        state["t"] += 1
        t = state["t"]
        for i, (p, g) in enumerate(zip(params, grads, strict=True)):
            state["m"][i] = 0.9 * state["m"][i] + 0.1 * g
            state["v"][i] = 0.999 * state["v"][i] + 0.001 * g**2
            mh, vh = state["m"][i] / (1 - 0.9**t), state["v"][i] / (1 - 0.999**t)
            p -= lr * mh / (np.sqrt(vh) + 1e-8)

    return step


def nnx_model(params: list[np.ndarray], activation: str, output: str) -> nnx.Sequential:
    n = len(params) // 2
    layers = [
        Dense(
            params[2 * i].shape[0],
            input_shape=(params[0].shape[1],) if i == 0 else None,
            activation=activation if i < n - 1 else (None if output == "linear" else "sigmoid"),
        )
        for i in range(n)
    ]
    model = nnx.Sequential(layers, dtype="float64")
    model.set_weights([p.T if i % 2 == 0 else p.ravel() for i, p in enumerate(params)])
    return model


def classification_sets() -> dict[str, tuple[np.ndarray, ...]]:
    from sklearn import datasets
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    raw = {
        "linear": datasets.make_classification(
            n_samples=500,
            n_features=2,
            n_redundant=0,
            n_informative=2,
            n_clusters_per_class=1,
            class_sep=2.0,
            random_state=42,
        ),
        "moons": datasets.make_moons(n_samples=500, noise=0.2, random_state=42),
        "circles": datasets.make_circles(n_samples=500, noise=0.1, factor=0.3, random_state=42),
    }
    out = {}
    for name, (X, y) in raw.items():
        Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.3, random_state=42)
        scaler = StandardScaler().fit(Xtr)
        out[name] = (scaler.transform(Xtr), scaler.transform(Xte), ytr, yte)
    return out


def activation_table(epochs: int) -> tuple[list[list[Any]], float]:
    rows, gap = [], 0.0
    for name, (Xtr, Xte, ytr, yte) in classification_sets().items():
        for act in ACTIVATIONS:
            init = xavier([2, 10, 5, 1])
            trained = lesson_train(
                init,
                act,
                "sigmoid",
                Xtr,
                ytr,
                epochs,
                gd(0.1),
                lambda a, y: (a - y.reshape(1, -1)) / len(y),
            )
            lesson = float(((_forward(trained, act, "sigmoid", Xte).ravel() >= 0.5) == yte).mean())
            model = nnx_model(init, act, "sigmoid")
            model.compile(nnx.optimizers.SGD(0.1), "binary_crossentropy")
            model.fit(
                Xtr,
                ytr.reshape(-1, 1).astype(float),
                epochs=epochs,
                batch_size=len(Xtr),
                shuffle=False,
                verbose=0,
            )
            got = float(((model.predict(Xte).ravel() >= 0.5) == yte).mean())
            gap = max(gap, abs(got - lesson))
            rows.append([f"{name} / {act} test accuracy", f"{lesson:.4f}", f"{got:.4f}"])
    return rows, gap


def regression() -> tuple[np.ndarray, ...]:
    from sklearn.datasets import make_regression
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    X, y = make_regression(n_samples=500, n_features=5, noise=10, random_state=42)
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.3, random_state=42)
    sx, sy = StandardScaler().fit(Xtr), StandardScaler().fit(ytr.reshape(-1, 1))
    return (
        sx.transform(Xtr),
        sx.transform(Xte),
        sy.transform(ytr.reshape(-1, 1)).ravel(),
        sy.transform(yte.reshape(-1, 1)).ravel(),
    )


def _mse_grad(a: np.ndarray, y: np.ndarray) -> np.ndarray:
    return 2 * (a - y.reshape(1, -1)) / len(y)


def _broadcast_loss(y: np.ndarray, p: np.ndarray) -> float:
    return float(np.mean((y.reshape(-1) - p.reshape(-1, 1)) ** 2))


def rate_study(
    epochs: int, rates: np.ndarray
) -> dict[str, dict[float, tuple[float, float, float]]]:
    """{optimizer: {rate: (lesson's final loss, nnx's same quantity, nnx's real MSE)}}."""
    Xtr, _, ytr, _ = regression()
    X, y = Xtr[:100], ytr[:100]
    makers = {
        "SGD": (gd, lambda lr: nnx.optimizers.SGD(lr)),
        "Adam": (adam, lambda lr: nnx.optimizers.Adam(lr, epsilon=1e-8)),
    }
    out: dict[str, dict[float, tuple[float, float, float]]] = {}
    with np.errstate(all="ignore"):
        for name, (lesson_opt, nnx_opt) in makers.items():
            out[name] = {}
            for lr in rates:
                init = he([5, 10, 1])
                trained = lesson_train(
                    init, "relu", "linear", X, y, epochs - 1, lesson_opt(lr), _mse_grad
                )
                lesson = _broadcast_loss(y, _forward(trained, "relu", "linear", X))
                model = nnx_model(init, "relu", "linear")
                model.compile(nnx_opt(lr), "mse")
                model.fit(
                    X, y.reshape(-1, 1), epochs=epochs - 1, batch_size=100, shuffle=False, verbose=0
                )
                p = model.predict(X)
                out[name][float(lr)] = (
                    lesson,
                    _broadcast_loss(y, p),
                    float(np.mean((p.ravel() - y) ** 2)),
                )
    return out


def depth_study(epochs: int, lr: float, depths: range) -> dict[int, tuple[float, float]]:
    """{depth: (lesson's test MSE, nnx's test MSE)} with Adam."""
    Xtr, Xte, ytr, yte = regression()
    out = {}
    for d in depths:
        init = he([5, *[20] * d, 1])
        trained = lesson_train(init, "relu", "linear", Xtr, ytr, epochs, adam(lr), _mse_grad)
        lesson = float(np.mean((_forward(trained, "relu", "linear", Xte).ravel() - yte) ** 2))
        model = nnx_model(init, "relu", "linear")
        model.compile(nnx.optimizers.Adam(lr, epsilon=1e-8), "mse")
        model.fit(
            Xtr, ytr.reshape(-1, 1), epochs=epochs, batch_size=len(Xtr), shuffle=False, verbose=0
        )
        out[d] = (lesson, float(np.mean((model.predict(Xte).ravel() - yte) ** 2)))
    return out


def damped_momentum(epochs: int) -> tuple[float, float]:
    Xtr, Xte, ytr, yte = regression()
    init = he([5, 20, 10, 1])
    trained = lesson_train(init, "relu", "linear", Xtr, ytr, epochs, damped(0.01), _mse_grad)
    lesson = float(np.mean((_forward(trained, "relu", "linear", Xte).ravel() - yte) ** 2))
    model = nnx_model(init, "relu", "linear")
    model.compile(nnx.optimizers.SGD(0.01, momentum=0.9, dampening=0.9), "mse")
    model.fit(Xtr, ytr.reshape(-1, 1), epochs=epochs, batch_size=len(Xtr), shuffle=False, verbose=0)
    return lesson, float(np.mean((model.predict(Xte).ravel() - yte) ** 2))


def main(quick: bool = False, out: Any = None) -> dict[str, Any]:
    import warnings

    warnings.filterwarnings("ignore", message="fit stopped")  # the diverging rates, on purpose
    rows, activation_gap = activation_table(100 if quick else 1000)
    rates = np.logspace(-3, 0, 4 if quick else 20)
    by_rate = rate_study(50 if quick else 200, rates)
    depths = range(1, 3 if quick else 6)
    lesson_depth = depth_study(50 if quick else 300, 0.001, depths)
    modern_depth = depth_study(50 if quick else 300, 0.01, depths)
    damped_lesson, damped_nnx = damped_momentum(100 if quick else 500)
    for name, results in by_rate.items():
        rows += [
            [f"{name} lr={lr:.4g} final loss", f"{a:.4f}", f"{b:.4f} (real MSE {c:.4f})"]
            for lr, (a, b, c) in results.items()
        ]
    rows += [
        [f"Adam 0.001 depth {d} test MSE", f"{a:.4f}", f"{b:.4f}"]
        for d, (a, b) in lesson_depth.items()
    ]
    rows += [
        [f"modern: Adam 0.01 depth {d} test MSE", "-", f"{b:.4f}"]
        for d, (_, b) in modern_depth.items()
    ]
    rows += [["damped momentum test MSE", f"{damped_lesson:.4f}", f"{damped_nnx:.4f}"]]
    if out is not None:
        from nnx.plot import plot_study

        plot_study(
            {name: {lr: r[2] for lr, r in res.items()} for name, res in by_rate.items()},
            "learning rate",
            "training MSE after 200 epochs",
            "SGD against Adam over 20 learning rates ([5, 10, 1] ReLU)",
            path=out / "lesson_lr_sensitivity.png",
            logx=True,
            logy=True,
        )
        plot_study(
            {
                "Adam 0.001 (lesson)": {d: v[1] for d, v in lesson_depth.items()},
                "Adam 0.01": {d: v[1] for d, v in modern_depth.items()},
            },
            "hidden layers",
            "test MSE",
            "test MSE against depth ([5] + [20] x d + [1])",
            path=out / "lesson_depth_vs_mse.png",
        )
    finite = [
        (a, b)
        for res in by_rate.values()
        for a, b, _ in res.values()
        if np.isfinite(a) and np.isfinite(b)
    ]
    return {
        "activation_gap": activation_gap,
        "rate_gap": max(abs(a - b) / max(abs(a), 1e-12) for a, b in finite),
        "rates_compared": len(finite),
        "depth_gap": max(abs(a - b) for a, b in lesson_depth.values()),
        "lesson_depth_mse": {d: b for d, (_, b) in lesson_depth.items()},
        "modern_depth_mse": {d: b for d, (_, b) in modern_depth.items()},
        "damped_lesson": damped_lesson,
        "damped_nnx": damped_nnx,
        "table": lesson_table(rows),
    }


if __name__ == "__main__":
    run(main, __doc__)
