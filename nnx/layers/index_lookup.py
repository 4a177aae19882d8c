"""``IndexLookup``: the vocabulary table behind Keras's ``StringLookup`` and ``IntegerLookup``.
Tokens are looked up on the host (Python dicts); the numbers go to the backend.

Index layout (Keras's ``index_lookup.py``): with ``output_mode="int"`` the mask token (if any)
is index 0, then ``num_oov_indices`` out-of-vocabulary indices, then the vocabulary; the other
modes have no mask index (mask tokens are dropped) and start with the OOV indices. ``adapt``
orders the vocabulary by count, most frequent first, ties by the token in descending order
(:func:`nnx.layers.text.learned_vocabulary`); ``tf_idf`` weights are
``log(1 + N / (1 + df))``, the OOV columns weighted by their mean.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from nnx.backends import Backend, backend_of, get_backend
from nnx.backends.base import Array
from nnx.layers.base import Backprop, Shape
from nnx.layers.host_layer import HostLayer
from nnx.layers.lookup_data import (
    DROP,
    bag_row,
    documents,
    host_lists,
    integer_token,
    nested_map,
    squeeze_last,
)
from nnx.layers.symbolic import current_trace, is_symbolic
from nnx.layers.text import document_frequency_idf, holds_strings, learned_vocabulary
from nnx.validation import check_bool, check_choice, check_int

__all__ = ["IndexLookup", "no_gradient"]

_MODES = ("int", "one_hot", "multi_hot", "count", "tf_idf")


class IndexLookup(HostLayer):
    """Tokens to indices (or one-hot / bag-of-tokens rows), and back with ``invert=True``.

    Subclasses say what a token is (:meth:`token`) and how an unknown one picks among several
    OOV indices (:meth:`oov_bucket`). Arguments as :class:`~nnx.layers.StringLookup`.
    """

    def __init__(
        self,
        max_tokens: int | None,
        num_oov_indices: int,
        mask_token: Any,
        oov_token: Any,
        vocabulary: Sequence[Any] | None,
        idf_weights: Sequence[float] | None,
        invert: bool,
        output_mode: str,
        pad_to_max_tokens: bool,
        sparse: bool,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        who = self.who
        if max_tokens is not None:
            check_int(max_tokens, "max_tokens", who=who, minimum=2)
        self.max_tokens = max_tokens
        self.num_oov_indices = check_int(num_oov_indices, "num_oov_indices", who=who, minimum=0)
        self.output_mode = check_choice(output_mode, "output_mode", _MODES, who=who)
        self.invert = check_bool(invert, "invert", who=who)
        self.pad_to_max_tokens = check_bool(pad_to_max_tokens, "pad_to_max_tokens", who=who)
        if check_bool(sparse, "sparse", who=who):
            raise ValueError(f"{who}: sparse outputs are not supported, received sparse=True.")
        self.sparse = False
        if self.invert and self.output_mode != "int":
            raise ValueError(
                f"{who}: invert=True needs output_mode='int', received "
                f"output_mode={self.output_mode!r}."
            )
        if self.pad_to_max_tokens and max_tokens is None:
            raise ValueError(f"{who}: pad_to_max_tokens=True needs max_tokens, received None.")
        if idf_weights is not None and self.output_mode != "tf_idf":
            raise ValueError(
                f"{who}: idf_weights are for output_mode='tf_idf' only, received "
                f"output_mode={self.output_mode!r}."
            )
        if self.output_mode == "tf_idf" and vocabulary is not None and idf_weights is None:
            raise ValueError(f"{who}: output_mode='tf_idf' with a vocabulary needs idf_weights.")
        self.mask_token = None if mask_token is None else self.token(mask_token)
        self.oov_token = None if oov_token is None else self.token(oov_token)
        self.tokens: list[Any] = []
        self.idf: list[float] | None = None
        self.fixed = vocabulary is not None  # Keras: a given vocabulary is never adapted
        if vocabulary is not None:
            self.set_vocabulary(vocabulary, idf_weights)

    # --- what subclasses define --------------------------------------------------------------
    def token(self, value: Any) -> Any:
        """``value`` as a token of this layer (a ``str`` or an ``int``)."""
        raise NotImplementedError

    def oov_bucket(self, token: Any) -> int:
        """Which of the ``num_oov_indices`` (> 1) OOV indices an unknown token takes."""
        raise NotImplementedError

    @property
    def who(self) -> str:
        """How errors name this layer: ``StringLookup 'name'``."""
        return f"{type(self).__name__} {self.name!r}"

    # --- the vocabulary ----------------------------------------------------------------------
    def _oov_start(self) -> int:
        return 1 if self.mask_token is not None and self.output_mode == "int" else 0

    def _token_start(self) -> int:
        return self._oov_start() + self.num_oov_indices

    def _special(self) -> list[Any]:
        return [self.mask_token] * self._oov_start() + [self.oov_token] * self.num_oov_indices

    def get_vocabulary(self, include_special_tokens: bool = True) -> list[Any]:
        """The tokens by index: mask, OOV tokens, vocabulary (only the vocabulary with
        ``include_special_tokens=False``)."""
        return (self._special() if include_special_tokens else []) + list(self.tokens)

    def vocabulary_size(self) -> int:
        """The number of indices, mask and OOV indices included."""
        return self._token_start() + len(self.tokens)

    def set_vocabulary(
        self, vocabulary: Sequence[Any], idf_weights: Sequence[float] | None = None
    ) -> None:
        """Use ``vocabulary`` (with or without the leading special tokens, as Keras) and, for
        ``tf_idf``, one weight per entry of ``vocabulary`` (the OOV weight defaults to their
        mean)."""
        who = self.who
        if (self.output_mode == "tf_idf") != (idf_weights is not None):
            raise ValueError(
                f"{who}: idf_weights must be given with output_mode='tf_idf' (and only then), "
                f"received output_mode={self.output_mode!r}, idf_weights={idf_weights!r}."
            )
        vocab = [self.token(t) for t in vocabulary]
        if not vocab:
            raise ValueError(f"{who}: cannot set an empty vocabulary, received vocabulary=[].")
        special, start = self._special(), self._token_start()
        found = vocab[:start] == special
        words = vocab[start:] if found else vocab
        repeated = sorted({t for t in words if words.count(t) > 1}, key=str)
        if repeated:
            raise ValueError(f"{who}: the vocabulary repeats the tokens {repeated}.")
        for name, reserved, check in (
            ("mask_token", self.mask_token, True),
            ("oov_token", self.oov_token, self.invert),
        ):
            if check and reserved is not None and reserved in words:
                raise ValueError(
                    f"{who}: the reserved {name}={reserved!r} is inside the vocabulary; give "
                    f"the special tokens only at the start, in this order: {special}."
                )
        if self.max_tokens is not None and start + len(words) > self.max_tokens:
            raise ValueError(
                f"{who}: the vocabulary has {start + len(words)} indices, more than "
                f"max_tokens={self.max_tokens}."
            )
        self.tokens = words
        self.idf = None
        if idf_weights is not None:
            weights = [float(w) for w in idf_weights]
            if len(weights) != len(vocab):
                raise ValueError(
                    f"{who}: idf_weights must have one weight per vocabulary entry "
                    f"({len(vocab)}), received {len(weights)}."
                )
            front = [] if found else [sum(weights) / len(weights)] * start
            self.idf = front + weights

    def adapt(self, data: Any) -> None:
        """Learn the vocabulary (and ``tf_idf`` weights: each row of ``data`` is a document)."""
        if self.fixed:
            raise ValueError(
                f"{self.who}: cannot adapt a layer given a vocabulary argument; use "
                "set_vocabulary() or a new layer."
            )
        docs = documents(self._tokens_of(data))
        limit = None if self.max_tokens is None else self.max_tokens - self._token_start()
        reserved = {t for t in (self.mask_token, self.oov_token) if t is not None}
        self.tokens = learned_vocabulary(docs, limit, reserved)
        self.idf = None
        if self.output_mode == "tf_idf":
            idf = document_frequency_idf(docs, self.tokens)
            mean = sum(idf) / len(idf) if idf else 0.0
            self.idf = [mean] * self._token_start() + idf

    def _tokens_of(self, data: Any) -> Any:
        """``data`` as nested Python lists (or one value) of tokens."""
        return nested_map(self.token, host_lists(data))

    # --- encoding ----------------------------------------------------------------------------
    def depth(self) -> int:
        """The width of one-hot / bag-of-tokens rows."""
        if self.pad_to_max_tokens:
            assert self.max_tokens is not None
            return self.max_tokens
        return self.vocabulary_size()

    def indices(self, data: Any) -> Any:
        """The index of every token of ``data``, as nested lists (mask tokens: 0 in ``"int"``
        mode, else dropped)."""
        table = {t: i for i, t in enumerate(self.tokens, start=self._token_start())}
        mask = 0 if self.output_mode == "int" else DROP
        unknown: list[Any] = []

        def index(t: Any) -> int:
            if self.mask_token is not None and t == self.mask_token:
                return mask
            i = table.get(t)
            if i is not None:
                return i
            if self.num_oov_indices == 0:
                unknown.append(t)
                return 0
            bucket = 0 if self.num_oov_indices == 1 else self.oov_bucket(t)
            return self._oov_start() + bucket

        ids = nested_map(index, self._tokens_of(data))
        if unknown:
            raise ValueError(
                f"{self.who}: with num_oov_indices=0 every input must be in the vocabulary, "
                f"found out-of-vocabulary values {unknown[:10]}; consider num_oov_indices=1."
            )
        return ids

    def encode(self, data: Any, backend: Backend | str | None = None) -> Array:
        """Tokens to numbers on the host, moved to ``backend`` (default: the layer's)."""
        be = get_backend(backend if backend is not None else self.backend or "numpy")
        ids = self.indices(data)
        if self.output_mode == "int":
            return be.asarray(ids, "int64")
        depth = self.depth()
        if self.output_mode == "one_hot":
            if isinstance(ids, list) and ids and isinstance(ids[0], list):
                ids = squeeze_last(ids)  # (..., 1) encodes on that axis
            rows = nested_map(lambda i: bag_row([i], depth, True, None), ids)
            return be.asarray(rows, self.dtype)
        binary = self.output_mode == "multi_hot"
        weights = self.idf if self.output_mode == "tf_idf" else None
        if not isinstance(ids, list):
            return be.asarray(bag_row([ids], depth, binary, weights), self.dtype)
        if ids and all(isinstance(r, list) for r in ids):
            if any(isinstance(i, list) for r in ids for i in r):
                raise ValueError(
                    f"{self.who}: output_mode={self.output_mode!r} takes inputs of rank 2 at "
                    "most (a batch of samples of tokens), as Keras."
                )
            return be.asarray([bag_row(r, depth, binary, weights) for r in ids], self.dtype)
        return be.asarray(bag_row(ids, depth, binary, weights), self.dtype)

    def decode(self, data: Any) -> Any:
        """``invert=True``: indices back to tokens, as nested lists (unknown: ``oov_token``)."""
        vocab = self.get_vocabulary()
        mask = self.mask_token is not None

        def token(i: Any) -> Any:
            i = integer_token(i, self.who)
            if mask and i == 0:
                return self.mask_token
            return vocab[i] if self._token_start() <= i < len(vocab) else self.oov_token

        return nested_map(token, host_lists(data))

    # --- the layer ---------------------------------------------------------------------------
    def compute_output_shape(self, input_shape: Shape) -> Shape:
        """``"int"``: the input's; ``"one_hot"``: a last axis of 1 becomes (else a new last
        axis is) the depth; bag modes: the last axis becomes the depth."""
        shape = tuple(input_shape)
        if self.output_mode == "int":
            return shape
        if self.output_mode == "one_hot":
            return (*shape[:-1], self.depth()) if shape[-1:] == (1,) else (*shape, self.depth())
        return (*shape[:-1], self.depth())

    def __call__(self, x: Any, training: bool | None = None) -> Any:
        """The lookup of ``x`` on the layer's backend (unbuilt: the backend of an array ``x``,
        else the default backend)."""
        if _symbolic(x):
            return super().__call__(x, training)
        if not self.built:
            numeric = hasattr(x, "__dlpack__") and not holds_strings(x)
            self.build((), backend_of(x) if numeric else get_backend(None), None, self.dtype)
        return self.forward(x)[0]

    def forward(self, x: Any, *, training: bool = False) -> tuple[Array, Backprop]:
        """The lookup (on the host); nothing flows back to tokens: ``dx`` is None."""
        if self.invert:
            return self.inverted(x), no_gradient
        return self.encode(x), no_gradient

    def inverted(self, x: Any) -> Any:
        """``invert=True``'s output (subclasses choose the array)."""
        raise NotImplementedError

    def get_config(self) -> dict[str, Any]:
        have = bool(self.tokens)
        width = self.vocabulary_size()
        return {
            **super().get_config(),
            "max_tokens": self.max_tokens,
            "num_oov_indices": self.num_oov_indices,
            "mask_token": self.mask_token,
            "oov_token": self.oov_token,
            "vocabulary": self.get_vocabulary() if have else None,
            "idf_weights": self.idf[:width] if have and self.idf is not None else None,
            "invert": self.invert,
            "output_mode": self.output_mode,
            "pad_to_max_tokens": self.pad_to_max_tokens,
            "sparse": False,
        }


def _symbolic(x: Any) -> bool:
    return bool(is_symbolic(x)) or current_trace() is not None


def no_gradient(dy: Array) -> None:
    """The backward of a lookup: nothing flows back to tokens."""
    return None
