"""Regression metrics: hand values, scikit-learn's, and exact streaming RMSE / R^2 / MAE."""

from __future__ import annotations

import numpy as np
import pytest
import sklearn.metrics as skm

import nnx
from nnx import metrics as M
from nnx.datasets import make_blobs
from nnx.layers import Dense

RNG = np.random.default_rng(0)


def test_hand_values(backend):
    b = backend
    yt, yp = b.asarray([[1.0], [2.0], [3.0]]), b.asarray([[1.0], [2.0], [5.0]])
    assert float(M.mean_squared_error(yt, yp)) == pytest.approx(4 / 3)
    assert float(M.root_mean_squared_error(yt, yp)) == pytest.approx((4 / 3) ** 0.5)
    assert float(M.mean_absolute_error(yt, yp)) == pytest.approx(2 / 3)
    assert float(M.r2_score(yt, yp)) == pytest.approx(1 - 4 / 2)


def test_match_sklearn(backend):
    yt, yp = RNG.normal(size=(50, 2)), RNG.normal(size=(50, 2))
    t, p = backend.asarray(yt), backend.asarray(yp)
    assert float(M.r2_score(t, p)) == pytest.approx(skm.r2_score(yt, yp))
    assert float(M.root_mean_squared_error(t, p)) == pytest.approx(
        skm.root_mean_squared_error(yt, yp)
    )
    assert float(M.mean_squared_error(t, p)) == pytest.approx(skm.mean_squared_error(yt, yp))
    assert float(M.mean_absolute_error(t, p)) == pytest.approx(skm.mean_absolute_error(yt, yp))


def test_streaming_equals_the_whole_epoch(backend):
    X, _ = make_blobs(150, centers=3, cluster_std=2.0, seed=0)
    reg = nnx.Sequential(
        [Dense(2, input_shape=(2,))], backend=backend.name, seed=0, dtype="float64"
    )
    reg.compile("sgd", "mse", metrics=["rmse", "r2", "mae", "mse"])
    target = X @ np.array([[1.0, 0.5], [-0.3, 2.0]])
    logs = reg.evaluate(X, target, batch_size=32, return_dict=True)
    pred = reg.predict(X)
    assert logs["r2"] == pytest.approx(skm.r2_score(target, pred))
    assert logs["rmse"] == pytest.approx(skm.root_mean_squared_error(target, pred))
    assert logs["mae"] == pytest.approx(skm.mean_absolute_error(target, pred))
    assert logs["mse"] == pytest.approx(skm.mean_squared_error(target, pred))


def test_streaming_weights(backend):
    yt, yp, w = RNG.normal(size=(40, 1)), RNG.normal(size=(40, 1)), RNG.random(40)
    r2, rmse = M.R2Score(), M.RootMeanSquaredError()
    for metric in (r2, rmse):
        for s in (0, 25):
            part = slice(s, s + 25)
            metric.update_state(
                backend.asarray(yt[part]), backend.asarray(yp[part]), backend.asarray(w[part])
            )
    assert float(r2.result()) == pytest.approx(skm.r2_score(yt, yp, sample_weight=w))
    assert float(rmse.result()) == pytest.approx(
        skm.root_mean_squared_error(yt, yp, sample_weight=w)
    )
