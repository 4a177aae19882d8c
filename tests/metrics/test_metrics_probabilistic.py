"""ROC AUC, log loss and top-k accuracy: hand values, scikit-learn, streaming == whole epoch."""

from __future__ import annotations

import numpy as np
import pytest
import sklearn.metrics as skm

import nnx
from nnx import metrics as M
from nnx.datasets import make_blobs, make_moons
from nnx.layers import Dense
from nnx.metrics.probabilistic import log_loss_per_sample, top_k_hits

RNG = np.random.default_rng(0)
Y3 = RNG.integers(0, 3, 200)
PROBA = RNG.dirichlet(np.ones(3), 200)
YB = RNG.integers(0, 2, 300)
SB = np.clip(YB * 0.3 + RNG.random(300) * 0.7, 0, 1).round(2)  # rounded: ties on purpose


def test_hand_values(backend):
    b = backend
    auc = M.roc_auc_score(b.asarray([0, 0, 1, 1]), b.asarray([0.1, 0.4, 0.35, 0.8]))
    assert float(auc) == pytest.approx(0.75)
    ll = M.log_loss(b.asarray([1, 0]), b.asarray([0.8, 0.4]))
    assert float(ll) == pytest.approx(-(np.log(0.8) + np.log(0.6)) / 2)
    scores = b.asarray([[0.1, 0.6, 0.3], [0.5, 0.2, 0.3]])
    assert float(M.top_k_accuracy(b.asarray([2, 1]), scores, k=2)) == pytest.approx(0.5)
    assert b.to_numpy(top_k_hits(b.asarray([2, 1]), scores, k=2)).tolist() == [1.0, 0.0]


def test_match_sklearn(backend):
    b = backend
    assert float(M.roc_auc_score(b.asarray(YB), b.asarray(SB))) == pytest.approx(
        skm.roc_auc_score(YB, SB)
    )
    w = RNG.random(300)
    weighted = M.roc_auc_score(b.asarray(YB), b.asarray(SB), b.asarray(w))
    assert float(weighted) == pytest.approx(skm.roc_auc_score(YB, SB, sample_weight=w))
    assert float(M.log_loss(b.asarray(YB), b.asarray(SB))) == pytest.approx(skm.log_loss(YB, SB))
    assert float(M.log_loss(b.asarray(Y3), b.asarray(PROBA))) == pytest.approx(
        skm.log_loss(Y3, PROBA)
    )
    assert float(M.top_k_accuracy(b.asarray(Y3), b.asarray(PROBA), k=2)) == pytest.approx(
        skm.top_k_accuracy_score(Y3, PROBA, k=2)
    )


def test_log_loss_reads_labels_and_one_hot_alike(backend):
    labels = log_loss_per_sample(backend.asarray(Y3), backend.asarray(PROBA))
    onehot = log_loss_per_sample(backend.asarray(np.eye(3)[Y3]), backend.asarray(PROBA))
    np.testing.assert_allclose(backend.to_numpy(labels), backend.to_numpy(onehot), rtol=1e-12)
    np.testing.assert_allclose(backend.to_numpy(labels), -np.log(PROBA[np.arange(200), Y3]))


def test_streaming_auc_and_log_loss_equal_the_whole_epoch(backend):
    X, y = make_moons(203, noise=0.3, seed=1)
    model = nnx.Sequential(
        [Dense(4, activation="tanh", input_shape=(2,)), Dense(1, activation="sigmoid")],
        backend=backend.name,
        seed=0,
        dtype="float64",
    )
    model.compile("sgd", "binary_crossentropy", metrics=["auc", "log_loss"])
    logs = model.evaluate(X, y.reshape(-1, 1), batch_size=16, return_dict=True)
    p = model.predict(X).ravel()
    assert logs["auc"] == pytest.approx(skm.roc_auc_score(y, p))
    assert logs["log_loss"] == pytest.approx(skm.log_loss(y, p), rel=1e-6)


def test_streaming_weighted_auc(backend):
    m = M.AUC()
    w = RNG.random(300)
    for s in range(0, 300, 70):
        part = slice(s, s + 70)
        m.update_state(
            backend.asarray(YB[part].reshape(-1, 1)),
            backend.asarray(SB[part].reshape(-1, 1)),
            backend.asarray(w[part]),
        )
    assert float(m.result()) == pytest.approx(skm.roc_auc_score(YB, SB, sample_weight=w))
    m.reset_state()
    with pytest.raises(ValueError, match="auc: no data yet"):
        m.result()


def test_streaming_top_k(backend):
    X, y = make_blobs(150, centers=3, cluster_std=3.0, seed=0)
    model = nnx.Sequential(
        [Dense(3, activation="softmax", input_shape=(2,))],
        backend=backend.name,
        seed=0,
        dtype="float64",
    )
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["top_k_accuracy"])
    top2 = M.TopKCategoricalAccuracy(k=2)
    for s in range(0, 150, 40):
        top2.update_state(
            backend.asarray(y[s : s + 40]), backend.asarray(model.predict(X[s : s + 40]))
        )
    logs = model.evaluate(X, y, batch_size=20, return_dict=True)
    proba = model.predict(X)
    assert logs["top_5_accuracy"] == 1.0  # 3 classes: the true one is always in the top 5
    expected = skm.top_k_accuracy_score(y, proba, k=2)
    assert expected < 1.0
    assert float(top2.result()) == pytest.approx(expected)
    assert top2.name == "top_2_accuracy"
