"""Sentiment-style classification of padded token sequences, with masking.

    python examples/sequence_classification.py          # about a minute
    python examples/sequence_classification.py --quick  # what the tests run

A generated corpus (no download): "reviews" of 4 to 30 tokens from a 40-word vocabulary in
which words 1-5 are positive, 6-10 negative and the rest neutral; a review is positive when it
holds more positive than negative words, and a negator (word 11) just before a sentiment word
flips it ("not good"). Reviews are padded with 0 to 30 tokens. ``Embedding(mask_zero=True)``
makes the padding invisible to the ``Bidirectional(GRU)``, so predictions do not depend on how
much padding a batch carries. Full run (seed 0): test accuracy 1.000 (the majority class is
0.52).
"""

from __future__ import annotations

import pathlib
from typing import Any

import numpy as np
from _util import run, table

import nnx
from nnx.layers import GRU, Bidirectional, Dense, Embedding

VOCAB, LENGTH, NEGATOR = 40, 30, 11


def reviews(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Token matrix ``(n, LENGTH)`` (0 = padding) and 0/1 labels ``(n, 1)``, ties left out."""
    rng = np.random.default_rng(seed)
    rows: list[np.ndarray] = []
    labels: list[int] = []
    while len(rows) < n:
        size = int(rng.integers(4, LENGTH + 1))
        tokens = rng.integers(1, VOCAB, size=size)
        polarity = np.where(tokens <= 5, 1, np.where(tokens <= 10, -1, 0))
        negated = np.concatenate([[False], tokens[:-1] == NEGATOR])
        score = int(np.sum(np.where(negated, -polarity, polarity)))
        if score == 0:
            continue
        rows.append(np.pad(tokens, (0, LENGTH - size)))
        labels.append(int(score > 0))
    return np.stack(rows), np.array(labels, dtype="float32")[:, None]


def build(seed: int, length: int = LENGTH) -> nnx.Sequential:
    """Embedding (masking padding) -> bidirectional GRU -> logistic output."""
    return nnx.Sequential(
        [
            Embedding(VOCAB, 16, mask_zero=True, input_shape=(length,)),
            Bidirectional(GRU(16)),
            Dense(1, activation="sigmoid"),
        ],
        seed=seed,
    )


def main(quick: bool = False, out: pathlib.Path | None = None) -> dict[str, Any]:
    samples, epochs = (800, 4) if quick else (4000, 12)
    x, y = reviews(samples, seed=0)
    x_test, y_test = reviews(1000, seed=1)
    model = build(seed=0)
    model.compile(nnx.optimizers.Adam(0.01), "binary_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, epochs=epochs, batch_size=32, verbose=0)
    loss, accuracy = model.evaluate(x_test, y_test)
    # masking at work: the first test review without its padding gets the same prediction
    size = int(np.count_nonzero(x_test[0]))
    alone = build(seed=0, length=size)
    alone.set_weights(model.get_weights())
    drift = float(np.abs(alone.predict(x_test[:1, :size]) - model.predict(x_test[:1])).max())
    rows = [[e + 1, v] for e, v in enumerate(history.history["loss"])]
    return {
        "test_accuracy": accuracy,
        "test_loss": loss,
        "majority_class": float(max(y_test.mean(), 1 - y_test.mean())),
        "padding_drift": drift,
        "table": table(["epoch", "training loss"], rows),
    }


if __name__ == "__main__":
    run(main, __doc__)
