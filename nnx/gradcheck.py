"""Numerical gradient checking: central differences in float64 against the backward passes.

For a layer or model with output ``y`` the checked scalar is ``f = sum(y * r)`` for a fixed
random ``r``, so ``backprop(r)`` must equal ``df/dx`` and every ``df/dparameter``:

    df/dθ_i ≈ (f(θ + ε e_i) - f(θ - ε e_i)) / (2 ε)

The error reported for each array is ``||analytic - numeric|| / max(||analytic||,
||numeric||, 1e-7)``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from nnx.backends import Backend, get_backend
from nnx.backends.base import Array

__all__ = ["GradientCheckError", "gradcheck", "numeric_gradient", "relative_error"]


class GradientCheckError(AssertionError):
    """An analytic gradient disagrees with the numerical one; the message is a report."""


def _float64_copy(obj: Any, backend: Backend, seed: int) -> Any:
    """A float64 twin of a layer or model with the same weights."""
    from nnx.layers.base import Layer
    from nnx.models import Sequential

    if isinstance(obj, Sequential):
        model = Sequential(
            [type(layer).from_config(layer.get_config()) for layer in obj.layers],
            backend=backend,
            seed=seed,
            dtype="float64",
            name=obj.name,
        )
        if obj.built:
            model.build(obj.input_shape)
            model.set_weights(obj.get_weights())
        return model
    assert isinstance(obj, Layer)
    if obj.built and obj.dtype == "float64" and obj.backend is backend:
        return obj
    twin = type(obj).from_config(obj.get_config())
    if obj.built and obj.backend is not None and obj.input_shape is not None:
        twin.build(obj.input_shape, backend, backend.rng(seed), "float64")
        for mine, theirs in zip(twin.parameters(), obj.parameters(), strict=True):
            mine.value[...] = backend.asarray(obj.backend.to_numpy(theirs.value), "float64")
    return twin


def _norm(xp: Any, a: Array) -> float:
    return float(xp.sqrt(xp.sum(a * a)))


def relative_error(analytic: Array, numeric: Array) -> float:
    """``|analytic - numeric| / max(|analytic|, |numeric|, 1e-7)`` (Frobenius norms)."""
    xp = _xp(analytic)
    scale = max(_norm(xp, analytic), _norm(xp, numeric), 1e-7)
    return _norm(xp, analytic - numeric) / scale


def numeric_gradient(f: Callable[[], float], array: Array, eps: float = 1e-6) -> Array:
    """Central differences ``(f(a + eps e_i) - f(a - eps e_i)) / 2 eps`` of ``f`` w.r.t. every
    element of ``array`` (perturbed in place and restored), on ``array``'s backend."""
    xp = _xp(array)
    grad = xp.zeros_like(array)
    for flat in range(_size(array)):
        index = _unravel(flat, tuple(array.shape))
        original = float(array[index])
        array[index] = original + eps
        plus = f()
        array[index] = original - eps
        minus = f()
        array[index] = original
        grad[index] = (plus - minus) / (2 * eps)
    return grad


def gradcheck(
    target: Any,
    inputs: Any,
    *,
    y_true: Any = None,
    training: bool = False,
    eps: float = 1e-6,
    tolerance: float = 1e-6,
    seed: int = 0,
    backend: str | Backend | None = None,
) -> dict[str, float]:
    """Check ``target``'s backward pass against central differences, in float64.

    Args:
        target: a layer, a Sequential or graph model, a loss (give ``y_true``), or any object
            with ``__call__(w)`` and ``gradient(w)`` (a regularizer).
        inputs: the input batch (for a loss: ``y_pred``; for a regularizer: the weights; for
            a graph model with several inputs: a list, one array per input). A graph's
            projection is ``f = sum_k sum(y_k * r_k)`` over its outputs.
        y_true: targets, for losses.
        training: run layers in training mode (random masks are replayed identically).
        eps: finite-difference step.
        tolerance: the largest accepted relative error.
        seed: seed of the projection ``r`` and of any weights created here.
        backend: where to compute (default: the target's backend, else the default backend).

    Returns:
        The relative error of each checked array: ``{"input": ..., "dense/kernel": ...}``
        (``"input/<name>"`` for each input of a graph model with several).

    Raises:
        GradientCheckError: some error exceeds ``tolerance`` (the message lists them all).

    >>> import nnx
    >>> from nnx.layers import Dense
    >>> layer = Dense(3, activation="tanh", name="hidden")
    >>> errors = nnx.gradcheck(layer, [[0.5, -1.0], [2.0, 0.1]])
    >>> sorted(errors), max(errors.values()) < 1e-6
    (['hidden/bias', 'hidden/kernel', 'input'], True)
    """
    from nnx.layers.base import Layer
    from nnx.models import Functional, Sequential

    be = get_backend(backend if backend is not None else getattr(target, "backend", None))
    xp = be.xp
    with be.device_scope():  # layers run outside a model here
        if isinstance(target, Functional):
            several = isinstance(inputs, (list, tuple)) and len(target.inputs) > 1
            # NOTE: own copies: two inputs sharing memory (X and a view X[:, :3]) would move
            # together when one is perturbed
            xs = [_own(be, a) for a in (inputs if several else [inputs])]
            errors = _check_graph(_float64_graph(target, be), xs, training, eps, seed)
        elif isinstance(target, (Layer, Sequential)):
            x = _own(be, inputs)
            errors = _check_layer(_float64_copy(target, be, seed), x, be, training, eps, seed)
        elif y_true is not None:
            x = be.asarray(_host(inputs), "float64")
            y = be.asarray(_host(y_true))
            if xp.isdtype(y.dtype, "real floating"):
                y = xp.astype(y, xp.float64)
            analytic = target.gradient(y, x)
            numeric = numeric_gradient(lambda: float(target(y, x)), x, eps)
            errors = {"y_pred": relative_error(analytic, numeric)}
        else:
            x = be.asarray(_host(inputs), "float64")
            analytic = target.gradient(x)
            numeric = numeric_gradient(lambda: float(target(x)), x, eps)
            errors = {"input": relative_error(analytic, numeric)}
    failed = {k: v for k, v in errors.items() if not v <= tolerance}
    if failed:
        lines = [f"  {k}: relative error {v:.3e}" for k, v in errors.items()]
        raise GradientCheckError(
            f"Gradient check of {type(target).__name__} failed on backend {be.name!r} "
            f"(tolerance {tolerance:g}, eps {eps:g}); over tolerance: {sorted(failed)}\n"
            + "\n".join(lines)
        )
    return errors


def _own(be: Backend, a: Any) -> Array:
    """``a`` as a float64 array of ``be`` that shares memory with nothing (it is perturbed in
    place)."""
    return be.xp.asarray(be.asarray(_host(a), "float64"), copy=True)


def _check_layer(
    layer: Any, x: Array, be: Backend, training: bool, eps: float, seed: int
) -> dict[str, float]:
    from nnx.models import Sequential

    xp = be.xp
    if not layer.built:
        if isinstance(layer, Sequential):
            layer.build(tuple(x.shape[1:]))
        else:
            layer.build(tuple(x.shape[1:]), be, be.rng(seed), "float64")
    generators = _generators(layer)
    states = [g.get_state() for g in generators]

    def run() -> tuple[Array, Any]:
        for g, state in zip(generators, states, strict=True):
            g.set_state(state)
        return layer.forward(x, training=training)

    y, backprop = run()
    r = be.rng(seed + 1).normal(tuple(y.shape), dtype="float64")
    dx = backprop(r)
    params = [p for p in layer.parameters() if p.trainable]
    analytic = {p.name: xp.asarray(p.grad, copy=True) for p in params}
    analytic["input"] = xp.asarray(dx, copy=True)

    def f() -> float:
        return float(xp.sum(run()[0] * r))

    errors = {"input": relative_error(analytic["input"], numeric_gradient(f, x, eps))}
    for p in params:
        errors[p.name] = relative_error(analytic[p.name], numeric_gradient(f, p.value, eps))
    return errors


def _float64_graph(model: Any, be: Backend) -> Any:
    """A float64 twin of a graph model, rebuilt from its config, with the same weights."""
    from nnx.models import Functional

    layers = [type(layer).from_config(layer.get_config()) for layer in model.layers]
    config = {**model.get_config(), "dtype": "float64"}
    twin = Functional.from_layers(layers, config, be)
    twin.set_weights(model.get_weights())
    return twin


def _check_graph(
    model: Any, xs: list[Array], training: bool, eps: float, seed: int
) -> dict[str, float]:
    be = model.backend
    xp = be.xp
    generators = _generators(model)
    states = [g.get_state() for g in generators]

    def run() -> tuple[list[Array], Any]:
        for g, state in zip(generators, states, strict=True):
            g.set_state(state)
        return model.graph.run(xs, training=training)  # type: ignore[no-any-return]

    ys, backprop = run()
    rng = be.rng(seed + 1)
    rs = [rng.normal(tuple(y.shape), dtype="float64") for y in ys]
    dxs = backprop(rs)
    names = ["input"] if len(xs) == 1 else [f"input/{n}" for n in model.input_names]
    params = [p for p in model.parameters() if p.trainable]
    analytic = {p.name: xp.asarray(p.grad, copy=True) for p in params}
    analytic.update({n: xp.asarray(dx, copy=True) for n, dx in zip(names, dxs, strict=True)})

    def f() -> float:
        return sum(float(xp.sum(y * r)) for y, r in zip(run()[0], rs, strict=True))

    errors = {
        n: relative_error(analytic[n], numeric_gradient(f, x, eps))
        for n, x in zip(names, xs, strict=True)
    }
    for p in params:
        errors[p.name] = relative_error(analytic[p.name], numeric_gradient(f, p.value, eps))
    return errors


def _generators(layer: Any) -> list[Any]:
    layers = getattr(layer, "layers", [layer])
    return [
        g
        for lyr in layers
        if (g := getattr(lyr, "rng", None)) is not None and hasattr(g, "get_state")
    ]


def _host(data: Any) -> Any:
    from nnx.backends import backend_of

    try:
        return backend_of(data).to_numpy(data)
    except TypeError:
        return data


def _xp(a: Array) -> Any:
    from array_api_compat import array_namespace

    return array_namespace(a)


def _size(a: Array) -> int:
    n = 1
    for d in a.shape:
        n *= d
    return n


def _unravel(flat: int, shape: tuple[int, ...]) -> tuple[int, ...]:
    index = []
    for d in reversed(shape):
        index.append(flat % d)
        flat //= d
    return tuple(reversed(index))
