"""Sentiment of raw English sentences: TextVectorization -> Embedding(mask_zero) ->
Bidirectional(LSTM) -> Dense, trained on strings.

    python examples/text_sentiment.py          # the full run
    python examples/text_sentiment.py --quick  # what the tests run (seconds)

A generated corpus (no download; scikit-learn ships no text offline): short reviews built from
a small lexicon, e.g. ``"The acting was not really awful, but the ending was dull."``. A clause
is positive or negative by its adjective, flipped by ``not``; with ``but`` the second clause
decides, with ``and`` both agree. Two adjectives (``fun``, ``clumsy``) never occur in training:
in the "unseen words" test set the first clause of an ``and`` review uses one of them, which
the vectorizer maps to ``[UNK]``, so the model must read the second. The strings stay on the host:
``fit`` and ``predict`` encode them once with the model's first layer, and the numbers train
on the model's backend.
"""

from __future__ import annotations

import pathlib
from typing import Any

import numpy as np
from _util import run, table

import nnx
from nnx.layers import LSTM, Bidirectional, Dense, Embedding, TextVectorization

POSITIVE = ["good", "great", "superb", "lovely", "wonderful", "brilliant", "moving"]
NEGATIVE = ["bad", "awful", "dull", "boring", "terrible", "weak", "poor"]
UNSEEN = {True: "fun", False: "clumsy"}  # never in the training reviews
SUBJECTS = ["the movie", "this film", "the plot", "the acting", "the ending", "the music"]
ADVERBS = ["", "", "really", "very", "quite", "truly"]
LENGTH = 20


def _clause(rng: np.random.Generator, positive: bool, unseen: bool = False) -> str:
    negated = bool(rng.random() < 0.35) and not unseen
    pool = POSITIVE if positive != negated else NEGATIVE
    adjective = UNSEEN[positive] if unseen else str(rng.choice(pool))
    adverb = str(rng.choice(ADVERBS))
    words = [str(rng.choice(SUBJECTS)), str(rng.choice(["was", "is"]))]
    words += ["not"] * negated + [adverb] * bool(adverb) + [adjective]
    return " ".join(words)


def reviews(n: int, seed: int, unseen: bool = False) -> tuple[list[str], np.ndarray]:
    """``n`` review strings and their 0/1 labels (about half positive); ``unseen``: ``and``
    reviews whose first clause uses an adjective the training reviews never hold."""
    rng = np.random.default_rng(seed)
    texts, labels = [], []
    for _ in range(n):
        label = bool(rng.random() < 0.5)
        form = 1 if unseen else rng.integers(3)
        if unseen:
            text = f"{_clause(rng, label, unseen=True)} and {_clause(rng, label)}"
        elif form == 0:
            text = _clause(rng, label)
        elif form == 1:
            text = f"{_clause(rng, label)} and {_clause(rng, label)}"
        else:
            text = f"{_clause(rng, not label)}, but {_clause(rng, label)}"
        end = str(rng.choice([".", "!", "..."]))
        texts.append(text[0].upper() + text[1:] + end)
        labels.append(float(label))
    return texts, np.array(labels, dtype="float32")[:, None]


def build(vectorizer: TextVectorization, seed: int) -> nnx.Sequential:
    """The text classifier; its first layer turns strings into padded token indices."""
    return nnx.Sequential(
        [
            vectorizer,
            Embedding(vectorizer.vocabulary_size(), 16, mask_zero=True),
            Bidirectional(LSTM(16)),
            Dense(1, activation="sigmoid"),
        ],
        seed=seed,
    )


def main(quick: bool = False, out: pathlib.Path | None = None) -> dict[str, Any]:
    samples, epochs = (1200, 4) if quick else (6000, 10)
    x, y = reviews(samples, seed=0)
    x_test, y_test = reviews(1000, seed=1)
    vectorizer = TextVectorization(max_tokens=200, output_sequence_length=LENGTH)
    vectorizer.adapt(x)
    model = build(vectorizer, seed=0)
    model.compile(nnx.optimizers.Adam(0.01), "binary_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, epochs=epochs, batch_size=32, verbose=0)
    loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
    _, unseen_accuracy = model.evaluate(*reviews(500, seed=2, unseen=True), verbose=0)
    examples = ["The plot was not bad, but the ending was dull.", "This film is truly brilliant!"]
    probabilities = model.predict(examples)[:, 0]
    rows = [
        [e + 1, v, a]
        for e, (v, a) in enumerate(
            zip(history.history["loss"], history.history["accuracy"], strict=True)
        )
    ]
    return {
        "vocabulary_size": vectorizer.vocabulary_size(),
        "test_accuracy": accuracy,
        "test_loss": loss,
        "unseen_words_accuracy": unseen_accuracy,
        "majority_class": float(max(y_test.mean(), 1 - y_test.mean())),
        "p_negative_example": float(probabilities[0]),
        "p_positive_example": float(probabilities[1]),
        "table": table(["epoch", "training loss", "training accuracy"], rows),
    }


if __name__ == "__main__":
    run(main, __doc__)
