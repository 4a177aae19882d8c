"""Classification and regression metrics: hand values, scikit-learn's metrics, streaming."""

from __future__ import annotations

import numpy as np
import pytest
import sklearn.metrics as skm

import nnx
from nnx import metrics as M
from nnx.datasets import make_blobs, make_moons
from nnx.layers import Dense

RNG = np.random.default_rng(0)
Y3 = RNG.integers(0, 3, 200)
P3 = np.where(RNG.random(200) < 0.6, Y3, RNG.integers(0, 3, 200))
YB = RNG.integers(0, 2, 300)
SB = np.clip(YB * 0.3 + RNG.random(300) * 0.7, 0, 1).round(2)  # rounded: ties on purpose


def test_hand_values(backend):
    b = backend
    t, p = b.asarray([0, 1, 1, 1, 0]), b.asarray([0, 1, 0, 1, 1])
    # tp=2, fp=1, fn=1 for class 1
    assert float(M.precision_score(t, p)) == pytest.approx(2 / 3)
    assert float(M.recall_score(t, p)) == pytest.approx(2 / 3)
    assert float(M.f1_score(t, p)) == pytest.approx(2 / 3)
    assert b.to_numpy(M.confusion_matrix(t, p)).tolist() == [[1, 1], [1, 2]]
    assert float(M.accuracy_score(t, p)) == pytest.approx(0.6)
    auc = M.roc_auc_score(b.asarray([0, 0, 1, 1]), b.asarray([0.1, 0.4, 0.35, 0.8]))
    assert float(auc) == pytest.approx(0.75)
    ll = M.log_loss(b.asarray([1, 0]), b.asarray([0.8, 0.4]))
    assert float(ll) == pytest.approx(-(np.log(0.8) + np.log(0.6)) / 2)
    scores = b.asarray([[0.1, 0.6, 0.3], [0.5, 0.2, 0.3]])
    assert float(M.top_k_accuracy(b.asarray([2, 1]), scores, k=2)) == pytest.approx(0.5)
    yt, yp = b.asarray([[1.0], [2.0], [3.0]]), b.asarray([[1.0], [2.0], [5.0]])
    assert float(M.mean_squared_error(yt, yp)) == pytest.approx(4 / 3)
    assert float(M.root_mean_squared_error(yt, yp)) == pytest.approx((4 / 3) ** 0.5)
    assert float(M.mean_absolute_error(yt, yp)) == pytest.approx(2 / 3)
    assert float(M.r2_score(yt, yp)) == pytest.approx(1 - 4 / 2)


@pytest.mark.parametrize("average", ["macro", "micro", "weighted"])
def test_multiclass_scores_match_sklearn(backend, average):
    t, p = backend.asarray(Y3), backend.asarray(P3)
    for ours, theirs in [
        (M.precision_score, skm.precision_score),
        (M.recall_score, skm.recall_score),
        (M.f1_score, skm.f1_score),
    ]:
        expected = theirs(Y3, P3, average=average, zero_division=0)
        assert float(ours(t, p, average=average)) == pytest.approx(expected)


def test_other_metrics_match_sklearn(backend):
    b = backend
    assert (
        b.to_numpy(M.confusion_matrix(b.asarray(Y3), b.asarray(P3))) == skm.confusion_matrix(Y3, P3)
    ).all()
    assert float(M.roc_auc_score(b.asarray(YB), b.asarray(SB))) == pytest.approx(
        skm.roc_auc_score(YB, SB)
    )
    w = RNG.random(300)
    weighted = M.roc_auc_score(b.asarray(YB), b.asarray(SB), b.asarray(w))
    assert float(weighted) == pytest.approx(skm.roc_auc_score(YB, SB, sample_weight=w))
    assert float(M.log_loss(b.asarray(YB), b.asarray(SB))) == pytest.approx(skm.log_loss(YB, SB))
    proba = RNG.dirichlet(np.ones(3), 200)
    assert float(M.log_loss(b.asarray(Y3), b.asarray(proba))) == pytest.approx(
        skm.log_loss(Y3, proba)
    )
    assert float(M.top_k_accuracy(b.asarray(Y3), b.asarray(proba), k=2)) == pytest.approx(
        skm.top_k_accuracy_score(Y3, proba, k=2)
    )
    yt, yp = RNG.normal(size=(50, 2)), RNG.normal(size=(50, 2))
    assert float(M.r2_score(b.asarray(yt), b.asarray(yp))) == pytest.approx(skm.r2_score(yt, yp))
    assert float(M.root_mean_squared_error(b.asarray(yt), b.asarray(yp))) == pytest.approx(
        skm.root_mean_squared_error(yt, yp)
    )


def test_registry_names_and_errors():
    for name in [
        "precision",
        "recall",
        "f1",
        "f1_macro",
        "precision_weighted",
        "recall_micro",
        "auc",
        "roc_auc",
        "log_loss",
        "top_k_accuracy",
        "rmse",
        "r2",
    ]:
        assert isinstance(M.get(name), M.Metric)
        assert name in M.names() or name == "roc_auc"
    assert M.get("f1_macro").name == "f1_macro"
    with pytest.raises(ValueError, match="average"):
        M.F1Score(average="samples")


def test_streaming_equals_the_function_on_the_whole_epoch(backend):
    """evaluate() in small batches gives exactly the whole-data value of each metric."""
    X, y = make_moons(203, noise=0.3, seed=1)
    model = nnx.Sequential(
        [Dense(4, activation="tanh", input_shape=(2,)), Dense(1, activation="sigmoid")],
        backend=backend.name,
        seed=0,
        dtype="float64",
    )
    model.compile(
        "sgd", "binary_crossentropy", metrics=["precision", "recall", "f1", "auc", "log_loss"]
    )
    logs = model.evaluate(X, y.reshape(-1, 1), batch_size=16, return_dict=True)
    p = model.predict(X).ravel()
    labels = (p > 0.5).astype(int)
    assert logs["precision"] == pytest.approx(skm.precision_score(y, labels, zero_division=0))
    assert logs["recall"] == pytest.approx(skm.recall_score(y, labels))
    assert logs["f1"] == pytest.approx(skm.f1_score(y, labels))
    assert logs["auc"] == pytest.approx(skm.roc_auc_score(y, p))
    assert logs["log_loss"] == pytest.approx(skm.log_loss(y, p), rel=1e-6)


def test_streaming_multiclass_and_regression(backend):
    X, y = make_blobs(150, centers=3, cluster_std=2.0, seed=0)
    model = nnx.Sequential(
        [Dense(3, activation="softmax", input_shape=(2,))],
        backend=backend.name,
        seed=0,
        dtype="float64",
    )
    model.compile(
        "adam",
        "sparse_categorical_crossentropy",
        metrics=["f1_macro", "f1_weighted", "top_k_accuracy"],
    )
    logs = model.evaluate(X, y, batch_size=20, return_dict=True)
    labels = model.predict(X).argmax(1)
    assert logs["f1_macro"] == pytest.approx(
        skm.f1_score(y, labels, average="macro", zero_division=0)
    )
    assert logs["f1_weighted"] == pytest.approx(
        skm.f1_score(y, labels, average="weighted", zero_division=0)
    )
    assert logs["top_5_accuracy"] == 1.0
    reg = nnx.Sequential(
        [Dense(2, input_shape=(2,))], backend=backend.name, seed=0, dtype="float64"
    )
    reg.compile("sgd", "mse", metrics=["rmse", "r2", "mae"])
    target = X @ np.array([[1.0, 0.5], [-0.3, 2.0]])
    logs = reg.evaluate(X, target, batch_size=32, return_dict=True)
    pred = reg.predict(X)
    assert logs["r2"] == pytest.approx(skm.r2_score(target, pred))
    assert logs["rmse"] == pytest.approx(skm.root_mean_squared_error(target, pred))
    cm = M.ConfusionMatrix()
    for s in range(0, 150, 40):
        cm.update_state(
            backend.asarray(y[s : s + 40]), backend.asarray(model.predict(X[s : s + 40]))
        )
    assert (backend.to_numpy(cm.result()) == skm.confusion_matrix(y, labels)).all()


def test_fit_logs_new_metrics_per_epoch():
    X, y = make_moons(128, seed=0)
    model = nnx.Sequential(
        [Dense(8, activation="relu", input_shape=(2,)), Dense(1, activation="sigmoid")], seed=0
    )
    model.compile("adam", "binary_crossentropy", metrics=["f1", "auc"])
    history = model.fit(X, y.reshape(-1, 1), epochs=2, verbose=0, validation_split=0.25)
    assert {"f1", "auc", "val_f1", "val_auc"} <= set(history.history)
    assert all(0.0 <= v <= 1.0 for v in history.history["val_auc"])
