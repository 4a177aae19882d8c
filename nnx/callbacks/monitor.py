"""The one "improved?" rule of the callbacks that watch a logged quantity.

``EarlyStopping``, ``ReduceLROnPlateau`` and ``ModelCheckpoint`` all watch an epoch-log key
(``monitor``) and ask whether a new value improves on a reference. They share
:class:`MonitorCallback`: the direction (``mode``: ``"min"``, ``"max"``, or ``"auto"``, which
picks ``"max"`` for accuracy-like names), the smallest change that counts (``min_delta``), and an
optional ``baseline`` to beat.

>>> rule = MonitorCallback("val_accuracy", who="Example")
>>> rule.mode, rule.is_improvement(0.9, 0.8), rule.is_improvement(0.8, 0.8)
('max', True, False)
"""

from __future__ import annotations

import math
import warnings

from nnx.callbacks.base import Callback, Logs
from nnx.metrics import direction
from nnx.validation import check_choice, check_float

__all__ = ["MonitorCallback", "resolve_mode"]


def resolve_mode(monitor: str, mode: str, who: str = "") -> str:
    """``"min"`` or ``"max"``: ``mode`` itself, or for ``"auto"`` the direction of ``monitor``
    (:func:`nnx.metrics.direction`: accuracy-like names are maximised).

    Raises:
        ValueError: ``mode`` is not ``"auto"``, ``"min"`` or ``"max"``.

    >>> resolve_mode("val_loss", "auto"), resolve_mode("val_auc", "auto")
    ('min', 'max')
    """
    check_choice(mode, "mode", ("auto", "min", "max"), who=who)
    if mode == "auto":
        return direction(monitor)
    return mode


class MonitorCallback(Callback):
    """A callback watching one epoch-log key with one improvement rule.

    Args:
        monitor: the epoch-log key, e.g. ``"val_loss"``.
        mode: ``"min"``, ``"max"`` or ``"auto"``.
        min_delta: the smallest change that counts as an improvement (its sign is ignored).
        baseline: a value the quantity must beat, or None.
        who: the subclass's name, for error messages.
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        mode: str = "auto",
        min_delta: float = 0.0,
        baseline: float | None = None,
        *,
        who: str = "MonitorCallback",
    ) -> None:
        super().__init__()
        self.monitor = monitor
        self.mode = resolve_mode(monitor, mode, who)
        self.min_delta = abs(check_float(min_delta, "min_delta", who=who))
        self.baseline = baseline

    @property
    def worst(self) -> float:
        """The value every real value improves on: ``inf`` for ``"min"``, ``-inf`` for ``"max"``."""
        return math.inf if self.mode == "min" else -math.inf

    def is_improvement(self, value: float, reference: float) -> bool:
        """Whether ``value`` beats ``reference`` by more than ``min_delta`` in ``mode``."""
        if self.mode == "min":
            return value < reference - self.min_delta
        return value > reference + self.min_delta

    def beats_baseline(self, value: float) -> bool:
        """Whether ``value`` improves on ``baseline`` (always True without one)."""
        return self.baseline is None or self.is_improvement(value, self.baseline)

    def monitored(self, logs: Logs | None, warn: str | None = None) -> float | None:
        """The monitored value in ``logs``, or None; ``warn`` (e.g. ``"saving nothing"``)
        turns a missing key into a warning listing the available keys."""
        value = (logs or {}).get(self.monitor)
        if value is None and warn is not None:
            warnings.warn(
                f"{type(self).__name__}: monitor {self.monitor!r} is not in the logs "
                f"(available: {', '.join(sorted(logs or {}))}){warn}.",
                stacklevel=3,
            )
        return value
