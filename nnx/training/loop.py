"""The loops behind ``Sequential.fit``, ``evaluate`` and ``predict``.

Per batch they only queue device work: the loss and metrics accumulate on the device and are
read once per epoch (or when the progress bar refreshes, or when a callback asks). Data
preparation lives in :mod:`nnx.training.batching` and :mod:`nnx.training.inputs`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from nnx.backends.base import Array
from nnx.callbacks.base import Callback, CallbackList, History
from nnx.callbacks.progress import ProgbarLogger, format_logs
from nnx.metrics import Mean
from nnx.saving.state import require_built
from nnx.training.batching import Dataset, batch_slices, fit_data, model_data
from nnx.training.inputs import check_batch_size, model_inputs, require_compiled
from nnx.training.nonfinite import NonFiniteGuard
from nnx.training.strategy import current_strategy
from nnx.validation import check_bool, check_choice, check_int

__all__ = ["evaluate", "evaluate_data", "fit", "predict", "read_logs"]


def read_logs(model: Any, values: dict[str, Any]) -> dict[str, float]:
    """A dict of 0-d device arrays as Python floats, read with one transfer."""
    xp = model.backend.xp
    arrays = [xp.asarray(v, dtype=model.backend.dtype(model.dtype)) for v in values.values()]
    host: Any = model.backend.to_numpy(xp.stack(arrays)) if arrays else []
    return {k: float(v) for k, v in zip(values, host, strict=True)}


def _running(model: Any, loss: Mean) -> dict[str, Any]:
    return {"loss": loss.result(), **{m.name: m.result() for m in model.metrics}}


def _reset(model: Any, loss: Mean) -> None:
    loss.reset_state()
    for metric in model.metrics:
        metric.reset_state()


def _hooks(
    model: Any,
    callbacks: Sequence[Callback] | None,
    history: History,
    loss: Mean,
    verbose: int,
    **params: Any,
) -> CallbackList:
    """The user's callbacks, then ``History`` (as in Keras: it records the keys they add to
    the epoch logs), then the progress bar, which reads the running values when it refreshes."""

    def running() -> dict[str, float]:
        return read_logs(model, _running(model, loss))

    verbose = verbose if current_strategy().is_main else 0
    progress = [ProgbarLogger(verbose, running)] if verbose else []
    params["verbose"] = verbose
    return CallbackList([*(callbacks or []), history, *progress], model, params)


def evaluate_data(model: Any, data: Dataset, batch_size: int) -> dict[str, float]:
    """Loss and metrics over a dataset on the model's backend, in inference mode, as floats."""
    loss, strategy = Mean("loss"), current_strategy()
    _reset(model, loss)
    for s in batch_slices(len(data), batch_size):
        loss.update_value(model.test_step(*data.batch(strategy.shard(s))), s.stop - s.start)
    return read_logs(model, _running(model, loss))


def fit(
    model: Any,
    x: Any,
    y: Any,
    batch_size: int = 32,
    epochs: int = 1,
    verbose: int = 1,
    callbacks: Sequence[Callback] | None = None,
    validation_split: float = 0.0,
    validation_data: tuple[Any, ...] | None = None,
    shuffle: bool = True,
    initial_epoch: int = 0,
    sample_weight: Any = None,
    class_weight: dict[int, float] | None = None,
) -> History:
    """Implementation of :meth:`nnx.Sequential.fit` (same arguments, ``model`` first)."""
    require_compiled(model, "fit")
    batch_size = check_batch_size(batch_size)
    epochs = check_int(epochs, "epochs", minimum=0)
    initial_epoch = check_int(initial_epoch, "initial_epoch", minimum=0)
    check_choice(verbose, "verbose", (0, 1, 2))
    check_bool(shuffle, "shuffle")
    train, val = fit_data(
        model, x, y, sample_weight, class_weight, validation_split, validation_data
    )
    batches = batch_slices(len(train), batch_size)
    loss, history = Mean("loss"), History()
    hooks = _hooks(
        model,
        callbacks,
        history,
        loss,
        verbose,
        epochs=epochs,
        steps=len(batches),
        batch_size=batch_size,
        samples=len(train),
    )
    guard = NonFiniteGuard(model) if model.stop_on_nonfinite else None
    strategy = current_strategy()

    def epoch_data() -> Dataset:
        return train.shuffled(model.rng.permutation(len(train)) if shuffle else None)

    model.history, model.stop_training = history, False
    strategy.begin(model, "fit", len(train))
    hooks.on_train_begin()
    for epoch in range(hooks.start_epoch(initial_epoch), epochs):
        hooks.on_epoch_begin(epoch)
        _reset(model, loss)
        if guard is not None:
            guard.snapshot()
        data = epoch_data()
        for step, s in enumerate(batches):
            hooks.on_train_batch_begin(step)
            batch_loss = model.train_step(*data.batch(strategy.shard(s)))
            loss.update_value(batch_loss, s.stop - s.start)
            hooks.on_train_batch_end(step, {"loss": batch_loss})
            if model.stop_training:
                break
        strategy.epoch_end(model)
        logs = read_logs(model, _running(model, loss))
        if guard is not None and not math.isfinite(logs["loss"]):
            history.nonfinite = guard.locate(epoch, batches, epoch_data)
            break
        if val is not None:
            hooks.on_test_begin()
            val_logs = evaluate_data(model, val, batch_size)
            hooks.on_test_end(val_logs)
            logs.update({f"val_{k}": v for k, v in val_logs.items()})
        hooks.on_epoch_end(epoch, logs)
        if model.stop_training:
            break
    hooks.on_train_end()
    strategy.end(model, "fit")
    return history


def evaluate(
    model: Any,
    x: Any,
    y: Any,
    batch_size: int = 32,
    verbose: int = 0,
    sample_weight: Any = None,
    return_dict: bool = False,
) -> float | list[float] | dict[str, float]:
    """Implementation of :meth:`nnx.Sequential.evaluate` (same arguments, ``model`` first)."""
    require_compiled(model, "evaluate")
    require_built(model, "evaluate")
    data = model_data(model, x, y, sample_weight)
    strategy = current_strategy()
    strategy.begin(model, "evaluate", len(data))
    logs = evaluate_data(model, data, check_batch_size(batch_size))
    strategy.end(model, "evaluate")
    if verbose and strategy.is_main:
        print(format_logs(logs))
    if return_dict:
        return logs
    values = list(logs.values())
    return values[0] if len(values) == 1 else values


def predict(model: Any, x: Any, batch_size: int = 32) -> Array:
    """Outputs of ``model`` for ``x`` in inference mode, on the model's backend, batch by batch."""
    require_built(model, "predict")
    xb = model_inputs(model, x)
    batch_size = check_batch_size(batch_size)
    batches = batch_slices(xb.shape[0], batch_size)
    strategy = current_strategy()
    outputs = [
        strategy.gather(model.forward(xb[strategy.shard(s), ...], training=False)[0])[0]
        for s in batches
    ]
    return outputs[0] if len(outputs) == 1 else model.backend.xp.concat(outputs, axis=0)
