"""``nnx.ops`` for building masks: comparisons, logic, ``minimum``/``maximum``, ``tile``,
``tril``/``triu``, ``argmax``, eager on every backend and as graph nodes (bool results carry
no gradient; the others match central differences), and Keras's causal-mask idiom with the
unknown batch size."""

from __future__ import annotations

import numpy as np
import pytest

import nnx
from nnx import ops
from nnx.layers import Dense

RNG = np.random.default_rng(17)


def test_eager_mask_ops_on_every_backend(backend):
    x = backend.asarray([[3, 0, 5], [0, 2, 2]])
    host = backend.to_numpy
    assert host(ops.not_equal(x, 0)).tolist() == [[True, False, True], [False, True, True]]
    assert host(ops.equal(x, 2))[1].tolist() == [False, True, True]
    assert host(ops.greater_equal(x, 2))[0].tolist() == [True, False, True]
    assert host(ops.less(x, 2))[0].tolist() == [False, True, False]
    assert host(ops.greater(x, 2))[0].tolist() == [True, False, True]
    assert host(ops.less_equal(x, 0))[1].tolist() == [True, False, False]
    both = ops.logical_and(ops.not_equal(x, 0), ops.less(x, 5))
    assert host(both)[0].tolist() == [True, False, False]
    assert host(ops.logical_or(both, ops.equal(x, 5)))[0].tolist() == [True, False, True]
    assert host(ops.logical_not(both))[0].tolist() == [False, True, True]
    assert host(ops.minimum(x, 2))[0].tolist() == [2, 0, 2]
    assert host(ops.maximum(x, backend.asarray([[1, 1, 9]])))[1].tolist() == [1, 2, 9]
    assert host(ops.tile(x, (1, 2))).tolist()[0] == [3, 0, 5, 3, 0, 5]
    assert host(ops.tile(x, (2, 1, 1))).shape == (2, 2, 3)
    square = ops.ones((3, 3))
    assert ops.tril(square).tolist() == [[1, 0, 0], [1, 1, 0], [1, 1, 1]]
    assert ops.triu(square, k=1).tolist() == [[0, 1, 1], [0, 0, 1], [0, 0, 0]]
    assert host(ops.argmax(x, axis=1)).tolist() == [2, 1]
    assert host(ops.argmin(x, axis=1)).tolist() == [1, 0]
    assert ops.convert_to_numpy(ops.argmax(ops.convert_to_tensor([0.1, 0.7, 0.2]))).item() == 1


def test_symbolic_comparisons_are_bool_and_have_no_gradient():
    x = nnx.Input((4,))
    for mask in (x > 0, x >= 0, x < 1, x <= 1, ops.not_equal(x, 0), ~(x > 0), (x > 0) & (x < 1)):
        assert mask.dtype == "bool" and mask.shape == (None, 4)
    y = ops.where(x > 0, x, ops.zeros_like(x))  # relu from a mask: its gradient goes through y
    model = nnx.Model(x, Dense(2, name="d")(y), dtype="float64", seed=0)
    errors = nnx.gradcheck(model, RNG.normal(size=(3, 4)) + 0.05)
    assert max(errors.values()) < 1e-6
    assert ops.argmax(nnx.Input((4, 3)), axis=-1).dtype == "int64"
    with pytest.raises(ValueError, match="cannot reduce the batch axis"):
        ops.argmax(x, axis=0)


def test_minimum_maximum_tile_tril_gradients_in_a_graph(backend):
    x = nnx.Input((3, 3))
    h = Dense(3, name="h")(x)
    low = ops.minimum(h, ops.transpose(x, (0, 2, 1)))
    high = ops.maximum(low, -0.5)
    tiled = ops.tile(ops.tril(high, k=-1) + ops.triu(h), (1, 2, 1))
    out = ops.reshape(tiled, (None, 18))
    model = nnx.Model(x, out, backend=backend, dtype="float64", seed=0)
    errors = nnx.gradcheck(model, RNG.normal(size=(2, 3, 3)))
    assert max(errors.values()) < 1e-6
    with pytest.raises(ValueError, match="the batch axis of .* cannot be repeated"):
        ops.tile(x, (2, 1, 1))


def test_the_causal_mask_idiom_with_an_unknown_batch_size():
    """Keras's ``get_causal_attention_mask``: ``tile(mask, [batch_size, 1, 1])`` with the
    batch size of ``shape(x)[0]`` (None in a graph) broadcasts over the batch."""
    x = nnx.Input((4, 2))
    batch_size = ops.shape(x)[0]
    reps = ops.concatenate([ops.expand_dims(batch_size, -1), ops.convert_to_tensor([1, 1])], 0)
    assert reps == [None, 1, 1]
    i = ops.arange(4)[:, None]
    causal = ops.reshape(ops.cast(i >= ops.arange(4), "int32"), (1, 4, 4))
    with pytest.raises(ValueError, match="needs a graph"):
        ops.tile(causal, reps)
    mask = ops.minimum(ops.cast(ops.ones_like(x)[:, None, :, 0], "int32"), causal)
    assert mask.shape == (None, 4, 4)  # (n, 1, 4) with (1, 4, 4): NumPy's broadcast
    model = nnx.Model(x, ops.cast(mask, "float32"))
    out = model.predict(RNG.normal(size=(3, 4, 2)))
    np.testing.assert_array_equal(out, np.tile(np.tril(np.ones((4, 4)))[None], (3, 1, 1)))
