"""The loops behind ``Model.fit``, ``evaluate`` and ``predict``.

They read batches from a :mod:`~nnx.training.sources` source (arrays, a ``PyDataset`` or a
Python iterable of batches). Per batch they only queue device work: the loss and metrics
accumulate on the device and are read once per epoch (or when the progress bar refreshes, or
when a callback asks). Data preparation lives in :mod:`nnx.training.batching` and
:mod:`nnx.training.inputs`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from nnx.backends.base import Array
from nnx.callbacks.base import Callback, CallbackList, History
from nnx.callbacks.progress import ProgbarLogger, format_logs
from nnx.data import PyDataset
from nnx.layers.base import no_backprop
from nnx.metrics import Mean
from nnx.saving.state import require_built
from nnx.training.batching import (
    Dataset,
    batch_slices,
    fit_data,
    model_data,
    validation_dataset,
)
from nnx.training.inputs import check_batch_size, model_inputs, require_compiled
from nnx.training.interrupts import interrupt_session
from nnx.training.nonfinite import NonFiniteGuard
from nnx.training.sources import (
    ArraySource,
    BatchSource,
    is_batch_stream,
    refuse_sharding,
    source_for,
)
from nnx.training.strategy import current_strategy
from nnx.validation import check_bool, check_choice, check_int

__all__ = ["evaluate", "evaluate_data", "evaluate_source", "fit", "predict", "read_logs"]

_WEIGHTS_FINITE = "__weights_finite__"  # the guard's flag, read with the epoch logs


def read_logs(model: Any, values: dict[str, Any]) -> dict[str, float]:
    """A dict of 0-d device arrays as Python floats, read with one transfer."""
    xp = model.backend.xp
    dtype, device = model.backend.dtype(model.dtype), model.backend.device
    arrays = [xp.asarray(v, dtype=dtype, device=device) for v in values.values()]
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


def batch_rows(x: Any) -> int:
    """The number of samples in a batch of inputs: one array, or a tuple/list of arrays (one
    per input of a graph model)."""
    first = x[0] if isinstance(x, (tuple, list)) else x
    return int(first.shape[0])


def evaluate_source(model: Any, source: BatchSource) -> dict[str, float]:
    """Loss and metrics over one pass of ``source``, in inference mode, as floats (under a
    distribution strategy each process computes its shard; the loss is the global batch's)."""
    loss = Mean("loss")
    _reset(model, loss)
    for step, (x, y, w) in enumerate(source.epoch()):
        loss.update_value(model.test_step(x, y, w), source.global_rows(step, batch_rows(x)))
    return read_logs(model, _running(model, loss))


def evaluate_data(model: Any, data: Dataset, batch_size: int) -> dict[str, float]:
    """Loss and metrics over a dataset on the model's backend, in inference mode, as floats."""
    return evaluate_source(model, ArraySource(model, data, batch_size, shuffle=False))


def _steps(steps: Any, name: str) -> int | None:
    """A step count: None (all the data) or an int >= 1."""
    return None if steps is None else check_int(steps, name, minimum=1)


def _fit_sources(
    model: Any,
    x: Any,
    y: Any,
    batch_size: int,
    validation_split: float,
    validation_data: Any,
    shuffle: bool,
    sample_weight: Any,
    class_weight: Any,
    steps_per_epoch: int | None,
    validation_steps: int | None,
) -> tuple[BatchSource, BatchSource | None]:
    """The training and validation sources of ``fit``."""
    stream_val = validation_data is not None and is_batch_stream(validation_data)
    if not is_batch_stream(x):
        train, val = fit_data(
            model,
            x,
            y,
            sample_weight,
            class_weight,
            validation_split,
            None if stream_val else validation_data,
        )
        source: BatchSource = ArraySource(model, train, batch_size, shuffle, steps_per_epoch)
        val_source: BatchSource | None = (
            None if val is None else ArraySource(model, val, batch_size, False, validation_steps)
        )
    else:
        given = [k for k, v in (("y", y), ("sample_weight", sample_weight)) if v is not None]
        given += ["validation_split"] if validation_split else []
        if given:
            raise ValueError(
                f"fit: x is a {type(x).__name__} of batches, so {', '.join(given)} must not be "
                "given: yield (x, y) or (x, y, sample_weight) batches, and pass "
                "validation_data=... for validation."
            )
        source = source_for(
            model, x, "x", steps_per_epoch, "steps_per_epoch", shuffle, class_weight
        )
        val_source = None
        if validation_data is not None and not stream_val:
            val = validation_dataset(model, validation_data)
            val_source = ArraySource(model, val, batch_size, False, validation_steps)
    if stream_val:
        val_source = source_for(
            model, validation_data, "validation_data", validation_steps, "validation_steps"
        )
    return source, val_source


def fit(
    model: Any,
    x: Any,
    y: Any = None,
    batch_size: int = 32,
    epochs: int = 1,
    verbose: int = 1,
    callbacks: Sequence[Callback] | None = None,
    validation_split: float = 0.0,
    validation_data: Any = None,
    shuffle: bool = True,
    initial_epoch: int = 0,
    sample_weight: Any = None,
    class_weight: dict[int, float] | None = None,
    steps_per_epoch: int | None = None,
    validation_steps: int | None = None,
) -> History:
    """Implementation of :meth:`nnx.models.Model.fit` (same arguments, ``model`` first)."""
    require_compiled(model, "fit")
    batch_size = check_batch_size(batch_size)
    epochs = check_int(epochs, "epochs", minimum=0)
    initial_epoch = check_int(initial_epoch, "initial_epoch", minimum=0)
    check_choice(verbose, "verbose", (0, 1, 2))
    check_bool(shuffle, "shuffle")
    steps_per_epoch = _steps(steps_per_epoch, "steps_per_epoch")
    validation_steps = _steps(validation_steps, "validation_steps")
    train, val = _fit_sources(
        model,
        x,
        y,
        batch_size,
        validation_split,
        validation_data,
        shuffle,
        sample_weight,
        class_weight,
        steps_per_epoch,
        validation_steps,
    )
    loss, history = Mean("loss"), History()
    hooks = _hooks(
        model,
        callbacks,
        history,
        loss,
        verbose,
        epochs=epochs,
        steps=train.steps,
        batch_size=batch_size,
        samples=train.samples,
    )
    guard = NonFiniteGuard(model) if model.stop_on_nonfinite else None
    strategy = current_strategy()
    model.history, model.stop_training = history, False
    strategy.begin(model, "fit", train.samples or 0)
    with interrupt_session():  # Ctrl-C waits for the end of an update (see train_step)
        hooks.on_train_begin()
        for epoch in range(hooks.start_epoch(initial_epoch), epochs):
            hooks.on_epoch_begin(epoch)
            _reset(model, loss)
            if guard is not None:
                guard.snapshot()
            for step, (xb, yb, wb) in enumerate(train.epoch()):
                hooks.on_train_batch_begin(step)
                batch_loss = model.train_step(xb, yb, wb)
                loss.update_value(batch_loss, train.global_rows(step, batch_rows(xb)))
                hooks.on_train_batch_end(step, {"loss": batch_loss})
                if model.stop_training:
                    break
            if train.exhausted and loss.count == 0:
                break
            train.end_epoch()
            strategy.epoch_end(model)
            values = _running(model, loss)
            if guard is not None:  # read with the logs: the same transfer
                values[_WEIGHTS_FINITE] = guard.weights_finite()
            logs = read_logs(model, values)
            finite_weights = logs.pop(_WEIGHTS_FINITE, 1.0) == 1.0
            if guard is not None and not (math.isfinite(logs["loss"]) and finite_weights):
                replay = train.epoch if train.replayable else None
                history.nonfinite = guard.locate(epoch, replay)
                break
            if val is not None:
                hooks.on_test_begin()
                val_logs = evaluate_source(model, val)
                hooks.on_test_end(val_logs)
                logs.update({f"val_{k}": v for k, v in val_logs.items()})
            hooks.on_epoch_end(epoch, logs)
            if model.stop_training or train.exhausted:
                break
        hooks.on_train_end()
    strategy.end(model, "fit")
    return history


def evaluate(
    model: Any,
    x: Any,
    y: Any = None,
    batch_size: int = 32,
    verbose: int = 0,
    sample_weight: Any = None,
    return_dict: bool = False,
    steps: int | None = None,
) -> float | list[float] | dict[str, float]:
    """Implementation of :meth:`nnx.models.Model.evaluate` (same arguments, ``model`` first)."""
    require_compiled(model, "evaluate")
    batch_size = check_batch_size(batch_size)
    steps = _steps(steps, "steps")
    if is_batch_stream(x):
        source = source_for(model, x, "x", steps, "steps")
    else:
        require_built(model, "evaluate")
        data = model_data(model, x, y, sample_weight)
        source = ArraySource(model, data, batch_size, False, steps)
    strategy = current_strategy()
    strategy.begin(model, "evaluate", source.samples or 0)
    logs = evaluate_source(model, source)
    strategy.end(model, "evaluate")
    if verbose and strategy.is_main:
        print(format_logs(logs))
    if return_dict:
        return logs
    values = list(logs.values())
    return values[0] if len(values) == 1 else values


def _stream_inputs(model: Any, x: Any, steps: int | None) -> Iterator[Array]:
    """The ``x`` of each batch of a batch stream (a batch may be ``x`` alone), on the backend."""
    if isinstance(x, PyDataset):
        batches: Iterable[Any] = (x[i] for i in range(len(x)))
    elif iter(x) is x and steps is None:
        raise ValueError(
            "predict: x is an iterator (e.g. a generator): it may be endless, so pass "
            "steps=<number of batches>."
        )
    else:
        batches = x
    for i, batch in enumerate(batches):
        if steps is not None and i == steps:
            return
        xb = batch[0] if isinstance(batch, (tuple, list)) else batch
        yield model_inputs(model, xb, "x of a batch")


def predict(model: Any, x: Any, batch_size: int = 32, steps: int | None = None) -> Array:
    """Outputs of ``model`` for ``x`` in inference mode, on the model's backend, batch by batch."""
    with no_backprop():
        return _predict(model, x, batch_size, steps)


def _predict(model: Any, x: Any, batch_size: int, steps: int | None) -> Array:
    batch_size = check_batch_size(batch_size)
    steps = _steps(steps, "steps")
    strategy = current_strategy()
    if is_batch_stream(x):
        refuse_sharding("predict: x")
        outputs = []
        for xb in _stream_inputs(model, x, steps):
            if not model.built:
                model.build(tuple(xb.shape[1:]))
            outputs.append(model.forward(xb, training=False)[0])
        if not outputs:
            raise ValueError("predict: x yielded no batches.")
    else:
        require_built(model, "predict")
        xb = model_inputs(model, x)
        batches = batch_slices(xb.shape[0], batch_size)[:steps]
        outputs = [
            strategy.gather(model.forward(xb[strategy.shard(s), ...], training=False)[0])[0]
            for s in batches
        ]
    return outputs[0] if len(outputs) == 1 else model.backend.xp.concat(outputs, axis=0)
