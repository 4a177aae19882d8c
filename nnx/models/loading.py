"""``nnx.load``: rebuild a ``Sequential`` or a graph model (``Functional``) from a model file.

The file is read and checked by :func:`nnx.saving.read`; layers are rebuilt only through the
layer registry (:func:`nnx.layers.layer_class`), so a file can name a layer but never import or
run code. Files written by nnx 0.1 load too (their compile settings use 0.1's config forms,
which ``nnx.optimizers.get`` and ``nnx.losses.get`` still read).
"""

from __future__ import annotations

import math
import os
from typing import Any

import nnx.losses as losses
import nnx.optimizers as optimizers
from nnx.backends import Backend, get_backend
from nnx.layers import Layer, layer_class
from nnx.layers.base import weights_from
from nnx.models.functional import Functional
from nnx.models.model import Model
from nnx.models.sequential import Sequential
from nnx.saving import DEFAULT_MAX_BYTES, FileFormatError, read, restore_state
from nnx.validation import check_bool

__all__ = ["MAX_SAMPLE_SIZE", "load", "load_model"]

#: the most values one sample may have at any layer of a loaded model (input and outputs)
MAX_SAMPLE_SIZE = 2**31
_MAX_DIM = 2**31  # the largest int a layer config may hold (seeds excepted)
_MAX_SEED = 2**64


def load(
    path: str | os.PathLike[str],
    backend: str | Backend | None = None,
    compile: bool = True,
    *,
    verify: Any = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> Model:
    """Rebuild a model saved with ``model.save`` (a ``Sequential`` or a graph model).

    Loading a file from a stranger is safe: the file is read within bounds (a regular file of
    at most ``max_bytes``, JSON of bounded depth, see :mod:`nnx.saving.container`), every
    declared shape, count and hyper-parameter is checked against the stored arrays and sane
    bounds before a layer is built, and layers are built without drawing initial weights (they
    take the stored arrays), so time and memory stay within a small multiple of the file's size.

    Args:
        path: the file.
        backend: where the loaded model computes (default: the current default backend),
            whatever backend saved it.
        compile: restore the optimizer (with its state, when saved), loss and metrics.
        verify: None, or an Ed25519 public key (a ``cryptography`` key, PEM bytes or a PEM
            file's path): refuse the file unless ``<path>.sig`` holds a valid signature by its
            owner (see :func:`nnx.saving.sign_file`; ``pip install "nnx-array[sign]"``).
        max_bytes: refuse files larger than this (default 8 GiB).

    Returns:
        A built :class:`nnx.Sequential` (or :class:`~nnx.models.functional.Functional`) with
        the saved weights, bit for bit.

    Raises:
        FileFormatError: (a ``ValueError``) naming the file and the field: a pickle, a
            truncated/corrupted file, not an nnx model file, a newer format version, not a
            regular file, too large, an unregistered layer, a layer config its class refuses,
            a graph that does not connect, weights or optimizer state that do not fit the
            architecture, or (with ``verify``)
            an unsigned or wrongly signed file.

    >>> import os, tempfile, nnx
    >>> model = nnx.Sequential([nnx.layers.Dense(2, input_shape=(3,))], seed=0)
    >>> path = os.path.join(tempfile.mkdtemp(), "model.nnx")
    >>> model.save(path)
    >>> load(path).count_params()
    8
    """
    arrays, meta = read(path, verify, max_bytes)
    where = repr(os.fspath(path))
    if meta["kind"] != "model":
        raise FileFormatError(
            f"{where} holds weights only (save_weights); load it with model.load_weights."
        )
    config = _architecture(meta, where)
    layers = [_layer(i, spec, where) for i, spec in enumerate(config["layers"])]
    target = get_backend(backend)
    with target.device_scope():  # the weights are put on the backend's device
        return _assemble(layers, config, meta, arrays, target, compile, where)


def load_model(
    filepath: str | os.PathLike[str],
    custom_objects: dict[str, Any] | None = None,
    compile: bool = True,
    safe_mode: bool = True,
) -> Model:
    """Keras's ``keras.models.load_model(filepath, custom_objects, compile, safe_mode)``:
    :func:`load` under Keras's name, so Keras code loads a ``"best.keras"`` checkpoint as
    written (the file is nnx's format whatever its name).

    Args:
        filepath: the file written by ``model.save`` or ``ModelCheckpoint``.
        custom_objects: must be None or empty: a file names only registered layers (register
            a layer of your own with :func:`nnx.layers.register_layer`).
        compile: restore the optimizer, loss and metrics.
        safe_mode: accepted for Keras's signature; loading is always safe (no code in files).

    Returns:
        The model, as :func:`load` returns it.

    >>> import os, tempfile, nnx
    >>> model = nnx.Sequential([nnx.Input(shape=(3,)), nnx.layers.Dense(2)], seed=0)
    >>> path = os.path.join(tempfile.mkdtemp(), "best.keras")
    >>> model.save(path)
    >>> load_model(path).count_params()
    8
    """
    check_bool(safe_mode, "safe_mode", who="load_model")
    if custom_objects:
        raise ValueError(
            "load_model: custom_objects is not used by nnx; register a layer of your own with "
            f"nnx.layers.register_layer instead. Received: custom_objects={custom_objects!r}."
        )
    return load(filepath, compile=compile)


def _refuse(where: str, field: str, problem: str) -> FileFormatError:
    return FileFormatError(f"{where} has an invalid field {field}: {problem}")


def _bounded(value: Any, field: str, where: str) -> None:
    """Every int in a layer config within ``_MAX_DIM`` (``seed`` within 2**64)."""
    stack = [(value, field)]
    while stack:
        item, name = stack.pop()
        if isinstance(item, dict):
            stack.extend((v, f"{name}.{k}") for k, v in item.items())
        elif isinstance(item, list):
            stack.extend((v, f"{name}[{i}]") for i, v in enumerate(item))
        elif isinstance(item, int) and not isinstance(item, bool):
            limit = _MAX_SEED if name.endswith(".seed") else _MAX_DIM
            if abs(item) > limit:
                raise _refuse(where, name, f"{item} is beyond any sane size (at most {limit}).")
        elif isinstance(item, float) and math.isnan(item):
            raise _refuse(where, name, "NaN.")


def _architecture(meta: dict[str, Any], where: str) -> dict[str, Any]:
    """The ``model`` field, its structure and bounds checked (nothing built yet)."""
    config = meta.get("model")
    if not isinstance(config, dict):
        raise _refuse(where, "model", f"expected a JSON object, found {type(config).__name__}.")
    layers = config.get("layers")
    if not isinstance(layers, list) or not layers:
        raise _refuse(where, "model.layers", "expected a non-empty list of layers.")
    shape: Any = [1]  # a graph's input shapes are its Input layers' configs, bounded below
    if config.get("class_name") == "Functional":
        _check_graph(config, where)
    else:
        shape = config.get("input_shape")
    if not isinstance(shape, list) or not all(
        isinstance(d, int) and not isinstance(d, bool) and 0 < d <= _MAX_DIM for d in shape
    ):
        raise _refuse(where, "model.input_shape", f"expected positive ints, found {shape!r}.")
    if math.prod(shape) > MAX_SAMPLE_SIZE:
        raise _refuse(
            where, "model.input_shape", f"{shape} has more than {MAX_SAMPLE_SIZE} values."
        )
    seed = config.get("seed")
    if seed is not None and not (isinstance(seed, int) and 0 <= seed < _MAX_SEED):
        raise _refuse(where, "model.seed", f"expected None or an int in [0, 2**64), {seed!r}.")
    for key, default in (("dtype", "float32"), ("name", "sequential")):
        if not isinstance(config.get(key, default), str):
            raise _refuse(where, f"model.{key}", f"expected a string, {config[key]!r}.")
    for i, spec in enumerate(layers):
        field = f"model.layers[{i}]"
        if not (
            isinstance(spec, dict)
            and isinstance(spec.get("class_name"), str)
            and isinstance(spec.get("config"), dict)
        ):
            raise _refuse(where, field, "expected {'class_name': str, 'config': {...}}.")
        _bounded(spec["config"], f"{field}.config", where)
    return config


def _check_graph(config: dict[str, Any], where: str) -> None:
    """A graph's wiring is lists of ``[layer name, call index]`` pairs (checked again when
    :func:`~nnx.models.graph_config.connect` follows them)."""
    for key in ("nodes", "inputs", "outputs"):
        if not isinstance(config.get(key), list):
            raise _refuse(where, f"model.{key}", "expected a list.")
    for i, node in enumerate(config["nodes"]):
        if not (isinstance(node, dict) and isinstance(node.get("inputs"), list)):
            raise _refuse(where, f"model.nodes[{i}]", "expected {'layer': ..., 'inputs': [...]}.")


def _layer(i: int, spec: dict[str, Any], where: str) -> Layer:
    name, field = spec["class_name"], f"model.layers[{i}]"
    try:
        cls = layer_class(name)
    except ValueError as error:
        raise _refuse(where, f"{field}.class_name", str(error)) from None
    try:
        return cls.from_config(dict(spec["config"]))
    except (TypeError, ValueError, KeyError, AttributeError, OverflowError) as error:
        raise _refuse(where, f"{field}.config", f"cannot rebuild layer {name}: {error}") from None


class _StoredWeights:
    """The ``source`` of :func:`~nnx.layers.base.weights_from`: each new weight is the next
    stored array, whose shape and dtype must be the ones the layer declares."""

    def __init__(self, arrays: dict[str, Any], backend: Backend, where: str) -> None:
        self.arrays, self.backend, self.where = arrays, backend, where
        self.count = 0

    def __call__(self, name: str, shape: tuple[int, ...], dtype: str) -> Any:
        i, where = self.count, self.where
        stored = self.arrays.get(f"weights/{i}")
        field = f"weights/{i} ({name})"
        if stored is None:
            raise _refuse(
                where,
                field,
                f"the architecture declares it with shape {shape}, the file "
                f"holds only {i} weight arrays.",
            )
        if tuple(stored.shape) != tuple(shape):
            raise _refuse(
                where,
                field,
                f"the architecture declares shape {shape}, the file holds {tuple(stored.shape)}.",
            )
        if stored.dtype.name != dtype:
            raise _refuse(
                where, field, f"the model is {dtype}, the file holds {stored.dtype.name}."
            )
        self.count += 1
        return self.backend.asarray(stored)


def _assemble(
    layers: list[Layer],
    config: dict[str, Any],
    meta: dict[str, Any],
    arrays: dict[str, Any],
    backend: Backend,
    compile: bool,
    where: str,
) -> Model:
    source = _StoredWeights(arrays, backend, where)
    model: Model
    try:
        with weights_from(source):
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
    except FileFormatError:
        raise
    except (TypeError, ValueError, KeyError, IndexError, OverflowError) as error:
        raise _refuse(where, "model", f"its layers do not build: {error}") from None
    stored = sum(1 for k in arrays if k.startswith("weights/"))
    if source.count != stored:
        raise _refuse(
            where,
            "weights",
            f"the file holds {stored} weight arrays, the architecture {source.count}.",
        )
    for layer in model.layers:
        size = math.prod(d or 1 for d in layer.output_shape or ())
        if size > MAX_SAMPLE_SIZE:
            raise _refuse(
                where,
                f"model.layers ({layer.name})",
                f"output shape {layer.output_shape} "
                f"has more than {MAX_SAMPLE_SIZE} values per sample.",
            )
    settings = meta.get("compile")
    state = meta.get("state", {})
    if compile and settings is not None:
        try:
            _compile(model, config, settings)
        except (TypeError, ValueError, KeyError, AttributeError, OverflowError) as error:
            raise _refuse(where, "compile", str(error)) from None
    elif not compile:
        state = {k: v for k, v in state.items() if k != "optimizer"}
    try:
        restore_state(model, arrays, state)
    except (TypeError, ValueError, KeyError, AttributeError, IndexError) as error:
        raise _refuse(where, "state", f"{type(error).__name__}: {error}") from None
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
            jit_compile=settings.get("jit_compile", "auto"),
        )
    else:
        jit = settings.get("jit_compile", "auto")
        model.compile(
            optimizer, losses.get(settings["loss"]), settings["metrics"], stop, jit_compile=jit
        )
