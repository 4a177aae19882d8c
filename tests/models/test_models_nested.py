"""A functional model called as a layer (Keras's "models are callable like layers"): in
another graph and in a Sequential, shared weights, masks in and out, gradients (float64),
the summary row and saving the outer model."""

from __future__ import annotations

import numpy as np
import pytest

import nnx
from nnx.layers import LSTM, Add, Dense, Embedding

RNG = np.random.default_rng(5)


def _inner(backend, dtype="float32"):
    x = nnx.Input((3,))
    h = Dense(4, activation="tanh", name="inner_hidden")(x)
    return nnx.Model(x, Dense(2, name="inner_out")(h), name="inner", backend=backend, seed=1,
                     dtype=dtype)  # fmt: skip


def test_a_nested_model_is_one_shared_layer(backend):
    inner = _inner(backend)
    x = nnx.Input((3,))
    y = Dense(1, name="head")(Add(name="sum")([inner(x), inner(x)]))
    outer = nnx.Model(x, y, backend=backend, seed=0)
    assert [layer.name for layer in outer.layers] == [outer.inputs[0].name, "inner", "sum", "head"]
    assert outer.count_params() == inner.count_params() + 3  # the inner weights once
    data = RNG.normal(size=(5, 3))
    expected = 2 * inner.predict(data) @ outer.get_layer("head").get_weights()[0]
    expected += outer.get_layer("head").get_weights()[1]
    np.testing.assert_allclose(outer.predict(data), expected, rtol=1e-5, atol=1e-6)
    lines: list[str] = []
    outer.summary(print_fn=lines.append)
    assert any(line.startswith("inner (Functional)") and " 26 " in line for line in lines)


def test_training_the_outer_model_trains_the_inner_weights(backend):
    inner = _inner(backend)
    x = nnx.Input((3,))
    outer = nnx.Model(x, Dense(1)(inner(x)), backend=backend, seed=0)
    before = inner.get_weights()
    outer.compile(nnx.optimizers.Adam(learning_rate=0.05), "mse")
    data = RNG.normal(size=(64, 3))
    history = outer.fit(data, data[:, :1] - data[:, 1:2], epochs=40, batch_size=16, verbose=0)
    assert history.history["loss"][-1] < 0.2 * history.history["loss"][0]
    assert any(not np.allclose(a, b) for a, b in zip(before, inner.get_weights(), strict=True))


def test_gradients_through_a_nested_model_float64(backend):
    inner = _inner(backend, dtype="float64")
    a, b = nnx.Input((3,), name="a"), nnx.Input((3,), name="b")
    joined = Add()([inner(a), inner(b)])  # two calls: the inner weights' gradients add up
    outer = nnx.Model([a, b], Dense(2, activation="tanh")(joined), backend=backend, seed=0,
                      dtype="float64")  # fmt: skip
    errors = nnx.gradcheck(outer, [RNG.normal(size=(4, 3)), RNG.normal(size=(4, 3))])
    assert {"input/a", "input/b", "inner_hidden/kernel", "inner_out/bias"} <= set(errors)
    assert max(errors.values()) < 1e-6


def test_a_nested_model_in_a_sequential(backend):
    inner = _inner(backend)
    model = nnx.Sequential([nnx.Input((3,)), inner, Dense(1)], backend=backend, seed=0)
    data = RNG.normal(size=(4, 3))
    assert model.predict(data).shape == (4, 1)
    assert model.count_params() == inner.count_params() + 3
    model.compile("sgd", "mse")
    model.fit(data, np.ones((4, 1)), epochs=1, verbose=0)


def test_masks_flow_into_and_out_of_a_nested_model(backend):
    def lstm_on_embedding(steps):
        ids = nnx.Input((steps,), dtype="int64")
        embed = nnx.Model(ids, Embedding(12, 4, mask_zero=True)(ids), backend=backend, seed=0)
        tokens = nnx.Input((steps,), dtype="int64")
        return nnx.Model(tokens, LSTM(3)(embed(tokens)), backend=backend, seed=0)

    padded, short = lstm_on_embedding(5), lstm_on_embedding(3)
    short.set_weights(padded.get_weights())
    ids = np.array([[4, 7, 2, 0, 0], [5, 1, 9, 0, 0]])
    # the padding's mask comes out of the nested model: the LSTM skips those steps
    np.testing.assert_allclose(padded.predict(ids), short.predict(ids[:, :3]), atol=1e-6)
    unmasked = ids + (ids == 0)  # the same ids, padding replaced by a real token
    assert not np.allclose(padded.predict(ids), padded.predict(unmasked), atol=1e-4)


def test_several_outputs_and_mask_keep_their_order(backend):
    x = nnx.Input((3,))
    inner = nnx.Model(x, [Dense(1, name="p")(x), Dense(2, name="q")(x)], name="two",
                      backend=backend, seed=0)  # fmt: skip
    z = nnx.Input((3,))
    p, q = inner(z)
    outer = nnx.Model(z, [p, q], backend=backend, seed=0)
    data = RNG.normal(size=(2, 3))
    got, want = outer.predict(data), inner.predict(data)
    for g, w in zip(got, want, strict=True):
        np.testing.assert_allclose(g, w, rtol=1e-6)


def test_the_outer_model_saves_and_loads(tmp_path, backend):
    inner = _inner(backend)
    x = nnx.Input((3,))
    outer = nnx.Model(x, Dense(1, name="head")(inner(x)), backend=backend, seed=0)
    path = tmp_path / "outer.nnx"
    outer.save(path)
    loaded = nnx.load(path, backend=backend)
    data = RNG.normal(size=(3, 3))
    np.testing.assert_allclose(loaded.predict(data), outer.predict(data), rtol=1e-6)
    assert [type(layer).__name__ for layer in loaded.layers][1] == "NestedModel"


def test_a_nested_model_on_the_wrong_shape_or_backend_is_refused():
    inner = _inner("numpy")
    with pytest.raises(ValueError, match=r"Model 'inner' expects input .* of shape \(None, 3\)"):
        inner(nnx.Input((4,)))
    x = nnx.Input((3,))
    with pytest.raises(ValueError, match="built on backend 'numpy'"):
        nnx.Model(x, inner(x), backend="array_api_strict")
