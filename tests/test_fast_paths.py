"""Every backend fast path gives the numbers of the portable path, on every backend it has."""

from __future__ import annotations

import array_api_compat
import numpy as np
import pytest

import nnx
from nnx.backends.base import Backend, array_namespace
from nnx.flat import FlatParameters
from nnx.functional import activations as F
from nnx.layers import Dense, Dropout, Input
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


def _random(backend: Backend, shape: tuple[int, ...], seed: int = 0):
    return backend.rng(seed).normal(shape, dtype="float32")


def test_memoised_array_namespace_is_array_api_compat_s(backend):
    x = _random(backend, (3,))
    assert array_namespace(x) is array_api_compat.array_namespace(x)
    assert array_namespace(x, x) is array_api_compat.array_namespace(x)


def test_fast_activation_backwards_equal_the_portable_ones(backend):
    x, dy = _random(backend, (64, 33), 1), _random(backend, (64, 33), 2)
    for name in nnx.activations.names():
        fast = backend.fast_backward(name)
        if fast is None:
            continue
        forward, backward = getattr(F, name), getattr(F, f"{name}_backward")
        y = forward(x)
        expected = backend.to_numpy(backward(dy, x, y))
        np.testing.assert_allclose(
            backend.to_numpy(fast(dy, x, y)), expected, rtol=1e-6, atol=1e-7, err_msg=name
        )
    if backend.name in ("numpy", "cupy"):
        assert backend.fast_backward("relu") is not None


@pytest.mark.parametrize("rows", [1, 7, 256])
def test_sum_rows_equals_sum_over_the_batch(backend, rows):
    x = _random(backend, (rows, 17))
    expected = backend.to_numpy(backend.xp.sum(x, axis=0))
    np.testing.assert_allclose(backend.to_numpy(backend.sum_rows(x)), expected, rtol=1e-5)
    out = backend.xp.zeros((17,), dtype=x.dtype)
    result = backend.sum_rows(x, out=out)
    np.testing.assert_allclose(backend.to_numpy(out), expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(backend.to_numpy(result), expected, rtol=1e-5, atol=1e-6)


def test_map_chunks_covers_every_index_once(backend):
    n = 300_001
    seen = np.zeros(n, dtype=np.int64)

    def mark(s: slice) -> None:
        seen[s] += 1

    backend.map_chunks(mark, n)
    assert (seen == 1).all()


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


def test_flat_buffers_need_writable_views():
    strict = pytest.importorskip("array_api_strict")
    assert strict is not None
    backend = nnx.backends.get_backend("array_api_strict")
    model = _model(backend)
    assert FlatParameters.create(model.trainable_parameters(), backend) is None


def test_skipping_the_data_gradient_changes_no_weight_gradient(backend):
    x, y = _data(backend)
    model = nnx.Sequential(
        [Input((5,)), Dropout(0.0), Dense(8, activation="relu"), Dense(3, activation="softmax")],
        backend=backend,
        seed=1,
    )
    model.compile(SGD(0.1), "categorical_crossentropy")
    model.compute_gradients(x, y)
    fast = [backend.to_numpy(p.grad).copy() for p in model.parameters()]
    y_pred, backprop = model.forward(x, training=True)
    dx = backprop(model.loss.gradient(y, y_pred))
    assert tuple(dx.shape) == (32, 5)  # the plain backward still returns the data gradient
    for p, g in zip(model.parameters(), fast, strict=True):
        np.testing.assert_allclose(backend.to_numpy(p.grad), g, rtol=1e-4, atol=1e-6)
    assert all(layer.needs_input_gradient for layer in model.layers)
