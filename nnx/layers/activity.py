"""Activity regularization: a penalty ``R(y)`` on a layer's output, added to the loss.

A layer given ``activity_regularizer=R`` runs its forward through :class:`ActivityForward`:
while a model collects penalties (:class:`collect_activity`, opened by ``compute_gradients``
and ``test_step``), each call adds ``R(y)`` to the collection and its backprop takes
``dy + R.gradient(y)``, the gradient of the penalised loss. Outside a collection (``predict``,
``layer(x)``) the layer runs as before.

Keras 3 does the same in ``Layer.__call__``: ``self.add_loss(self.activity_regularizer(output))``
for every output, with the penalty *not* divided by the batch size (tf.keras 2 divided it;
Keras 3 dropped that), and ``compute_loss`` adds it to the loss of ``fit`` and ``evaluate``.

>>> from nnx.backends import get_backend
>>> from nnx.layers import Dense
>>> from nnx.regularizers import L1
>>> layer = Dense(2, kernel_initializer="ones", activity_regularizer=L1(0.5))
>>> layer.build((1,), "numpy")
>>> with collect_activity() as penalties:
...     y, backprop = layer.forward(get_backend("numpy").asarray([[1.0], [-1.0]]))
>>> [float(p) for p in penalties]
[2.0]
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

from nnx.backends.base import Array

__all__ = ["ActivityForward", "collect_activity", "total_penalty"]

_SINK: ContextVar[list[Array] | None] = ContextVar("nnx_activity_penalties", default=None)


class collect_activity:  # noqa: N801 - used as a context manager, like contextlib's
    """Inside this block, layers with an activity regularizer append ``R(y)`` of each call to
    the yielded list (and their backprops add ``R.gradient(y)``).

    A class rather than a ``@contextmanager`` generator: every training step enters one.
    """

    __slots__ = ("_token",)

    def __enter__(self) -> list[Array]:
        penalties: list[Array] = []
        self._token = _SINK.set(penalties)
        return penalties

    def __exit__(self, *exc: object) -> None:
        _SINK.reset(self._token)


def total_penalty(loss: Any, penalties: list[Array]) -> Any:
    """``loss + sum(penalties)`` (``loss`` itself when there are none)."""
    for p in penalties:
        loss = loss + p
    return loss


class ActivityForward:
    """The layer's own ``forward`` (or ``forward_masked``) with the activity penalty added.

    An object rather than a closure, so that copies (``copy.deepcopy``, pickling) of the layer
    call their own forward. A call made inside another of the same layer (a ``forward_masked``
    that runs ``self.forward``) is not counted twice.
    """

    __slots__ = ("layer", "method")

    def __init__(self, layer: Any, method: str) -> None:
        self.layer, self.method = layer, method

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        layer = self.layer
        run = getattr(type(layer), self.method).__get__(layer)
        sink = _SINK.get()
        state = layer.__dict__
        if sink is None or state.get("_activity_busy"):
            return run(*args, **kwargs)
        state["_activity_busy"] = True
        try:
            out = run(*args, **kwargs)
        finally:
            state["_activity_busy"] = False
        y, backprop = out[0], out[1]
        reg = layer.activity_regularizer
        several = isinstance(y, (list, tuple))
        ys = list(y) if several else [y]
        sink.extend(reg(a) for a in ys)

        def backprop_activity(dy: Any) -> Any:
            if not several:
                return backprop(dy + reg.gradient(y))
            pairs = zip(dy, ys, strict=True)
            return backprop(
                [reg.gradient(a) if d is None else d + reg.gradient(a) for d, a in pairs]
            )

        return (y, backprop_activity, *out[2:])
