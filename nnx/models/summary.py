"""The text table printed by ``model.summary()``.

>>> import nnx
>>> model = nnx.Sequential([nnx.layers.Dense(4, input_shape=(3,), name="hidden")])
>>> for line in summary_lines(model)[2:5]:
...     print(line)
Layer (type)     Output Shape   Param #
==========================================
hidden (Dense)   (None, 4)      16
"""

from __future__ import annotations

from typing import Any

__all__ = ["summary_html", "summary_lines", "summary_short"]


def _shape(shape: object) -> str:
    if shape is None:
        return "?"
    return "(None, " + ", ".join("None" if d is None else str(d) for d in shape) + ")"  # type: ignore[attr-defined]


def _output_shape(model: Any, layer: Any) -> str:
    """``layer``'s output shape; in a graph, a layer with several outputs (``return_state``,
    ``Bidirectional`` with states or ``merge_mode=None``, attention scores) shows the list of
    its outputs' shapes, as Keras does: ``[(None, 8), (None, 8), (None, 8)]``."""
    graph = getattr(model, "graph", None)
    for node in [] if graph is None else graph.nodes:
        if node.layer is layer and node.multiple_outputs:
            return "[" + ", ".join(_shape(t.sample_shape) for t in node.outputs) + "]"
    return _shape(layer.output_shape)


def _table(model: Any) -> tuple[tuple[str, ...], list[tuple[str, ...]]]:
    """Header and one row per layer: name (type), output shape, parameters, [connected to]."""
    connections = getattr(model, "connections", None)
    rows = [
        (
            f"{layer.name} ({getattr(layer, 'summary_type', type(layer).__name__)})",
            _output_shape(model, layer),
            f"{layer.count_params():,}",
            *([connections(layer)] if connections is not None else []),
        )
        for layer in model.layers
    ]
    header: tuple[str, ...] = ("Layer (type)", "Output Shape", "Param #")
    if connections is not None:
        header += ("Connected to",)
    return header, rows


def summary_lines(model: Any) -> list[str]:
    """Lines of the summary table: layer (type), output shape, parameter count, totals.

    A graph model (one with ``connections(layer)``, see :mod:`nnx.models.functional`) gets a
    fourth column, "Connected to": the tensors each layer is called on, as ``layer[call]``
    (``layer[call][k]`` for the ``k``-th output of a several-output call); a layer with
    several outputs lists their shapes.

    Args:
        model: a ``Sequential`` or ``Functional`` (anything with ``name``, ``backend``,
            ``dtype``, ``built``, ``layers`` and ``parameters()``).
    """
    header, rows = _table(model)
    widths = [max(len(r[i]) for r in [header, *rows]) + 3 for i in range(len(header))]
    rule = "=" * sum(widths)

    def fmt(r: tuple[str, ...]) -> str:
        return "".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip()

    params = model.parameters()
    trainable = sum(p.size for p in params if p.trainable)
    total = sum(p.size for p in params)
    lines = [
        f'Model: "{model.name}"  (backend: {model.backend.name}, dtype: {model.dtype})',
        rule,
        fmt(header),
        rule,
    ]
    lines += [fmt(r) for r in rows]
    if not model.built:
        lines.append("(not built yet: output shapes and parameters appear once it is)")
    lines += [
        rule,
        f"Total params: {total:,}",
        f"Trainable params: {trainable:,}",
        f"Non-trainable params: {total - trainable:,}",
        rule,
    ]
    return lines


def summary_short(model: Any) -> str:
    """One line: ``<Sequential 'mlp': 3 layers, 41 params, numpy float32>``."""
    params = sum(p.size for p in model.parameters()) if model.built else None
    count = f"{params:,} params" if params is not None else "not built"
    n = len(model.layers)
    return (
        f"<{type(model).__name__} {model.name!r}: {n} layer{'s' if n != 1 else ''}, {count}, "
        f"{model.backend.name} {model.dtype}>"
    )


def summary_html(model: Any) -> str:
    """The summary as an HTML table (what Jupyter shows for a model as a cell's value)."""
    from html import escape

    lines = summary_lines(model)
    header, rows = _table(model)
    totals = [line for line in lines if line.endswith(tuple("0123456789")) and "params" in line]
    cells = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>" for row in rows)
    return (
        f"<div><b>{escape(lines[0])}</b>"
        f"<table><thead><tr>{cells}</tr></thead><tbody>{body}</tbody></table>"
        + "<br>".join(escape(t) for t in totals)
        + "</div>"
    )
