"""Atomic writes keep the permission bits of the file they replace (a model a server or another
user reads stays readable after a re-save); a new file gets ``0o666`` less the umask, as
``open`` gives (nnx 0.1 made every saved file 0600: mkstemp + rename)."""

from __future__ import annotations

import os
import stat

import pytest

import nnx
from nnx.layers import Dense
from nnx.saving.container import atomic_write_bytes


def _mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def umask_022():
    old = os.umask(0o022)
    yield
    os.umask(old)


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o600, 0o664, 0o444])
def test_overwriting_keeps_the_mode(tmp_path, mode, umask_022):
    path = tmp_path / "model.nnx"
    path.write_bytes(b"old")
    os.chmod(path, mode)
    model = nnx.Sequential([Dense(1, input_shape=(2,))], seed=0)
    model.save(path)
    assert _mode(path) == mode
    assert nnx.load(path).count_params() == 3


@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002])
def test_a_new_file_gets_the_umask_mode(tmp_path, umask):
    old = os.umask(umask)
    try:
        atomic_write_bytes(tmp_path / "new.bin", b"data")
        with open(tmp_path / "reference.bin", "wb") as f:
            f.write(b"data")
    finally:
        os.umask(old)
    assert _mode(tmp_path / "new.bin") == 0o666 & ~umask == _mode(tmp_path / "reference.bin")


def test_no_temporary_file_is_left_behind(tmp_path, umask_022):
    atomic_write_bytes(tmp_path / "a.bin", b"1")
    atomic_write_bytes(tmp_path / "a.bin", b"2")
    assert sorted(os.listdir(tmp_path)) == ["a.bin"]
    assert (tmp_path / "a.bin").read_bytes() == b"2"
