"""Timestep masks in a Sequential: from Embedding(mask_zero) through recurrent, attention and
per-step layers into the loss and the metrics; sequence models save, load and resume."""

from __future__ import annotations

import numpy as np
import pytest

import nnx
from nnx.layers import (
    GRU,
    LSTM,
    Bidirectional,
    Dense,
    Embedding,
    LayerNormalization,
    MultiHeadAttention,
    PositionalEmbedding,
    SimpleRNN,
    TimeDistributed,
    TransformerEncoder,
)
from nnx.layers.masking import timestep_view

RNG = np.random.default_rng(21)
TOKENS = np.array([[3, 1, 4, 0, 0], [2, 2, 0, 0, 0], [1, 4, 1, 3, 2]])


def _model(layers, backend, seed=0):
    model = nnx.Sequential(layers, backend=backend, seed=seed, dtype="float64")
    model.build((None,))  # any length
    return model


def test_padding_changes_nothing_for_a_masked_classifier(backend):
    model = _model([Embedding(5, 3, mask_zero=True), LSTM(4), Dense(2)], backend)
    x = backend.asarray(TOKENS, "float64")
    y = backend.to_numpy(model(x))
    assert model.output_mask is None  # consumed by the last-state LSTM
    short = backend.to_numpy(model(backend.asarray(TOKENS[:1, :3], "float64")))
    np.testing.assert_allclose(y[0], short[0], rtol=1e-12)


def test_mask_flows_through_per_step_layers_to_the_output(backend, to_np):
    model = _model(
        [
            Embedding(5, 4, mask_zero=True),
            PositionalEmbedding(5),
            GRU(4, return_sequences=True),
            LayerNormalization(),
            TimeDistributed(Dense(3)),
            Dense(5),
        ],
        backend,
    )
    model(backend.asarray(TOKENS, "float64"))
    np.testing.assert_array_equal(to_np(model.output_mask), TOKENS != 0)


@pytest.mark.parametrize(
    "middle",
    [
        lambda: [LSTM(3, return_sequences=True)],
        lambda: [MultiHeadAttention(2, 2)],
        lambda: [TransformerEncoder(6, 2, use_causal_mask=True)],
        lambda: [Bidirectional(SimpleRNN(2, return_sequences=True), merge_mode="mul")],
    ],
)
def test_masked_stack_gradient_check(backend, middle):
    model = _model([Embedding(5, 4, mask_zero=True), *middle(), Dense(2)], backend)
    # NOTE: eps 1e-5: small embeddings make the query gradients small, rounding-dominated at 1e-6
    errors = nnx.gradcheck(model, TOKENS, backend=backend, tolerance=1.0, eps=1e-5)
    assert max(v for k, v in errors.items() if not k.endswith("key_bias")) < 1e-6


def test_loss_is_the_mean_over_valid_steps_and_metrics_count_only_them(backend):
    model = _model(
        [Embedding(5, 4, mask_zero=True), LSTM(3, return_sequences=True), Dense(5)], backend
    )
    model.compile(
        "sgd",
        nnx.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    labels = RNG.integers(0, 5, size=TOKENS.shape)
    logits = backend.to_numpy(model(backend.asarray(TOKENS, "float64")))
    shifted = logits - logits.max(-1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(-1, keepdims=True))
    per_step = -np.take_along_axis(log_p, labels[..., None], -1)[..., 0]
    valid = TOKENS != 0
    loss, accuracy = model.evaluate(TOKENS, labels, batch_size=3)
    assert loss == pytest.approx(per_step[valid].mean(), rel=1e-10)
    hits = (logits.argmax(-1) == labels)[valid]
    assert accuracy == pytest.approx(hits.mean(), rel=1e-10)
    # training sees the same masked loss, and padded labels get no gradient
    first = model.compute_gradients(backend.asarray(TOKENS, "float64"), backend.asarray(labels))[0]
    assert float(first) == pytest.approx(loss, rel=1e-10)


def test_timestep_view_leaves_other_outputs_alone(backend):
    y, p = backend.asarray(np.ones((4, 2))), backend.asarray(np.ones((4, 2)))
    assert timestep_view(y, p, None, None, normalize=True)[1] is p
    w = backend.asarray(np.array([1.0, 2.0]))
    y3, p3 = backend.asarray(np.zeros((2, 3))), backend.asarray(np.zeros((2, 3, 4)))
    _, flat, weights, restore = timestep_view(y3, p3, None, w, normalize=True)
    assert flat.shape == (6, 4) and backend.to_numpy(weights).tolist() == [1, 1, 1, 2, 2, 2]
    assert restore(flat).shape == (2, 3, 4)


def test_sequence_model_saves_loads_and_resumes(backend, tmp_path):
    def make():
        model = nnx.Sequential(
            [
                Embedding(5, 4, mask_zero=True, input_shape=(5,)),
                TransformerEncoder(8, 2, dropout=0.1),
                GRU(3, dropout=0.2, recurrent_dropout=0.2),
                Dense(1),
            ],
            backend=backend,
            seed=1,
        )
        model.compile(nnx.optimizers.Adam(0.01), "mse")
        return model

    x, y = TOKENS.repeat(4, axis=0), RNG.normal(size=(12, 1))
    model = make()
    model.fit(x, y, epochs=1, batch_size=4, verbose=0)
    model.save(tmp_path / "seq.nnx")
    model.fit(x, y, epochs=2, batch_size=4, verbose=0)
    loaded = nnx.load(tmp_path / "seq.nnx", backend=backend)
    loaded.fit(x, y, epochs=2, batch_size=4, verbose=0)
    for a, b in zip(model.get_weights(), loaded.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)  # dropout streams and Adam state resume exactly
    np.testing.assert_array_equal(model.predict(x), loaded.predict(x))
