"""``Dot``: the per-sample dot product of two tensors along given axes (Keras's ``Dot``,
``keras.layers.dot``), e.g. the similarity of two encodings or attention scores by hand.

With ``x1`` viewed as ``(batch, M, K)`` (its contracted axis last) and ``x2`` as
``(batch, K, N)`` (its contracted axis first): ``y = x1 x2``, shape ``(batch, M, N)`` unfolded
to ``(batch, *rest1, *rest2)`` (``(batch, 1)`` for two vectors); backward ``dx1 = dy x2^T``,
``dx2 = x1^T dy``. With ``normalize=True`` both are first L2-normalized along their axis
(cosine similarity): ``u = x / sqrt(max(sum x^2, eps^2))``, ``eps = 1e-7`` as Keras, whose
backward is ``dx = (du - u sum(u du)) / |x|`` (``du / eps`` for a vector shorter than eps).

>>> from nnx.backends import get_backend
>>> b = get_backend("numpy")
>>> Dot(axes=1)([b.asarray([[1.0, 2.0]]), b.asarray([[3.0, 4.0]])])
array([[11.]])
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from nnx.backends.base import Array, array_namespace
from nnx.layers.base import Shape, register_layer
from nnx.layers.merge import Merge
from nnx.validation import check_bool

__all__ = ["Dot", "dot"]

EPSILON = 1e-7


@register_layer
class Dot(Merge):
    """Dot product of two inputs along ``axes`` (Keras's ``Dot``).

    Args:
        axes: an int (the same axis of both inputs) or a pair ``(axis1, axis2)``; axes count
            the batch axis (1 is the first sample axis; -1 the last), as in Keras.
        normalize: L2-normalize both inputs along their axis first (cosine similarity).

    Shape:
        Inputs ``(batch, *s1)`` and ``(batch, *s2)`` with ``s1[axis1] == s2[axis2]``; output
        ``(batch, *s1 without axis1, *s2 without axis2)``, ``(batch, 1)`` for two vectors.

    >>> from nnx.layers import Input
    >>> a, b = Input((5, 8)).output, Input((7, 8)).output
    >>> Dot(axes=2)([a, b]).shape, Dot(axes=(1, 1))([a, Input((5, 3)).output]).shape
    ((None, 5, 7), (None, 8, 3))
    """

    def __init__(self, axes: int | Sequence[int], normalize: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        who = f"Dot {self.name!r}"
        pair: list[Any] = list(axes) if isinstance(axes, (list, tuple)) else [axes, axes]
        if len(pair) != 2 or not all(isinstance(a, int) and not isinstance(a, bool) for a in pair):
            raise TypeError(
                f"{who}: axes must be an int or a pair of ints, received axes={axes!r}."
            )
        if 0 in pair:
            raise ValueError(
                f"{who}: axes count the batch axis, which cannot be contracted; "
                f"received axes={axes!r}."
            )
        self.axes: int | tuple[int, int] = (
            axes if isinstance(axes, int) else (int(pair[0]), int(pair[1]))
        )
        self.normalize = check_bool(normalize, "normalize", who=who)

    def _axes(self, ranks: Sequence[int]) -> list[int]:
        """Both axes as indices into the sample shapes (no batch axis)."""
        pair = [self.axes, self.axes] if isinstance(self.axes, int) else list(self.axes)
        out = []
        for a, rank in zip(pair, ranks, strict=True):
            axis = a - 1 if a > 0 else rank + a
            if not 0 <= axis < rank:
                raise ValueError(
                    f"Dot {self.name!r}: axes={self.axes!r} is out of range for inputs of rank "
                    f"{[r + 1 for r in ranks]} (batch axis included)."
                )
            out.append(axis)
        return out

    def compute_output_shape(self, input_shape: Any) -> Shape:
        shapes = self._shapes(input_shape)
        if len(shapes) != 2:
            raise ValueError(f"Dot {self.name!r} needs exactly 2 inputs, received {len(shapes)}.")
        a1, a2 = self._axes([len(s) for s in shapes])
        k1, k2 = shapes[0][a1], shapes[1][a2]
        if k1 is not None and k2 is not None and k1 != k2:
            raise ValueError(
                f"Dot {self.name!r}: the contracted axes differ in size, received shapes "
                f"{[(None, *s) for s in shapes]} with axes={self.axes!r} ({k1} != {k2})."
            )
        out = [d for i, d in enumerate(shapes[0]) if i != a1]
        out += [d for i, d in enumerate(shapes[1]) if i != a2]
        return tuple(out) if out else (1,)

    def compute_mask(self, x: Any, mask: Any) -> Array | None:
        """None: a dot product mixes the steps (Keras's ``Dot`` drops masks too)."""
        return None

    def merge(self, xs: list[Array]) -> tuple[Array, Any]:
        xp = array_namespace(xs[0])
        a1, a2 = (a + 1 for a in self._axes([xs[0].ndim - 1, xs[1].ndim - 1]))
        u1, back1 = _normalized(xs[0], a1) if self.normalize else (xs[0], _same)
        u2, back2 = _normalized(xs[1], a2) if self.normalize else (xs[1], _same)
        m1, undo1 = _as_matrix(u1, a1, contracted_last=True)
        m2, undo2 = _as_matrix(u2, a2, contracted_last=False)
        n = int(xs[0].shape[0])
        y = m1 @ m2
        rest = [int(d) for i, d in enumerate(xs[0].shape) if i not in (0, a1)]
        rest += [int(d) for i, d in enumerate(xs[1].shape) if i not in (0, a2)]
        y_shape = (n, *rest) if rest else (n, 1)

        def backprop(dy: Array) -> list[Array]:
            g = xp.reshape(dy, tuple(y.shape))
            d1 = g @ xp.matrix_transpose(m2)
            d2 = xp.matrix_transpose(m1) @ g
            return [back1(undo1(d1)), back2(undo2(d2))]

        return xp.reshape(y, y_shape), backprop

    def get_config(self) -> dict[str, Any]:
        axes = self.axes if isinstance(self.axes, int) else list(self.axes)
        return {**super().get_config(), "axes": axes, "normalize": self.normalize}


def _same(d: Array) -> Array:
    return d


def _as_matrix(x: Array, axis: int, *, contracted_last: bool) -> tuple[Array, Any]:
    """``x`` permuted and reshaped to ``(batch, M, K)`` (or ``(batch, K, N)``), and the map
    of a gradient of that view back to ``x``'s shape."""
    xp = array_namespace(x)
    others = [i for i in range(1, x.ndim) if i != axis]
    perm = [0, *others, axis] if contracted_last else [0, axis, *others]
    moved = xp.permute_dims(x, tuple(perm))
    k, rest = int(x.shape[axis]), 1
    for i in others:
        rest *= int(x.shape[i])
    n = int(x.shape[0])
    m = xp.reshape(moved, (n, rest, k) if contracted_last else (n, k, rest))
    inverse = [perm.index(i) for i in range(x.ndim)]

    def undo(d: Array) -> Array:
        return xp.permute_dims(xp.reshape(d, tuple(moved.shape)), tuple(inverse))

    return m, undo


def _normalized(x: Array, axis: int) -> tuple[Array, Any]:
    """``u = x r``, ``r = max(sum x^2, eps^2)^(-1/2)`` along ``axis``; backward
    ``dx = r du - [s > eps^2] r^3 x sum(x du)``."""
    xp = array_namespace(x)
    s = xp.sum(x * x, axis=axis, keepdims=True)
    r = 1.0 / xp.sqrt(xp.maximum(s, EPSILON * EPSILON))
    live = xp.astype(s > EPSILON * EPSILON, x.dtype)

    def backprop(du: Array) -> Array:
        return r * du - live * r**3 * x * xp.sum(x * du, axis=axis, keepdims=True)

    return x * r, backprop


def dot(
    inputs: Sequence[Any], axes: int | Sequence[int], normalize: bool = False, **kwargs: Any
) -> Any:
    """``Dot(axes, normalize, **kwargs)(inputs)`` (Keras's ``layers.dot``)."""
    return Dot(axes=axes, normalize=normalize, **kwargs)(inputs)
