"""Saving and loading: bit-exact round trips of every layer, cross-backend loads, refusals."""

from __future__ import annotations

import hashlib
import io
import json
import pickle
import zipfile

import numpy as np
import pytest

import nnx
from nnx.layers import Activation, Dense, Dropout, Flatten, Input, Layer, Reshape, register_layer
from nnx.layers.base import _REGISTRY
from nnx.saving.container import (
    METADATA_KEY,
    FileFormatError,
    encode_tensors,
    read_tensors,
    write_tensors,
)


@register_layer
class NoisyNorm(Layer):
    """A stand-in for batch normalization: a trainable scale, non-trainable moving statistics
    updated in training, and its own random stream (covered by the generic fallback)."""

    def build_parameters(self, input_shape, rng):
        self.scale = self.add_weight("scale", input_shape[-1:], "ones", rng)
        self.moving_mean = self.add_weight(
            "moving_mean", input_shape[-1:], "zeros", rng, None, False
        )
        self.noise = rng.spawn()

    def forward(self, x, *, training=False):
        xp = self.backend.xp
        if training:
            mean = xp.mean(x, axis=0) + self.noise.normal(tuple(x.shape[1:]), dtype=self.dtype)
            self.moving_mean.value[...] = 0.9 * self.moving_mean.value + 0.1 * mean
        y = (x - self.moving_mean.value) * self.scale.value

        def backprop(dy):
            self.scale.grad = xp.sum(dy * (x - self.moving_mean.value), axis=0)
            return dy * self.scale.value

        return y, backprop


# One sample config per registered layer: (factory, input shape of one sample). A layer added on
# another branch without a row here is covered by the generic fallback: the first of a few
# common argument sets (Keras names) and sample shapes with which it builds. If none works,
# test_every_registered_layer_is_covered fails and asks for a row.
SAMPLES = {
    "Dense": (lambda: Dense(3, activation="tanh", kernel_regularizer="l2"), (4,)),
    "Activation": (lambda: Activation("softmax"), (5,)),
    "Dropout": (lambda: Dropout(0.3), (4,)),
    "Flatten": (lambda: Flatten(), (2, 3)),
    "Reshape": (lambda: Reshape((3, 2)), (6,)),
    "Input": (lambda: Input((4,)), (4,)),
    # image layers take (h, w, c) samples: the generic fallback would try (8,) first
    "RandomFlip": (lambda: nnx.layers.RandomFlip("horizontal_and_vertical", seed=1), (6, 6, 2)),
    "RandomRotation": (lambda: nnx.layers.RandomRotation(0.1, seed=1), (6, 6, 2)),
    "RandomTranslation": (lambda: nnx.layers.RandomTranslation(0.2, 0.2, seed=1), (6, 6, 2)),
    "GaussianNoise": (lambda: nnx.layers.GaussianNoise(0.1, seed=1), (6, 6, 2)),
    "SpatialDropout2D": (lambda: nnx.layers.SpatialDropout2D(0.25), (6, 6, 2)),
}
FALLBACK_ARGS = [
    {},
    {"units": 3},
    {"filters": 2, "kernel_size": 3},
    {"filters": 2, "kernel_size": 2},
    {"pool_size": 2},
    {"rate": 0.25},
    {"activation": "tanh"},
    {"target_shape": (-1,)},
]
FALLBACK_SHAPES = [(8,), (6, 6, 2), (8, 3), (4, 6, 6, 2)]


def _generic(name: str):
    """``(factory, shape)`` for the first guessed arguments and shape that build, else None."""
    cls = _REGISTRY[name]
    for kwargs in FALLBACK_ARGS:
        for shape in FALLBACK_SHAPES:
            try:
                cls(**kwargs).build(shape, "numpy")
            except Exception:
                continue
            return (lambda kwargs=kwargs: cls(**kwargs)), shape
    return None


def _case(name: str):
    if name in SAMPLES:
        return SAMPLES[name]
    found = _generic(name)
    assert found is not None
    return found


def test_every_registered_layer_is_covered():
    missing = [n for n in _REGISTRY if n not in SAMPLES and _generic(n) is None]
    assert not missing, f"add a (factory, input_shape) row to SAMPLES for {missing}"


def _train_briefly(model, shape, backend_name):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(16, *shape)).astype("float32")
    y = rng.normal(size=(16, *model.output_shape)).astype("float32")
    model.compile(nnx.optimizers.Adam(0.01), "mse")
    model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    return x


def _exact(a, b):
    return all(
        x.dtype == y.dtype and x.shape == y.shape and x.tobytes() == y.tobytes()
        for x, y in zip(a, b, strict=True)
    )


@pytest.mark.parametrize("name", sorted(_REGISTRY))
def test_every_layer_round_trips_bit_exactly(name, backend, tmp_path):
    factory, shape = _case(name)
    layers = [factory()] if name == "Input" else [Input(shape), factory(), Flatten(), Dense(2)]
    model = nnx.Sequential(layers, backend=backend, seed=1)
    x = _train_briefly(model, shape, backend.name)
    path = tmp_path / "m.nnx"
    model.save(path)
    clone = nnx.load(path, backend=backend)
    assert clone.get_config() == model.get_config()
    assert [p.name for p in clone.parameters()] == [p.name for p in model.parameters()]
    assert [p.trainable for p in clone.parameters()] == [p.trainable for p in model.parameters()]
    assert _exact(model.get_weights(), clone.get_weights())
    assert model.predict(x).tobytes() == clone.predict(x).tobytes()
    assert clone.optimizer.iterations == model.optimizer.iterations
    more = (x[:4], model.predict(x[:4]))
    model.fit(*more, epochs=1, verbose=0)
    clone.fit(*more, epochs=1, verbose=0)  # RNG streams and optimizer state continue alike
    assert _exact(model.get_weights(), clone.get_weights())


def test_save_on_one_backend_load_on_another(tmp_path):
    for source in nnx.available():
        model = nnx.Sequential([Dense(4, activation="relu", input_shape=(3,)), Dense(1)], seed=0)
        model = nnx.Sequential(
            [Dense(4, activation="relu", input_shape=(3,)), Dense(1)], backend=source, seed=0
        )
        model.compile("adam", "mse", ["mae"])
        model.save(tmp_path / f"{source}.nnx")
        for target in nnx.available():
            clone = nnx.load(tmp_path / f"{source}.nnx", backend=target)
            assert clone.backend.name == target
            assert _exact(model.get_weights(), clone.get_weights())
            assert [m.name for m in clone.metrics] == ["mae"]


def test_non_trainable_parameters_and_optimizer_state_are_saved(tmp_path):
    model = nnx.Sequential([Dense(3, input_shape=(2,)), Dense(1, trainable=False)], seed=0)
    x = np.ones((4, 2), "float32")
    model.compile(nnx.optimizers.Nadam(0.01), "mse")
    model.fit(x, np.ones((4, 1), "float32"), epochs=2, verbose=0)
    model.save(tmp_path / "m.nnx")
    clone = nnx.load(tmp_path / "m.nnx")
    assert [p.trainable for p in clone.parameters()] == [True, True, False, False]
    a, b = model.optimizer.state_dict(), clone.optimizer.state_dict()
    assert a["iterations"] == b["iterations"] == 2 and a["u_product"] == b["u_product"]
    for sa, sb in zip(a["slots"], b["slots"], strict=True):
        assert sa.keys() == sb.keys()
        assert all(np.array_equal(sa[k], sb[k]) for k in sa)
    assert nnx.load(tmp_path / "m.nnx", compile=False).optimizer is None


def test_save_without_optimizer_and_uncompiled(tmp_path):
    model = nnx.Sequential([Dense(2, input_shape=(3,))], seed=0)
    model.save(tmp_path / "plain.nnx")
    assert nnx.load(tmp_path / "plain.nnx").loss is None
    model.compile("sgd", "mse")
    model.save(tmp_path / "noopt.nnx", include_optimizer=False)
    clone = nnx.load(tmp_path / "noopt.nnx")
    assert clone.optimizer.iterations == 0 and clone.loss.name == "mean_squared_error"


def test_save_weights_and_load_weights(tmp_path, backend):
    model = nnx.Sequential([Dense(3, input_shape=(2,)), Dense(1)], backend=backend, seed=0)
    other = nnx.Sequential([Dense(3, input_shape=(2,)), Dense(1)], backend=backend, seed=9)
    model.save_weights(tmp_path / "w.nnx")
    other.load_weights(tmp_path / "w.nnx")
    assert _exact(model.get_weights(), other.get_weights())
    with pytest.raises(FileFormatError, match="weights only"):
        nnx.load(tmp_path / "w.nnx")


def test_unbuilt_model_cannot_be_saved(tmp_path):
    with pytest.raises(RuntimeError, match="not built"):
        nnx.Sequential([Dense(2)]).save(tmp_path / "m.nnx")


# --- refusals -------------------------------------------------------------------------------
def _saved(tmp_path):
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


def _rewrite_header(path, out, edit, rehash=True):
    """Edit the JSON metadata and rewrite the archive with ``np.savez``; ``rehash`` re-signs it
    as a deliberate forger would, else the file keeps its old checksum."""
    data = path.read_bytes()
    arrays, meta = read_tensors(path, require_checksum=True)
    edit(meta)
    raw = np.frombuffer(json.dumps(meta).encode(), np.uint8)
    signed = _sign(_npz({**arrays, METADATA_KEY: raw}))
    out.write_bytes(signed if rehash else signed[:-64] + data[-64:])
    return out


def test_files_are_plain_signed_npz_archives(tmp_path):
    """The documented layout: np.load reads a model file as is, and nnx's bytes are the npz
    of its arrays and metadata signed by the documented rule."""
    path = _saved(tmp_path)
    data = path.read_bytes()
    with np.load(path, allow_pickle=False) as npz:
        assert npz.files == [*(f"weights/{i}" for i in range(4)), METADATA_KEY]
        meta = json.loads(npz[METADATA_KEY].tobytes())
        arrays = {k: npz[k] for k in npz.files if k != METADATA_KEY}
    assert meta["format"] == "nnx" and meta["format_version"] == "1"
    assert zipfile.ZipFile(path).comment[:11] == b"nnx-sha256:"
    assert data == encode_tensors(arrays, meta)
    assert data[:-64] + hashlib.sha256(data[:-64]).hexdigest().encode() == data
    assert _sign(data[:-77] + b"\x00\x00") == data


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


def test_object_arrays_are_refused_without_unpickling(tmp_path, capsys):
    """A signed archive with a pickled object member is refused before anything is unpickled
    (by nnx's own member check, and by np.load with allow_pickle=False behind it)."""
    good = _saved(tmp_path)
    arrays, meta = read_tensors(good)
    raw = np.frombuffer(json.dumps(meta).encode(), np.uint8)
    evil = np.array([_Boom(), _Boom()], dtype=object)
    path = tmp_path / "object.nnx"
    path.write_bytes(_sign(_npz({**arrays, "weights/0": evil, METADATA_KEY: raw})))
    with pytest.raises(FileFormatError, match="dtype object"):
        nnx.load(path)
    assert "pickle code ran" not in capsys.readouterr().out
    with pytest.raises(TypeError, match="object"):
        write_tensors(tmp_path / "o.nnx", {"o": evil}, {})


def test_oversized_and_compressed_members_are_refused(tmp_path):
    """Signed archives whose members claim more than they hold, or are deflated: refused
    before numpy allocates anything (no memory blow-up from a small forged file)."""
    arrays, meta = read_tensors(_saved(tmp_path))
    raw = np.frombuffer(json.dumps(meta).encode(), np.uint8)
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        header, {"descr": "<f4", "fortran_order": False, "shape": (10**12,)}
    )
    members = {**arrays, METADATA_KEY: raw}
    buffer = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(_npz(members))) as plain, zipfile.ZipFile(buffer, "w") as out:
        for name in plain.namelist():  # weights/0 claims 10**12 floats, holds 6 (24 bytes)
            forged = header.getvalue() + bytes(24) if name == "weights/0.npy" else None
            out.writestr(name, forged or plain.read(name))
    huge = tmp_path / "huge.nnx"
    huge.write_bytes(_sign(buffer.getvalue()))
    with pytest.raises(FileFormatError, match="describes 4000000000128 bytes"):
        nnx.load(huge)
    compressed = io.BytesIO()
    np.savez_compressed(compressed, **members)
    deflated = tmp_path / "deflated.nnx"
    deflated.write_bytes(_sign(compressed.getvalue()))
    with pytest.raises(FileFormatError, match="compressed member"):
        nnx.load(deflated)


def test_truncated_files_are_refused_at_every_length(tmp_path):
    data = _saved(tmp_path).read_bytes()
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


def test_corrupted_bytes_anywhere_are_refused(tmp_path):
    """One random bit flipped in every third byte of the file, and in each of the last 300
    (zip directory, checksum), one at a time: in the metadata, a weight, the zip/.npy
    structure or the checksum, it breaks the SHA-256 of the whole file (or the zip layout)."""
    data = bytearray(_saved(tmp_path).read_bytes())
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


@pytest.mark.parametrize(
    "edit",
    [
        lambda m: m.update(model=json.dumps({"layers": [{"class_name": ["x"], "config": {}}]})),
        lambda m: m.update(model=json.dumps({"layers": "nope"})),
        lambda m: m.update(state=json.dumps({"rng": "nope"})),
        lambda m: m.update(compile=json.dumps({"optimizer": 3})),
        lambda m: m.pop("format_version"),
        lambda m: m.update(format_version="one"),
        lambda m: m.update(weight_names="{not json"),
    ],
)
def test_tampered_headers_are_refused(tmp_path, edit):
    path = _rewrite_header(_saved(tmp_path), tmp_path / "tampered.nnx", edit)
    with pytest.raises(FileFormatError):
        nnx.load(path)


def test_data_corruption_is_caught_by_the_checksum(tmp_path):
    data = bytearray(_saved(tmp_path).read_bytes())
    _, values, _ = _regions(bytes(data))
    data[values[-1]] ^= 0x01  # the last byte of the last array: the zip layout is intact
    bad = tmp_path / "bad.nnx"
    bad.write_bytes(bytes(data))
    with pytest.raises(FileFormatError, match="SHA-256"):
        nnx.load(bad)


def test_header_edits_without_resigning_are_caught_by_the_checksum(tmp_path):
    def edit(header):
        header["compile"] = header["compile"].replace("0.001", "0.002")

    path = _rewrite_header(_saved(tmp_path), tmp_path / "e.nnx", edit, rehash=False)
    with pytest.raises(FileFormatError, match="SHA-256"):
        nnx.load(path)


def test_unknown_layer_is_refused(tmp_path):
    def edit(header):
        model = json.loads(header["model"])
        model["layers"][0]["class_name"] = "os.system"
        header["model"] = json.dumps(model)

    path = _rewrite_header(_saved(tmp_path), tmp_path / "unknown.nnx", edit)
    with pytest.raises(ValueError, match=r"Unknown layer type 'os.system'.*register_layer"):
        nnx.load(path)


def test_newer_format_version_is_refused(tmp_path):
    def edit(header):
        header["format_version"] = "99"

    path = _rewrite_header(_saved(tmp_path), tmp_path / "new.nnx", edit)
    with pytest.raises(FileFormatError, match="version 99, newer.*upgrade nnx"):
        nnx.load(path)


def test_foreign_files_are_refused(tmp_path):
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
    arrays, meta = read_tensors(_saved(tmp_path))
    unsigned = tmp_path / "unsigned.nnx"
    raw = np.frombuffer(json.dumps(meta).encode(), np.uint8)
    unsigned.write_bytes(_npz({**arrays, METADATA_KEY: raw}))
    with pytest.raises(FileFormatError, match="no valid nnx SHA-256 checksum"):
        nnx.load(unsigned)


def test_shape_mismatch_is_refused(tmp_path):
    def edit(header):
        model = json.loads(header["model"])
        model["layers"][1]["config"]["units"] = 2
        header["model"] = json.dumps(model)

    path = _rewrite_header(_saved(tmp_path), tmp_path / "shape.nnx", edit)
    with pytest.raises(ValueError, match=r"has shape \(3, 2\) in the model but \(3, 1\)"):
        nnx.load(path)
    wider = nnx.Sequential([Dense(4, input_shape=(2,)), Dense(1)])
    with pytest.raises(ValueError, match="in the model but"):
        wider.load_weights(_saved(tmp_path))


def test_bad_layer_config_is_refused(tmp_path):
    def edit(header):
        model = json.loads(header["model"])
        model["layers"][0]["config"]["units"] = -3
        header["model"] = json.dumps(model)

    path = _rewrite_header(_saved(tmp_path), tmp_path / "cfg.nnx", edit)
    with pytest.raises(ValueError, match="cannot rebuild layer Dense"):
        nnx.load(path)


def test_missing_file():
    with pytest.raises(FileNotFoundError):
        nnx.load("/nonexistent/model.nnx")


@pytest.mark.parametrize("path", [3, None, b"model.nnx"])
def test_path_must_be_a_path(path):
    with pytest.raises(TypeError, match="path must be a str or os.PathLike"):
        nnx.load(path)


def test_unknown_backend_is_refused(tmp_path):
    with pytest.raises(ValueError, match="nope"):
        nnx.load(_saved(tmp_path), backend="nope")


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
