"""A model's training state in memory: capture it, copy it on the device, put it back.

The training state is every parameter (trainable or not: batch-norm statistics too), the
optimizer's slot arrays and scalars (``iterations``...), and the state of every random generator
(the model's shuffling stream and each layer's, e.g. dropout masks). Model files hold it
(:mod:`nnx.saving.files`); the non-finite guard and ``nnx.lr_find`` keep a device copy of it and
put it back.

>>> import nnx
>>> from nnx.layers import Dense
>>> model = nnx.Sequential([Dense(1, input_shape=(2,))], seed=0)
>>> arrays, info = copy_state(model)
>>> before = model.get_weights()
>>> model.set_weights([w * 0 for w in before])
>>> restore_state(model, arrays, info)
>>> all((a == b).all() for a, b in zip(before, model.get_weights()))
True
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol

from nnx.backends.base import Generator

if TYPE_CHECKING:
    from nnx.backends import Backend
    from nnx.layers import Parameter

__all__ = [
    "StatefulModel",
    "assign_weights",
    "capture_state",
    "copy_state",
    "require_built",
    "restore_state",
]


class StatefulModel(Protocol):
    """What saving needs of a model (:class:`nnx.Sequential` has it; saving cannot import it)."""

    name: str
    built: bool
    layers: Any
    rng: Generator
    optimizer: Any
    backend: Backend

    def parameters(self) -> Sequence[Parameter]: ...
    def trainable_parameters(self) -> Sequence[Parameter]: ...


def require_built(model: StatefulModel, what: str) -> None:
    """Raise ``RuntimeError`` unless ``model`` has weights; ``what`` names the call needing them.

    >>> import nnx
    >>> require_built(nnx.Sequential([nnx.layers.Dense(2)]), "save")
    Traceback (most recent call last):
    ...
    RuntimeError: Model 'sequential' is not built, so save() has no weights to use: ...
    """
    if not model.built:
        raise RuntimeError(
            f"Model {model.name!r} is not built, so {what}() has no weights to use: call "
            "fit() first, or build(input_shape), or give the first layer input_shape=(...)."
        )


def _generators(model: StatefulModel) -> dict[str, dict[str, Generator]]:
    """Every layer's random generators (any attribute holding one), by layer position (names
    may differ between two constructions of the same model) and attribute."""
    found: dict[str, dict[str, Generator]] = {}
    for i, layer in enumerate(model.layers):
        gens = {k: v for k, v in vars(layer).items() if isinstance(v, Generator)}
        if gens:
            found[str(i)] = gens
    return found


def capture_state(
    model: StatefulModel, include_optimizer: bool = True
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The training state of ``model``, without copying the weights.

    Args:
        model: a built model.
        include_optimizer: also take the optimizer's slots and scalars (when compiled).

    Returns:
        ``(arrays, info)``: the backend arrays by name (``"weights/<i>"``,
        ``"optimizer/<i>/<slot>"``; the optimizer's are copies) and the JSON-able rest
        (``{"rng": ..., "optimizer": ...}``).
    """
    arrays: dict[str, Any] = {f"weights/{i}": p.value for i, p in enumerate(model.parameters())}
    info: dict[str, Any] = {
        "rng": {
            "model": model.rng.get_state(),
            "layers": {
                layer: {k: g.get_state() for k, g in gens.items()}
                for layer, gens in _generators(model).items()
            },
        }
    }
    if include_optimizer and model.optimizer is not None:
        state = model.optimizer.state_dict()
        slots = state.pop("slots")
        info["optimizer"] = {**state, "slots": [None if s is None else sorted(s) for s in slots]}
        for i, s in enumerate(slots):
            for k, v in (s or {}).items():
                arrays[f"optimizer/{i}/{k}"] = v
    return arrays, info


def copy_state(
    model: StatefulModel, include_optimizer: bool = True
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Like :func:`capture_state`, with the weights copied on the device (no synchronisation),
    so training can go on and :func:`restore_state` puts the copy back."""
    xp = model.backend.xp
    arrays, info = capture_state(model, include_optimizer)
    weights = {k: xp.asarray(v, copy=True) for k, v in arrays.items() if k.startswith("weights/")}
    return {**arrays, **weights}, info


def restore_state(model: StatefulModel, arrays: dict[str, Any], info: dict[str, Any]) -> None:
    """Put back what :func:`capture_state` returned (arrays may be host or backend arrays).

    Raises:
        ValueError: the arrays do not fit the model's weights (count, shape or dtype).
    """
    with model.backend.device_scope():  # the optimizer's slots are written on the device
        assign_weights(model, arrays)
        rng = info.get("rng", {})
        if "model" in rng:
            model.rng.set_state(rng["model"])
        gens = _generators(model)
        for layer, states in rng.get("layers", {}).items():
            for k, state in states.items():
                if layer in gens and k in gens[layer]:
                    gens[layer][k].set_state(state)
        opt = info.get("optimizer")
        if opt is not None and model.optimizer is not None:
            backend = model.backend
            slots = [
                None
                if names is None
                else {k: backend.asarray(arrays[f"optimizer/{i}/{k}"]) for k in names}
                for i, names in enumerate(opt["slots"])
            ]
            model.optimizer.load_state_dict({**opt, "slots": slots}, model.trainable_parameters())


def assign_weights(model: StatefulModel, arrays: dict[str, Any]) -> None:
    """Copy ``arrays["weights/<i>"]`` into the model's parameters, in place.

    Raises:
        ValueError: another number of weight arrays, or a shape or dtype that differs.
    """
    params = model.parameters()
    saved = sum(1 for k in arrays if k.startswith("weights/"))
    if saved != len(params):
        raise ValueError(
            f"The file holds {saved} weight arrays but model {model.name!r} has {len(params)}."
        )
    backend = model.backend
    with backend.device_scope():
        _assign(backend, params, arrays)


def _assign(backend: Any, params: Sequence[Any], arrays: dict[str, Any]) -> None:
    for i, p in enumerate(params):
        value = arrays[f"weights/{i}"]
        if tuple(value.shape) != p.shape:
            raise ValueError(
                f"Weight {p.name!r} has shape {p.shape} in the model but "
                f"{tuple(value.shape)} in the file."
            )
        value = backend.asarray(value)
        if backend.dtype_name(value) != backend.dtype_name(p.value):
            raise ValueError(
                f"Weight {p.name!r} is {backend.dtype_name(p.value)} in the model but "
                f"{backend.dtype_name(value)} in the file."
            )
        p.value[...] = value
