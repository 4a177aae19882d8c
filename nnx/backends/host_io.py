"""Host-side tensor files: the ``safetensors`` container, written atomically.

This is the only place nnx touches files of arrays. The format is ``safetensors``: an 8-byte
header length, a JSON header (dtype, shape and byte range of every tensor, plus a string->string
``__metadata__`` map, to which a SHA-256 of the whole content is added) and the raw
little-endian bytes. Nothing in it is ever executed or unpickled, so a file from a stranger can
at worst fail to load.

>>> import os, tempfile
>>> import numpy as np
>>> path = os.path.join(tempfile.mkdtemp(), "t.safetensors")
>>> write_tensors(path, {"w": np.arange(3.0)}, {"note": "hi"})
>>> tensors, metadata = read_tensors(path)
>>> tensors["w"].tolist(), metadata["note"]
([0.0, 1.0, 2.0], 'hi')
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile

import numpy as np

__all__ = [
    "FileFormatError",
    "digest",
    "atomic_write_bytes",
    "read_tensors",
    "write_tensors",
]

_PICKLE_MAGIC = (b"(", b"c", b"]", b"}")
_NPY_MAGIC = b"\x93NUMPY"
_ZIP_MAGIC = b"PK\x03\x04"
_DIGEST = "sha256"


class FileFormatError(ValueError):
    """A file is not a readable nnx/safetensors file (pickle, truncated, corrupted...)."""


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` so a reader sees the old file or the new one, never a mix.

    A temporary file in the same directory is written, flushed and fsynced, then renamed over
    ``path`` with :func:`os.replace` (atomic on POSIX and Windows); the directory is fsynced
    too where the platform allows, so the rename itself survives a power cut.
    """
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".part", dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    if hasattr(os, "O_DIRECTORY"):
        dir_fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def write_tensors(
    path: str | os.PathLike[str], tensors: dict[str, np.ndarray], metadata: dict[str, str]
) -> None:
    """Save host arrays and string metadata as one safetensors file, atomically."""
    from safetensors.numpy import save

    arrays = {k: np.asarray(v, order="C") for k, v in tensors.items()}  # keeps 0-d arrays
    metadata = {**metadata, _DIGEST: digest(arrays, metadata)}
    atomic_write_bytes(path, save(arrays, metadata=metadata))


def digest(arrays: dict[str, np.ndarray], metadata: dict[str, str]) -> str:
    """SHA-256 over the metadata and every tensor's name, dtype, shape and bytes.

    safetensors has no checksum: without one, a flipped bit in the data, or in a digit of the
    JSON header, would load silently as a different weight or setting.
    """
    h = hashlib.sha256()
    items = sorted((k, v) for k, v in metadata.items() if k != _DIGEST)
    h.update(json.dumps(items).encode())
    for name in sorted(arrays):
        a = np.asarray(arrays[name], order="C")
        h.update(f"{name}|{a.dtype.str}|{a.shape}|".encode())
        if a.size:  # (a memoryview of an empty array cannot be cast to bytes)
            h.update(a.data.cast("B"))
    return h.hexdigest()


def read_tensors(
    path: str | os.PathLike[str], require_checksum: bool = False
) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """Load a safetensors file: ``(name -> host array, metadata)``, verifying the checksum
    that :func:`write_tensors` stores (required when ``require_checksum``).

    Raises:
        FileNotFoundError: no such file.
        FileFormatError: a pickle, an ``.npy``/``.npz``, a truncated or corrupted file.
    """
    from safetensors import SafetensorError
    from safetensors.numpy import load

    with open(path, "rb") as f:
        data = f.read()
    where = repr(os.fspath(path))
    if data[8:9] != b"{":  # not a safetensors header: say what it looks like
        if data.startswith(_ZIP_MAGIC) or data.startswith(_NPY_MAGIC):
            raise FileFormatError(
                f"{where} is a NumPy .npz/.npy file, not an nnx model file; nnx model files are "
                "safetensors files written by model.save."
            )
        if data[:1] == b"\x80" or data[:1] in _PICKLE_MAGIC:
            raise FileFormatError(
                f"{where} looks like a Python pickle. nnx never unpickles files (unpickling "
                "runs arbitrary code); ask for a safetensors file written by model.save."
            )
    try:
        tensors = load(data)
        header = json.loads(data[8 : 8 + int.from_bytes(data[:8], "little")])
    except (SafetensorError, ValueError, UnicodeDecodeError) as error:
        raise FileFormatError(
            f"{where} is not a valid safetensors file ({len(data)} bytes; it may be truncated "
            f"or corrupted): {error}"
        ) from None
    metadata = dict(header.get("__metadata__") or {})
    expected = metadata.pop(_DIGEST, None)
    if expected is None and require_checksum:
        raise FileFormatError(
            f"{where} has no {_DIGEST} checksum: it is not one written by nnx, or its "
            "header is corrupted."
        )
    if expected is not None and expected != digest(tensors, metadata):
        raise FileFormatError(
            f"{where} is corrupted: its content does not match the SHA-256 checksum stored in it."
        )
    return tensors, metadata
