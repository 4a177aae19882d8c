"""Stop ``fit`` at the first batch whose loss (or update) is NaN/Inf, keeping finite weights.

Checking every batch would read the loss back from the device every step. Instead, the fit loop
keeps a copy of the training state (weights, optimizer state, RNG states) taken at the start of
each epoch, on the device, and at the end of the epoch looks at two numbers it reads with the
logs, in the same transfer: the epoch's mean loss (a sum of batch losses is finite exactly when
every batch loss was) and :meth:`NonFiniteGuard.weights_finite`, one reduction over every
weight. The loss alone has a blind spot: each batch loss is computed *before* its update, so a
blow-up in the last update of an epoch leaves a finite epoch loss; the weights check catches it,
so the next epoch's snapshot is always finite. Only when one of the two is not finite does the
guard restore the copy and replay the epoch (the same shuffle and dropout masks, since the RNG
states are restored), this time checking every batch (its loss, gradients and updated weights),
to stop at the first bad one with the weights from just before it. The cost in the normal case
is one device copy of the weights and optimizer slots per epoch, one reduction over the weights
and no extra synchronisation. The guard is on unless the model was compiled with
``stop_on_nonfinite=False``.

>>> import warnings, nnx
>>> from nnx.layers import Dense
>>> model = nnx.Sequential([Dense(1, input_shape=(1,), name="dense")], seed=0)
>>> model.compile(nnx.optimizers.SGD(1e30), "mse")
>>> with warnings.catch_warnings():
...     warnings.simplefilter("ignore")  # NumPy's overflow warnings and the NonFiniteWarning
...     history = model.fit([[1e10]] * 8, [[0.0]] * 8, epochs=3, batch_size=2, verbose=0)
>>> history.nonfinite
{'epoch': 0, 'batch': 0, 'quantity': 'weights of dense/kernel after the update'}
>>> model.get_weights()[0]  # the initial weights: the first update overflowed
array([[0.47...]], dtype=float32)
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable
from typing import Any

from nnx.saving.state import copy_state, restore_state

__all__ = ["NonFiniteGuard", "NonFiniteWarning"]


class NonFiniteWarning(RuntimeWarning):
    """``fit`` stopped because a loss, gradient or weight became NaN or infinite.

    >>> issubclass(NonFiniteWarning, RuntimeWarning)
    True
    """


class NonFiniteGuard:
    """Epoch snapshots and the replay that finds the first non-finite batch.

    Args:
        model: the model being trained (an ``nnx.Sequential``).

    >>> import nnx
    >>> guard = NonFiniteGuard(nnx.Sequential([nnx.layers.Dense(1, input_shape=(1,))]))
    >>> guard.snapshot()
    """

    def __init__(self, model: Any) -> None:
        self.model = model
        self._state: tuple[dict[str, Any], dict[str, Any]] | None = None

    def snapshot(self) -> None:
        """Remember the training state (device copies; no synchronisation)."""
        self._state = copy_state(self.model)

    def weights_finite(self) -> Any:
        """A 0-d device array: 1.0 when every float weight of the model is finite, else 0.0.

        One reduction per parameter and one over their flags, queued on the device: the fit
        loop reads it with the epoch's logs, in the same transfer.
        """
        model = self.model
        xp = model.backend.xp
        flags = [
            xp.all(xp.isfinite(p.value))
            for p in model.parameters()
            if xp.isdtype(p.value.dtype, "real floating")
        ]
        ok = xp.all(xp.stack(flags)) if flags else xp.asarray(True)
        return xp.astype(ok, model.backend.dtype(model.dtype))

    def _problem(self, loss: Any) -> str | None:
        """What went non-finite in the last step: the loss, a gradient or a weight (one sync)."""
        xp, model = self.model.backend.xp, self.model
        params = model.trainable_parameters()
        checks = [("loss", loss)]
        checks += [(f"gradient of {p.name}", p.grad) for p in params if p.grad is not None]
        checks += [(f"weights of {p.name} after the update", p.value) for p in params]
        flags = xp.stack([xp.all(xp.isfinite(v)) for _, v in checks])
        ok = model.backend.to_numpy(flags)
        return next((name for (name, _), good in zip(checks, ok, strict=True) if not good), None)

    def locate(
        self, epoch: int, replay: Callable[[], Iterable[tuple[Any, Any, Any]]] | None
    ) -> dict[str, Any]:
        """Replay ``epoch`` from the snapshot, stop before the first bad batch, warn.

        Args:
            epoch: the epoch whose mean loss was not finite.
            replay: redraws the epoch's ``(x, y, sample_weight)`` batches (the generators are
                back at the snapshot, so it draws the same order); None for data that cannot
                be replayed (a generator): the model then goes back to the start of the epoch.

        Returns:
            ``{"epoch", "batch", "quantity"}`` (``batch`` None when no single step is to
            blame), also found in ``history.nonfinite``.
        """
        model = self.model
        assert self._state is not None
        restore_state(model, *self._state)
        event: dict[str, Any] = {"epoch": epoch, "batch": None, "quantity": "loss"}
        if not bool(self.model.backend.to_numpy(self.weights_finite())):
            event["quantity"] = "weights before the epoch"
            return self._stop(
                event,
                "the weights were already NaN or infinite when the epoch "
                "began (set by hand?); nothing finite to go back to",
            )
        for step, batch in enumerate(replay() if replay is not None else ()):
            before = copy_state(self.model)
            loss = model.train_step(*batch)
            quantity = self._problem(loss)
            if quantity is not None:
                restore_state(model, *before)
                event.update(batch=step, quantity=quantity)
                break
        if replay is None:
            kept = (
                "the data cannot be replayed, so the model keeps the weights from the start "
                "of that epoch"
            )
        elif event["batch"] is None:
            kept = "the replay found no bad batch; the model keeps the replayed, finite weights"
        else:
            kept = "the model keeps the last finite weights, from before that batch"
        return self._stop(event, kept)

    def _stop(self, event: dict[str, Any], kept: str) -> dict[str, Any]:
        where = f"epoch {event['epoch']} (0-based), batch {event['batch']}"
        warnings.warn(
            f"fit stopped: the {event['quantity']} became NaN or infinite at {where}; {kept}. "
            "Lower the learning rate, clip gradients (clipnorm=...) or check the data.",
            NonFiniteWarning,
            stacklevel=5,
        )
        self.model.stop_training = True
        return event
