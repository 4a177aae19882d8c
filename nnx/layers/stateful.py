"""``stateful=True``: recurrent layers that carry their final states over to the next batch.

Keras's semantics: sample ``i`` of a batch continues sample ``i`` of the previous batch, so the
batch size is fixed: by ``batch_size=`` (or ``batch_input_shape=(batch, steps, features)``)
on the layer, else by the first batch. The carried states are data, not weights: no gradient
flows into them across batches (each batch's backward stops at its initial states), and
they are not saved with the model. ``layer.reset_states()`` zeroes them (or sets given
values); ``model.reset_states()`` resets every stateful layer of a model.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from nnx.backends.base import Array, array_namespace
from nnx.validation import check_int

__all__ = ["Stateful", "pop_batch_size"]


def pop_batch_size(kwargs: dict[str, Any], who: str) -> int | None:
    """Take Keras's ``batch_size=`` / ``batch_input_shape=`` out of a layer's keyword
    arguments (``batch_input_shape`` also gives ``input_shape``); the fixed batch or None."""
    batch = kwargs.pop("batch_size", None)
    shape = kwargs.pop("batch_input_shape", None)
    if shape is not None:
        shape = list(shape)
        if batch is not None and shape[0] is not None and shape[0] != batch:
            raise ValueError(
                f"{who}: batch_size={batch} contradicts batch_input_shape={tuple(shape)}."
            )
        batch = shape[0] if batch is None else batch
        kwargs.setdefault("input_shape", tuple(shape[1:]))
    return None if batch is None else check_int(batch, "batch_size", who=who, minimum=1)


class Stateful:
    """Mixin of the recurrent layers: the carried states and their checks.

    Attributes:
        stateful: whether final states carry over to the next batch.
        batch_size: the fixed batch size (declared, or taken from the first batch), or None.
        states: the carried states (a list of ``(batch, ...)`` arrays) or None before the first
            batch; Keras's ``layer.states``.
    """

    stateful: bool = False
    batch_size: int | None = None
    states: list[Array] | None = None
    name: str

    def carried_states(self, n: int) -> list[Array] | None:
        """The states to start a batch of ``n`` samples from (None: the default zeros).

        Raises:
            ValueError: ``n`` is not the layer's fixed batch size.
        """
        if not self.stateful:
            return None
        fixed = self.batch_size
        if fixed is None and self.states is not None:
            fixed = int(self.states[0].shape[0])
        if fixed is not None and n != fixed:
            raise ValueError(
                f"{type(self).__name__} {self.name!r} is stateful with a fixed batch size of "
                f"{fixed} (sample i of a batch continues sample i of the previous one), "
                f"received a batch of {n}. Feed batches of {fixed} (fit(batch_size={fixed}, "
                f"shuffle=False) with a sample count divisible by it), or give batch_size= "
                "and call reset_states()."
            )
        return None if self.states is None else list(self.states)

    def keep_states(self, final: Sequence[Array]) -> None:
        """Store a batch's final states for the next batch (copies: no gradient path)."""
        if self.stateful:
            self.states = [array_namespace(s).asarray(s, copy=True) for s in final]

    def reset_states(self, states: Sequence[Any] | None = None) -> None:
        """Zero the carried states (Keras's ``layer.reset_states()``), or set them to
        ``states`` (a list of ``(batch, ...)`` arrays, one per state).

        Raises:
            AttributeError: the layer is not stateful.
        """
        if not self.stateful:
            raise AttributeError(
                f"{type(self).__name__} {self.name!r}: reset_states() is for layers created "
                "with stateful=True."
            )
        if states is not None:
            backend = getattr(self, "backend", None)
            if backend is not None:  # host arrays move to the layer's backend (a copy)
                dtype = getattr(self, "dtype", None)
                states = [backend.asarray(backend.to_numpy(s).copy(), dtype) for s in states]
            self.states = [array_namespace(s).asarray(s, copy=True) for s in states]
        elif self.states is not None:
            self.states = [array_namespace(s).zeros_like(s) for s in self.states]
