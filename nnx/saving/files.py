"""Model files: one ``.npz`` container, JSON architecture, no code from files.

A model file (see :mod:`nnx.saving.container` for the container) holds, as ``.npy`` members,
every parameter (trainable and not: batch-norm statistics too) and the optimizer's slot arrays;
as JSON strings in its metadata member, the architecture (layer types by registered class
name + ``get_config()``), the compile settings, the optimizer's scalar state, every random
generator's state and a format version.
Loading (:func:`nnx.load`, in :mod:`nnx.models.loading`) builds layers only through
:func:`nnx.layers.layer_class`, so a file can name a layer but never import or run code. Arrays
travel through the host as their exact bytes: the round trip is bit-exact and a file saved on
one backend loads on any other.

>>> import os, tempfile, nnx
>>> from nnx.layers import Dense
>>> model = nnx.Sequential([Dense(2, input_shape=(3,))], seed=0)
>>> model.compile("adam", "mse")
>>> path = os.path.join(tempfile.mkdtemp(), "model.nnx")
>>> save(model, path)
>>> read(path)[1]["compile"]["optimizer"]["class_name"]
'Adam'
>>> clone = nnx.load(path)
>>> all((a == b).all() for a, b in zip(model.get_weights(), clone.get_weights()))
True
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Protocol

from nnx.backends.base import array_namespace
from nnx.registry import serialize
from nnx.saving.container import (
    DEFAULT_MAX_BYTES,
    FileFormatError,
    decode_tensors,
    parse_json,
    read_file,
    write_tensors,
)
from nnx.saving.serializable import check_savable
from nnx.saving.signing import verify_bytes
from nnx.saving.state import StatefulModel, assign_weights, capture_state, require_built

__all__ = [
    "FORMAT_VERSION",
    "NonFiniteWeightsError",
    "SavableModel",
    "load_weights",
    "read",
    "save",
    "save_weights",
    "skip_writes",
    "writes_files",
    "to_host",
]

#: version of the file layout written by this nnx; files with a larger one are refused
FORMAT_VERSION = 1
FORMAT = "nnx"
PathLike = str | os.PathLike[str]
_PLAIN = ("format", "format_version", "kind", "backend")  # metadata kept as plain strings
_WRITES: ContextVar[bool] = ContextVar("nnx_saving_writes", default=True)


def writes_files() -> bool:
    """Whether :func:`save` and :func:`save_weights` write in this context (see
    :func:`skip_writes`).

    >>> writes_files()
    True
    """
    return _WRITES.get()


@contextmanager
def skip_writes(skip: bool = True) -> Iterator[None]:
    """Within the block, :func:`save` and :func:`save_weights` do nothing (when ``skip``).

    A data-parallel run enters it on every process but rank 0, so that ``model.save`` and the
    checkpoint callbacks write each file once.

    >>> with skip_writes():
    ...     writes_files()
    False
    """
    token = _WRITES.set(not skip and _WRITES.get())
    try:
        yield
    finally:
        _WRITES.reset(token)


class SavableModel(StatefulModel, Protocol):
    """What :func:`save` needs beyond the training state: the architecture and compile settings."""

    input_shape: Any
    loss: Any
    metrics: Any
    stop_on_nonfinite: bool
    jit_compile: bool | str

    def get_config(self) -> dict[str, Any]: ...


def to_host(backend: Any, arrays: dict[str, Any]) -> dict[str, Any]:
    """Device arrays as host arrays with one transfer per dtype (one for a float32 model), not
    one per array: each transfer synchronises the device.

    >>> import nnx
    >>> b = nnx.backends.get_backend("numpy")
    >>> to_host(b, {"w": b.asarray([[1.0, 2.0]]), "b": b.asarray([3.0])})["w"].shape
    (1, 2)
    """
    xp, groups = backend.xp, dict[str, list[str]]()  # dtype name -> names
    for name, value in arrays.items():
        groups.setdefault(backend.dtype_name(value), []).append(name)
    host = {}
    for names in groups.values():
        parts = [xp.reshape(arrays[n], (-1,)) for n in names]
        flat = backend.to_numpy(xp.concat(parts) if len(parts) > 1 else parts[0])
        start = 0
        for n in names:
            shape, size = tuple(arrays[n].shape), math.prod(arrays[n].shape)
            host[n] = flat[start : start + size].reshape(shape)
            start += size
    return {n: host[n] for n in arrays}


class NonFiniteWeightsError(ValueError):
    """``save(..., finite_only=True)`` found a NaN or infinite weight: nothing was written."""


def _check_finite(path: PathLike, host: dict[str, Any]) -> None:
    """Refuse to write weights holding NaN/Inf, checked on the host copies that are about to
    be written (so the check costs no device read of its own)."""
    bad = []
    for name, value in host.items():
        xp = array_namespace(value)
        floating = name.startswith("weights/") and xp.isdtype(value.dtype, "real floating")
        if floating and not bool(xp.all(xp.isfinite(value))):
            bad.append(name)
    if bad:
        raise NonFiniteWeightsError(
            f"not saving {os.fspath(path)!r}: NaN or infinite values in {', '.join(bad)}."
        )


def _write(
    path: PathLike,
    kind: str,
    model: StatefulModel,
    arrays: dict,
    meta: dict,
    finite_only: bool = False,
) -> None:
    backend = model.backend
    host = to_host(backend, arrays)
    if finite_only:
        _check_finite(path, host)
    header = {
        "format": FORMAT,
        "format_version": str(FORMAT_VERSION),
        "kind": kind,
        "backend": backend.name,
        "weight_names": json.dumps([p.name for p in model.parameters()]),
        **{k: json.dumps(v) for k, v in meta.items()},
    }
    write_tensors(path, host, header)


def save(
    model: SavableModel,
    path: PathLike,
    include_optimizer: bool = True,
    *,
    finite_only: bool = False,
    **extra: Any,
) -> None:
    """Write ``model`` to ``path``, atomically (see :meth:`nnx.Sequential.save`).

    Args:
        model: a built model.
        path: the file to write.
        include_optimizer: also write the optimizer's state (slots, ``iterations``).
        finite_only: raise :class:`NonFiniteWeightsError` (writing nothing) when a weight is
            NaN/Inf; checked on the host copy, so the device is read once per save.
        **extra: JSON values stored alongside (e.g. ``epoch=3`` from checkpoints).
    """
    require_built(model, "save")
    check_savable(getattr(model, "layers", ()))
    if not writes_files():
        return
    arrays, info = capture_state(model, include_optimizer)
    config = {**model.get_config(), "input_shape": list(model.input_shape)}
    meta: dict[str, Any] = {"model": config, "state": info, "extra": extra}
    if model.loss is not None and model.optimizer is not None:
        meta["compile"] = {
            "optimizer": serialize(model.optimizer),
            "loss": serialize(model.loss),
            "metrics": [m.name for m in model.metrics],
            "stop_on_nonfinite": model.stop_on_nonfinite,
            "jit_compile": model.jit_compile,
        }
    _write(path, "model", model, arrays, meta, finite_only)


def save_weights(model: StatefulModel, path: PathLike, *, finite_only: bool = False) -> None:
    """Write only the parameter values of ``model`` (see :meth:`nnx.Sequential.save_weights`;
    ``finite_only`` as for :func:`save`)."""
    require_built(model, "save_weights")
    if not writes_files():
        return
    arrays = {f"weights/{i}": p.value for i, p in enumerate(model.parameters())}
    _write(path, "weights", model, arrays, {}, finite_only)


def read(
    path: PathLike, verify: Any = None, max_bytes: int = DEFAULT_MAX_BYTES
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Read and check an nnx file.

    Args:
        path: a file written by :func:`save` or :func:`save_weights`.
        verify: None, or an Ed25519 public key (object, PEM bytes or PEM file path): the file
            must then carry a valid signature in ``<path>.sig`` (:mod:`nnx.saving.signing`),
            checked before anything in it is parsed.
        max_bytes: refuse files larger than this.

    Returns:
        ``(host arrays by name, decoded metadata)``; the metadata's ``"kind"`` is ``"model"``
        or ``"weights"``.

    Raises:
        TypeError: ``path`` is not a ``str`` or ``os.PathLike``.
        FileFormatError: not an nnx file, written by a newer nnx, not a regular file, too
            large, or (with ``verify``) unsigned or wrongly signed.
    """
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a str or os.PathLike, received {type(path).__name__}.")
    data = read_file(path, max_bytes)
    where = repr(os.fspath(path))
    if verify is not None:
        verify_bytes(data, path, verify)
    arrays, header = decode_tensors(data, where, require_checksum=True)
    del data
    if header.get("format") != FORMAT:
        raise FileFormatError(f"{where} is an .npz file but not one written by nnx.")
    try:
        version = int(header["format_version"])
    except (KeyError, ValueError) as error:
        raise FileFormatError(f"{where} has a corrupted nnx header: {error!r}") from None
    try:
        meta = {k: parse_json(v, k) for k, v in header.items() if k not in _PLAIN}
    except FileFormatError as error:
        raise FileFormatError(f"{where} {error}") from None
    if version > FORMAT_VERSION:
        raise FileFormatError(
            f"{where} uses nnx file format version {version}, newer than this nnx supports "
            f"({FORMAT_VERSION}); upgrade nnx to load it."
        )
    meta.update({k: header.get(k) for k in _PLAIN})
    return arrays, meta


def load_weights(
    model: StatefulModel, path: PathLike, verify: Any = None, max_bytes: int = DEFAULT_MAX_BYTES
) -> None:
    """Read parameter values saved by :func:`save_weights` or :func:`save` into ``model``
    (``verify`` and ``max_bytes`` as in :func:`read`).

    Raises:
        ValueError: the weights do not fit the model (count, shape or dtype).
    """
    require_built(model, "load_weights")
    arrays, _ = read(path, verify, max_bytes)
    assign_weights(model, {k: v for k, v in arrays.items() if k.startswith("weights/")})
