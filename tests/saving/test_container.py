"""The file container: signed plain .npz archives; what it refuses (pickles, foreign archives,
truncated or corrupted bytes, forged members) and what it keeps bit for bit."""

from __future__ import annotations

import hashlib
import io
import json
import pickle
import zipfile

import numpy as np
import pytest

import nnx
from nnx.saving.container import (
    METADATA_KEY,
    FileFormatError,
    encode_tensors,
    read_tensors,
    write_tensors,
)


def test_files_are_plain_signed_npz_archives(saved_file, forge):
    """The documented layout: np.load reads a model file as is, and nnx's bytes are the npz
    of its arrays and metadata signed by the documented rule."""
    path = saved_file
    data = path.read_bytes()
    with np.load(path, allow_pickle=False) as npz:
        assert npz.files == [*(f"weights/{i}" for i in range(4)), METADATA_KEY]
        meta = json.loads(npz[METADATA_KEY].tobytes())
        arrays = {k: npz[k] for k in npz.files if k != METADATA_KEY}
    assert meta["format"] == "nnx" and meta["format_version"] == "1"
    assert zipfile.ZipFile(path).comment[:11] == b"nnx-sha256:"
    assert data == encode_tensors(arrays, meta)
    assert data[:-64] + hashlib.sha256(data[:-64]).hexdigest().encode() == data
    assert forge.sign(data[:-77] + b"\x00\x00") == data


class _Boom:
    def __reduce__(self):
        return (print, ("pickle code ran",))


def test_pickle_is_refused_without_running_it(tmp_path, capsys):
    for protocol in (0, 2, 5):
        path = tmp_path / f"evil{protocol}.pkl"
        path.write_bytes(pickle.dumps(_Boom(), protocol=protocol))
        with pytest.raises(FileFormatError, match="pickle"):
            nnx.load(path)
    assert "pickle code ran" not in capsys.readouterr().out


def test_npz_is_refused(tmp_path):
    np.savez(tmp_path / "w.npz", a=np.ones(2))
    with pytest.raises(FileFormatError, match="npz"):
        nnx.load(tmp_path / "w.npz")
    np.save(tmp_path / "w.npy", np.ones(2))
    with pytest.raises(FileFormatError, match="npy"):
        nnx.load(tmp_path / "w.npy")


def test_object_arrays_are_refused_without_unpickling(tmp_path, capsys, saved_file, forge):
    """A signed archive with a pickled object member is refused before anything is unpickled
    (by nnx's own member check, and by np.load with allow_pickle=False behind it)."""
    good = saved_file
    arrays, meta = read_tensors(good)
    raw = np.frombuffer(json.dumps(meta).encode(), np.uint8)
    evil = np.array([_Boom(), _Boom()], dtype=object)
    path = tmp_path / "object.nnx"
    path.write_bytes(forge.sign(forge.npz({**arrays, "weights/0": evil, METADATA_KEY: raw})))
    with pytest.raises(FileFormatError, match="dtype object"):
        nnx.load(path)
    assert "pickle code ran" not in capsys.readouterr().out
    with pytest.raises(TypeError, match="object"):
        write_tensors(tmp_path / "o.nnx", {"o": evil}, {})


def test_oversized_and_compressed_members_are_refused(tmp_path, saved_file, forge):
    """Signed archives whose members claim more than they hold, or are deflated: refused
    before numpy allocates anything (no memory blow-up from a small forged file)."""
    arrays, meta = read_tensors(saved_file)
    raw = np.frombuffer(json.dumps(meta).encode(), np.uint8)
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        header, {"descr": "<f4", "fortran_order": False, "shape": (10**12,)}
    )
    members = {**arrays, METADATA_KEY: raw}
    buffer = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(forge.npz(members))) as plain,
        zipfile.ZipFile(buffer, "w") as out,
    ):
        for name in plain.namelist():  # weights/0 claims 10**12 floats, holds 6 (24 bytes)
            forged = header.getvalue() + bytes(24) if name == "weights/0.npy" else None
            out.writestr(name, forged or plain.read(name))
    huge = tmp_path / "huge.nnx"
    huge.write_bytes(forge.sign(buffer.getvalue()))
    with pytest.raises(FileFormatError, match="describes 4000000000128 bytes"):
        nnx.load(huge)
    compressed = io.BytesIO()
    np.savez_compressed(compressed, **members)
    deflated = tmp_path / "deflated.nnx"
    deflated.write_bytes(forge.sign(compressed.getvalue()))
    with pytest.raises(FileFormatError, match="compressed member"):
        nnx.load(deflated)


def test_truncated_files_are_refused_at_every_length(tmp_path, saved_file):
    data = saved_file.read_bytes()
    bad = tmp_path / "bad.nnx"
    end = len(data) - 200  # every length in the zip directory and checksum at the end
    cuts = sorted({*range(0, 64), *range(64, end, max(1, end // 50)), *range(end, len(data))})
    for cut in cuts:
        bad.write_bytes(data[:cut])
        with pytest.raises(FileFormatError):
            nnx.load(bad)
    assert len(cuts) > 300


def _regions(data):
    """Byte positions of the metadata JSON, of the array values, and of the rest (zip headers
    and directory, .npy headers, checksum)."""
    metadata, values = [], []
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for info in archive.infolist():
            with archive.open(info) as member:
                start = len(data) - len(data[info.header_offset :])  # the local header
                head = data[start : start + 30]
                offset = start + 30 + int.from_bytes(head[26:28], "little")
                offset += int.from_bytes(head[28:30], "little")
                npy = member.read()
            body = offset + npy.index(b"\n") + 1  # the .npy header ends with a newline
            span = range(body, offset + len(npy))
            (metadata if info.filename == f"{METADATA_KEY}.npy" else values).extend(span)
    taken = {*metadata, *values}
    return metadata, values, [i for i in range(len(data)) if i not in taken]


def test_corrupted_bytes_anywhere_are_refused(tmp_path, saved_file):
    """One random bit flipped in every third byte of the file, and in each of the last 300
    (zip directory, checksum), one at a time: in the metadata, a weight, the zip/.npy
    structure or the checksum, it breaks the SHA-256 of the whole file (or the zip layout)."""
    data = bytearray(saved_file.read_bytes())
    metadata, values, structure = _regions(bytes(data))
    assert len(metadata) > 500 and len(values) >= 4 * 13 and len(structure) > 1000
    bad = tmp_path / "bad.nnx"
    rng = np.random.default_rng(0)
    positions = sorted({*range(0, len(data), 3), *range(len(data) - 300, len(data))})
    for position in positions:
        flipped = bytearray(data)
        flipped[position] ^= 1 << int(rng.integers(0, 8))
        bad.write_bytes(bytes(flipped))
        with pytest.raises(FileFormatError):
            nnx.load(bad)


def test_data_corruption_is_caught_by_the_checksum(tmp_path, saved_file):
    data = bytearray(saved_file.read_bytes())
    _, values, _ = _regions(bytes(data))
    data[values[-1]] ^= 0x01  # the last byte of the last array: the zip layout is intact
    bad = tmp_path / "bad.nnx"
    bad.write_bytes(bytes(data))
    with pytest.raises(FileFormatError, match="SHA-256"):
        nnx.load(bad)


def test_header_edits_without_resigning_are_caught_by_the_checksum(tmp_path, saved_file, forge):
    def edit(header):
        header["compile"] = header["compile"].replace("0.001", "0.002")

    path = forge.rewrite(saved_file, tmp_path / "e.nnx", edit, rehash=False)
    with pytest.raises(FileFormatError, match="SHA-256"):
        nnx.load(path)


def test_foreign_files_are_refused(tmp_path, saved_file, forge):
    """Another tensor format (length-prefixed JSON header), a zip that is no npz, a signed npz
    whose metadata is not nnx's, an nnx archive rewritten without its checksum."""
    header = json.dumps({"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}).encode()
    other = tmp_path / "other.bin"
    other.write_bytes(len(header).to_bytes(8, "little") + header + bytes(8))
    with pytest.raises(FileFormatError, match="not an nnx file"):
        nnx.load(other)
    text = tmp_path / "text.zip"
    with zipfile.ZipFile(text, "w") as archive:
        archive.writestr("readme.txt", "hello")
    with pytest.raises(FileFormatError, match="not an nnx file"):
        nnx.load(text)
    signed = tmp_path / "signed.nnx"
    write_tensors(signed, {"w": np.ones(2, "float32")}, {"format": "keras"})
    with pytest.raises(FileFormatError, match="not one written by nnx"):
        nnx.load(signed)
    arrays, meta = read_tensors(saved_file)
    unsigned = tmp_path / "unsigned.nnx"
    raw = np.frombuffer(json.dumps(meta).encode(), np.uint8)
    unsigned.write_bytes(forge.npz({**arrays, METADATA_KEY: raw}))
    with pytest.raises(FileFormatError, match="no valid nnx SHA-256 checksum"):
        nnx.load(unsigned)


def test_host_files_keep_every_shape_and_dtype_bit_exact(tmp_path):
    arrays = {
        "scalar": np.array(np.pi),
        "empty": np.zeros((0, 3), "float32"),
        "strided": np.arange(12.0).reshape(3, 4)[:, ::2],
        "int": np.arange(-3, 3, dtype="int64"),
        "bool": np.array([True, False]),
        "half": np.array([1e-4, 65504.0], "float16"),
        "nan": np.array([np.nan, -np.inf, -0.0], "float32"),
    }
    write_tensors(tmp_path / "a.nnx", arrays, {"k": "v"})
    back, meta = read_tensors(tmp_path / "a.nnx", require_checksum=True)
    assert meta == {"k": "v"}
    for k, a in arrays.items():
        b = back[k]
        assert (b.dtype, b.shape, b.tobytes()) == (
            a.dtype,
            a.shape,
            np.ascontiguousarray(a).tobytes(),
        )
