"""Saving and loading models: one ``.npz`` file, JSON architecture, no code from files.

A model file (see :mod:`nnx.backends.host_io` for the container) holds, as ``.npy`` members,
every parameter (trainable and not: batch-norm statistics too) and the optimizer's slot arrays;
as JSON strings in its metadata member, the architecture (layer types by registered class
name + ``get_config()``), the compile settings, the optimizer's scalar state, every random
generator's state and a format version.
Loading builds layers only through :func:`nnx.layers.layer_class`, so a file can name a layer
but never import or run code. Arrays travel through the host as their exact bytes: the round
trip is bit-exact and a file saved on one backend loads on any other.

>>> import os, tempfile, nnx
>>> from nnx.layers import Dense
>>> model = nnx.Sequential([Dense(2, input_shape=(3,))], seed=0)
>>> model.compile("adam", "mse")
>>> path = os.path.join(tempfile.mkdtemp(), "model.nnx")
>>> model.save(path)
>>> clone = nnx.load(path)
>>> all((a == b).all() for a, b in zip(model.get_weights(), clone.get_weights()))
True
"""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING, Any

from nnx.backends import Backend, get_backend
from nnx.backends.base import Generator
from nnx.saving.container import FileFormatError, read_tensors, write_tensors

if TYPE_CHECKING:
    from nnx.models import Sequential

__all__ = [
    "FORMAT_VERSION",
    "FileFormatError",
    "capture_state",
    "load",
    "load_weights",
    "read",
    "restore_state",
    "save",
    "save_weights",
]

#: version of the file layout written by this nnx; files with a larger one are refused
FORMAT_VERSION = 1
_FORMAT = "nnx"
PathLike = str | os.PathLike[str]
_PLAIN = ("format", "format_version", "kind", "backend")  # metadata kept as plain strings


# --- state of a model, in memory ---------------------------------------------------------------
def _generators(model: Sequential) -> dict[str, dict[str, Any]]:
    """Every layer's random generators (any attribute holding one), by layer position (names
    may differ between two constructions of the same model) and attribute."""
    found: dict[str, dict[str, Any]] = {}
    for i, layer in enumerate(model.layers):
        gens = {k: v for k, v in vars(layer).items() if isinstance(v, Generator)}
        if gens:
            found[str(i)] = gens
    return found


def capture_state(model: Sequential, include_optimizer: bool = True) -> tuple[dict, dict]:
    """``(arrays, info)``: every array of the training state (backend arrays, not copied
    unless the optimizer copies them) and the JSON-able rest (RNG and optimizer scalars)."""
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


def copy_state(model: Sequential) -> tuple[dict, dict]:
    """Like :func:`capture_state`, with the weights copied on the device (no synchronisation),
    so training can go on and :func:`restore_state` puts the copy back."""
    xp = model.backend.xp
    arrays, info = capture_state(model)
    weights = {k: xp.asarray(v, copy=True) for k, v in arrays.items() if k.startswith("weights/")}
    return {**arrays, **weights}, info


def restore_state(model: Sequential, arrays: dict[str, Any], info: dict[str, Any]) -> None:
    """Put back what :func:`capture_state` returned (arrays may be host or backend arrays)."""
    _assign_weights(model, arrays)
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


def _assign_weights(model: Sequential, arrays: dict[str, Any]) -> None:
    params = model.parameters()
    saved = sum(1 for k in arrays if k.startswith("weights/"))
    if saved != len(params):
        raise ValueError(
            f"The file holds {saved} weight arrays but model {model.name!r} has {len(params)}."
        )
    backend = model.backend
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


# --- files ---------------------------------------------------------------------------------------
def _write(path: PathLike, kind: str, model: Sequential, arrays: dict, meta: dict) -> None:
    backend = model.backend
    host = {k: backend.to_numpy(v) for k, v in arrays.items()}
    header = {
        "format": _FORMAT,
        "format_version": str(FORMAT_VERSION),
        "kind": kind,
        "backend": backend.name,
        "weight_names": json.dumps([p.name for p in model.parameters()]),
        **{k: json.dumps(v) for k, v in meta.items()},
    }
    write_tensors(path, host, header)


def save(model: Sequential, path: PathLike, include_optimizer: bool = True, **extra: Any) -> None:
    """Write ``model`` to ``path`` (see :meth:`nnx.Sequential.save`); ``extra`` JSON values
    (e.g. ``epoch=3`` from checkpoints) are stored alongside."""
    model._check_built("save")
    arrays, info = capture_state(model, include_optimizer)
    config = {**model.get_config(), "input_shape": list(model.input_shape)}
    meta: dict[str, Any] = {"model": config, "state": info, "extra": extra}
    if model.loss is not None and model.optimizer is not None:
        from nnx.optimizers import serialize

        meta["compile"] = {
            "optimizer": serialize(model.optimizer),
            "loss": model.loss.get_config(),
            "metrics": [m.name for m in model.metrics],
        }
    _write(path, "model", model, arrays, meta)


def save_weights(model: Sequential, path: PathLike) -> None:
    """Write only the parameter values of ``model`` (see :meth:`nnx.Sequential.save_weights`)."""
    model._check_built("save_weights")
    arrays = {f"weights/{i}": p.value for i, p in enumerate(model.parameters())}
    _write(path, "weights", model, arrays, {})


def read(path: PathLike) -> tuple[dict[str, Any], dict[str, Any]]:
    """Read and check an nnx file: ``(host arrays, decoded metadata)``.

    Raises:
        FileFormatError: not an nnx file, or written by a newer nnx.
    """
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a str or os.PathLike, received {type(path).__name__}.")
    arrays, header = read_tensors(path, require_checksum=True)
    where = repr(os.fspath(path))
    if header.get("format") != _FORMAT:
        raise FileFormatError(f"{where} is an .npz file but not one written by nnx.")
    try:
        version = int(header["format_version"])
        meta = {k: json.loads(v) for k, v in header.items() if k not in _PLAIN}
    except (KeyError, ValueError) as error:
        raise FileFormatError(f"{where} has a corrupted nnx header: {error}") from None
    if version > FORMAT_VERSION:
        raise FileFormatError(
            f"{where} uses nnx file format version {version}, newer than this nnx supports "
            f"({FORMAT_VERSION}); upgrade nnx to load it."
        )
    meta.update({k: header.get(k) for k in _PLAIN})
    return arrays, meta


def load(path: PathLike, backend: str | Backend | None = None, compile: bool = True) -> Sequential:
    """Rebuild a model saved with :meth:`nnx.Sequential.save`.

    Args:
        path: the file.
        backend: where the loaded model computes (default: the current default backend),
            whatever backend saved it.
        compile: restore the optimizer (with its state, when saved), loss and metrics.

    Returns:
        A built :class:`nnx.Sequential` with the saved weights, bit for bit.

    Raises:
        FileFormatError: a pickle, a truncated/corrupted file, not an nnx model file, or a
            newer format version.
        ValueError: an unregistered layer name, or weights that do not fit the architecture.
    """
    from nnx.layers import layer_class

    arrays, meta = read(path)
    where = repr(os.fspath(path))
    if meta["kind"] != "model":
        raise FileFormatError(
            f"{where} holds weights only (save_weights); load it with model.load_weights."
        )
    try:
        config = meta["model"]
        specs = [(layer["class_name"], layer["config"]) for layer in config["layers"]]
    except (KeyError, TypeError) as error:
        raise FileFormatError(f"{where} has a corrupted architecture: {error!r}") from None
    be = get_backend(backend)
    layers = []
    for name, layer_config in specs:
        if not isinstance(name, str):
            raise FileFormatError(f"{where} has a corrupted architecture: layer {name!r}.")
        cls = layer_class(name)
        try:
            layers.append(cls.from_config(dict(layer_config)))
        except (TypeError, ValueError) as error:
            raise ValueError(f"{where}: cannot rebuild layer {name}: {error}") from None
    try:
        return _assemble(layers, config, meta, arrays, be, compile)
    except (KeyError, TypeError, AttributeError, IndexError) as error:
        raise FileFormatError(f"{where} has a corrupted nnx header: {error!r}") from None


def _assemble(
    layers: list[Any],
    config: dict[str, Any],
    meta: dict[str, Any],
    arrays: dict[str, Any],
    backend: Backend,
    compile: bool,
) -> Sequential:
    from nnx import losses
    from nnx.models import Sequential
    from nnx.optimizers import get as get_optimizer

    model = Sequential(
        layers,
        backend=backend,
        seed=config.get("seed"),
        dtype=config.get("dtype", "float32"),
        name=config.get("name", "sequential"),
    )
    if not model.built:
        model.build(tuple(config["input_shape"]))
    settings = meta.get("compile")
    state = meta.get("state", {})
    if compile and settings is not None:
        model.compile(
            get_optimizer(settings["optimizer"]),
            losses.get(settings["loss"]),
            settings["metrics"],
        )
    elif not compile:
        state = {k: v for k, v in state.items() if k != "optimizer"}
    restore_state(model, arrays, state)
    return model


def load_weights(model: Sequential, path: PathLike) -> None:
    """Read parameter values saved by :func:`save_weights` or :func:`save` into ``model``."""
    model._check_built("load_weights")
    arrays, _ = read(path)
    _assign_weights(model, {k: v for k, v in arrays.items() if k.startswith("weights/")})
