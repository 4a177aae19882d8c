"""Fixtures of the saving tests: a small saved model, and a forger that rewrites files the way
another tool (or an attacker) would, independently of nnx's own writer."""

from __future__ import annotations

import hashlib
import io
import json
from types import SimpleNamespace

import numpy as np
import pytest

import nnx
from nnx.layers import Dense
from nnx.saving.container import METADATA_KEY, read_tensors


@pytest.fixture
def saved_file(tmp_path):
    """A compiled two-layer model saved to ``tmp_path / "good.nnx"``."""
    model = nnx.Sequential([Dense(3, input_shape=(2,)), Dense(1)], seed=0)
    model.compile("adam", "mse")
    path = tmp_path / "good.nnx"
    model.save(path)
    return path


def _npz(arrays):
    """A plain ``np.savez`` archive, as any other tool would write it (no comment)."""
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def _sign(archive):
    """The README's checksum rule, written independently of nnx: the zip comment is
    ``nnx-sha256:`` + the SHA-256 of every byte before the digest."""
    body = archive[:-2] + (75).to_bytes(2, "little") + b"nnx-sha256:"
    return body + hashlib.sha256(body).hexdigest().encode()


def _rewrite(path, out, edit, rehash=True):
    """Edit the JSON metadata and rewrite the archive with ``np.savez``; ``rehash`` re-signs it
    as a deliberate forger would, else the file keeps its old checksum."""
    data = path.read_bytes()
    arrays, meta = read_tensors(path, require_checksum=True)
    edit(meta)
    raw = np.frombuffer(json.dumps(meta).encode(), np.uint8)
    signed = _sign(_npz({**arrays, METADATA_KEY: raw}))
    out.write_bytes(signed if rehash else signed[:-64] + data[-64:])
    return out


@pytest.fixture
def forge():
    """``forge.npz(arrays)``, ``forge.sign(archive)``, ``forge.rewrite(path, out, edit)``."""
    return SimpleNamespace(npz=_npz, sign=_sign, rewrite=_rewrite)
