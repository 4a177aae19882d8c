"""Unknown sequence lengths in a traced ``call`` (``Input(shape=(None,))``): ``call`` needs
concrete sizes (``ops.arange(ops.shape(x)[1])``), so it is traced once per length the data has;
the graph's symbolic shapes come from two probe lengths, None wherever the traces differ.

>>> probe([(None, 8), (None,)], 2)
[(2, 8), (2,)]
>>> has_none((None, 8)), has_none([(3, 8)])
(True, False)
"""

from __future__ import annotations

from typing import Any

from nnx.layers import Layer
from nnx.models.graph import Graph

__all__ = ["has_none", "merge_probes", "probe"]


def has_none(shape: Any) -> bool:
    """Whether a sample shape (or a list of them) has a size of None (unknown steps)."""
    if isinstance(shape, list) and shape and isinstance(shape[0], (list, tuple)):
        return any(has_none(s) for s in shape)
    return shape is not None and any(d is None for d in shape)


def probe(shape: Any, size: int) -> Any:
    """``shape`` with every None size replaced by ``size``."""
    if isinstance(shape, list) and shape and isinstance(shape[0], (list, tuple)):
        return [probe(s, size) for s in shape]
    return tuple(size if d is None else d for d in shape)


def merge_probes(layer: Layer, a: Graph, b: Graph) -> None:
    """Give graph ``a``'s tensors (and input layers) None wherever the probe traces differ:
    the sizes that follow the unknown lengths. Its layers are built with those shapes.

    Raises:
        ValueError: ``call`` records different operations for different lengths.
    """
    if len(a.nodes) != len(b.nodes) or any(
        type(x.layer) is not type(y.layer) for x, y in zip(a.nodes, b.nodes, strict=True)
    ):
        raise ValueError(
            f"Layer {layer.name!r} ({type(layer).__name__}).call records different operations "
            "for different sequence lengths; give its input a concrete length "
            "(Input(shape=(20, ...)) instead of None)."
        )
    pairs = list(zip(a.inputs, b.inputs, strict=True))
    for x, y in zip(a.nodes, b.nodes, strict=True):
        pairs += list(zip(x.outputs, y.outputs, strict=True))
    for t, u in pairs:
        t.sample_shape = tuple(
            d if d == e else None for d, e in zip(t.sample_shape, u.sample_shape, strict=True)
        )
    for t in a.inputs:
        t.node.layer.input_shape = t.sample_shape
