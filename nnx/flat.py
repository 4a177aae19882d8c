"""Flat parameter buffers: every weight and every gradient of a model in one contiguous array.

Each :class:`~nnx.layers.base.Parameter` keeps ``.value`` and ``.grad`` as *views* into the two
flat buffers, so layers read and write them as before, while an optimizer updates all weights
with a few whole-buffer in-place operations instead of a few per parameter (see
:meth:`nnx.optimizers.Optimizer.step`). This is a backend capability: a backend whose arrays
have no writable views (``array_api_strict``) returns None from ``flat_views`` and the model
keeps its separate arrays.

>>> import nnx
>>> from nnx.layers import Dense
>>> model = nnx.Sequential([Dense(2, input_shape=(3,))], seed=0)
>>> flat = FlatParameters.create(model.parameters(), model.backend)
>>> flat.value.shape, flat.grad.shape
((8,), (8,))
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from nnx.backends.base import Array, Backend

if TYPE_CHECKING:
    from nnx.layers.base import Parameter

__all__ = ["FlatParameters"]


class FlatParameters(list):  # type: ignore[type-arg]
    """A list of parameters whose values and gradients are views of two flat buffers.

    It is still the list of parameters (optimizers keep their per-parameter state by position),
    plus ``value`` and ``grad``, the flat buffers, and :meth:`sync`, which re-links a parameter
    whose ``.value`` or ``.grad`` was replaced by a new array (a layer that assigns instead of
    writing in place, ``set_weights`` of another library) by copying it into its view.

    Attributes:
        value: all weights, one 1-d array.
        grad: all gradients, one 1-d array, in the same order.
        backend: the backend that made the buffers.
    """

    def __init__(
        self,
        parameters: Sequence[Parameter],
        backend: Backend,
        value: Array,
        grad: Array,
        value_views: list[Array],
        grad_views: list[Array],
    ) -> None:
        super().__init__(parameters)
        self.backend, self.value, self.grad = backend, value, grad
        self._value_views, self._grad_views = value_views, grad_views

    @classmethod
    def create(cls, parameters: Sequence[Parameter], backend: Backend) -> FlatParameters | None:
        """Move ``parameters`` into flat buffers of ``backend``; None where it cannot.

        Needs at least one parameter, a single float dtype, and a backend with writable views.
        Gradients start at zero (every parameter then has a ``.grad``).
        """
        if not parameters:
            return None
        dtype = backend.dtype_name(parameters[0].value)
        if any(backend.dtype_name(p.value) != dtype for p in parameters):
            return None
        shapes = [p.shape for p in parameters]
        values = backend.flat_views(shapes, dtype)
        grads = backend.flat_views(shapes, dtype)
        if values is None or grads is None:
            return None
        flat = cls(parameters, backend, values[0], grads[0], values[1], grads[1])
        for p, v, g in zip(parameters, values[1], grads[1], strict=True):
            v[...] = p.value
            if p.grad is not None:
                g[...] = p.grad
            p.value, p.grad = v, g
        return flat

    def matches(self, parameters: Sequence[Parameter]) -> bool:
        """Whether this holds exactly ``parameters``, in order."""
        return len(self) == len(parameters) and all(
            a is b for a, b in zip(self, parameters, strict=True)
        )

    def sync(self) -> None:
        """Copy any replaced ``.value``/``.grad`` into its view and point the parameter back."""
        for p, v, g in zip(self, self._value_views, self._grad_views, strict=True):
            if p.value is not v:
                v[...] = p.value
                p.value = v
            if p.grad is not g:
                if p.grad is not None:
                    g[...] = p.grad
                p.grad = g

    def views(self, flat: Array) -> list[Array]:
        """Per-parameter views of another flat buffer of the same layout (optimizer slots)."""
        out, start = [], 0
        for view in self._value_views:
            size = view.size if isinstance(view.size, int) else int(view.size)
            out.append(self.backend.xp.reshape(flat[start : start + size], view.shape))
            start += size
        return out

    def empty_like(self) -> Array:
        """A fresh flat buffer of the same size and dtype (zeros)."""
        return self.backend.xp.zeros_like(self.value)
