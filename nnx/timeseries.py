"""Keras's ``timeseries_dataset_from_array``: sliding windows over a series, served in batches.

Window ``j`` starts at position ``p_j = j * sequence_stride`` of ``data[start_index:end_index]``
and takes every ``sampling_rate``-th step::

    x_j = data[start_index + p_j + k * sampling_rate],  k = 0 .. sequence_length - 1
    y_j = targets[start_index + p_j]

(as in Keras, the target of a window is the one at its *first* step: to forecast ``h`` steps
ahead, pass ``targets=series[sequence_length + h - 1:]``). The windows are gathered batch by
batch from the one array, never copied all at once. Keras returns a ``tf.data.Dataset``; nnx
returns a :class:`~nnx.data.PyDataset`, which ``fit``, ``evaluate`` and ``predict`` take, with
``take(n)`` for the tutorials that peek at a batch with ``for batch in dataset.take(1)``.

>>> import numpy as np
>>> ds = timeseries_dataset_from_array(np.arange(10), np.arange(10), sequence_length=3,
...                                    batch_size=4)
>>> x, y = ds[0]
>>> len(ds), x.tolist(), y.tolist()
(2, [[0, 1, 2], [1, 2, 3], [2, 3, 4], [3, 4, 5]], [0, 1, 2, 3])
"""

from __future__ import annotations

import math
from typing import Any

from array_api_compat import device as device_of

from nnx.backends import get_backend
from nnx.backends.base import Array, array_namespace
from nnx.data import PyDataset, host_rng
from nnx.validation import check_bool, check_int

__all__ = ["TimeseriesDataset", "timeseries_dataset_from_array"]

_WHO = "timeseries_dataset_from_array"


class TimeseriesDataset(PyDataset):
    """Batches of windows ``(x, y)`` (or ``x`` alone without targets) over one series; made
    by :func:`timeseries_dataset_from_array`.

    Args:
        data: the series, ``(steps, ...)``, an array of any backend.
        targets: one target per step (None: batches are ``x`` alone).
        starts: the first index into ``data`` of each window, in serving order (host ints).
        sequence_length, sampling_rate, batch_size: as for the function.
    """

    def __init__(
        self,
        data: Array,
        targets: Array | None,
        starts: list[int],
        sequence_length: int,
        sampling_rate: int,
        batch_size: int,
    ) -> None:
        super().__init__()
        self.data, self.targets, self.starts = data, targets, starts
        self.sequence_length, self.sampling_rate = sequence_length, sampling_rate
        self.batch_size = batch_size

    def __len__(self) -> int:
        return math.ceil(len(self.starts) / self.batch_size)

    def __getitem__(self, index: int) -> Any:
        if not -len(self) <= index < len(self):
            raise IndexError(f"TimeseriesDataset has {len(self)} batches; received {index}.")
        index %= len(self)
        starts = self.starts[index * self.batch_size : (index + 1) * self.batch_size]
        xp = array_namespace(self.data)
        offsets = [s + k * self.sampling_rate for s in starts for k in range(self.sequence_length)]
        rows = xp.take(self.data, xp.asarray(offsets, device=device_of(self.data)), axis=0)
        x = xp.reshape(rows, (len(starts), self.sequence_length, *self.data.shape[1:]))
        if self.targets is None:
            return x
        xt = array_namespace(self.targets)
        where = device_of(self.targets)
        return x, xt.take(self.targets, xt.asarray(starts, device=where), axis=0)

    def take(self, count: int) -> list[Any]:
        """The first ``count`` batches (``tf.data.Dataset.take``, for peeking at a batch)."""
        count = check_int(count, "count", who="TimeseriesDataset.take", minimum=0)
        return [self[i] for i in range(min(count, len(self)))]


def timeseries_dataset_from_array(
    data: Any,
    targets: Any,
    sequence_length: int,
    sequence_stride: int = 1,
    sampling_rate: int = 1,
    batch_size: int = 128,
    shuffle: bool = False,
    seed: int | None = None,
    start_index: int | None = None,
    end_index: int | None = None,
) -> TimeseriesDataset:
    """Windows of ``sequence_length`` steps over ``data`` and their targets, in batches
    (``keras.utils.timeseries_dataset_from_array``; see the module docstring for the indices).

    Args:
        data: the series, ``(steps, ...)`` (a NumPy or backend array, or nested lists).
        targets: ``targets[start_index + p]`` is the target of the window starting at ``p``;
            None for inputs only.
        sequence_length: steps per window.
        sequence_stride: steps between the starts of consecutive windows.
        sampling_rate: take every ``sampling_rate``-th step inside a window.
        batch_size: windows per batch (the last batch may be smaller).
        shuffle: serve the windows in a seeded random order (fixed for the dataset's life).
        seed: the order's seed (an int >= 0; None: fresh entropy).
        start_index, end_index: use only ``data[start_index:end_index]``.

    Returns:
        A :class:`TimeseriesDataset`, a :class:`~nnx.data.PyDataset` of ``(x, y)`` batches,
        ``x`` of shape ``(batch, sequence_length, ...)``.

    Raises:
        ValueError: a non-positive length, stride, rate or batch size, indices outside the
            data, or a series too short for one window; each message echoes the value.
    """
    if not hasattr(data, "shape"):
        data = get_backend().asarray(data)
    if targets is not None and not hasattr(targets, "shape"):
        targets = get_backend().asarray(targets)
    steps = int(data.shape[0])
    length = check_int(sequence_length, "sequence_length", who=_WHO, minimum=1)
    stride = check_int(sequence_stride, "sequence_stride", who=_WHO, minimum=1)
    rate = check_int(sampling_rate, "sampling_rate", who=_WHO, minimum=1)
    batch = check_int(batch_size, "batch_size", who=_WHO, minimum=1)
    check_bool(shuffle, "shuffle", who=_WHO)
    start = 0 if start_index is None else check_int(start_index, "start_index", who=_WHO)
    end = steps if end_index is None else check_int(end_index, "end_index", who=_WHO)
    if not 0 <= start < end <= steps:
        raise ValueError(
            f"{_WHO}: need 0 <= start_index < end_index <= len(data) = {steps}. "
            f"Received: start_index={start_index}, end_index={end_index}."
        )
    count = end - start - (length - 1) * rate
    if targets is not None:
        count = min(count, int(targets.shape[0]) - start)
    if count <= 0:
        raise ValueError(
            f"{_WHO}: {end - start} steps (and {_len(targets)} targets) are too few for one "
            f"window of sequence_length={length} at sampling_rate={rate}."
        )
    starts = list(range(start, start + count, stride))
    if shuffle:
        order = host_rng(seed, who=_WHO).host_permutation(len(starts))
        starts = [starts[int(i)] for i in order]
    return TimeseriesDataset(data, targets, starts, length, rate, batch)


def _len(targets: Any) -> str:
    return "no" if targets is None else str(int(targets.shape[0]))
