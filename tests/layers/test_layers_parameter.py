"""Parameter and FlatParameters: weights with gradients, and the flat buffers holding them."""

from __future__ import annotations

import numpy as np
import pytest

import nnx
from nnx.backends.base import Backend
from nnx.layers import Dense, Input
from nnx.layers.parameter import FlatParameters, Parameter


def _model(backend: Backend, width: int = 24) -> nnx.Sequential:
    model = nnx.Sequential(
        [Input((5,)), Dense(width, activation="relu"), Dense(3, activation="softmax")],
        backend=backend,
        seed=3,
    )
    return model


def test_flat_buffers_need_writable_views():
    strict = pytest.importorskip("array_api_strict")
    assert strict is not None
    backend = nnx.backends.get_backend("array_api_strict")
    model = _model(backend)
    assert FlatParameters.create(model.trainable_parameters(), backend) is None


def test_parameter_has_its_value_name_and_no_gradient_yet(backend):
    value = backend.asarray(np.ones((2, 3)), "float32")
    p = Parameter(value, "dense/kernel", trainable=False)
    assert (p.value is value, p.grad, p.name, p.regularizer, p.trainable) == (
        True,
        None,
        "dense/kernel",
        None,
        False,
    )
    assert (p.shape, p.size) == ((2, 3), 6)
    assert repr(p) == "Parameter('dense/kernel', shape=(2, 3), trainable=False)"


def test_parameter_imports_from_every_place_0_1_showed():
    assert nnx.layers.Parameter is Parameter
    assert nnx.layers.base.Parameter is Parameter


def test_flat_parameters_hold_views_of_two_buffers(backend):
    if backend.flat_views([(1,)], "float32") is None:
        # NOTE: array_api_strict has no writable views: the model then keeps separate arrays.
        p = Parameter(backend.asarray([1.0], "float32"), "p")
        assert FlatParameters.create([p], backend) is None
        return
    a = Parameter(backend.asarray([[1.0, 2.0], [3.0, 4.0]], "float32"), "a")
    b = Parameter(backend.asarray([5.0], "float32"), "b")
    b.grad = backend.asarray([7.0], "float32")
    flat = FlatParameters.create([a, b], backend)
    assert flat is not None and list(flat) == [a, b] and flat.matches([a, b])
    assert not flat.matches([b, a])
    np.testing.assert_array_equal(backend.to_numpy(flat.value), [1, 2, 3, 4, 5])
    np.testing.assert_array_equal(backend.to_numpy(flat.grad), [0, 0, 0, 0, 7])
    a.value[0, 0] = 9.0  # a view: writes land in the buffer
    assert float(flat.value[0]) == 9.0
    a.value = backend.asarray([[0.0, 0.0], [0.0, 1.0]], "float32")  # replaced, not written
    flat.sync()
    np.testing.assert_array_equal(backend.to_numpy(flat.value), [0, 0, 0, 1, 5])
    slots = flat.views(flat.empty_like())
    assert [tuple(s.shape) for s in slots] == [(2, 2), (1,)]


def test_flat_parameters_need_one_float_dtype(backend):
    a = Parameter(backend.asarray([1.0], "float32"), "a")
    b = Parameter(backend.asarray([1.0], "float64"), "b")
    assert FlatParameters.create([a, b], backend) is None
    assert FlatParameters.create([], backend) is None
