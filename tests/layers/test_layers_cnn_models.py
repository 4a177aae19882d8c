"""Convolutional models end to end: the tutorial CNN, a whole-model gradient check, digits."""

from __future__ import annotations

import numpy as np
import pytest

import nnx
from nnx.layers import (
    AveragePooling2D,
    BatchNormalization,
    Conv2D,
    Dense,
    Dropout,
    Flatten,
    GlobalAveragePooling2D,
    MaxPooling2D,
    RandomFlip,
)

RNG = np.random.default_rng(8)


def tutorial_cnn(backend="numpy"):
    return nnx.Sequential(
        [
            Conv2D(32, (3, 3), activation="relu", input_shape=(28, 28, 1)),
            MaxPooling2D(pool_size=(2, 2)),
            Flatten(),
            Dense(64, activation="relu"),
            Dense(10, activation="softmax"),
        ],
        backend=backend,
        seed=0,
    )


def test_tutorial_cnn_summary_matches_keras():
    lines = []
    tutorial_cnn().summary(print_fn=lines.append)
    text = "\n".join(lines)
    for shape, params in [
        ("(None, 26, 26, 32)", "320"),
        ("(None, 13, 13, 32)", "0"),
        ("(None, 5408)", "0"),
        ("(None, 64)", "346,176"),
        ("(None, 10)", "650"),
    ]:
        assert any(shape in line and line.rstrip().endswith(params) for line in lines), shape
    assert "Total params: 347,146" in text


def test_small_cnn_gradient_check_as_a_whole(backend):
    model = nnx.Sequential(
        [
            Conv2D(2, 3, padding="same", activation="tanh", input_shape=(5, 5, 1)),
            AveragePooling2D(2, strides=1),
            Conv2D(3, 2, strides=2, activation="sigmoid"),
            GlobalAveragePooling2D(),
            Dense(2, activation="softmax"),
        ],
        backend=backend,
        seed=0,
    )
    errors = nnx.gradcheck(model, RNG.normal(size=(2, 5, 5, 1)), backend=backend)
    assert max(errors.values()) < 1e-6


def test_cnn_with_every_family_trains_on_each_backend(backend):
    model = nnx.Sequential(
        [
            RandomFlip("horizontal", input_shape=(6, 6, 1)),
            Conv2D(4, 3, padding="same", activation="relu"),
            BatchNormalization(),
            MaxPooling2D(2),
            Dropout(0.2),
            Flatten(),
            Dense(2, activation="softmax"),
        ],
        backend=backend,
        seed=0,
    )
    x = RNG.normal(size=(16, 6, 6, 1)).astype("float32")
    y = np.eye(2, dtype="float32")[(x[:, :3].sum(axis=(1, 2, 3)) > 0).astype(int)]
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, epochs=3, batch_size=8, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    assert model.predict(x).shape == (16, 2)


@pytest.mark.slow
def test_digits_cnn_reaches_93_percent():
    datasets = pytest.importorskip("sklearn.datasets")
    digits = datasets.load_digits()
    x = (digits.images / 16.0).astype("float32")[..., None]
    y = np.eye(10, dtype="float32")[digits.target]
    order = np.random.default_rng(0).permutation(len(x))
    train, test = order[:1437], order[1437:]
    model = nnx.Sequential(
        [
            Conv2D(16, (3, 3), padding="same", activation="relu", input_shape=(8, 8, 1)),
            MaxPooling2D((2, 2)),
            Conv2D(32, (3, 3), padding="same", activation="relu"),
            MaxPooling2D((2, 2)),
            Flatten(),
            Dense(64, activation="relu"),
            Dense(10, activation="softmax"),
        ],
        backend="numpy",
        seed=0,
    )
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    model.fit(x[train], y[train], epochs=8, batch_size=32, verbose=0)
    _, accuracy = model.evaluate(x[test], y[test], verbose=0)
    assert accuracy >= 0.93


def test_summary_shows_shapes_and_parameters_of_every_new_layer():
    from nnx.layers import (
        Conv1D,
        GaussianNoise,
        GlobalMaxPooling1D,
        LayerNormalization,
        RandomRotation,
        RandomTranslation,
        Reshape,
        SpatialDropout2D,
        UpSampling2D,
        ZeroPadding2D,
    )

    model = nnx.Sequential(
        [
            RandomFlip(input_shape=(8, 8, 2)),
            RandomRotation(0.05),
            RandomTranslation(0.1, 0.1),
            GaussianNoise(0.1),
            ZeroPadding2D(1),
            Conv2D(4, 3, strides=2, padding="same"),
            BatchNormalization(),
            SpatialDropout2D(0.1),
            UpSampling2D(2),
            AveragePooling2D(2),
            MaxPooling2D(2),
            Reshape((4, 4)),
            Conv1D(3, 2),
            LayerNormalization(),
            GlobalMaxPooling1D(),
        ],
        seed=0,
    )
    lines = []
    model.summary(print_fn=lines.append)
    text = "\n".join(lines)
    rows = [
        ("ZeroPadding2D", "(None, 10, 10, 2)", "0"),
        ("(Conv2D)", "(None, 5, 5, 4)", "76"),
        ("BatchNormalization", "(None, 5, 5, 4)", "16"),
        ("UpSampling2D", "(None, 10, 10, 4)", "0"),
        ("MaxPooling2D", "(None, 2, 2, 4)", "0"),
        ("Conv1D", "(None, 3, 3)", "27"),
        ("LayerNormalization", "(None, 3, 3)", "6"),
        ("GlobalMaxPooling1D", "(None, 3)", "0"),
    ]
    for kind, shape, params in rows:
        assert any(
            kind in line and shape in line and line.split()[-1] == params for line in lines
        ), (kind, text)
    assert "Non-trainable params: 8" in text
    assert "?" not in text
