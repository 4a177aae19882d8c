"""The text table printed by ``Sequential.summary()``."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from nnx.models import Sequential


def _shape(shape: object) -> str:
    if shape is None:
        return "?"
    return "(None, " + ", ".join("None" if d is None else str(d) for d in shape) + ")"  # type: ignore[attr-defined]


def summary_lines(model: Sequential) -> list[str]:
    """Lines of the summary table: layer (type), output shape, parameter count, totals."""
    rows = [
        (
            f"{layer.name} ({type(layer).__name__})",
            _shape(layer.output_shape),
            f"{layer.count_params():,}",
        )
        for layer in model.layers
    ]
    header = ("Layer (type)", "Output Shape", "Param #")
    widths = [max(len(r[i]) for r in [header, *rows]) + 3 for i in range(3)]
    rule = "=" * sum(widths)

    def fmt(r: tuple[str, str, str]) -> str:
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
