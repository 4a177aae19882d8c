"""The explicit ``mask=`` keyword (Keras's ``layer(x, mask=m)``, attention's ``query_mask`` /
``value_mask`` / ``key_mask``): eagerly and in graphs, replacing the input's own mask,
gradients in float64, masked global pooling, save/load, errors."""

from __future__ import annotations

import numpy as np
import pytest

import nnx
from nnx.gradcheck import numeric_gradient, relative_error
from nnx.layers import (
    GRU,
    LSTM,
    Bidirectional,
    Dense,
    Embedding,
    GlobalAveragePooling1D,
    GlobalMaxPooling1D,
    MultiHeadAttention,
)

RNG = np.random.default_rng(7)
X = RNG.normal(size=(3, 5, 2))
M = np.array([[1, 1, 1, 0, 0], [1, 0, 0, 0, 0], [1, 1, 1, 1, 1]], bool)


def _masked_model(backend, make_layer):
    x, m = nnx.Input((5, 2), name="x"), nnx.Input((5,), dtype="bool", name="m")
    out = make_layer()(x, mask=m)
    return nnx.Model([x, m], out, backend=backend, seed=0)


@pytest.mark.parametrize(
    "make_layer",
    [
        lambda: LSTM(3, name="rnn"),
        lambda: GRU(3, return_sequences=True, name="rnn"),
        lambda: Bidirectional(LSTM(2, name="inner"), name="rnn"),
        lambda: GlobalAveragePooling1D(name="rnn"),
        lambda: GlobalMaxPooling1D(name="rnn"),
    ],
    ids=["lstm", "gru_sequences", "bidirectional", "average", "max"],
)
def test_mask_keyword_in_a_graph_equals_the_eager_call_and_ignores_padding(backend, make_layer):
    model = _masked_model(backend, make_layer)
    y = model.predict([X, M])
    layer = model.get_layer("rnn")
    eager = layer(backend.asarray(X, "float32"), mask=backend.asarray(M))
    np.testing.assert_allclose(y, backend.to_numpy(eager), rtol=1e-6, atol=1e-7)
    junk = X.copy()
    junk[~M] = 50.0
    np.testing.assert_allclose(model.predict([junk, M]), y, rtol=1e-6, atol=1e-7)
    assert not np.allclose(model.predict([X, np.ones_like(M)]), y)


def test_explicit_mask_replaces_the_embedding_mask_as_in_keras(backend):
    tokens, m = nnx.Input((5,), dtype="int64"), nnx.Input((5,), dtype="bool")
    e = Embedding(9, 2, mask_zero=True, name="emb")(tokens)
    explicit = nnx.Model([tokens, m], LSTM(3, name="rnn")(e, mask=m), backend=backend, seed=0)
    implicit = nnx.Model(tokens, LSTM(3, name="rnn2")(e), backend=backend, seed=0)
    implicit.set_weights(explicit.get_weights())
    t = RNG.integers(1, 9, size=(3, 5))
    t[~M] = 0
    all_valid = np.ones_like(M)
    np.testing.assert_allclose(explicit.predict([t, M]), implicit.predict(t), rtol=1e-6)
    unmasked = backend.to_numpy(
        explicit.get_layer("rnn")(explicit.get_layer("emb")(backend.asarray(t)))
    )
    np.testing.assert_allclose(explicit.predict([t, all_valid]), unmasked, rtol=1e-6)


@pytest.mark.parametrize("kind", ["lstm", "average", "max"])
def test_graph_gradients_with_an_explicit_mask_in_float64(backend, kind):
    x, m = nnx.Input((5, 2), name="x"), nnx.Input((5,), dtype="bool", name="m")
    h = Dense(3, activation="tanh", name="proj")(x)
    layer = {
        "lstm": lambda: LSTM(3, return_sequences=True),
        "average": GlobalAveragePooling1D,
        "max": GlobalMaxPooling1D,
    }[kind]()
    out = Dense(2, name="out")(layer(h, mask=m))
    model = nnx.Model([x, m], out, backend=backend, seed=0, dtype="float64")
    model.build()
    xp = backend.xp
    xs = [backend.asarray(X, "float64"), backend.asarray(M)]
    ys, backprop = model.graph.run(xs, training=False)
    r = backend.asarray(RNG.normal(size=tuple(ys[0].shape)), "float64")
    dx, dm = backprop([r])
    assert dm is None

    def f() -> float:
        return float(xp.sum(model.graph.run(xs, training=False)[0][0] * r))

    assert relative_error(dx, numeric_gradient(f, xs[0])) < 1e-6
    for p in model.parameters():
        assert relative_error(xp.asarray(p.grad, copy=True), numeric_gradient(f, p.value)) < 1e-6


@pytest.mark.parametrize("cls", [GlobalAveragePooling1D, GlobalMaxPooling1D])
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_masked_global_pooling_values_and_gradients(backend, cls, data_format):
    layer = cls(data_format=data_format)
    x = X if data_format == "channels_last" else np.transpose(X, (0, 2, 1))
    layer.build(x.shape[1:], backend, None, "float64")
    xb, mb = backend.asarray(x, "float64"), backend.asarray(M)
    y, backprop = layer.forward_masked(xb, mb)
    w = M[..., None]
    if cls is GlobalAveragePooling1D:
        expected = (X * w).sum(1) / w.sum(1)
    else:
        expected = np.where(w, X, -np.inf).max(1)
    np.testing.assert_allclose(backend.to_numpy(y), expected, rtol=1e-12)
    r = backend.asarray(RNG.normal(size=tuple(y.shape)), "float64")
    dx = backprop(r)
    f = lambda: float(backend.xp.sum(layer.forward_masked(xb, mb)[0] * r))  # noqa: E731
    assert relative_error(dx, numeric_gradient(f, xb)) < 1e-7
    none_valid = layer.forward_masked(xb, backend.asarray(np.zeros_like(M)))[0]
    np.testing.assert_array_equal(backend.to_numpy(none_valid), 0.0)


def test_global_average_pooling_reads_the_embedding_mask_in_a_sequential(backend):
    model = nnx.Sequential(
        [Embedding(9, 2, mask_zero=True, input_shape=(5,)), GlobalAveragePooling1D()],
        backend=backend,
    )
    t = RNG.integers(1, 9, size=(3, 5))
    t[~M] = 0
    table = model.get_weights()[0]
    expected = np.stack([table[row[keep]].mean(0) for row, keep in zip(t, M, strict=True)])
    np.testing.assert_allclose(model.predict(t), expected, rtol=1e-6)


def test_attention_query_value_key_masks_eagerly_and_in_a_graph(backend):
    q, v = RNG.normal(size=(3, 4, 2)), RNG.normal(size=(3, 5, 2))
    qm = np.array([[1, 1, 0, 0], [1, 1, 1, 1], [1, 0, 0, 0]], bool)
    qi, vi = nnx.Input((4, 2), name="q"), nnx.Input((5, 2), name="v")
    qmi, vmi = nnx.Input((4,), dtype="bool", name="qm"), nnx.Input((5,), dtype="bool", name="vm")
    out = MultiHeadAttention(2, 3, name="mha")(qi, vi, query_mask=qmi, value_mask=vmi)
    model = nnx.Model([qi, vi, qmi, vmi], out, backend=backend, seed=0)
    y = model.predict([q, v, qm, M])
    mha = model.get_layer("mha")
    qb, vb = backend.asarray(q, "float32"), backend.asarray(v, "float32")
    eager = mha(qb, vb, query_mask=backend.asarray(qm), value_mask=backend.asarray(M))
    np.testing.assert_allclose(y, backend.to_numpy(eager), rtol=1e-5, atol=1e-6)
    by_key = mha(qb, vb, key_mask=backend.asarray(M))
    reference = mha.forward_attention(qb, vb, None, value_mask=backend.asarray(M))[0]
    np.testing.assert_allclose(backend.to_numpy(by_key), backend.to_numpy(reference), rtol=1e-6)
    junk = v.copy()
    junk[~M] = 9.0
    changed = model.predict([q, junk, qm, M])  # a masked query sees every value, as Keras's
    np.testing.assert_allclose(changed[qm], y[qm], rtol=1e-5, atol=1e-6)


def test_a_graph_with_explicit_masks_saves_and_loads(tmp_path):
    model = _masked_model(None, lambda: LSTM(3, return_sequences=True, name="rnn"))
    path = tmp_path / "masked.nnx"
    model.save(path)
    loaded = nnx.load(path)
    np.testing.assert_array_equal(loaded.predict([X, M]), model.predict([X, M]))
    assert loaded.get_config() == model.get_config()


def test_explicit_mask_of_the_wrong_shape_is_refused_by_name():
    x, m = nnx.Input((5, 2)), nnx.Input((4,), dtype="bool")
    model = nnx.Model([x, m], LSTM(3, name="enc")(x, mask=m))
    with pytest.raises(
        ValueError,
        match=r"LSTM 'enc': mask must have the shape \(batch, steps\) "
        r"= \(3, 5\) of its input, received \(3, 4\)",
    ):
        model.predict([X, M[:, :4]])
    with pytest.raises(ValueError, match=r"GlobalMaxPooling1D 'pool': mask must have shape"):
        GlobalMaxPooling1D(name="pool")(X, mask=M[:, :4])


def test_channels_first_pooling_takes_a_mask_of_its_steps_in_a_graph(backend):
    x, m = nnx.Input((2, 5), name="x"), nnx.Input((5,), dtype="bool", name="m")
    pool = GlobalAveragePooling1D(data_format="channels_first", name="pool")
    model = nnx.Model([x, m], pool(x, mask=m), backend=backend, seed=0)
    y = model.predict([np.transpose(X, (0, 2, 1)), M])
    np.testing.assert_allclose(y, (X * M[..., None]).sum(1) / M.sum(1)[:, None], rtol=1e-6)
