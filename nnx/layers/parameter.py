"""``Parameter`` (a weight array with its gradient) and ``FlatParameters`` (flat buffers).

``FlatParameters`` puts every weight and every gradient of a model in one contiguous array each.
Each :class:`Parameter` keeps ``.value`` and ``.grad`` as *views* into the two flat buffers, so
layers read and write them as before, while an optimizer updates all weights with a few
whole-buffer in-place operations instead of a few per parameter (see
:meth:`nnx.optimizers.Optimizer.step`). This is a backend capability: a backend whose arrays
have no writable views (``array_api_strict``) returns None from ``flat_views`` and the model
keeps its separate arrays.

>>> from nnx.backends import get_backend
>>> b = get_backend("numpy")
>>> params = [Parameter(b.asarray([[1.0, 2.0]]), "w"), Parameter(b.asarray([3.0]), "b")]
>>> flat = FlatParameters.create(params, b)
>>> flat.value.tolist(), params[0].value.base is flat.value
([1.0, 2.0, 3.0], True)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from nnx.backends.base import Array, Backend

__all__ = ["FlatParameters", "Parameter"]


class Parameter:
    """A weight array with its gradient.

    Args:
        value: the weights (updated in place by optimizers).
        name: e.g. ``"dense/kernel"``.
        regularizer: optional penalty ``R(value)`` with ``R.gradient(value)``.
        trainable: False for state such as batch-norm moving statistics.
        constraint: optional projection ``C(value)`` the optimizer applies after each update
            (see :mod:`nnx.constraints`).

    Attributes:
        grad: ``dL/dvalue`` from the last backward pass, same shape and dtype (None before).

    >>> from nnx.backends import get_backend
    >>> Parameter(get_backend("numpy").asarray([[1.0, 2.0]]), "dense/kernel")
    Parameter('dense/kernel', shape=(1, 2), trainable=True)
    """

    __slots__ = ("_constraint", "_regularizer", "_trainable", "grad", "name", "value")
    #: how many times any parameter was created or had ``trainable`` / ``regularizer`` /
    #: ``constraint`` set: a
    #: model keeps its parameter lists until this moves (no per-step list building)
    changes: ClassVar[int] = 0

    def __init__(
        self,
        value: Array,
        name: str,
        regularizer: Any = None,
        trainable: bool = True,
        constraint: Any = None,
    ) -> None:
        self.value = value
        self.grad: Array | None = None
        self.name = name
        self.regularizer = regularizer
        self.constraint = constraint
        self.trainable = trainable

    @property
    def trainable(self) -> bool:
        """Whether optimizers update this parameter."""
        return self._trainable

    @trainable.setter
    def trainable(self, value: bool) -> None:
        self._trainable = value
        Parameter.changes += 1

    @property
    def regularizer(self) -> Any:
        """The penalty ``R(value)`` with ``R.gradient(value)``, or None."""
        return self._regularizer

    @regularizer.setter
    def regularizer(self, value: Any) -> None:
        self._regularizer = value
        Parameter.changes += 1

    @property
    def constraint(self) -> Any:
        """The projection ``C(value)`` applied after each optimizer update, or None."""
        return self._constraint

    @constraint.setter
    def constraint(self, value: Any) -> None:
        self._constraint = value
        Parameter.changes += 1

    def apply_constraint(self) -> None:
        """``value[...] = C(value)``: in place, so a view of a flat buffer stays one."""
        if self._constraint is not None:
            self.value[...] = self._constraint(self.value)

    @property
    def shape(self) -> tuple[int, ...]:
        """The shape of :attr:`value`."""
        return tuple(self.value.shape)

    @property
    def size(self) -> int:
        """The number of weights."""
        n = 1
        for d in self.value.shape:
            n *= d
        return n

    def numpy(self) -> Any:
        """The weights as a host NumPy array (Keras's ``variable.numpy()``: a copy from a
        device)."""
        from nnx.backends import backend_of

        return backend_of(self.value).to_numpy(self.value)

    def __repr__(self) -> str:
        return f"Parameter({self.name!r}, shape={self.shape}, trainable={self.trainable})"


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
