"""Keras's ``StringLookup`` and ``IntegerLookup``: categorical tokens to indices, one-hot or
bag-of-tokens rows, and back (``invert=True``). The table lives on the host
(:class:`~nnx.layers.index_lookup.IndexLookup`); the numbers go to the backend.

In a model: a ``StringLookup`` first in a ``Sequential``, or right after an ``nnx.Input`` of a
functional model, encodes the strings ``fit``/``evaluate``/``predict`` are given on the host
once, so the rest of the model trains on the device. ``IntegerLookup`` looks its (numeric)
inputs up at each call, through the host. The vocabulary (and IDF weights) are part of the
config: saved and loaded with the model.

>>> layer = StringLookup(vocabulary=["a", "b", "c", "d"])
>>> layer([["a", "c", "d"], ["d", "z", "b"]]).tolist()
[[1, 3, 4], [4, 0, 2]]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from nnx.backends import get_backend
from nnx.layers.base import register_layer
from nnx.layers.index_lookup import IndexLookup, no_gradient
from nnx.layers.lookup_data import integer_token
from nnx.layers.text import holds_strings
from nnx.validation import check_choice

__all__ = ["IntegerLookup", "StringLookup"]


@register_layer
class StringLookup(IndexLookup):
    """Strings to indices (Keras's ``StringLookup``); no splitting or standardizing.

    Args:
        max_tokens: the largest vocabulary, mask and OOV indices included (None: no limit).
        num_oov_indices: 1 (default) or 0 (an unknown string is then an error). Keras hashes
            unknown strings into several OOV indices with FarmHash64, which nnx does not
            reproduce: more than 1 is refused.
        mask_token: a string for masked inputs: index 0 in ``"int"`` mode, dropped otherwise.
        oov_token: the string ``invert=True`` returns for unknown indices (``"[UNK]"``).
        vocabulary: a given vocabulary (the special tokens may lead it, in their order).
        idf_weights: ``"tf_idf"`` with a given vocabulary: one weight per entry.
        invert: map indices back to strings (``output_mode="int"`` only).
        output_mode: ``"int"``, ``"one_hot"``, ``"multi_hot"``, ``"count"`` or ``"tf_idf"``.
        pad_to_max_tokens: bag-of-tokens rows ``max_tokens`` wide.
        sparse: only False (nnx has no sparse arrays).
        encoding: how ``bytes`` inputs are decoded (``"utf-8"``).

    Shape:
        ``"int"``: the input's shape, int64. ``"one_hot"``: ``(..., depth)`` (a last axis of
        size 1 is replaced, else added). ``"multi_hot"``/``"count"``/``"tf_idf"``: the last
        axis (the tokens of a sample) becomes ``depth``; rank 2 at most. ``depth`` is
        :meth:`vocabulary_size` (``max_tokens`` with ``pad_to_max_tokens``); rows are of the
        layer's float dtype, ``tf_idf`` = count x IDF weight. ``invert=True``: a NumPy array of
        strings.

    >>> layer = StringLookup()
    >>> layer.adapt([["a", "c", "d"], ["d", "z", "b"]])
    >>> layer.get_vocabulary()
    ['[UNK]', 'd', 'z', 'c', 'b', 'a']
    >>> StringLookup(vocabulary=["a", "b"], output_mode="one_hot")(["b", "q"]).tolist()
    [[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]
    """

    def __init__(
        self,
        max_tokens: int | None = None,
        num_oov_indices: int = 1,
        mask_token: str | None = None,
        oov_token: str = "[UNK]",
        vocabulary: Sequence[str] | None = None,
        idf_weights: Sequence[float] | None = None,
        invert: bool = False,
        output_mode: str = "int",
        pad_to_max_tokens: bool = False,
        sparse: bool = False,
        encoding: str = "utf-8",
        **kwargs: Any,
    ) -> None:
        self.encoding = encoding
        super().__init__(
            max_tokens,
            num_oov_indices,
            mask_token,
            oov_token,
            vocabulary,
            idf_weights,
            invert,
            output_mode,
            pad_to_max_tokens,
            sparse,
            **kwargs,
        )
        if self.num_oov_indices > 1:
            raise ValueError(
                f"{self.who}: num_oov_indices must be 0 or 1 in nnx (Keras hashes unknown "
                "strings into several OOV indices with FarmHash64, not reproduced here), "
                f"received num_oov_indices={self.num_oov_indices}."
            )

    def token(self, value: Any) -> str:
        """``value`` as a string (``bytes`` decoded with ``encoding``)."""
        if isinstance(value, bytes):
            return value.decode(self.encoding)
        if not isinstance(value, str):
            raise TypeError(
                f"StringLookup {self.name!r} takes strings, received {value!r} of type "
                f"{type(value).__name__}."
            )
        return value

    def forward(self, x: Any, *, training: bool = False) -> tuple[Any, Any]:
        """Strings are looked up (on the host, then moved to the backend); numbers (encoded
        at a model's boundary) pass through; ``invert=True`` maps indices to strings."""
        if not self.invert and not holds_strings(x):
            return x, no_gradient
        return super().forward(x, training=training)

    def host_inputs(self, x: Any) -> Any:
        """``x`` encoded on the host if it holds strings, else ``x`` (already numbers)."""
        return self.encode(x, "numpy") if not self.invert and holds_strings(x) else x

    def inverted(self, x: Any) -> Any:
        """Indices to strings: a host NumPy array of ``str``."""
        return get_backend("numpy").asarray(self.decode(x))

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "encoding": self.encoding}


@register_layer
class IntegerLookup(IndexLookup):
    """Integers to indices (Keras's ``IntegerLookup``).

    Args:
        max_tokens, mask_token, vocabulary, idf_weights, invert, output_mode,
        pad_to_max_tokens, sparse: as :class:`StringLookup`, with integer tokens.
        num_oov_indices: any number >= 0; with several, an unknown ``t`` takes OOV index
            ``t mod num_oov_indices`` (Keras's default ``oov_method="floormod"``).
        oov_token: the integer ``invert=True`` returns for unknown indices (-1).
        vocabulary_dtype: ``"int64"`` (or ``"int32"``): the tokens' dtype.
        oov_method: ``"floormod"`` only (Keras's ``"farmhash"`` is not reproduced).

    Shape:
        As :class:`StringLookup`; ``invert=True`` returns int64 tokens on the backend. A
        model's float inputs are accepted when integral (give ``nnx.Input(dtype="int64")``
        for ids beyond 2**24).

    >>> layer = IntegerLookup(vocabulary=[12, 36, 1138, 42], num_oov_indices=2)
    >>> layer([[12, 1138, 42], [37, 1000, 36]]).tolist()
    [[2, 4, 5], [1, 0, 3]]
    """

    def __init__(
        self,
        max_tokens: int | None = None,
        num_oov_indices: int = 1,
        mask_token: int | None = None,
        oov_token: int = -1,
        vocabulary: Sequence[int] | None = None,
        vocabulary_dtype: str = "int64",
        idf_weights: Sequence[float] | None = None,
        invert: bool = False,
        output_mode: str = "int",
        sparse: bool = False,
        pad_to_max_tokens: bool = False,
        oov_method: str = "floormod",
        **kwargs: Any,
    ) -> None:
        super().__init__(
            max_tokens,
            num_oov_indices,
            mask_token,
            oov_token,
            vocabulary,
            idf_weights,
            invert,
            output_mode,
            pad_to_max_tokens,
            sparse,
            **kwargs,
        )
        self.vocabulary_dtype = check_choice(
            vocabulary_dtype, "vocabulary_dtype", ("int64", "int32"), who=self.who
        )
        self.oov_method = check_choice(oov_method, "oov_method", ("floormod",), who=self.who)

    def token(self, value: Any) -> int:
        """``value`` as an int (integral floats accepted)."""
        return integer_token(value, f"IntegerLookup {self.name!r}")

    def oov_bucket(self, token: Any) -> int:
        """Keras's ``floormod``: ``token mod num_oov_indices``."""
        return int(token) % self.num_oov_indices

    def inverted(self, x: Any) -> Any:
        """Indices to integer tokens, int64 on the layer's backend."""
        assert self.backend is not None
        return self.backend.asarray(self.decode(x), "int64")

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "vocabulary_dtype": self.vocabulary_dtype,
            "oov_method": self.oov_method,
        }
