"""The file container: NumPy's ``.npz`` archive, checksummed, read without pickle and within
bounds, written atomically.

This is the only place nnx touches files of arrays. A file is an uncompressed ``.npz`` (a zip
archive of ``.npy`` members as :func:`numpy.savez` writes it, with fixed timestamps) holding
one member per array, one ``uint8`` member ``__nnx_metadata__`` with a JSON object of strings,
and, as the zip archive comment, ``nnx-sha256:`` followed by the SHA-256 of every byte before
the digest. The checksum proves integrity (no corruption, no truncation), not authorship:
anyone can rewrite a file and checksum it again (:mod:`nnx.saving.signing` adds authenticity).

Reading is bounded before anything is allocated: only a regular file (never a FIFO or a
device), at most ``max_bytes`` of it, read once; the checksum verified; every member a stored
``.npy`` of a numeric dtype whose header describes exactly the bytes it holds; the metadata at
most :data:`MAX_METADATA_BYTES` of JSON nested at most :data:`MAX_JSON_DEPTH` deep, integers of
at most 100 digits. Then ``np.load(..., allow_pickle=False)`` reads the bytes checked: nothing in
a file is ever executed or unpickled, so a file from a stranger can at worst fail to load, and
every refusal is a :class:`FileFormatError` naming the file.

The arrays here are host arrays, the NumPy backend's: the ``.npy`` members are encoded and decoded
with that backend's namespace (NumPy's own ``.npy`` reader and writer), so nothing outside
:mod:`nnx.backends` imports an array library.

>>> import os, tempfile
>>> import numpy as np
>>> path = os.path.join(tempfile.mkdtemp(), "t.nnx")
>>> write_tensors(path, {"w": np.arange(3.0)}, {"note": "hi"})
>>> tensors, metadata = read_tensors(path)
>>> tensors["w"].tolist(), metadata["note"]
([0.0, 1.0, 2.0], 'hi')
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import os
import re
import secrets
import stat
import struct
import zipfile
import zlib
from typing import Any

from nnx.backends import get_backend

__all__ = [
    "CHECKSUM_PREFIX",
    "DEFAULT_MAX_BYTES",
    "MAX_JSON_DEPTH",
    "MAX_METADATA_BYTES",
    "METADATA_KEY",
    "FileFormatError",
    "add_checksum",
    "atomic_write_bytes",
    "encode_tensors",
    "parse_json",
    "read_file",
    "decode_tensors",
    "read_tensors",
    "sign",
    "write_tensors",
]

#: name of the npz member (``<name>.npy``) holding the JSON metadata as ``uint8`` bytes
METADATA_KEY = "__nnx_metadata__"
#: the zip archive comment is this prefix and the hex SHA-256 of every byte before the digest
CHECKSUM_PREFIX = b"nnx-sha256:"
#: the largest file read by default (8 GiB); every reader takes ``max_bytes=`` to change it
DEFAULT_MAX_BYTES = 8 * 2**30
#: the largest metadata member (JSON text) a file may hold
MAX_METADATA_BYTES = 64 * 2**20
#: the deepest nesting of JSON arrays and objects accepted in the metadata
MAX_JSON_DEPTH = 64
# 128-bit generator states have 39 digits; 100 digits keep float(n) finite (no OverflowError)
_MAX_INT_DIGITS = 100
_COMMENT_LEN = len(CHECKSUM_PREFIX) + 64
_EOCD = b"PK\x05\x06"  # zip end-of-central-directory record: 22 bytes, then the comment
_TAIL = 22 + _COMMENT_LEN
_PICKLE_MAGIC = (b"(", b"c", b"]", b"}")
_NPY_MAGIC = b"\x93NUMPY"
_ZIP_MAGIC = b"PK\x03\x04"
_DATE = (1980, 1, 1, 0, 0, 0)  # fixed member timestamps: the same content gives the same bytes
_KINDS = "biufc"  # bool, signed/unsigned integers, floats, complex: never objects or structs
# what a malformed zip or .npy member can raise from zipfile, zlib and numpy's reader
_PARSE_ERRORS = (
    zipfile.BadZipFile,
    zlib.error,
    struct.error,
    ValueError,
    OSError,
    EOFError,
    KeyError,
    NotImplementedError,
    RuntimeError,
    OverflowError,
)


def _np() -> Any:
    """NumPy, through the host (NumPy) backend's namespace."""
    return get_backend("numpy").xp


class FileFormatError(ValueError):
    """A file is not a readable nnx file (pickle, truncated, corrupted, foreign...)."""


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` so a reader sees the old file or the new one, never a mix.

    A temporary file in the same directory is written, flushed and fsynced, then renamed over
    ``path`` with :func:`os.replace` (atomic on POSIX and Windows); the directory is fsynced
    too where the platform allows, so the rename itself survives a power cut. The file keeps
    the permission bits of the file it replaces; a new file gets ``0o666`` less the umask, as
    ``open(path, "wb")`` gives.
    """
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    try:
        mode: int | None = stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        mode = None  # a new file: the kernel applies the umask to 0o666 below
    tmp = os.path.join(directory, f".tmp-{secrets.token_hex(8)}.part")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    fd = os.open(tmp, flags, 0o666 if mode is None else 0o600)
    try:
        with os.fdopen(fd, "wb") as f:
            if mode is not None and hasattr(os, "fchmod"):
                os.fchmod(f.fileno(), mode)
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


def add_checksum(archive: bytes) -> bytes:
    """Give a zip archive without a comment the nnx checksum comment.

    The 2-byte comment length at the end of the archive becomes 75, then come
    ``nnx-sha256:`` and the 64 hex digits of the SHA-256 of every byte before them. This is a
    checksum (anyone can compute it), not a signature: see :mod:`nnx.saving.signing`.
    """
    if archive[-22:-18] != _EOCD or archive[-2:] != b"\x00\x00":
        raise ValueError("add_checksum expects a zip archive without a comment.")
    body = archive[:-2] + _COMMENT_LEN.to_bytes(2, "little") + CHECKSUM_PREFIX
    return body + hashlib.sha256(body).hexdigest().encode()


#: nnx 0.2's name of :func:`add_checksum`, kept for code that imported it
sign = add_checksum


def encode_tensors(tensors: dict[str, Any], metadata: dict[str, str]) -> bytes:
    """The bytes of the file :func:`write_tensors` writes (an ``.npz`` archive, checksummed)."""
    if METADATA_KEY in tensors:
        raise ValueError(f"{METADATA_KEY!r} is reserved for the metadata.")
    np = _np()
    text = json.dumps(dict(metadata), sort_keys=True)
    members = {**tensors, METADATA_KEY: np.frombuffer(text.encode(), dtype=np.uint8)}
    buffer = io.BytesIO()
    # what np.savez does (stored .npy members, zip64 allowed), with fixed timestamps and no
    # clash between array names and savez's own keyword arguments
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED, allowZip64=True) as archive:
        for name, value in members.items():
            array = np.asarray(value, order="C")  # keeps 0-d arrays
            if array.dtype.kind not in _KINDS:
                raise TypeError(f"Array {name!r} has dtype {array.dtype}: not storable by nnx.")
            info = zipfile.ZipInfo(f"{name}.npy", date_time=_DATE)
            info.external_attr = 0o600 << 16
            with archive.open(info, "w", force_zip64=True) as member:
                np.lib.format.write_array(member, array, allow_pickle=False)
    return add_checksum(buffer.getvalue())


def write_tensors(
    path: str | os.PathLike[str], tensors: dict[str, Any], metadata: dict[str, str]
) -> None:
    """Save host arrays and string metadata as one checksummed ``.npz`` file, atomically."""
    atomic_write_bytes(path, encode_tensors(tensors, metadata))


def _checksum(data: bytes) -> bool | None:
    """True/False: the stored SHA-256 matches or not; None: the file carries none."""
    tail = data[-_TAIL:]
    if (
        len(tail) != _TAIL
        or tail[:4] != _EOCD
        or tail[20:22] != _COMMENT_LEN.to_bytes(2, "little")
        or tail[22 : 22 + len(CHECKSUM_PREFIX)] != CHECKSUM_PREFIX
    ):
        return None
    return data[-64:] == hashlib.sha256(data[:-64]).hexdigest().encode()


def _describe_without_checksum(data: bytes, where: str) -> str:
    """Why a file starting like a zip archive but without a valid nnx checksum is refused."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = archive.namelist()
    except Exception:  # any failure to find a zip directory: the end of the file is missing
        return (
            f"{where} is not a complete zip/.npz archive ({len(data)} bytes; it is truncated "
            "or corrupted)."
        )
    if f"{METADATA_KEY}.npy" in names:
        return (
            f"{where} has no valid nnx SHA-256 checksum at its end (the zip archive comment): "
            "it is truncated, corrupted, or was rewritten by another tool."
        )
    return (
        f"{where} is a zip archive (a NumPy .npz file?) but not an nnx file: nnx files are "
        "written by model.save/save_weights."
    )


_KIND_NAMES = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def read_file(path: str | os.PathLike[str], max_bytes: int = DEFAULT_MAX_BYTES) -> bytes:
    """The bytes of the regular file ``path``, refused beyond ``max_bytes``.

    The file is opened without blocking (a FIFO would wait forever for a writer) and checked
    with ``fstat`` on the open descriptor, so what is checked is what is read: a directory, a
    FIFO, a device (``/dev/zero`` never ends) or a socket is refused, as is a file larger than
    ``max_bytes``; at most its size plus one byte is read (a file that grows is refused).

    Raises:
        FileNotFoundError: no such file.
        FileFormatError: not a regular file, or larger than ``max_bytes``.
    """
    where = repr(os.fspath(path))
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    fd = os.open(path, flags)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            kind = next(
                (name for test, name in _KIND_NAMES if test(info.st_mode)), "not a regular file"
            )
            raise FileFormatError(
                f"{where} is {kind}: nnx reads model files only from regular files."
            )
        if info.st_size > max_bytes:
            raise FileFormatError(
                f"{where} has {info.st_size} bytes, more than max_bytes={max_bytes}; pass a "
                "larger max_bytes= to read it if you trust it."
            )
    except BaseException:
        os.close(fd)
        raise
    with os.fdopen(fd, "rb", buffering=0) as f:
        # NOTE: ask for exactly the size fstat gave (plus one byte to see growth): a larger
        # request makes the reader allocate that much before the short read.
        chunks, left = [], info.st_size + 1
        while left > 0:  # one read() returns at most ~2 GiB on Linux
            chunk = f.read(left)
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
        data = chunks[0] if len(chunks) == 1 else b"".join(chunks)
    if len(data) != info.st_size:
        raise FileFormatError(
            f"{where} changed size while being read ({info.st_size} bytes, then {len(data)}+)."
        )
    return data


# a JSON string (escapes included); anything but a bracket
_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"')
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")


def _too_deep(text: str, max_depth: int) -> bool:
    """Whether arrays/objects nest more than ``max_depth`` deep, in passes of C-speed string
    operations (each removes the innermost pairs), never recursion."""
    brackets = _NOT_BRACKET.sub("", _JSON_STRING.sub("", text))
    brackets = brackets.replace("{", "[").replace("}", "]")
    for _ in range(max_depth):
        if "[]" not in brackets:
            return False
        brackets = brackets.replace("[]", "")
    return "[]" in brackets


class _HugeIntegerError(ValueError):
    pass


def _bounded_int(text: str) -> int:
    if len(text.lstrip("-")) > _MAX_INT_DIGITS:
        raise _HugeIntegerError(f"{text[:12]}... ({len(text.lstrip('-'))} digits)")
    return int(text)


def parse_json(text: str | bytes, field: str, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """``json.loads(text)`` within bounds: nesting at most ``max_depth`` (checked before
    parsing, so no ``RecursionError``) and integers of at most 100 digits.

    Raises:
        FileFormatError: naming ``field``: too deep, a huge integer, or not JSON.

    >>> parse_json('{"units": [1, 2]}', "model")
    {'units': [1, 2]}
    >>> parse_json("[" * 100 + "]" * 100, "model")
    Traceback (most recent call last):
    ...
    nnx.saving.container.FileFormatError: has field 'model' nested more than 64 deep ...
    """
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as error:
            raise FileFormatError(f"has field {field!r} that is not UTF-8: {error}") from None
    if _too_deep(text, max_depth):
        raise FileFormatError(
            f"has field {field!r} nested more than {max_depth} deep (JSON arrays and objects): "
            "no nnx file needs that."
        )
    try:
        return json.loads(text, parse_int=_bounded_int)
    except _HugeIntegerError as error:
        raise FileFormatError(
            f"has field {field!r} holding the integer {error}: more than "
            f"{_MAX_INT_DIGITS} digits, no shape, count or state is that large."
        ) from None
    except (ValueError, RecursionError) as error:
        raise FileFormatError(f"has field {field!r} that is not valid JSON: {error}") from None


def read_tensors(
    path: str | os.PathLike[str],
    require_checksum: bool = False,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> tuple[dict[str, Any], dict[str, str]]:
    """Load a file written by :func:`write_tensors`: ``(name -> host array, metadata)``.

    The file is read by :func:`read_file` (a regular file of at most ``max_bytes``); the
    SHA-256 in the archive comment is verified before anything is parsed (required when
    ``require_checksum``), then the very bytes checked are read by ``np.load`` with
    ``allow_pickle=False``; every member must be a ``.npy`` array of a bool, integer, float or
    complex dtype.

    Raises:
        FileNotFoundError: no such file.
        FileFormatError: a pickle, an ``.npy``, a foreign ``.npz``, a truncated or corrupted
            file, not a regular file, or a file larger than ``max_bytes``.
    """
    return decode_tensors(read_file(path, max_bytes), repr(os.fspath(path)), require_checksum)


def decode_tensors(
    data: bytes, where: str, require_checksum: bool = False
) -> tuple[dict[str, Any], dict[str, str]]:
    """:func:`read_tensors` on bytes already read; ``where`` names them in errors."""
    if not data.startswith(_ZIP_MAGIC):  # not a zip archive: say what it looks like
        if data.startswith(_NPY_MAGIC):
            raise FileFormatError(
                f"{where} is a NumPy .npy file, not an nnx file; nnx files are .npz archives "
                "written by model.save/save_weights."
            )
        if data[:1] == b"\x80" or data[:1] in _PICKLE_MAGIC:
            raise FileFormatError(
                f"{where} looks like a Python pickle. nnx never unpickles files (unpickling "
                "runs arbitrary code); ask for a file written by model.save."
            )
        raise FileFormatError(
            f"{where} is not an nnx file ({len(data)} bytes starting with {data[:8]!r}; an nnx "
            f"file is a zip/.npz archive starting with {_ZIP_MAGIC!r}): it is empty, truncated, "
            "corrupted or of another format."
        )
    verified = _checksum(data)
    if verified is False:
        raise FileFormatError(
            f"{where} is corrupted: its content does not match the SHA-256 checksum stored in it."
        )
    if verified is None and require_checksum:
        raise FileFormatError(_describe_without_checksum(data, where))
    try:
        tensors, metadata = _parse(data)
    except FileFormatError as error:
        raise FileFormatError(f"{where} {error}") from None
    except _PARSE_ERRORS as error:
        raise FileFormatError(
            f"{where} is not a valid nnx .npz file ({len(data)} bytes; it may be truncated or "
            f"corrupted): {type(error).__name__}: {error}"
        ) from None
    return tensors, metadata


def _check_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> None:
    """A stored ``.npy`` member whose header describes exactly the bytes it holds, checked
    before numpy allocates anything: no member can claim more memory than the file's size."""
    if not info.filename.endswith(".npy"):
        raise FileFormatError(f"holds a member {info.filename!r} that is not a .npy array.")
    if info.compress_type != zipfile.ZIP_STORED:
        raise FileFormatError(f"holds a compressed member {info.filename!r} (nnx stores them).")
    np = _np()
    with archive.open(info) as member:
        version = np.lib.format.read_magic(member)
        if version == (1, 0):
            shape, _, dtype = np.lib.format.read_array_header_1_0(member)
        elif version == (2, 0):
            shape, _, dtype = np.lib.format.read_array_header_2_0(member)
        else:
            raise FileFormatError(f"holds {info.filename!r} in .npy version {version}.")
        if dtype.kind not in _KINDS:
            raise FileFormatError(f"holds {info.filename!r} of dtype {dtype}: not numeric.")
        size = member.tell() + math.prod(shape) * dtype.itemsize
    if size != info.file_size:
        raise FileFormatError(
            f"holds {info.filename!r} whose .npy header describes {size} bytes, not the "
            f"{info.file_size} it has."
        )


def _parse(data: bytes) -> tuple[dict[str, Any], dict[str, str]]:
    np = _np()
    tensors: dict[str, Any] = {}
    with np.load(io.BytesIO(data), allow_pickle=False) as npz:
        names = npz.zip.namelist()
        if len(set(names)) != len(names):
            raise FileFormatError("holds the same member twice.")
        for info in npz.zip.infolist():
            _check_member(npz.zip, info)
            if info.filename == f"{METADATA_KEY}.npy" and info.file_size > MAX_METADATA_BYTES:
                raise FileFormatError(
                    f"has a metadata member of {info.file_size} bytes, more than "
                    f"{MAX_METADATA_BYTES}."
                )
        for key in npz.files:
            array = npz[key]  # ValueError for object arrays: allow_pickle=False
            if not isinstance(array, np.ndarray) or array.dtype.kind not in _KINDS:
                raise FileFormatError(f"holds a member {key!r} that is not a numeric array.")
            tensors[key] = array
    raw = tensors.pop(METADATA_KEY, None)
    if raw is None:
        raise FileFormatError(f"has no {METADATA_KEY!r} member: it is not an nnx file.")
    if raw.dtype != np.uint8 or raw.ndim != 1:
        raise FileFormatError(f"has a {METADATA_KEY!r} member that is not 1-D uint8 bytes.")
    metadata = parse_json(raw.tobytes(), METADATA_KEY, max_depth=1)
    if not isinstance(metadata, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()
    ):
        raise FileFormatError(f"has {METADATA_KEY!r} that is not a JSON object of strings.")
    return tensors, metadata
