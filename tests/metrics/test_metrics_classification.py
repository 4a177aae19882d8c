"""Confusion matrices, precision, recall and F1: hand values, scikit-learn, streaming == whole."""

from __future__ import annotations

import numpy as np
import pytest
import sklearn.metrics as skm

import nnx
from nnx import metrics as M
from nnx.datasets import make_blobs, make_moons
from nnx.layers import Dense
from nnx.metrics.confusion import confusion_counts, labels_of

RNG = np.random.default_rng(0)
Y3 = RNG.integers(0, 3, 200)
P3 = np.where(RNG.random(200) < 0.6, Y3, RNG.integers(0, 3, 200))


def test_hand_values(backend):
    b = backend
    t, p = b.asarray([0, 1, 1, 1, 0]), b.asarray([0, 1, 0, 1, 1])
    # tp=2, fp=1, fn=1 for class 1
    assert float(M.precision_score(t, p)) == pytest.approx(2 / 3)
    assert float(M.recall_score(t, p)) == pytest.approx(2 / 3)
    assert float(M.f1_score(t, p)) == pytest.approx(2 / 3)
    assert b.to_numpy(M.confusion_matrix(t, p)).tolist() == [[1, 1], [1, 2]]
    assert float(M.accuracy_score(t, p)) == pytest.approx(0.6)


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


def test_confusion_matrix_matches_sklearn(backend):
    ours = backend.to_numpy(M.confusion_matrix(backend.asarray(Y3), backend.asarray(P3)))
    np.testing.assert_array_equal(ours, skm.confusion_matrix(Y3, P3))
    fixed = M.confusion_matrix(backend.asarray([0, 1]), backend.asarray([1, 1]), num_classes=4)
    assert backend.to_numpy(fixed).shape == (4, 4)


def test_weighted_confusion_counts(backend):
    w = backend.asarray([0.5, 2.0, 1.0], "float32")
    counts = confusion_counts(backend.asarray([0, 1, 1]), backend.asarray([0, 0, 1]), 2, w)
    assert backend.to_numpy(counts).tolist() == [[0.5, 0.0], [2.0, 1.0]]
    assert counts.dtype == backend.xp.float32


def test_labels_of_reads_every_target_form(backend):
    b = backend
    t, p, k = labels_of(b.asarray([[1.0], [0.0]]), b.asarray([[0.4], [0.7]]), threshold=0.3)
    assert (b.to_numpy(t).tolist(), b.to_numpy(p).tolist(), k) == ([1, 0], [1, 1], 2)
    scores = b.asarray([[0.1, 0.2, 0.7], [0.8, 0.1, 0.1]])
    for target in ([2, 1], [[0, 0, 1], [0, 1, 0]]):
        t, p, k = labels_of(b.asarray(target), scores)
        assert (b.to_numpy(t).tolist(), b.to_numpy(p).tolist(), k) == ([2, 1], [2, 0], 3)


def test_average_is_checked_and_names_the_caller():
    with pytest.raises(ValueError, match="F1Score: average must be one of .*average='samples'"):
        M.F1Score(average="samples")
    with pytest.raises(ValueError, match="average must be one of .*average='samples'"):
        M.f1_score(np.array([0, 1]), np.array([0, 1]), average="samples")


def test_result_before_any_batch_is_an_error():
    with pytest.raises(ValueError, match="no data yet"):
        M.Precision().result()


def test_streaming_equals_the_function_on_the_whole_epoch(backend):
    """evaluate() in small batches gives exactly the whole-data value of each metric."""
    X, y = make_moons(203, noise=0.3, seed=1)
    model = nnx.Sequential(
        [Dense(4, activation="tanh", input_shape=(2,)), Dense(1, activation="sigmoid")],
        backend=backend.name,
        seed=0,
        dtype="float64",
    )
    model.compile("sgd", "binary_crossentropy", metrics=["precision", "recall", "f1"])
    logs = model.evaluate(X, y.reshape(-1, 1), batch_size=16, return_dict=True)
    labels = (model.predict(X).ravel() > 0.5).astype(int)
    assert logs["precision"] == pytest.approx(skm.precision_score(y, labels, zero_division=0))
    assert logs["recall"] == pytest.approx(skm.recall_score(y, labels))
    assert logs["f1"] == pytest.approx(skm.f1_score(y, labels))


def test_streaming_multiclass(backend):
    X, y = make_blobs(150, centers=3, cluster_std=2.0, seed=0)
    model = nnx.Sequential(
        [Dense(3, activation="softmax", input_shape=(2,))],
        backend=backend.name,
        seed=0,
        dtype="float64",
    )
    model.compile(
        "adam", "sparse_categorical_crossentropy", metrics=["f1_macro", "f1_weighted", "recall"]
    )
    logs = model.evaluate(X, y, batch_size=20, return_dict=True)
    labels = model.predict(X).argmax(1)
    assert logs["f1_macro"] == pytest.approx(
        skm.f1_score(y, labels, average="macro", zero_division=0)
    )
    assert logs["f1_weighted"] == pytest.approx(
        skm.f1_score(y, labels, average="weighted", zero_division=0)
    )
    # average=None with 3 classes is macro
    assert logs["recall"] == pytest.approx(skm.recall_score(y, labels, average="macro"))
    cm = M.ConfusionMatrix()
    for s in range(0, 150, 40):
        cm.update_state(
            backend.asarray(y[s : s + 40]), backend.asarray(model.predict(X[s : s + 40]))
        )
    np.testing.assert_array_equal(backend.to_numpy(cm.result()), skm.confusion_matrix(y, labels))
