"""Keras's rank rule in fit/evaluate/predict: ``(n,)`` targets meet an ``(n, 1)`` output as
``(n, 1)``, rank-1 inputs meet an input shape ``(1,)`` as ``(n, 1)``, ambiguous pairs fail."""

from __future__ import annotations

import numpy as np
import pytest

import nnx
from nnx.functional.shapes import match_target_rank
from nnx.layers import Dense
from nnx.metrics import BinaryAccuracy

X = np.random.default_rng(0).normal(size=(40, 3)).astype("float32")
Y = (X[:, 0] + X[:, 1] > 0).astype("float32")  # (40,): as sklearn gives labels


def _binary(backend):
    model = nnx.Sequential(
        [Dense(4, activation="relu", input_shape=(3,)), Dense(1, activation="sigmoid")],
        backend=backend,
        seed=0,
    )
    model.compile("adam", "binary_crossentropy", metrics=["accuracy"])
    return model


def test_rank_one_labels_train_exactly_as_a_column(backend):
    w = np.linspace(0.5, 1.5, 40)
    runs = []
    for y, sw in ((Y, w), (Y[:, None], w[:, None])):
        model = _binary(backend)
        history = model.fit(
            X, y, epochs=2, batch_size=8, verbose=0, sample_weight=sw, validation_data=(X, y)
        )
        runs.append((history.history, model.evaluate(X, y, return_dict=True)))
    assert runs[0] == runs[1]
    assert set(runs[0][0]) == {"loss", "accuracy", "val_loss", "val_accuracy"}


def test_the_one_feature_regression_of_the_issue(backend):
    model = nnx.Sequential([Dense(1, input_shape=[1])], backend=backend, seed=0)
    model.compile(nnx.optimizers.SGD(0.05), "mse")
    model.fit(np.array([1.0, 2.0, 3.0]), np.array([2.0, 4.0, 6.0]), epochs=300, verbose=0)
    prediction = model.predict(np.array([4.0]))
    assert prediction.shape == (1, 1)
    assert prediction[0, 0] == pytest.approx(8.0, abs=0.2)


def test_an_unbuilt_model_reads_rank_one_inputs_as_one_feature(backend):
    model = nnx.Sequential([Dense(2), Dense(1)], backend=backend, seed=0)
    model.compile("sgd", "mse")
    model.fit(np.arange(6.0), np.arange(6.0), epochs=1, verbose=0)
    assert model.input_shape == (1,)


@pytest.mark.parametrize(
    "units, y, words",
    [(3, Y, ["(40,)", "(batch, 3)"]), (3, Y[:, None], ["(40, 1)", "(batch, 3)"])],
)
def test_ambiguous_targets_stay_an_error(units, y, words, backend):
    model = nnx.Sequential([Dense(units, input_shape=(3,))], backend=backend)
    model.compile("sgd", "mse")
    with pytest.raises(ValueError) as info:
        model.fit(X, y, verbose=0)
    assert all(word in str(info.value) for word in words)


def test_metrics_expand_rank_one_targets_instead_of_broadcasting(backend):
    metric = BinaryAccuracy()
    p = backend.asarray(np.array([[0.9], [0.2], [0.8]]))
    metric.update_state(backend.asarray(np.array([1.0, 0.0, 0.0])), p)
    assert float(metric.result()) == pytest.approx(2 / 3)


def test_match_target_rank_squeezes_a_trailing_one(backend):
    y = backend.asarray(np.zeros((5, 1)))
    assert tuple(match_target_rank(y, (5,)).shape) == (5,)
    assert tuple(match_target_rank(y, (5, 1)).shape) == (5, 1)
