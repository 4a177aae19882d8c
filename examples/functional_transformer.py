"""A Keras-style functional Transformer classifier, trained, saved and loaded.

The block, as in the Keras text-classification example: ``Embedding -> PositionalEmbedding ->
MultiHeadAttention(x, x) -> Add -> LayerNormalization -> Dense -> Add -> LayerNormalization ->
GlobalAveragePooling1D -> Dense``, written with ``nnx.Input`` and ``nnx.Model``.

Task (generated, offline): sequences of 12 tokens out of 10; the label says whether token 1
occurs more often than token 2 (guessing scores about 0.5). The task is easy (pooled token
embeddings already count); the point is the wiring. The trained model is saved and loaded
again, and the loaded one predicts exactly the same numbers.

Run: python examples/functional_transformer.py
"""

from __future__ import annotations

import pathlib
import tempfile
from typing import Any

import numpy as np
from _util import run

import nnx
from nnx.layers import (
    Add,
    Dense,
    Embedding,
    GlobalAveragePooling1D,
    LayerNormalization,
    MultiHeadAttention,
    PositionalEmbedding,
)

VOCAB, STEPS = 10, 12


def counting_task(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Token sequences and labels: 1 where token 1 outnumbers token 2 (ties resampled away)."""
    rng = np.random.default_rng(seed)
    x = rng.integers(0, VOCAB, size=(4 * n, STEPS))
    diff = (x == 1).sum(axis=1) - (x == 2).sum(axis=1)
    keep = diff != 0
    x, y = x[keep][:n], (diff[keep][:n] > 0).astype(np.float32)
    return x.astype(np.int64), y[:, None]


def transformer_classifier(
    dim: int = 16, heads: int = 2, seed: int = 0, backend: Any = None
) -> nnx.models.Model:
    """One post-norm Transformer encoder block and a sigmoid head."""
    tokens = nnx.Input(shape=(STEPS,), dtype="int64", name="tokens")
    x = Embedding(VOCAB, dim, name="embed")(tokens)
    x = PositionalEmbedding(STEPS, name="positions")(x)
    attended = MultiHeadAttention(num_heads=heads, key_dim=dim // heads, name="attention")(x, x)
    x = LayerNormalization(name="norm1")(Add(name="residual1")([x, attended]))
    fed = Dense(dim, activation="relu", name="feed_forward")(x)
    x = LayerNormalization(name="norm2")(Add(name="residual2")([x, fed]))
    x = GlobalAveragePooling1D(name="pool")(x)
    y = Dense(1, activation="sigmoid", name="label")(x)
    return nnx.Model(tokens, y, backend=backend, seed=seed, name="transformer")


def main(quick: bool = False, out: Any = None) -> dict[str, Any]:
    n = 512 if quick else 2048
    x, y = counting_task(n, seed=0)
    x_test, y_test = counting_task(512, seed=1)
    model = transformer_classifier()
    model.compile(nnx.optimizers.Adam(0.01), "binary_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, epochs=8 if quick else 20, batch_size=32, verbose=0)
    accuracy = float(model.evaluate(x_test, y_test, verbose=0)[1])
    folder = pathlib.Path(out) if out is not None else pathlib.Path(tempfile.mkdtemp())
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "functional_transformer.nnx"
    model.save(str(path))
    loaded = nnx.load(str(path))
    same = bool(np.array_equal(model.predict(x_test), loaded.predict(x_test)))
    return {
        "params": model.count_params(),
        "final_loss": float(history.history["loss"][-1]),
        "test_accuracy": accuracy,
        "loaded_predicts_the_same": same,
    }


if __name__ == "__main__":
    run(main, __doc__)
