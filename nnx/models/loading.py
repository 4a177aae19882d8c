"""``nnx.load``: rebuild a ``Sequential`` or a graph model (``Functional``) from a model file.

The file is read and checked by :func:`nnx.saving.read`; layers are rebuilt only through the
layer registry (:func:`nnx.layers.layer_class`), so a file can name a layer but never import or
run code. Files written by nnx 0.1 load too (their compile settings use 0.1's config forms,
which ``nnx.optimizers.get`` and ``nnx.losses.get`` still read).
"""

from __future__ import annotations

import os
from typing import Any

import nnx.losses as losses
import nnx.optimizers as optimizers
from nnx.backends import Backend, get_backend
from nnx.layers import Layer, layer_class
from nnx.models.functional import Functional
from nnx.models.model import Model
from nnx.models.sequential import Sequential
from nnx.saving import FileFormatError, read, restore_state

__all__ = ["load"]


def load(
    path: str | os.PathLike[str], backend: str | Backend | None = None, compile: bool = True
) -> Model:
    """Rebuild a model saved with ``model.save`` (a ``Sequential`` or a graph model).

    Args:
        path: the file.
        backend: where the loaded model computes (default: the current default backend),
            whatever backend saved it.
        compile: restore the optimizer (with its state, when saved), loss and metrics.

    Returns:
        A built :class:`nnx.Sequential` (or :class:`~nnx.models.functional.Functional`) with
        the saved weights, bit for bit.

    Raises:
        FileFormatError: a pickle, a truncated/corrupted file, not an nnx model file, or a
            newer format version.
        ValueError: an unregistered layer name, a graph that does not connect, or weights
            that do not fit the architecture.

    >>> import os, tempfile, nnx
    >>> model = nnx.Sequential([nnx.layers.Dense(2, input_shape=(3,))], seed=0)
    >>> path = os.path.join(tempfile.mkdtemp(), "model.nnx")
    >>> model.save(path)
    >>> load(path).count_params()
    8
    """
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
    layers = [_layer(name, layer_config, where) for name, layer_config in specs]
    try:
        return _assemble(layers, config, meta, arrays, get_backend(backend), compile)
    except (KeyError, TypeError, AttributeError, IndexError) as error:
        raise FileFormatError(f"{where} has a corrupted nnx header: {error!r}") from None


def _layer(name: Any, config: Any, where: str) -> Layer:
    if not isinstance(name, str):
        raise FileFormatError(f"{where} has a corrupted architecture: layer {name!r}.")
    cls = layer_class(name)
    try:
        return cls.from_config(dict(config))
    except (TypeError, ValueError) as error:
        raise ValueError(f"{where}: cannot rebuild layer {name}: {error}") from None


def _assemble(
    layers: list[Layer],
    config: dict[str, Any],
    meta: dict[str, Any],
    arrays: dict[str, Any],
    backend: Backend,
    compile: bool,
) -> Model:
    model: Model
    if config.get("class_name") == "Functional":
        model = Functional.from_layers(layers, config, backend)
    else:
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
        _compile(model, config, settings)
    elif not compile:
        state = {k: v for k, v in state.items() if k != "optimizer"}
    restore_state(model, arrays, state)
    return model


def _compile(model: Model, config: dict[str, Any], settings: dict[str, Any]) -> None:
    """Compile as saved: a graph model's losses, loss weights and metrics are per output."""
    optimizer = optimizers.get(settings["optimizer"])
    stop = settings.get("stop_on_nonfinite", True)
    heads = config.get("compiled_outputs")
    if isinstance(model, Functional) and heads is not None:
        model.compile(
            optimizer,
            [losses.get(spec) for spec in heads["losses"]],
            heads["metrics"],
            stop_on_nonfinite=stop,
            loss_weights=heads["loss_weights"],
        )
    else:
        model.compile(optimizer, losses.get(settings["loss"]), settings["metrics"], stop)
