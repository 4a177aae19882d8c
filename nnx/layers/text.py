"""Host-side text processing for :class:`~nnx.layers.TextVectorization`, in plain Python:
standardize, split, n-grams, and the vocabulary Keras would learn.

Keras's rules (``keras/src/layers/preprocessing/text_vectorization.py`` and
``index_lookup.py``): ``"lower_and_strip_punctuation"`` lowercases then deletes the ASCII
punctuation ``!"#$%&()*+,-./:;<=>?@[\\]^_`{|}~'``; ``"whitespace"`` splits on runs of
whitespace; ``ngrams=(1, 2)`` appends the bigrams (joined by a space) after the unigrams; the
vocabulary is ordered by count, most frequent first, ties broken by the token itself in
*descending* order (Keras sorts ``(count, token)`` ascending and reverses it).

>>> tokens(["The cat, the HAT!"], "lower_and_strip_punctuation", "whitespace", None)
[['the', 'cat', 'the', 'hat']]
>>> learned_vocabulary([["b", "a", "c", "a"]], None, set())
['a', 'c', 'b']
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from typing import Any

__all__ = [
    "PUNCTUATION",
    "document_frequency_idf",
    "holds_strings",
    "learned_vocabulary",
    "texts",
    "tokens",
]

#: Keras's ``DEFAULT_STRIP_REGEX``
PUNCTUATION = re.compile(r'[!"#$%&()\*\+,-\./:;<=>?@\[\\\]^_`{|}~\']')


def texts(data: Any, who: str) -> list[str]:
    """The Python strings of ``data``: one string, a list/tuple of them, a NumPy array of
    strings (shape ``(n,)`` or ``(n, 1)``), or an iterable of such batches.

    Raises:
        TypeError: an element that is not a string, naming ``who`` and the element.
    """
    if isinstance(data, (str, bytes)):
        return [_decoded(data)]
    out: list[str] = []
    for item in data:
        if isinstance(item, (str, bytes)):
            out.append(_decoded(item))
        elif hasattr(item, "__iter__"):
            out.extend(texts(item, who))
        else:
            raise TypeError(
                f"{who} takes strings (a list, a NumPy array of str, or batches of them), "
                f"received an element {item!r} of type {type(item).__name__}."
            )
    return out


def _decoded(s: str | bytes) -> str:
    return s.decode("utf-8") if isinstance(s, bytes) else str(s)


def tokens(
    documents: Sequence[str],
    standardize: str | Callable[[str], str] | None,
    split: str | Callable[[str], list[str]] | None,
    ngrams: tuple[int, ...] | None,
) -> list[list[str]]:
    """Each document standardized, split and extended with its n-grams."""
    out = []
    for doc in documents:
        if standardize in ("lower", "lower_and_strip_punctuation"):
            doc = doc.lower()
        if standardize in ("strip_punctuation", "lower_and_strip_punctuation"):
            doc = PUNCTUATION.sub("", doc)
        elif callable(standardize):
            doc = standardize(doc)
        if split == "whitespace":
            words = doc.split()
        elif split == "character":
            words = list(doc)
        elif callable(split):
            words = list(split(doc))
        else:
            words = [doc]
        if ngrams is not None:
            words = [" ".join(words[i : i + n]) for n in ngrams for i in range(len(words) - n + 1)]
        out.append(words)
    return out


def learned_vocabulary(
    documents: Iterable[list[str]], limit: int | None, special: set[str]
) -> list[str]:
    """The ``limit`` most frequent tokens (all without a limit), special ones left out,
    most frequent first and ties in descending token order (Keras's order)."""
    counts = Counter(t for doc in documents for t in doc if t not in special)
    ordered = sorted(counts.items(), key=lambda kv: (kv[1], kv[0]), reverse=True)
    return [t for t, _ in ordered[: limit if limit is not None else len(ordered)]]


def document_frequency_idf(
    documents: Sequence[list[str]], vocabulary: Sequence[str]
) -> list[float]:
    """Keras's inverse document frequency of each token: ``log(1 + N / (1 + df))`` with ``N``
    documents of which ``df`` contain the token."""
    df = Counter(t for doc in documents for t in set(doc))
    n = len(documents)
    return [math.log(1 + n / (1 + df[t])) for t in vocabulary]


def holds_strings(x: Any) -> bool:
    """Whether ``x`` is text: a string, a list/tuple whose first leaf is one, or a NumPy
    array of str, bytes or objects."""
    if isinstance(x, (str, bytes)):
        return True
    kind = getattr(getattr(x, "dtype", None), "kind", None)
    if kind is not None:
        return kind in "USO"
    if isinstance(x, (list, tuple)):
        return bool(x) and holds_strings(x[0])
    return False
