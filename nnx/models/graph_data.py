"""Data of a model with several inputs or outputs: lists (or dicts by name) of arrays.

``fit``/``evaluate``/``predict`` take ``x`` as one array per input, in order or by input name,
and ``y`` likewise per output. Each array is converted and checked as a single model's is
(:mod:`nnx.training.inputs`: backend, dtype, finite values, target checks of its loss), then
the rows of all of them travel together in a :class:`GraphDataset`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from nnx.backends.base import Array, array_namespace
from nnx.training.batching import Dataset
from nnx.training.inputs import check_lengths, model_sample_weights, model_targets, to_backend

__all__ = [
    "GraphDataset",
    "by_position",
    "convert_inputs",
    "convert_targets",
    "graph_data",
    "host_encoder",
]


@dataclass(frozen=True)
class GraphDataset(Dataset):
    """A :class:`~nnx.training.batching.Dataset` whose ``x`` and ``y`` are tuples of arrays
    (one per input, one per output), all with the same rows."""

    def __len__(self) -> int:
        return int(self.x[0].shape[0])

    def batch(self, rows: slice) -> tuple[Any, Any, Array | None]:
        """``(xs, ys, w)`` of the rows ``rows``: tuples of arrays, and the sample weights."""
        w = None if self.w is None else self.w[rows]
        return tuple(a[rows, ...] for a in self.x), tuple(a[rows, ...] for a in self.y), w

    def rows(self, rows: slice) -> GraphDataset:
        return GraphDataset(*self.batch(rows))

    def shuffled(self, order: Array | None) -> GraphDataset:
        if order is None:
            return self
        xp = array_namespace(order)

        def take(a: Array) -> Array:
            return xp.take(a, order, axis=0)

        w = None if self.w is None else take(self.w)
        return GraphDataset(tuple(map(take, self.x)), tuple(map(take, self.y)), w)


def by_position(data: Any, names: Sequence[str], argument: str, what: str) -> list[Any]:
    """``data`` as a list in the order of ``names``: from a dict by name, a list or tuple of
    one entry per name, or (a single name) the data itself.

    Raises:
        ValueError: missing or unknown dict keys, or a list of the wrong length.
    """
    if isinstance(data, dict):
        unknown = [k for k in data if k not in names]
        missing = [n for n in names if n not in data]
        if unknown or missing:
            raise ValueError(
                f"{argument} must map each model {what} name to an array; expected keys "
                f"{', '.join(map(repr, names))}, received {', '.join(map(repr, data))}."
            )
        return [data[n] for n in names]
    if len(names) == 1:
        if isinstance(data, (list, tuple)) and len(data) == 1 and hasattr(data[0], "shape"):
            return [data[0]]
        return [data]
    if not isinstance(data, (list, tuple)) or len(data) != len(names):
        received = (
            f"a {type(data).__name__} of {len(data)}"
            if isinstance(data, (list, tuple))
            else type(data).__name__
        )
        raise ValueError(
            f"The model has {len(names)} {what}s ({', '.join(map(repr, names))}): {argument} "
            f"must be a list of {len(names)} arrays or a dict by name, received {received}."
        )
    return list(data)


def convert_inputs(model: Any, x: Any, argument: str = "x") -> tuple[Array, ...]:
    """One array per model input on the model's backend, each of the input's dtype (the
    model's float dtype unless ``nnx.Input(dtype=...)`` said otherwise) and sample shape.
    Strings for an ``nnx.Input(dtype="string")`` are encoded on the host by the layer reading
    it (a ``StringLookup``) and come out in that layer's output shape."""
    arrays = []
    per = by_position(x, model.input_names, argument, "input")
    for t, name, data in zip(model.inputs, model.input_names, per, strict=True):
        where = f"{argument}[{name!r}]"
        encode = host_encoder(model, t) if t.dtype == "string" else None
        if encode is not None:
            data = encode(data)
        dtype = t.dtype if t.dtype not in (None, "string") else model.dtype
        a = to_backend(model.backend, data, where, dtype)
        expected = t.sample_shape
        received = tuple(a.shape[1:])
        if encode is None and (
            len(received) != len(expected)
            or any(e is not None and r != e for r, e in zip(received, expected, strict=True))
        ):
            raise ValueError(
                f"{where} has shape {tuple(a.shape)} but input {name!r} expects "
                f"(batch, {', '.join('None' if d is None else str(d) for d in expected)})."
            )
        arrays.append(a)
    return tuple(arrays)


def host_encoder(model: Any, tensor: Any) -> Callable[[Any], Any] | None:
    """The ``host_inputs`` of the one layer reading the model input ``tensor``, if it has one
    (a ``StringLookup``: strings become numbers on the host, once, before the backend)."""
    readers = {id(n.layer): n.layer for n in model.graph.nodes if any(a is tensor for a in n.args)}
    if len(readers) != 1:
        return None
    convert = getattr(next(iter(readers.values())), "host_inputs", None)
    return convert if callable(convert) else None


def convert_targets(model: Any, y: Any, argument: str = "y") -> tuple[Array, ...]:
    """One target array per model output, each checked against its output's loss and shape
    (:func:`nnx.training.inputs.model_targets`)."""
    arrays = []
    per = by_position(y, model.output_names, argument, "output")
    for head, shape, data in zip(model.heads, model.output_shapes, per, strict=True):
        view = SimpleNamespace(
            backend=model.backend, dtype=model.dtype, loss=head.loss, output_shape=shape
        )
        arrays.append(model_targets(view, data, f"{argument}[{head.name!r}]"))
    return tuple(arrays)


def graph_data(
    model: Any, x: Any, y: Any, sample_weight: Any = None, names: tuple[str, str] = ("x", "y")
) -> GraphDataset:
    """``x``, ``y`` and ``sample_weight`` (one weight per sample, for every output's loss)
    converted and checked for a model with several inputs or outputs."""
    xs = convert_inputs(model, x, names[0])
    ys = convert_targets(model, y, names[1])
    arrays = {f"{names[0]}[{n!r}]": a for n, a in zip(model.input_names, xs, strict=True)}
    arrays.update({f"{names[1]}[{h.name!r}]": a for h, a in zip(model.heads, ys, strict=True)})
    n = check_lengths(**arrays)
    return GraphDataset(xs, ys, model_sample_weights(model, sample_weight, n))
