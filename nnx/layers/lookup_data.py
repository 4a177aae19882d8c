"""Nested Python lists of tokens and indices: the host-side data of
:class:`~nnx.layers.index_lookup.IndexLookup` (strings cannot live on a device, and a lookup's
inputs may be ragged lists).

>>> nested_map(str.upper, [["a", "b"], ["c"]])
[['A', 'B'], ['C']]
>>> bag_row([1, 1, 3], 4, binary=False, weights=None)
[0.0, 2.0, 0.0, 1.0]
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from nnx.backends import backend_of

__all__ = [
    "DROP",
    "bag_row",
    "documents",
    "flat",
    "host_lists",
    "integer_token",
    "nested_map",
    "squeeze_last",
]

#: the index of a mask token in a bag-of-tokens mode: counted nowhere
DROP = -1


def bag_row(ids: list[int], depth: int, binary: bool, weights: list[float] | None) -> list[float]:
    """One row of ``depth``: counts (or 1s) of ``ids``, times ``weights`` if given."""
    row = [0.0] * depth
    for i in ids:
        if i != DROP:
            row[i] = 1.0 if binary else row[i] + 1.0
    if weights is not None:
        row = [c * (weights[j] if j < len(weights) else 0.0) for j, c in enumerate(row)]
    return row


def squeeze_last(x: list[Any]) -> list[Any]:
    """Nested lists of rank > 1 without their last axis if it has size 1."""
    if all(isinstance(r, list) and len(r) == 1 and not isinstance(r[0], list) for r in x):
        return [r[0] for r in x]
    deeper = [isinstance(r, list) and bool(r) and isinstance(r[0], list) for r in x]
    return [squeeze_last(r) if d else r for r, d in zip(x, deeper, strict=True)]


def documents(tokens: Any) -> list[list[Any]]:
    """Keras's documents: one value or a flat list is one document, else each row."""
    if not isinstance(tokens, list):
        return [[tokens]]
    if not any(isinstance(t, list) for t in tokens):
        return [tokens]
    return [list(flat(row)) for row in tokens]


def flat(x: Any) -> Iterator[Any]:
    """The leaves of nested lists, in order."""
    if isinstance(x, list):
        for item in x:
            yield from flat(item)
    else:
        yield x


def nested_map(f: Callable[[Any], Any], x: Any) -> Any:
    """``f`` applied to every leaf of nested lists (or to one value)."""
    return [nested_map(f, item) for item in x] if isinstance(x, list) else f(x)


def host_lists(data: Any) -> Any:
    """``data`` (a value, nested lists/tuples, a NumPy array or a backend array) as nested
    Python lists on the host."""
    if isinstance(data, (list, tuple)):
        return [host_lists(d) for d in data]
    kind = getattr(getattr(data, "dtype", None), "kind", None)
    if kind is not None:
        return data.tolist()
    if hasattr(data, "shape") and hasattr(data, "__dlpack__"):
        return backend_of(data).to_numpy(data).tolist()
    return data


def integer_token(value: Any, who: str) -> int:
    """``value`` as an int (integral floats, as a model's float inputs, are accepted)."""
    fraction = isinstance(value, float) and not value.is_integer()  # also NaN and inf
    if isinstance(value, bool) or not isinstance(value, (int, float)) or fraction:
        raise TypeError(f"{who}: expected integer tokens or indices, received {value!r}.")
    return int(value)
