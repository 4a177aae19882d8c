"""Signed model files: authenticity with a key you hold (Ed25519, optional extra ``sign``).

The SHA-256 inside every nnx file is a checksum: it catches corruption, but anyone who edits a
file can compute it again. A signature cannot be forged without the private key: sign a file
with :func:`sign_file` (it writes ``<file>.sig`` beside it) and load it with
``nnx.load(path, verify=public_key)``, which refuses a file without a signature or with one
that does not match, before parsing anything in it.

The signature is Ed25519 (through the ``cryptography`` package: ``pip install
"nnx-array[sign]"``) over ``b"nnx-ed25519-v1\\0"`` followed by the SHA-256 of the file's bytes;
the ``.sig`` file holds ``nnx-ed25519-v1:`` and the 128 hex digits of the signature. Keys are
``cryptography`` key objects, PEM bytes, or paths to PEM files (:func:`generate_key_pair`
writes a pair).

>>> import os, tempfile, nnx
>>> folder = tempfile.mkdtemp()
>>> private, public = generate_key_pair()
>>> model = nnx.Sequential([nnx.layers.Dense(1, input_shape=(2,))], seed=0)
>>> path = os.path.join(folder, "model.nnx")
>>> model.save(path)
>>> sign_file(path, private).endswith("model.nnx.sig")
True
>>> nnx.load(path, verify=public).count_params()
3
"""

from __future__ import annotations

import hashlib
import os
from typing import Any

from nnx.saving.container import FileFormatError, atomic_write_bytes, read_file

__all__ = ["SIGNATURE_SUFFIX", "generate_key_pair", "sign_file", "verify_bytes"]

#: the signature of ``model.nnx`` is in ``model.nnx.sig``
SIGNATURE_SUFFIX = ".sig"
_SCHEME = b"nnx-ed25519-v1"
_CONTEXT = _SCHEME + b"\0"
_SIGNATURE_BYTES = len(_SCHEME) + 1 + 128  # "nnx-ed25519-v1:" + hex, then maybe a newline

PathLike = str | os.PathLike[str]


def _ed25519() -> Any:
    try:
        from cryptography.hazmat.primitives.asymmetric import ed25519
    except ImportError:  # pragma: no cover - the message is the feature
        raise ImportError(
            "Signing and verifying nnx files needs the cryptography package: "
            'pip install "nnx-array[sign]".'
        ) from None
    return ed25519


def _key(key: Any, private: bool) -> Any:
    """An Ed25519 key object from an object, PEM bytes or a path to a PEM file."""
    ed25519 = _ed25519()
    from cryptography.hazmat.primitives import serialization

    wanted = ed25519.Ed25519PrivateKey if private else ed25519.Ed25519PublicKey
    what = "private" if private else "public"
    if isinstance(key, ed25519.Ed25519PrivateKey) and not private:
        key = key.public_key()
    if isinstance(key, wanted):
        return key
    if isinstance(key, (str, os.PathLike)):
        with open(key, "rb") as f:
            key = f.read(1 << 16)
    if isinstance(key, (bytes, bytearray)):
        try:
            loaded = (
                serialization.load_pem_private_key(bytes(key), password=None)
                if private
                else _public_from_pem(serialization, bytes(key))
            )
        except (ValueError, TypeError) as error:
            raise ValueError(f"Not an Ed25519 {what} key in PEM form: {error}") from None
        if isinstance(loaded, wanted):
            return loaded
        key = loaded
    raise TypeError(
        f"Expected an Ed25519 {what} key (a cryptography key object, PEM bytes or a path to a "
        f"PEM file), received {type(key).__name__}."
    )


def _public_from_pem(serialization: Any, pem: bytes) -> Any:
    if b"PRIVATE KEY" in pem:
        return serialization.load_pem_private_key(pem, password=None).public_key()
    return serialization.load_pem_public_key(pem)


def generate_key_pair() -> tuple[bytes, bytes]:
    """A new Ed25519 key pair as PEM bytes ``(private, public)``; keep the private one secret.

    >>> private, public = generate_key_pair()
    >>> public.startswith(b"-----BEGIN PUBLIC KEY-----")
    True
    """
    ed25519 = _ed25519()
    from cryptography.hazmat.primitives import serialization

    key = ed25519.Ed25519PrivateKey.generate()
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private, public


def _message(data: bytes) -> bytes:
    return _CONTEXT + hashlib.sha256(data).digest()


def sign_file(path: PathLike, private_key: Any) -> str:
    """Sign the file ``path`` with ``private_key``; write ``<path>.sig`` atomically.

    Args:
        path: an nnx file (any file, in fact: the signature covers its bytes).
        private_key: an Ed25519 private key (object, PEM bytes or path to a PEM file).

    Returns:
        The path of the signature file.
    """
    key = _key(private_key, private=True)
    data = read_file(path)
    signature = key.sign(_message(data))
    out = os.fspath(path) + SIGNATURE_SUFFIX
    atomic_write_bytes(out, _SCHEME + b":" + signature.hex().encode() + b"\n")
    return out


def verify_bytes(data: bytes, path: PathLike, public_key: Any) -> None:
    """Check that ``data`` (the bytes read from ``path``) carry a valid signature by the owner
    of ``public_key`` in ``<path>.sig``.

    Raises:
        FileFormatError: no signature file, a malformed one, or a signature that does not
            match (another key, or a file changed after signing).
    """
    key = _key(public_key, private=False)
    where = repr(os.fspath(path))
    sig_path = os.fspath(path) + SIGNATURE_SUFFIX
    try:
        text = read_file(sig_path, max_bytes=_SIGNATURE_BYTES + 2)
    except FileNotFoundError:
        raise FileFormatError(
            f"{where} is not signed: verify= was given but there is no {sig_path!r}."
        ) from None
    except FileFormatError as error:
        raise FileFormatError(f"{where} has an unreadable signature file: {error}") from None
    prefix, _, digits = text.strip().partition(b":")
    try:
        signature = bytes.fromhex(digits.decode("ascii"))
    except (UnicodeDecodeError, ValueError):
        signature = b""
    if prefix != _SCHEME or len(signature) != 64:
        raise FileFormatError(
            f"{where} has a malformed signature file {sig_path!r} (expected "
            f"{_SCHEME.decode()}: and 128 hex digits)."
        )
    from cryptography.exceptions import InvalidSignature

    try:
        key.verify(signature, _message(data))
    except InvalidSignature:
        raise FileFormatError(
            f"{where} does not match its signature {sig_path!r} for this public key: it was "
            "changed after signing, or signed with another key."
        ) from None
