"""Where the loops get their batches: arrays, a :class:`~nnx.data.PyDataset`, or any Python
iterable of ``(x, y)`` / ``(x, y, sample_weight)`` batches (a list, a generator).

Each source yields batches already on the model's backend: arrays are moved once and sliced
(:class:`ArraySource`); a ``PyDataset`` or an iterable is converted batch by batch as it is read,
through the same checks as arrays (:mod:`nnx.training.inputs`), so only one batch at a time
sits on the device. An iterator (a generator object) cannot be restarted, so it needs a step
count: ``fit`` then takes ``steps_per_epoch`` batches from it each epoch, continuing where the
last epoch stopped, as Keras does.

>>> is_batch_stream(iter([])), is_batch_stream([[1.0, 2.0]]), is_batch_stream([([1.0], [0.0])])
(True, False, True)
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Iterator
from typing import Any

from nnx.backends.base import Array
from nnx.data import PyDataset
from nnx.training.batching import Dataset, batch_slices, model_class_weights
from nnx.training.inputs import check_lengths, model_inputs, model_sample_weights, model_targets
from nnx.training.strategy import current_strategy
from nnx.validation import check_int

__all__ = [
    "ArraySource",
    "Batch",
    "BatchSource",
    "IterableSource",
    "PyDatasetSource",
    "is_batch_stream",
    "model_batch",
    "refuse_sharding",
    "source_for",
]

#: ``(x, y, sample_weight)`` on the model's backend
Batch = tuple[Array, Array, Array | None]


def is_batch_stream(x: Any) -> bool:
    """Whether ``x`` is served batch by batch (a PyDataset, an iterator, a non-sequence
    iterable, or a list/tuple of ``(x, y[, w])`` tuples) rather than being one array."""
    if isinstance(x, PyDataset):
        return True
    if hasattr(x, "shape") or isinstance(x, (str, bytes, dict)):
        return False
    if isinstance(x, (list, tuple)):
        return len(x) > 0 and all(isinstance(b, tuple) for b in x)
    return isinstance(x, Iterable)


def _unpack(batch: Any, who: str) -> tuple[Any, Any, Any]:
    if not isinstance(batch, (tuple, list)) or len(batch) not in (2, 3):
        raise ValueError(
            f"{who} must yield (x, y) or (x, y, sample_weight) tuples, received "
            f"{type(batch).__name__}"
            + (f" of length {len(batch)}" if isinstance(batch, (tuple, list)) else "")
            + "."
        )
    x, y, *w = batch
    return x, y, w[0] if w else None


def model_batch(model: Any, batch: Any, who: str, class_weight: Any = None) -> Batch:
    """One ``(x, y[, w])`` batch moved to the model's backend and checked like array data
    (an unbuilt model is built for its ``x``); ``class_weight`` multiplies into ``w``."""
    x, y, w = _unpack(batch, who)
    xb = model_inputs(model, x, f"x of a {who} batch")
    if not model.built:
        model.build(tuple(xb.shape[1:]))
    yb = model_targets(model, y, f"y of a {who} batch")
    n = check_lengths(x=xb, y=yb)
    wb = model_sample_weights(model, w, n, f"sample_weight of a {who} batch")
    if class_weight is not None:
        cw = model_class_weights(model, yb, class_weight)
        wb = cw if wb is None else wb * cw
    return xb, yb, wb


def refuse_sharding(who: str) -> None:
    """Refuse batch-by-batch data under a distribution strategy: only arrays are sharded."""
    if current_strategy().world_size > 1:
        raise ValueError(
            f"{who}: nnx.distributed.DataParallel shards array data (each process computes its "
            "rows of every global batch); a PyDataset or an iterable of batches cannot be "
            "sharded yet: pass arrays."
        )


class BatchSource:
    """The batches of one epoch at a time.

    Attributes:
        steps: batches per epoch when known (the progress bar's total), else None.
        samples: samples per epoch when known, else None.
        replayable: whether :meth:`epoch`, called again after the model's generators are
            restored, yields the same batches (the non-finite guard then replays it).
        exhausted: set when a finite iterator ran out before ``steps`` batches.
    """

    steps: int | None = None
    samples: int | None = None
    replayable = False
    exhausted = False

    def epoch(self) -> Iterator[Batch]:
        """The batches of the next epoch."""
        raise NotImplementedError

    def global_rows(self, step: int, rows: int) -> int:
        """The samples of batch ``step`` over all processes (``rows`` is this process's)."""
        return rows

    def end_epoch(self) -> None:
        """Called after each training epoch."""


class ArraySource(BatchSource):
    """Slices of a :class:`~nnx.training.batching.Dataset`, in a fresh seeded order each epoch
    when ``shuffle`` (the first ``steps`` batches when given)."""

    replayable = True

    def __init__(
        self, model: Any, data: Dataset, batch_size: int, shuffle: bool, steps: int | None = None
    ) -> None:
        self.model, self.data, self.shuffle = model, data, shuffle
        self.slices = batch_slices(len(data), batch_size)[:steps]
        self.steps, self.samples = len(self.slices), len(data)

    def epoch(self) -> Iterator[Batch]:
        """This process's rows of each batch (all of them outside a distribution strategy)."""
        n, shard = len(self.data), current_strategy().shard
        data = self.data.shuffled(self.model.rng.permutation(n) if self.shuffle else None)
        return (data.batch(shard(s)) for s in self.slices)

    def global_rows(self, step: int, rows: int) -> int:
        s = self.slices[step]
        return s.stop - s.start


class PyDatasetSource(BatchSource):
    """``dataset[i]`` for ``i`` in order, or in a fresh seeded order each epoch when
    ``shuffle``; ``dataset.on_epoch_end()`` after each training epoch."""

    replayable = True

    def __init__(
        self,
        model: Any,
        dataset: PyDataset,
        shuffle: bool,
        who: str,
        steps: int | None = None,
        class_weight: Any = None,
    ) -> None:
        refuse_sharding(who)
        self.model, self.dataset, self.shuffle, self.who = model, dataset, shuffle, who
        self.class_weight = class_weight
        n = check_int(len(dataset), f"len({who})", minimum=1)
        self.steps = n if steps is None else min(n, check_int(steps, "steps", minimum=1))

    def epoch(self) -> Iterator[Batch]:
        n = len(self.dataset)
        order = self.model.rng.host_permutation(n).tolist() if self.shuffle else range(n)
        order = order[: self.steps]
        return (
            model_batch(self.model, self.dataset[i], self.who, self.class_weight) for i in order
        )

    def end_epoch(self) -> None:
        self.dataset.on_epoch_end()


class IterableSource(BatchSource):
    """Batches read from a Python iterable: all of it each epoch (a list, a re-iterable
    object), or ``steps`` batches a time from one iterator (a generator) that lives across
    epochs.

    Raises:
        ValueError: an iterator (it may be endless and cannot restart) without ``steps``.
    """

    def __init__(
        self,
        model: Any,
        data: Iterable[Any],
        steps: int | None,
        who: str,
        steps_name: str,
        class_weight: Any = None,
    ) -> None:
        refuse_sharding(who)
        self.model, self.data, self.who, self.class_weight = model, data, who, class_weight
        self.steps = None if steps is None else check_int(steps, steps_name, minimum=1)
        self._iterator: Iterator[Any] | None = None
        if iter(data) is data:
            if steps is None:
                raise ValueError(
                    f"{who} is an iterator (e.g. a generator): it may be endless and cannot be "
                    f"restarted each epoch, so pass {steps_name}=<batches per epoch> (or give "
                    "a list, or an nnx.data.PyDataset)."
                )
            self._iterator = data
        elif steps is None and hasattr(data, "__len__"):
            self.steps = len(data)  # type: ignore[arg-type]

    def epoch(self) -> Iterator[Batch]:
        iterator = self._iterator if self._iterator is not None else iter(self.data)
        count = 0
        for batch in iterator:
            yield model_batch(self.model, batch, self.who, self.class_weight)
            count += 1
            if self.steps is not None and count == self.steps:
                return
        if self._iterator is not None or count == 0:
            self.exhausted = True
            warnings.warn(
                f"{self.who} ran out of data after {count} batch(es) of this epoch "
                f"(expected {self.steps}); stopping. Make the generator loop over the data "
                "(while True: ...) or lower the step count.",
                UserWarning,
                stacklevel=4,
            )


def source_for(
    model: Any,
    x: Any,
    who: str,
    steps: int | None,
    steps_name: str,
    shuffle: bool = False,
    class_weight: Any = None,
) -> BatchSource:
    """The batch source of a batch stream ``x`` (see :func:`is_batch_stream`)."""
    if isinstance(x, PyDataset):
        return PyDatasetSource(model, x, shuffle, who, steps, class_weight)
    return IterableSource(model, x, steps, who, steps_name, class_weight)
