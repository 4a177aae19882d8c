"""nnx.lr_find: the suggested rate trains as well as the best of a grid, the model is untouched,
and the suggestion rules on curves whose answer is known."""

from __future__ import annotations

import math

import numpy as np
import pytest

import nnx
from nnx.data import StandardScaler, train_test_split
from nnx.datasets import load_breast_cancer, load_digits, make_moons
from nnx.layers import Conv2D, Dense, Flatten, MaxPooling2D
from nnx.lr_find import suggest_rate
from nnx.optimizers import SGD, Adam

GRIDS = {
    "sgd": (SGD, [1e-3, 3e-3, 1e-2, 3e-2, 0.1, 0.3, 1.0]),
    "adam": (Adam, [1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 0.1]),
}


def _breast_cancer():
    pytest.importorskip("sklearn")
    X, y = load_breast_cancer()
    Xtr, Xte, ytr, yte = train_test_split(X, y.reshape(-1, 1).astype("float32"), 0.2, seed=0)
    scaler = StandardScaler().fit(Xtr)

    def build():
        return nnx.Sequential(
            [
                Dense(16, activation="relu", input_shape=(30,)),
                Dense(8, activation="relu"),
                Dense(1, activation="sigmoid"),
            ],
            seed=0,
        )

    return (
        build,
        "binary_crossentropy",
        (scaler.transform(Xtr), ytr),
        (scaler.transform(Xte), yte),
        30,
    )


def _moons():
    X, y = make_moons(600, noise=0.2, seed=0)
    Xtr, Xte, ytr, yte = train_test_split(X, y.reshape(-1, 1).astype("float32"), 0.3, seed=0)

    def build():
        return nnx.Sequential(
            [
                Dense(16, activation="tanh", input_shape=(2,)),
                Dense(16, activation="tanh"),
                Dense(1, activation="sigmoid"),
            ],
            seed=0,
        )

    return build, "binary_crossentropy", (Xtr, ytr), (Xte, yte), 60


def _digits_cnn():
    pytest.importorskip("sklearn")
    X, y = load_digits()
    X = (X / 16.0).reshape(-1, 8, 8, 1).astype("float32")
    Y = np.eye(10, dtype="float32")[y]
    Xtr, Xte, ytr, yte = train_test_split(X, Y, 0.3, seed=0)

    def build():
        return nnx.Sequential(
            [
                Conv2D(8, (3, 3), padding="same", activation="relu", input_shape=(8, 8, 1)),
                MaxPooling2D((2, 2)),
                Flatten(),
                Dense(10, activation="softmax"),
            ],
            seed=0,
        )

    return build, "categorical_crossentropy", (Xtr, ytr), (Xte, yte), 5


def _accuracy(build, loss, optimizer, train, test, epochs):
    model = build()
    model.compile(optimizer, loss, metrics=["accuracy"])
    model.fit(*train, epochs=epochs, batch_size=32, verbose=0)
    return model.evaluate(*test, return_dict=True, verbose=0)["accuracy"]


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["sgd", "adam"])
@pytest.mark.parametrize("problem", [_breast_cancer, _moons, _digits_cnn], ids=lambda f: f.__name__)
def test_suggested_rate_trains_within_002_of_the_best_grid_rate(problem, kind):
    build, loss, train, test, epochs = problem()
    make, grid = GRIDS[kind]
    best = max(_accuracy(build, loss, make(lr), train, test, epochs) for lr in grid)
    model = build()
    model.compile(make(1e-3), loss)
    before = model.get_weights()
    result = nnx.lr_find(model, *train)
    assert all((a == b).all() for a, b in zip(before, model.get_weights(), strict=True))
    assert result.method == "steepest" and result.suggestion > 1e-4
    got = _accuracy(build, loss, make(result.suggestion), train, test, epochs)
    assert got >= best - 0.02, (result.suggestion, got, best)


def test_sweep_skips_the_warm_up_stops_at_divergence_and_keeps_the_raw_losses():
    X, y = make_moons(256, noise=0.1, seed=0)
    model = nnx.Sequential(
        [Dense(8, activation="tanh", input_shape=(2,)), Dense(1, activation="sigmoid")], seed=0
    )
    model.compile(SGD(0.01), "binary_crossentropy")
    result = nnx.lr_find(model, X, y.reshape(-1, 1), end_lr=1e4, num_steps=120)
    assert len(result.rates) < 120  # diverged before the end
    assert result.losses[-1] > 4 * min(result.losses) or not math.isfinite(result.raw_losses[-1])
    assert len(result.raw_losses) == len(result.losses) == len(result.rates)
    assert result.skip_start == 12
    assert result.suggestion >= result.rates[result.skip_start]
    assert result.suggest("minimum") == pytest.approx(
        result.rates[int(np.argmin(result.losses))] / 10
    )


def _curve(n=100):
    """A loss that is flat, then falls fastest at lr = 1e-2, then blows up past 1."""
    rates = list(np.logspace(-6, 1, n))
    losses = [1.0 - 0.9 / (1 + math.exp(-2 * (math.log10(r) + 2))) for r in rates]
    losses = [v + (5 * (r - 1) if r > 1 else 0.0) for v, r in zip(losses, rates, strict=True)]
    return rates, losses


def test_steepest_finds_the_known_steepest_point():
    rates, losses = _curve()
    assert suggest_rate(rates, losses, "steepest") == pytest.approx(1e-2, rel=0.2)


def test_steepest_ignores_a_noisy_warm_up():
    rates, losses = _curve()
    losses[1] = 0.2  # one noisy early batch: the raw curve's steepest drop is at the start
    assert suggest_rate(rates, losses, "steepest", skip_start=10) == pytest.approx(1e-2, rel=0.2)


def test_valley_and_minimum_land_on_the_descent():
    rates, losses = _curve()
    low = rates[int(np.argmin(losses))]
    assert 1e-3 < suggest_rate(rates, losses, "valley") < low
    assert suggest_rate(rates, losses, "minimum") == pytest.approx(low / 10)


def test_bad_arguments_name_themselves():
    model = nnx.Sequential([Dense(1, input_shape=(2,))], seed=0)
    model.compile("sgd", "mse")
    X, y = np.zeros((8, 2), "float32"), np.zeros((8, 1), "float32")
    with pytest.raises(ValueError, match="method.*'best'"):
        nnx.lr_find(model, X, y, method="best")
    with pytest.raises(ValueError, match="skip_start"):
        nnx.lr_find(model, X, y, num_steps=10, skip_start=9)
    assert math.isnan(suggest_rate([], []))
