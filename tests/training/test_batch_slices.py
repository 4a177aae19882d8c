"""Batching: the one slicing helper of fit, evaluate and predict, datasets, the validation split."""

from __future__ import annotations

import numpy as np
import pytest

import nnx
from nnx.layers import Dense
from nnx.training import loop, sources
from nnx.training.batching import Dataset, batch_slices, split_validation

X = np.random.default_rng(0).normal(size=(7, 3)).astype("float32")
Y = (X[:, :1] > 0).astype("float32")


def _model(backend="numpy"):
    layers = [Dense(2, "tanh", input_shape=(3,)), Dense(1, "sigmoid")]
    model = nnx.Sequential(layers, backend=backend, seed=0)
    model.compile("sgd", "binary_crossentropy", ["accuracy"])
    return model


def test_batch_slices_cover_every_row_once():
    assert batch_slices(7, 3) == [slice(0, 3), slice(3, 6), slice(6, 7)]
    assert batch_slices(6, 3) == [slice(0, 3), slice(3, 6)]
    assert batch_slices(2, 32) == [slice(0, 2)]


def test_fit_evaluate_and_predict_all_cut_batches_with_batch_slices(monkeypatch):
    calls = []

    def spy(n, batch_size):
        calls.append((n, batch_size))
        return batch_slices(n, batch_size)

    monkeypatch.setattr(loop, "batch_slices", spy)
    monkeypatch.setattr(sources, "batch_slices", spy)
    model = _model()
    model.fit(X, Y, batch_size=3, epochs=2, verbose=0, validation_split=0.3)
    assert calls == [(5, 3), (2, 3)]  # training and validation sets, once each
    calls.clear()
    model.evaluate(X, Y, batch_size=4)
    model.predict(X, batch_size=2)
    assert calls == [(7, 4), (7, 2)]


def test_uneven_last_batches_give_the_full_batch_results(backend):
    model = _model(backend)
    whole = model.evaluate(X, Y, batch_size=7, return_dict=True)
    pieces = model.evaluate(X, Y, batch_size=3, return_dict=True)
    assert pieces == pytest.approx(whole, rel=1e-6)
    np.testing.assert_allclose(model.predict(X, batch_size=3), model.predict(X), rtol=1e-6)


def test_dataset_rows_batches_and_shuffles(backend):
    data = Dataset(backend.asarray(X), backend.asarray(Y), backend.asarray(np.arange(7.0)))
    order = backend.asarray(np.array([6, 0, 3, 1, 2, 5, 4]))
    shuffled = data.shuffled(order)
    assert backend.to_numpy(shuffled.w).tolist() == [6.0, 0.0, 3.0, 1.0, 2.0, 5.0, 4.0]
    np.testing.assert_array_equal(backend.to_numpy(shuffled.x), X[[6, 0, 3, 1, 2, 5, 4]])
    assert data.shuffled(None) is data and len(data.rows(slice(2, 5))) == 3
    x, y, w = data.batch(slice(5, 7))
    assert tuple(x.shape) == (2, 3) and tuple(y.shape) == (2, 1)
    assert backend.to_numpy(w).tolist() == [5.0, 6.0]


def test_validation_split_takes_the_last_rows():
    data = Dataset(np.arange(10.0)[:, None], np.arange(10.0)[:, None])
    train, val = split_validation(data, 0.25)
    assert len(train) == 8 and val is not None and val.x[:, 0].tolist() == [8.0, 9.0]
    assert split_validation(data, 0.0) == (data, None)
    with pytest.raises(ValueError, match=r"validation_split must be a float in \[0, 1\)"):
        split_validation(data, 1.0)
    with pytest.raises(ValueError, match="leaves no training or no validation samples out of 1"):
        split_validation(Dataset(np.zeros((1, 1)), np.zeros((1, 1))), 0.5)
