"""Synchronized batch normalization: the statistics of the global batch on every rank.

``DataParallel(batch_norm="sync")`` replaces, for the duration of ``fit``, the training forward
of each :class:`~nnx.layers.BatchNormalization` by this one (Keras's ``synchronized=True``,
PyTorch's ``SyncBatchNorm``). Over the ``M`` reduced elements of a feature across all ranks:

- forward: ``mean = sum_r S1_r / M``, ``var = sum_r S2_r / M`` with ``S1_r = sum x``,
  ``S2_r = sum (x - mean)^2`` (two small all-reduces), then ``xhat`` and the moving statistics
  exactly as one process computes them;
- backward: rank ``r``'s upstream gradient is that of its own mean loss; scaled by
  ``n_r / B`` it is its part of the global one, ``g``. One all-reduce of ``sum g`` and
  ``sum g xhat`` gives ``dx = inv (g - mean(g) - xhat mean(g xhat))``, returned divided by
  ``n_r / B`` (the all-reduce of the weight gradients multiplies it back).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from nnx.backends.base import Array
from nnx.layers import BatchNormalization
from nnx.layers.base import Backprop

__all__ = ["sync_forward"]


def sync_forward(layer: BatchNormalization, strategy: Any) -> Callable[..., tuple[Array, Backprop]]:
    """A ``forward(x, *, training)`` for ``layer`` whose training statistics are global.

    Args:
        layer: a built batch-normalization layer.
        strategy: the :class:`~nnx.distributed.DataParallel` running ``fit``.
    """
    original = type(layer).forward

    def forward(x: Array, *, training: bool = False) -> tuple[Array, Backprop]:
        if not training or strategy.world_size == 1:
            return original(layer, x, training=training)
        layer.check_input(x)
        backend = layer.backend
        assert backend is not None
        xp, comm = backend.xp, strategy.communicator(backend)
        mm, mv = layer.moving_mean, layer.moving_variance
        assert mm is not None and mv is not None
        axis = layer.axis % x.ndim
        axes = tuple(a for a in range(x.ndim) if a != axis)
        shape = tuple(x.shape[a] if a == axis else 1 for a in range(x.ndim))
        features = mm.shape[0]
        valid = strategy.valid_rows(int(x.shape[0]))
        flag = 1.0 if valid else 0.0
        per_row = math.prod(int(x.shape[a]) for a in axes if a != 0)

        def global_sums(*local: Array) -> Array:
            parts = [xp.reshape(v, (-1,)) * flag for v in local]
            return comm.allreduce(xp.concat(parts), backend)

        count = xp.astype(backend.asarray([float(valid * per_row)]), x.dtype)
        sums = global_sums(xp.sum(x, axis=axes), count)
        m = sums[features]
        mean = xp.reshape(sums[:features] / m, shape)
        centered = x - mean
        var = xp.reshape(global_sums(xp.sum(centered * centered, axis=axes)) / m, shape)
        inv = 1.0 / xp.sqrt(var + layer.epsilon)
        xhat = centered * inv
        k = layer.momentum
        mm.value[...] = k * mm.value + (1.0 - k) * xp.reshape(mean, mm.shape)
        mv.value[...] = k * mv.value + (1.0 - k) * xp.reshape(var, mv.shape)
        weight = valid * per_row / m

        def backprop(dy: Array) -> Array:
            g = layer.affine_backward(xp, dy, xhat, shape, axes) * weight
            both = global_sums(xp.sum(g, axis=axes), xp.sum(g * xhat, axis=axes))
            mean_g = xp.reshape(both[:features] / m, shape)
            mean_gx = xp.reshape(both[features:] / m, shape)
            dx = inv * (g - mean_g - xhat * mean_gx)
            return dx / weight if valid else dx * 0.0

        return layer.affine(xp, xhat, shape), backprop

    return forward
