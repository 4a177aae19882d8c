"""``NumpyArrayIterator``: the batches of ``ImageDataGenerator.flow``, a PyDataset.

>>> import numpy as np
>>> from nnx.preprocessing.image import ImageDataGenerator
>>> flow = ImageDataGenerator(horizontal_flip=True).flow(np.zeros((5, 4, 4, 1)), batch_size=2)
>>> len(flow), tuple(flow[2].shape)
(3, (1, 4, 4, 1))
"""

from __future__ import annotations

import random
from typing import Any

from array_api_compat import device as device_of

from nnx.backends.base import Array
from nnx.data import PyDataset
from nnx.utils import next_seed
from nnx.validation import check_bool, check_int

__all__ = ["NumpyArrayIterator"]


class NumpyArrayIterator(PyDataset):
    """The batches of :meth:`ImageDataGenerator.flow`: ``(x, y)``, ``(x, y, w)`` or ``x``.

    Batch ``i`` of an epoch is the same whenever it is asked for (its random transformation
    is seeded by ``(seed, epoch, i)``); :meth:`on_epoch_end` starts the next epoch and, with
    ``shuffle``, a new order of the samples.

    Args:
        generator: the :class:`ImageDataGenerator`.
        x: images; y: targets or None; sample_weight: per-sample weights or None.
        batch_size: images per batch.
        shuffle: visit the samples in a fresh seeded order each epoch.
        seed: seed of the order and of the transformations (None: the next seed of
            :func:`nnx.utils.set_random_seed`, else fresh entropy).
    """

    def __init__(
        self,
        generator: Any,
        x: Any,
        y: Any = None,
        batch_size: int = 32,
        shuffle: bool = True,
        seed: int | None = None,
        sample_weight: Any = None,
    ) -> None:
        super().__init__()
        who = "ImageDataGenerator.flow"
        self.generator = generator
        self.x = generator.as_images(x)
        self.n = int(self.x.shape[0])
        backend = generator.backend
        self.y = None if y is None else backend.asarray(y)
        self.sample_weight = (
            None if sample_weight is None else backend.asarray(sample_weight, generator.dtype)
        )
        for arg, value in (("y", self.y), ("sample_weight", self.sample_weight)):
            if value is not None and (value.ndim == 0 or value.shape[0] != self.n):
                raise ValueError(
                    f"{who}: {arg} must have one entry per image ({self.n}), received shape "
                    f"{tuple(value.shape)}."
                )
        self.batch_size = check_int(batch_size, "batch_size", who=who, minimum=1)
        self.shuffle = check_bool(shuffle, "shuffle", who=who)
        seed = next_seed() if seed is None else check_int(seed, "seed", who=who, minimum=0)
        self.seed = random.SystemRandom().randrange(2**31) if seed is None else seed
        self.epoch = 0
        self._order = self._draw_order()

    def _draw_order(self) -> Array:
        backend = self.generator.backend
        if not self.shuffle:
            return backend.xp.arange(self.n, device=device_of(self.x))
        return backend.rng(self._seed_for(-1)).permutation(self.n)

    def _seed_for(self, index: int) -> int:
        return hash((self.seed, self.epoch, index)) % 2**31

    def __len__(self) -> int:
        return -(-self.n // self.batch_size)

    def __getitem__(self, index: int) -> Any:
        if not 0 <= index < len(self):
            raise IndexError(f"batch index {index} out of range for {len(self)} batches.")
        gen, xp = self.generator, self.generator.backend.xp
        rows = self._order[index * self.batch_size : min((index + 1) * self.batch_size, self.n)]
        rng = gen.backend.rng(self._seed_for(index))
        xb = gen.transform(xp.take(self.x, rows, axis=0), rng)
        if self.y is None:
            return xb
        yb = xp.take(self.y, rows, axis=0)
        if self.sample_weight is None:
            return xb, yb
        return xb, yb, xp.take(self.sample_weight, rows, axis=0)

    def on_epoch_end(self) -> None:
        """Start the next epoch: new transformations, and a new order with ``shuffle``."""
        self.epoch += 1
        self._order = self._draw_order()
