"""``TextVectorization``: Keras's text-to-integers layer. Strings are processed on the host
(Python), the numbers it produces go to the backend.

``adapt(texts)`` learns the vocabulary (:mod:`nnx.layers.text` has Keras's rules); a call maps
each string to token indices (``output_mode="int"``: index 0 is padding ``""``, 1 the
out-of-vocabulary token ``"[UNK]"``, then the vocabulary, most frequent first) or to one row of
``vocabulary_size`` counts (``"multi_hot"``, ``"count"``, ``"tf_idf"``: index 0 is ``"[UNK]"``).

Where it runs: as the first layer of a ``Sequential``, ``fit``/``evaluate``/``predict`` encode
the strings they are given on the host once (:meth:`Sequential.host_inputs`) and move the
numbers to the model's backend, so the rest of the model trains on the device; or call it on a
dataset before ``fit`` (``vectorizer(texts)`` returns a backend array). The vocabulary (and the
IDF weights) are part of the layer's config, so they are saved and loaded with the model.

>>> layer = TextVectorization(output_sequence_length=4)
>>> layer.adapt(["the cat sat", "the dog"])
>>> layer.get_vocabulary()
['', '[UNK]', 'the', 'sat', 'dog', 'cat']
>>> layer(["The bird sat."]).tolist()
[[2, 1, 3, 0]]
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from nnx.backends import Backend, get_backend
from nnx.backends.base import Array
from nnx.layers.base import Backprop, Shape, register_layer
from nnx.layers.host_layer import HostLayer
from nnx.layers.text import (
    document_frequency_idf,
    holds_strings,
    learned_vocabulary,
    texts,
    tokens,
)
from nnx.validation import check_bool, check_choice, check_int

__all__ = ["TextVectorization"]

PAD, OOV = "", "[UNK]"
_STANDARDIZE = (None, "lower_and_strip_punctuation", "lower", "strip_punctuation")
_SPLIT = (None, "whitespace", "character")
_MODES = ("int", "multi_hot", "count", "tf_idf")


@register_layer
class TextVectorization(HostLayer):
    """Strings to token indices or bag-of-words rows (Keras's ``TextVectorization``).

    Args:
        max_tokens: the largest vocabulary, special tokens included (None: no limit).
        standardize: ``"lower_and_strip_punctuation"`` (default), ``"lower"``,
            ``"strip_punctuation"``, None, or a function ``str -> str``.
        split: ``"whitespace"`` (default), ``"character"``, None (the whole string is one
            token), or a function ``str -> list[str]``.
        ngrams: None, ``n`` (all n-grams up to ``n``) or a tuple of n-gram sizes.
        output_mode: ``"int"`` (default), ``"multi_hot"``, ``"count"`` or ``"tf_idf"``.
        output_sequence_length: ``"int"`` mode: pad (after) or cut every sequence to this
            length (None: the longest in the batch).
        vocabulary: a given vocabulary (a list of tokens, without the special ones) instead
            of ``adapt``.
        idf_weights: ``"tf_idf"`` with a given vocabulary: one weight per token.
        pad_to_max_tokens: bag-of-words rows ``max_tokens`` wide even if the vocabulary is
            smaller.

    Shape:
        Input: ``n`` strings (a list, or a NumPy array ``(n,)`` or ``(n, 1)``); output
        ``(n, output_sequence_length)`` integers, or ``(n, vocabulary_size)`` floats of the
        layer's dtype (``tf_idf``: counts times ``log(1 + N / (1 + df))``, the OOV column
        weighted by the mean IDF, as Keras).

    >>> bag = TextVectorization(output_mode="count")
    >>> bag.adapt(["a b b", "b c"])
    >>> bag.get_vocabulary(), bag(["b b z"]).tolist()
    (['[UNK]', 'b', 'c', 'a'], [[1.0, 2.0, 0.0, 0.0]])
    """

    #: a ``Sequential`` that starts with this layer encodes its string inputs on the host
    takes_strings = True

    def __init__(
        self,
        max_tokens: int | None = None,
        standardize: str | Callable[[str], str] | None = "lower_and_strip_punctuation",
        split: str | Callable[[str], list[str]] | None = "whitespace",
        ngrams: int | Sequence[int] | None = None,
        output_mode: str = "int",
        output_sequence_length: int | None = None,
        vocabulary: Sequence[str] | None = None,
        idf_weights: Sequence[float] | None = None,
        pad_to_max_tokens: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        who = f"TextVectorization {self.name!r}"
        self.output_mode = check_choice(output_mode, "output_mode", _MODES, who=who)
        first = 2 if self.output_mode == "int" else 1
        self.max_tokens = (
            None
            if max_tokens is None
            else check_int(max_tokens, "max_tokens", who=who, minimum=first + 1)
        )
        if not callable(standardize):
            check_choice(standardize, "standardize", _STANDARDIZE, who=who)
        if not callable(split):
            check_choice(split, "split", _SPLIT, who=who)
        self.standardize, self.split = standardize, split
        self.ngrams = _ngrams(ngrams, who)
        self.output_sequence_length = (
            None
            if output_sequence_length is None
            else check_int(output_sequence_length, "output_sequence_length", who=who, minimum=1)
        )
        if self.output_sequence_length is not None and self.output_mode != "int":
            raise ValueError(
                f"{who}: output_sequence_length is for output_mode='int' only, received "
                f"output_mode={self.output_mode!r}."
            )
        self.pad_to_max_tokens = check_bool(pad_to_max_tokens, "pad_to_max_tokens", who=who)
        if self.pad_to_max_tokens and self.max_tokens is None:
            raise ValueError(f"{who}: pad_to_max_tokens=True needs max_tokens.")
        self.tokens: list[str] = []
        self.idf: list[float] | None = None
        if vocabulary is not None:
            self.set_vocabulary(vocabulary, idf_weights)
        elif idf_weights is not None:
            raise ValueError(f"{who}: idf_weights are given with a vocabulary only.")
        if self.output_mode == "int" and self.output_sequence_length is not None:
            self.input_shape = (self.output_sequence_length,)  # a Sequential builds at once

    # --- the vocabulary ----------------------------------------------------------------------
    @property
    def special(self) -> list[str]:
        """The special tokens at the front: ``["", "[UNK]"]`` (int mode) or ``["[UNK]"]``."""
        return [PAD, OOV] if self.output_mode == "int" else [OOV]

    def adapt(self, data: Any) -> None:
        """Learn the vocabulary (and IDF weights for ``tf_idf``) from strings on the host."""
        docs = self.tokenize(data)
        limit = None if self.max_tokens is None else self.max_tokens - len(self.special)
        self.tokens = learned_vocabulary(docs, limit, {PAD, OOV})
        if self.output_mode == "tf_idf":
            self.idf = document_frequency_idf(docs, self.tokens)

    def set_vocabulary(
        self, vocabulary: Sequence[str], idf_weights: Sequence[float] | None = None
    ) -> None:
        """Use ``vocabulary`` (leading special tokens are accepted and dropped)."""
        who = f"TextVectorization {self.name!r}"
        words = [str(t) for t in vocabulary]
        while words and words[0] in (PAD, OOV):
            words.pop(0)
        if len(set(words)) != len(words):
            raise ValueError(f"{who}: the vocabulary repeats a token.")
        if (self.output_mode == "tf_idf") != (idf_weights is not None):
            raise ValueError(
                f"{who}: idf_weights must be given with output_mode='tf_idf' (and only then); "
                f"received output_mode={self.output_mode!r}, idf_weights="
                f"{'None' if idf_weights is None else 'a list'}."
            )
        if idf_weights is not None and len(idf_weights) != len(words):
            raise ValueError(
                f"{who}: idf_weights must have one weight per token ({len(words)}), received "
                f"{len(idf_weights)}."
            )
        self.tokens = words
        self.idf = None if idf_weights is None else [float(w) for w in idf_weights]

    def get_vocabulary(self, include_special_tokens: bool = True) -> list[str]:
        """The tokens by index (the special ones first unless ``include_special_tokens=False``)."""
        return (self.special if include_special_tokens else []) + list(self.tokens)

    def vocabulary_size(self) -> int:
        """The number of indices, special tokens included."""
        return len(self.special) + len(self.tokens)

    # --- encoding ----------------------------------------------------------------------------
    def tokenize(self, data: Any) -> list[list[str]]:
        """The tokens of each string of ``data`` (standardized, split, n-grams added)."""
        docs = texts(data, f"TextVectorization {self.name!r}")
        return tokens(docs, self.standardize, self.split, self.ngrams)

    def encode(self, data: Any, backend: Backend | str | None = None) -> Array:
        """The numbers for the strings ``data``, computed on the host and moved to
        ``backend`` (default: the layer's, else the host NumPy backend)."""
        be = get_backend(backend if backend is not None else self.backend or "numpy")
        docs = self.tokenize(data)
        index = {t: i for i, t in enumerate(self.get_vocabulary())}
        oov = index[OOV]
        ids = [[index.get(t, oov) for t in doc] for doc in docs]
        if self.output_mode == "int":
            length = self.output_sequence_length or max((len(r) for r in ids), default=0)
            rows = [(r + [0] * length)[:length] for r in ids]
            return (
                be.asarray(rows, "int64") if rows else be.xp.zeros((0, length), dtype=be.xp.int64)
            )
        width = self.max_tokens if self.pad_to_max_tokens else self.vocabulary_size()
        assert width is not None
        weights = self._idf_row(width)
        table = []
        for r in ids:
            row = [0.0] * width
            for i in r:
                row[i] = 1.0 if self.output_mode == "multi_hot" else row[i] + 1.0
            table.append([c * w for c, w in zip(row, weights, strict=True)] if weights else row)
        return be.asarray(table if table else _empty(width, self.dtype), self.dtype)

    def _idf_row(self, width: int) -> list[float] | None:
        if self.output_mode != "tf_idf":
            return None
        idf = self.idf or []
        mean = sum(idf) / len(idf) if idf else 0.0
        row = [mean, *idf]
        return row + [0.0] * (width - len(row))

    def host_inputs(self, x: Any) -> Any:
        """``x`` encoded on the host if it holds strings, else ``x`` unchanged (already
        numbers): what a ``Sequential`` starting with this layer does to its inputs."""
        return self.encode(x, "numpy") if holds_strings(x) else x

    # --- the layer ---------------------------------------------------------------------------
    def compute_output_shape(self, input_shape: Shape) -> Shape:
        """Of the encoded numbers: ``(output_sequence_length,)`` or ``(vocabulary_size,)``
        (a model sees them already encoded: their own shape)."""
        if self.output_mode == "int":
            if self.output_sequence_length is not None:
                return (self.output_sequence_length,)
            return tuple(input_shape) if input_shape else (None,)
        width = self.max_tokens if self.pad_to_max_tokens else self.vocabulary_size()
        return (width,)

    def __call__(self, x: Any, training: bool | None = None) -> Any:
        """The numbers for the strings ``x``, on the layer's backend (default: the default
        backend), as Keras's ``vectorizer(texts)`` (``training`` changes nothing)."""
        if not self.built:
            self.build((), get_backend(None), None, self.dtype)
        return self.forward(x)[0]

    def forward(self, x: Any, *, training: bool = False) -> tuple[Array, Backprop]:
        """Strings are encoded (on the host, then moved to the backend); numbers (encoded at
        a model's boundary) pass through. Nothing flows back to strings: ``dx`` is None."""
        y = self.encode(x) if holds_strings(x) else x
        return y, _no_gradient

    def get_config(self) -> dict[str, Any]:
        who = f"TextVectorization {self.name!r}"
        if callable(self.standardize) or callable(self.split):
            raise ValueError(
                f"{who}: a custom standardize or split function cannot be saved; register the "
                "layer with its function in a subclass, or preprocess the text before the model."
            )
        return {
            **super().get_config(),
            "max_tokens": self.max_tokens,
            "standardize": self.standardize,
            "split": self.split,
            "ngrams": None if self.ngrams is None else list(self.ngrams),
            "output_mode": self.output_mode,
            "output_sequence_length": self.output_sequence_length,
            "vocabulary": list(self.tokens) if self.tokens else None,
            "idf_weights": self.idf if self.tokens else None,
            "pad_to_max_tokens": self.pad_to_max_tokens,
        }


def _empty(width: int, dtype: str) -> Array:
    """A host ``(0, width)`` array (no strings were given)."""
    host = get_backend("numpy")
    return host.xp.zeros((0, width), dtype=getattr(host.xp, dtype))


def _no_gradient(dy: Array) -> None:
    return None


def _ngrams(ngrams: Any, who: str) -> tuple[int, ...] | None:
    """``None``, ``n`` -> ``(1, ..., n)``, or a tuple of sizes."""
    if ngrams is None:
        return None
    if isinstance(ngrams, int) and not isinstance(ngrams, bool):
        return tuple(range(1, check_int(ngrams, "ngrams", who=who, minimum=1) + 1))
    if isinstance(ngrams, (list, tuple)) and ngrams:
        return tuple(check_int(n, "ngrams", who=who, minimum=1) for n in ngrams)
    raise TypeError(
        f"{who}: ngrams must be None, an int or a tuple of ints, received ngrams={ngrams!r}."
    )
