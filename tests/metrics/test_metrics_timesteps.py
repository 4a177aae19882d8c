"""Metrics of a sequence output scored against one-hot targets count every timestep (Keras),
and such targets fit an output whose length is left open (``Input(shape=(None, k))``)."""

from __future__ import annotations

import numpy as np
import pytest

import nnx
from nnx import layers


@pytest.fixture
def sequence_model() -> nnx.Model:
    x_in = nnx.Input(shape=(None, 5))
    model = nnx.Model(x_in, layers.Dense(7, activation="softmax")(x_in))
    model.compile("rmsprop", "categorical_crossentropy", metrics=["accuracy"])
    return model


def _data(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(40, 9, 5)).astype("float32")
    return x, np.eye(7, dtype="float32")[rng.integers(0, 7, (40, 9))]


def test_accuracy_is_the_mean_over_samples_and_timesteps(sequence_model: nnx.Model) -> None:
    x, y = _data()
    _, accuracy = sequence_model.evaluate(x, y, batch_size=16, verbose=0)
    hits = sequence_model.predict(x, verbose=0).argmax(-1) == y.argmax(-1)
    assert accuracy == pytest.approx(float(hits.mean()), abs=1e-6)
    assert 0.0 <= accuracy <= 1.0


def test_weighted_accuracy_weights_each_sample_s_timesteps(sequence_model: nnx.Model) -> None:
    x, y = _data(1)
    w = np.random.default_rng(2).uniform(size=40).astype("float32")
    _, accuracy = sequence_model.evaluate(x, y, sample_weight=w, batch_size=16, verbose=0)
    hits = (sequence_model.predict(x, verbose=0).argmax(-1) == y.argmax(-1)).mean(axis=1)
    assert accuracy == pytest.approx(float((hits * w).sum() / w.sum()), abs=1e-6)


def test_targets_fit_an_open_length_and_a_wrong_size_still_fails(
    sequence_model: nnx.Model,
) -> None:
    x, y = _data()
    history = sequence_model.fit(x, y, epochs=2, batch_size=20, verbose=0)
    assert history.history["loss"][1] < history.history["loss"][0]
    with pytest.raises(ValueError, match=r"has shape \(40, 9, 6\).*\(batch, None, 7\)"):
        sequence_model.fit(x, y[..., :6], epochs=1, verbose=0)
