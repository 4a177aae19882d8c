"""The training loop behind ``Sequential.fit`` and ``evaluate``.

Per batch it only queues device work: the loss and metrics accumulate on the device and are
read once per epoch (or when the progress bar refreshes, or when a callback asks).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from nnx.backends.base import Array
from nnx.callbacks import Callback, CallbackList, History
from nnx.metrics import Mean
from nnx.training.inputs import check_batch_size, check_lengths, class_weights
from nnx.training.nonfinite import NonFiniteGuard

if TYPE_CHECKING:
    from nnx.models import Sequential


def _read(model: Sequential, values: dict[str, Any]) -> dict[str, float]:
    """Move a dict of 0-d device arrays to Python floats with one transfer."""
    xp = model.backend.xp
    arrays = [xp.asarray(v, dtype=model.backend.dtype(model.dtype)) for v in values.values()]
    host: Any = model.backend.to_numpy(xp.stack(arrays)) if arrays else []
    return {k: float(v) for k, v in zip(values, host, strict=True)}


def _running(model: Sequential, loss: Mean) -> dict[str, Any]:
    return {"loss": loss.result(), **{m.name: m.result() for m in model.metrics}}


def _batches(n: int, batch_size: int) -> list[slice]:
    return [slice(i, min(i + batch_size, n)) for i in range(0, n, batch_size)]


def _take(xp: Any, a: Array | None, index: Array | None) -> Array | None:
    return a if a is None or index is None else xp.take(a, index, axis=0)


def evaluate_arrays(
    model: Sequential,
    x: Array,
    y: Array,
    w: Array | None,
    batch_size: int,
) -> dict[str, float]:
    """Loss and metrics over backend arrays, in inference mode, as floats."""
    loss = Mean("loss")
    for metric in model.metrics:
        metric.reset_state()
    for s in _batches(x.shape[0], batch_size):
        wb = None if w is None else w[s]
        loss.update_value(model.test_step(x[s, ...], y[s, ...], wb), s.stop - s.start)
    return _read(model, _running(model, loss))


def _validation(
    model: Sequential,
    x: Array,
    y: Array,
    w: Array | None,
    validation_split: float,
    validation_data: tuple[Any, ...] | None,
) -> tuple[Array, Array, Array | None, tuple[Array, Array, Array | None] | None]:
    if validation_data is not None:
        if not isinstance(validation_data, (tuple, list)) or len(validation_data) not in (2, 3):
            raise ValueError(
                "validation_data must be (x_val, y_val) or (x_val, y_val, "
                f"sample_weight_val), received {type(validation_data).__name__}."
            )
        xv = model._inputs(validation_data[0], "validation_data[0]")
        yv = model._targets(validation_data[1], "validation_data[1]")
        nv = check_lengths(**{"validation_data[0]": xv, "validation_data[1]": yv})
        wv = model._sample_weights(validation_data[2], nv) if len(validation_data) == 3 else None
        return x, y, w, (xv, yv, wv)
    if not 0.0 <= validation_split < 1.0:
        raise ValueError(
            f"validation_split must be in [0, 1), received validation_split={validation_split!r}."
        )
    if validation_split == 0.0:
        return x, y, w, None
    n = x.shape[0]
    split = n - math.floor(n * validation_split)
    if split <= 0 or split >= n:
        raise ValueError(
            f"validation_split={validation_split} leaves no training or no "
            f"validation samples out of {n}."
        )
    wv = None if w is None else w[split:]
    return (
        x[:split, ...],
        y[:split, ...],
        None if w is None else w[:split],
        (x[split:, ...], y[split:, ...], wv),
    )


def _class_weights(model: Sequential, y: Array, class_weight: Any) -> Array:
    from nnx import losses

    loss, outputs = model.loss, int((model.output_shape or (1,))[-1] or 1)
    if isinstance(loss, losses.SparseCategoricalCrossentropy):  # before its base class
        kind = "sparse"
    elif isinstance(loss, losses.CategoricalCrossentropy):
        kind = "categorical"
    elif isinstance(loss, losses.BinaryCrossentropy) and outputs == 1:
        kind, outputs = "binary", 2
    else:
        raise ValueError(
            "class_weight needs a single-label classification loss (binary_crossentropy with "
            "one output, categorical_crossentropy or sparse_categorical_crossentropy), "
            f"received loss={getattr(loss, 'name', loss)!r} with {outputs} output(s)."
        )
    return class_weights(model.backend, y, class_weight, kind, outputs, model.dtype)


def fit_loop(
    model: Sequential,
    x: Any,
    y: Any,
    batch_size: int,
    epochs: int,
    verbose: int,
    callbacks: Sequence[Callback] | None,
    validation_split: float,
    validation_data: tuple[Any, ...] | None,
    shuffle: bool,
    initial_epoch: int,
    sample_weight: Any,
    class_weight: dict[int, float] | None = None,
) -> History:
    """Implementation of :meth:`nnx.Sequential.fit`."""
    from nnx.callbacks.progress import ProgbarLogger

    model._check_compiled("fit")
    batch_size = check_batch_size(batch_size)
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 0:
        raise ValueError(f"epochs must be a non-negative int, received epochs={epochs!r}.")
    if verbose not in (0, 1, 2):
        raise ValueError(f"verbose must be 0, 1 or 2, received verbose={verbose!r}.")
    xb = model._inputs(x)
    if not model.built:
        model.build(tuple(xb.shape[1:]))
    yb = model._targets(y)
    n = check_lengths(x=xb, y=yb)
    wb = model._sample_weights(sample_weight, n)
    if class_weight is not None:
        cw = _class_weights(model, yb, class_weight)
        wb = cw if wb is None else wb * cw
    xb, yb, wb, val = _validation(model, xb, yb, wb, validation_split, validation_data)
    n = xb.shape[0]
    batches = _batches(n, batch_size)

    history = History()
    loss = Mean("loss")
    user_callbacks = list(callbacks or [])
    progress = (
        [ProgbarLogger(verbose, running=lambda: _read(model, _running(model, loss)))]
        if verbose
        else []
    )
    cbs = CallbackList(
        [history, *user_callbacks, *progress],
        model,
        {
            "epochs": epochs,
            "steps": len(batches),
            "verbose": verbose,
            "batch_size": batch_size,
            "samples": n,
        },
    )
    model.history = history
    model.stop_training = False
    xp = model.backend.xp
    guard = NonFiniteGuard(model) if model.stop_on_nonfinite else None

    def shuffled() -> tuple[Array, Array, Array | None]:
        order = model.rng.permutation(n) if shuffle else None
        return _take(xp, xb, order), _take(xp, yb, order), _take(xp, wb, order)

    cbs.on_train_begin()
    # NOTE: BackupAndRestore sets _resume_epoch in on_train_begin after restoring a backup.
    initial_epoch = max(initial_epoch, vars(model).pop("_resume_epoch", 0))
    for epoch in range(initial_epoch, epochs):
        cbs.on_epoch_begin(epoch)
        loss.reset_state()
        for metric in model.metrics:
            metric.reset_state()
        if guard is not None:
            guard.snapshot()
        xs, ys, ws = shuffled()
        for step, s in enumerate(batches):
            cbs.on_train_batch_begin(step)
            assert xs is not None and ys is not None
            batch_loss = model.train_step(xs[s, ...], ys[s, ...], None if ws is None else ws[s])
            loss.update_value(batch_loss, s.stop - s.start)
            cbs.on_train_batch_end(step, {"loss": batch_loss})
            if model.stop_training:
                break
        logs = _read(model, _running(model, loss))
        if guard is not None and not math.isfinite(logs["loss"]):
            history.nonfinite = guard.locate(epoch, batches, shuffled)
            break
        if val is not None:
            cbs.on_test_begin()
            val_logs = evaluate_arrays(model, *val, batch_size)
            cbs.on_test_end(val_logs)
            logs.update({f"val_{k}": v for k, v in val_logs.items()})
        cbs.on_epoch_end(epoch, logs)
        if model.stop_training:
            break
    cbs.on_train_end()
    return history
