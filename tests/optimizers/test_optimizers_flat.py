"""Flat parameter buffers: training on them equals training parameter by parameter."""

from __future__ import annotations

import numpy as np
import pytest

import nnx
from nnx.backends.base import Backend
from nnx.layers import Dense, Input
from nnx.layers.parameter import FlatParameters
from nnx.optimizers import SGD, Adadelta, Adagrad, Adam, AdamW, Nadam, RMSprop

OPTIMIZERS = {
    "sgd": lambda: SGD(0.05),
    "momentum": lambda: SGD(0.05, momentum=0.9),
    "nesterov": lambda: SGD(0.05, momentum=0.9, nesterov=True),
    "adam": lambda: Adam(0.01),
    "amsgrad": lambda: Adam(0.01, amsgrad=True),
    "adamw": lambda: AdamW(0.01, weight_decay=0.1),
    "nadam": lambda: Nadam(0.01),
    "rmsprop": lambda: RMSprop(0.01, momentum=0.5, centered=True),
    "adagrad": lambda: Adagrad(0.05),
    "adadelta": lambda: Adadelta(1.0),
}


def _model(backend: Backend, width: int = 24) -> nnx.Sequential:
    model = nnx.Sequential(
        [Input((5,)), Dense(width, activation="relu"), Dense(3, activation="softmax")],
        backend=backend,
        seed=3,
    )
    return model


def _data(backend: Backend, n: int = 32):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, 5)).astype("float32")
    y = np.eye(3, dtype="float32")[rng.integers(0, 3, n)]
    return backend.asarray(x), backend.asarray(y)


def _assert_same_weights(backend, a: nnx.Sequential, b: nnx.Sequential) -> None:
    for p, q in zip(a.parameters(), b.parameters(), strict=True):
        np.testing.assert_allclose(
            backend.to_numpy(p.value), backend.to_numpy(q.value), rtol=2e-5, atol=2e-6
        )


@pytest.mark.parametrize("kind", OPTIMIZERS)
@pytest.mark.parametrize("width", [24, 400])  # 400: big enough to split over threads
def test_flat_training_equals_per_parameter_training(backend, kind, width):
    x, y = _data(backend)
    flat, plain = _model(backend, width), _model(backend, width)
    for model in (flat, plain):
        model.compile(OPTIMIZERS[kind](), "categorical_crossentropy")
    for _ in range(4):
        flat.train_step(x, y)
        plain.compute_gradients(x, y)
        plain.optimizer.step(plain.trainable_parameters())  # a plain list: per parameter
    _assert_same_weights(backend, flat, plain)
    if backend.flat_views([(2,)], "float32") is not None:
        assert isinstance(flat._trainable, FlatParameters)
        assert not isinstance(plain.trainable_parameters(), FlatParameters)


def test_flat_optimizer_state_round_trips_through_state_dict(backend):
    x, y = _data(backend)
    a, b = _model(backend), _model(backend)
    for model in (a, b):
        model.compile(Adam(0.01), "categorical_crossentropy")
    for _ in range(3):
        a.train_step(x, y)
    b.set_weights(a.get_weights())
    b.optimizer.load_state_dict(a.optimizer.state_dict())
    for _ in range(3):
        a.train_step(x, y)
        b.train_step(x, y)
    _assert_same_weights(backend, a, b)
    state = a.optimizer.state_dict()["slots"][0]["momentum"]
    assert tuple(state.shape) == a.parameters()[0].shape


def test_a_replaced_weight_array_is_copied_back_into_the_flat_buffer(backend):
    x, y = _data(backend)
    model = _model(backend)
    model.compile(SGD(0.1), "categorical_crossentropy")
    model.train_step(x, y)
    kernel = model.parameters()[0]
    kernel.value = backend.xp.zeros_like(kernel.value)  # e.g. a loader that assigns
    model.train_step(x, y)
    flat = model._trainable
    if isinstance(flat, FlatParameters):
        np.testing.assert_array_equal(
            backend.to_numpy(flat.value[: kernel.size]),
            backend.to_numpy(backend.xp.reshape(kernel.value, (-1,))),
        )
    assert float(backend.xp.max(backend.xp.abs(kernel.value))) > 0  # it trained from zeros
