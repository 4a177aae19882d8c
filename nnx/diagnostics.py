"""Diagnostics: per-layer gradient norms and activation statistics, the first/last gradient
ratio as depth grows (vanishing gradients), and a gradient-check report of a whole model.

>>> ratios = depth_gradient_ratio("sigmoid", depths=(2, 8), seed=0)
>>> ratios[8] < ratios[2]
True
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from nnx.backends import get_backend
from nnx.training.batching import model_data
from nnx.training.inputs import model_inputs, require_compiled

if TYPE_CHECKING:
    from nnx.models import Sequential

__all__ = ["activation_stats", "depth_gradient_ratio", "gradcheck_report", "gradient_norms"]


def gradient_norms(model: Sequential, x: Any, y: Any) -> dict[str, float]:
    """L2 norm of the training gradient of every trainable parameter on one batch (no update).

    The gradient is the model's own (:meth:`~nnx.Sequential.compute_gradients`): the one
    ``fit`` applies, with the regularization penalties and the fused output gradient.

    Args:
        model: a compiled model (built here from ``x`` if it is not yet).
        x, y: a batch.

    Returns:
        ``{parameter name: ||dL/dθ||}`` in layer order.

    >>> import nnx
    >>> from nnx.layers import Dense
    >>> m = nnx.Sequential([Dense(3, input_shape=(2,), name="a"), Dense(1, name="b")], seed=0)
    >>> m.compile("sgd", "mse")
    >>> sorted(gradient_norms(m, [[1.0, 2.0]], [[1.0]]))
    ['a/bias', 'a/kernel', 'b/bias', 'b/kernel']
    """
    require_compiled(model, "gradient_norms")
    with model.backend.device_scope():  # layers and reductions outside fit
        data = model_data(model, x, y)
        model.compute_gradients(data.x, data.y)
        xp = model.backend.xp
        params = model.trainable_parameters()
        norms = xp.stack([xp.sqrt(xp.sum(xp.astype(p.grad, xp.float64) ** 2)) for p in params])
        host = model.backend.to_numpy(norms)
        return {p.name: float(v) for p, v in zip(params, host, strict=True)}


def activation_stats(model: Sequential, x: Any) -> list[dict[str, Any]]:
    """Mean, std, share of zeros and share of saturated units of each layer's output.

    "Saturated" means ``|y| > 0.99`` for tanh and ``y < 0.01`` or ``y > 0.99`` for sigmoid.

    Returns:
        One dict per layer: ``name, activation, mean, std, zero_fraction, saturated_fraction``.

    >>> import nnx
    >>> from nnx.layers import Dense
    >>> m = nnx.Sequential([Dense(4, activation="relu", input_shape=(2,))], seed=0)
    >>> activation_stats(m, [[1.0, -1.0]])[0]["activation"]
    'relu'
    """
    with model.backend.device_scope():  # layers and reductions outside fit
        h = model_inputs(model, x)
        xp = model.backend.xp
        rows = []
        for layer in model.layers:
            h = layer(h)
            act = getattr(getattr(layer, "activation", None), "name", "linear")
            if act == "tanh":
                saturated = xp.abs(h) > 0.99
            elif act == "sigmoid":
                saturated = (h < 0.01) | (h > 0.99)
            else:
                saturated = xp.zeros(h.shape, dtype=xp.bool, device=h.device)
            values = xp.stack(
                [
                    xp.mean(h),
                    xp.std(h),
                    xp.mean(xp.astype(h == 0, h.dtype)),
                    xp.mean(xp.astype(saturated, h.dtype)),
                ]
            )
            mean, std, zeros, sat = (float(v) for v in model.backend.to_numpy(values))
            rows.append(
                {
                    "name": layer.name,
                    "activation": act,
                    "mean": mean,
                    "std": std,
                    "zero_fraction": zeros,
                    "saturated_fraction": sat,
                }
            )
        return rows


def deep_mlp(
    depth: int, activation: str, width: int = 32, n_inputs: int = 10, seed: int = 0, **kwargs: Any
) -> Sequential:
    """``depth`` hidden ``Dense(width, activation)`` layers and one sigmoid output.

    Args:
        depth: number of hidden layers (>= 1).
        activation: hidden activation.
        width: units per hidden layer.
        n_inputs: input features.
        seed: weight seed.
        **kwargs: passed to each hidden ``Dense`` (e.g. ``kernel_initializer``).

    Returns:
        The (built, uncompiled) model.

    >>> len(deep_mlp(3, "relu").layers)
    4
    """
    from nnx.layers import Dense
    from nnx.models import Sequential

    backend = kwargs.pop("backend", None)
    layers = [
        Dense(width, activation=activation, input_shape=(n_inputs,) if i == 0 else None, **kwargs)
        for i in range(depth)
    ]
    return Sequential([*layers, Dense(1, activation="sigmoid")], seed=seed, backend=backend)


def depth_gradient_ratio(
    activation: str,
    depths: Sequence[int] = (2, 5, 10, 20),
    width: int = 32,
    n_samples: int = 256,
    seed: int = 0,
    kernel_initializer: str = "glorot_uniform",
) -> dict[int, float]:
    """``||dL/dW_first|| / ||dL/dW_last hidden||`` for nets of growing depth (< 1: vanishing).

    Random inputs ``N(0, 1)`` and random 0/1 targets, binary cross-entropy, untrained weights.

    Returns:
        ``{depth: ratio}``.

    >>> r = depth_gradient_ratio("relu", depths=(2,), kernel_initializer="he_normal")
    >>> 0.1 < r[2] < 10
    True
    """
    host = get_backend("numpy")
    rng = host.rng(seed)
    x = rng.normal((n_samples, 10), dtype="float32")
    y = host.xp.astype(rng.uniform((n_samples, 1)) > 0.5, host.xp.float32)
    ratios = {}
    for depth in depths:
        model = deep_mlp(depth, activation, width, 10, seed, kernel_initializer=kernel_initializer)
        model.compile("sgd", "binary_crossentropy")
        norms = gradient_norms(model, x, y)
        kernels = [v for k, v in norms.items() if k.endswith("kernel")][:-1]
        ratios[depth] = kernels[0] / kernels[-1] if kernels[-1] > 0 else math.inf
    return ratios


def gradcheck_report(model: Sequential, x: Any, eps: float = 1e-6) -> dict[str, float]:
    """Relative error of every analytic gradient of ``model`` against central differences
    (float64), never raising: the table the notebooks printed.

    Returns:
        ``{array name: relative error}`` plus ``"max"``.

    >>> report = gradcheck_report(deep_mlp(2, "tanh", width=4, n_inputs=3), [[0.1, 0.2, 0.3]])
    >>> report["max"] < 1e-6
    True
    """
    from nnx.gradcheck import gradcheck

    errors = gradcheck(model, x, eps=eps, tolerance=math.inf)
    return {**errors, "max": max(errors.values())}
