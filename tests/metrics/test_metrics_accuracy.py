"""Accuracy: per-sample functions, the streaming classes, Keras's "accuracy" and accuracy_score."""

from __future__ import annotations

import numpy as np
import pytest
import sklearn.metrics as skm

from nnx import metrics as M


def test_binary_accuracy_per_sample_and_threshold(backend):
    y = backend.asarray([[1.0, 0.0], [1.0, 1.0]])
    p = backend.asarray([[0.6, 0.4], [0.3, 0.9]])
    assert backend.to_numpy(M.binary_accuracy(y, p)).tolist() == [1.0, 0.5]
    assert backend.to_numpy(M.binary_accuracy(y, p, threshold=0.2)).tolist() == [0.5, 1.0]


def test_categorical_and_sparse_accuracy(backend):
    p = backend.asarray([[0.1, 0.7, 0.2], [0.5, 0.3, 0.2], [0.2, 0.2, 0.6]])
    onehot = backend.asarray([[0, 1, 0], [0, 1, 0], [0, 0, 1]])
    assert backend.to_numpy(M.categorical_accuracy(onehot, p)).tolist() == [1.0, 0.0, 1.0]
    for labels in ([1, 1, 2], [[1], [1], [2]]):
        hits = M.sparse_categorical_accuracy(backend.asarray(labels), p)
        assert backend.to_numpy(hits).tolist() == [1.0, 0.0, 1.0]


@pytest.mark.parametrize(
    ("loss", "cls"),
    [
        ("binary_crossentropy", M.BinaryAccuracy),
        ("mse", M.BinaryAccuracy),
        ("categorical_crossentropy", M.CategoricalAccuracy),
        ("sparse_categorical_crossentropy", M.SparseCategoricalAccuracy),
    ],
)
def test_accuracy_follows_the_loss(loss, cls):
    metric = M.Accuracy(loss, name="acc")
    assert type(metric) is cls and metric.name == "acc"


def test_streaming_accuracy_weights_samples(backend):
    m = M.SparseCategoricalAccuracy()
    p = backend.asarray([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]])
    m.update_state(backend.asarray([0, 0, 0]), p, backend.asarray([1.0, 3.0, 1.0]))
    assert float(m.result()) == pytest.approx(2 / 5)
    m.reset_state()
    m.update_state(backend.asarray([0, 1, 0]), p)
    assert float(m.result()) == 1.0


def test_accuracy_score_matches_sklearn(backend):
    rng = np.random.default_rng(0)
    t, p = rng.integers(0, 3, 100), rng.integers(0, 3, 100)
    ours = M.accuracy_score(backend.asarray(t), backend.asarray(p))
    assert float(ours) == pytest.approx(skm.accuracy_score(t, p))
