"""Forged-but-re-checksummed model files: each is refused with a FileFormatError naming the file
and the field, within a memory bound and a bound on the Python calls made (the file is a few KB;
nnx 0.1 spent up to 3 GB and 34 s on some of these before refusing them, or raised raw
MemoryError/RecursionError/OverflowError). The work is counted in profiler events, not timed, so
the bound holds on a loaded machine and fails only when the loader's work grows."""

from __future__ import annotations

import json
import os
import pathlib
import sys
import threading
import tracemalloc
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import nnx
from nnx.layers import Dense
from nnx.saving import FileFormatError
from nnx.saving.container import METADATA_KEY, read_tensors

PEAK_BYTES = 16 * 2**20  # the files are ~3 KB: 16 MB covers Python's parsing, not a weight draw
CALLS = 110_000  # Python-level calls and returns to refuse a file: a genuine 3 KB load makes ~5k
# (the 200-layer forgery: ~97k before each Dense config had its two constraint keys, ~102k now)


def _counted(run: Callable[[], Any]) -> tuple[Any, int]:
    """``run()`` and the number of profiler events (Python and C calls and returns) it made."""
    events = 0

    def count(frame: Any, event: str, arg: Any) -> None:
        nonlocal events
        events += 1

    sys.setprofile(count)
    try:
        return run(), events
    finally:
        sys.setprofile(None)


@pytest.fixture
def trained_file(tmp_path):
    """A two-layer Adam model after two steps (so the optimizer has slots and iterations)."""
    model = nnx.Sequential([Dense(3, input_shape=(2,)), Dense(1)], seed=0)
    model.compile("adam", "mse")
    model.fit(np.ones((4, 2)), np.ones((4, 1)), batch_size=2, verbose=0, shuffle=False)
    path = tmp_path / "good.nnx"
    model.save(path)
    return path


def _forge(forge, path, out, edit_meta=None, edit_arrays=None):
    """Rewrite ``path`` with edited metadata (decoded JSON fields) and arrays, re-checksummed."""
    arrays, header = read_tensors(path, require_checksum=True)
    meta = {
        k: json.loads(v) if k not in ("format", "format_version", "kind", "backend") else v
        for k, v in header.items()
    }
    if edit_meta:
        edit_meta(meta)
    if edit_arrays:
        edit_arrays(arrays)
    header = {
        k: v
        if isinstance(v, str) and k in ("format", "format_version", "kind", "backend")
        else json.dumps(v)
        for k, v in meta.items()
    }
    raw = np.frombuffer(json.dumps(header).encode(), np.uint8)
    out.write_bytes(forge.sign(forge.npz({**arrays, METADATA_KEY: raw})))
    return out


def _refused(path, field, **kwargs):
    """Load ``path``: a FileFormatError naming the file and ``field``, within the bounds."""
    tracemalloc.start()
    tracemalloc.reset_peak()
    try:
        with pytest.raises(FileFormatError) as info:
            nnx.load(path, **kwargs)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    message = str(info.value)
    assert repr(os.fspath(path)) in message
    assert field in message, message
    assert peak < PEAK_BYTES, f"{peak} bytes to refuse {path.name}"
    _, calls = _counted(lambda: _refusal(path, kwargs))  # counted apart from tracemalloc's hooks
    assert calls < CALLS, f"{calls} calls to refuse {path.name}"
    return message


def _refusal(path: Any, kwargs: dict[str, Any]) -> None:
    """Load ``path`` expecting the FileFormatError (what :func:`_refused` counts)."""
    with pytest.raises(FileFormatError):
        nnx.load(path, **kwargs)


def _layers(meta):
    return meta["model"]["layers"]


def _set_dense(units, fan_in=None, initializer=None):
    def edit(meta):
        config = _layers(meta)[0]["config"]
        config["units"] = units
        if fan_in is not None:
            config["input_shape"] = [fan_in]
            meta["model"]["input_shape"] = [fan_in]
        if initializer is not None:
            config["kernel_initializer"] = {"class_name": initializer, "config": {}}

    return edit


def _many_dense(meta):
    template = _layers(meta)[1]
    for i in range(200):
        layer = json.loads(json.dumps(template))
        layer["config"].update(name=f"big_{i}", units=2000)
        layer["config"].pop("input_shape")
        _layers(meta).append(layer)


CASES = {
    "dense 10000x20000": (_set_dense(20000, 10000), "weights/0"),
    "200 x Dense(2000)": (_many_dense, "weights/4"),
    "orthogonal 4000x4000": (_set_dense(4000, 4000, "Orthogonal"), "weights/0"),
    "dense 10^6 x 10^6": (_set_dense(10**6, 10**6), "weights/0"),
    "units=10**400": (_set_dense(10**400), "model"),
    "units=2**40": (_set_dense(2**40), "model.layers[0].config.units"),
    "units=-3": (_set_dense(-3), "model.layers[0].config"),
    "input_shape 10^9 x 10^9": (
        lambda m: m["model"].update(input_shape=[10**9, 10**9]),
        "model.input_shape",
    ),
    "input_shape negative": (lambda m: m["model"].update(input_shape=[-2]), "model.input_shape"),
    "seed 10**30": (lambda m: m["model"].update(seed=10**30), "model.seed"),
    "no layers": (lambda m: m["model"].update(layers=[]), "model.layers"),
    "layer not a dict": (lambda m: _layers(m).append(3), "model.layers[2]"),
    "unknown layer": (
        lambda m: _layers(m)[0].update(class_name="os.system"),
        "model.layers[0].class_name",
    ),
    "NaN hyper-parameter": (
        lambda m: _layers(m).insert(
            1, {"class_name": "Dropout", "config": {"rate": float("nan"), "name": "d"}}
        ),
        "model.layers[1].config.rate",
    ),
    "extra weight array": (None, "weights"),
    "iterations=-1": (lambda m: m["state"]["optimizer"].update(iterations=-1), "iterations"),
    "iterations=-10**6": (
        lambda m: m["state"]["optimizer"].update(iterations=-(10**6)),
        "iterations",
    ),
    "iterations=2**60": (lambda m: m["state"]["optimizer"].update(iterations=2**60), "iterations"),
    "iterations=true": (lambda m: m["state"]["optimizer"].update(iterations=True), "iterations"),
    "truncated slots": (
        lambda m: m["state"]["optimizer"].update(slots=m["state"]["optimizer"]["slots"][:2]),
        "slots for 2 parameters but there are 4",
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_forged_architecture_and_state_are_refused_cheaply(case, tmp_path, trained_file, forge):
    edit, field = CASES[case]
    arrays_edit = None
    if case == "extra weight array":
        arrays_edit = lambda a: a.update({"weights/4": np.zeros(3, np.float32)})  # noqa: E731
    path = _forge(forge, trained_file, tmp_path / "forged.nnx", edit, arrays_edit)
    _refused(path, field)


def test_json_nested_100000_deep_is_refused(tmp_path, trained_file, forge):
    def edit(header):
        header["model"] = "[" * 100_000 + "]" * 100_000

    path = forge.rewrite(trained_file, tmp_path / "deep.nnx", edit)
    _refused(path, "'model' nested more than 64 deep")


def test_a_huge_integer_is_refused(tmp_path, trained_file, forge):
    def edit(header):
        header["state"] = '{"rng": ' + "9" * 4000 + "}"

    path = forge.rewrite(trained_file, tmp_path / "int.nnx", edit)
    _refused(path, "'state' holding the integer")


@pytest.mark.parametrize(
    ("dtype", "name"), [(np.int8, "int8"), (np.complex64, "complex64"), (np.float64, "float64")]
)
def test_slots_of_another_dtype_are_refused_not_cast(dtype, name, tmp_path, trained_file, forge):
    def edit(arrays):
        arrays["optimizer/0/momentum"] = arrays["optimizer/0/momentum"].astype(dtype)

    path = _forge(forge, trained_file, tmp_path / "slot.nnx", edit_arrays=edit)
    message = _refused(path, "field state")
    assert "slot 'momentum' of parameter 0 ('dense" in message and f"is {name}" in message


def test_a_missing_slot_is_refused(tmp_path, trained_file, forge):
    path = _forge(
        forge,
        trained_file,
        tmp_path / "slot.nnx",
        edit_arrays=lambda a: a.pop("optimizer/1/velocity"),
    )
    _refused(path, "field state")


def test_a_weight_of_another_dtype_is_refused(tmp_path, trained_file, forge):
    def edit(arrays):
        arrays["weights/0"] = arrays["weights/0"].astype(np.float64)

    path = _forge(forge, trained_file, tmp_path / "dtype.nnx", edit_arrays=edit)
    _refused(path, "weights/0")


def test_a_metadata_member_over_its_limit_is_refused(tmp_path, trained_file, monkeypatch):
    monkeypatch.setattr("nnx.saving.container.MAX_METADATA_BYTES", 100)
    _refused(trained_file, "metadata member")


def test_a_file_over_max_bytes_is_refused(trained_file):
    size = trained_file.stat().st_size
    _refused(trained_file, f"more than max_bytes={size - 1}", max_bytes=size - 1)
    assert nnx.load(trained_file, max_bytes=size).count_params() == 13


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="POSIX FIFOs")
def test_a_fifo_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "model.nnx"
    os.mkfifo(fifo)
    result = {}
    worker = threading.Thread(target=lambda: result.update(m=_try_load(fifo)), daemon=True)
    worker.start()
    worker.join(5)
    assert not worker.is_alive(), "nnx.load blocked on a FIFO"
    assert "is a FIFO" in result["m"] and repr(str(fifo)) in result["m"]


def _try_load(path):
    try:
        nnx.load(path)
    except FileFormatError as error:
        return str(error)
    return "loaded"


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="POSIX devices")
def test_dev_zero_and_directories_are_refused(tmp_path):
    _refused(pathlib.Path("/dev/zero"), "is a character device")
    _refused(tmp_path, "is a directory")


@pytest.mark.parametrize("kind", ["wide", "deep"])
def test_loading_costs_a_small_multiple_of_the_file_size(kind, tmp_path):
    """A genuine file: peak memory within 3x its size (+ 16 MB), Python calls within 2 per byte
    (+ 100k): the 1000-layer file's ~0.35 MB load makes ~340k."""
    if kind == "wide":  # 1M weights with Adam's two slots: a 12 MB file
        model = nnx.Sequential([Dense(1000, input_shape=(1000,))], seed=0)
        model.compile("adam", "mse")
        model.fit(np.ones((2, 1000)), np.ones((2, 1000)), verbose=0)
    else:  # 1000 layers of metadata (rng states): a 0.35 MB file
        model = nnx.Sequential(
            [Dense(2, input_shape=(2,))] + [nnx.layers.Dropout(0.1) for _ in range(1000)]
        )
    path = tmp_path / "model.nnx"
    model.save(path)
    size = path.stat().st_size
    _, calls = _counted(lambda: nnx.load(path))
    tracemalloc.start()
    try:
        loaded = nnx.load(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert loaded.count_params() == model.count_params()
    assert peak < 3 * size + PEAK_BYTES, f"{peak / size:.1f}x the file's {size} bytes"
    assert calls < 2 * size + CALLS, f"{calls} calls for the file's {size} bytes"


def test_load_draws_no_initial_weights(trained_file, monkeypatch):
    """The layers take the stored arrays: no initializer runs during nnx.load."""
    expected = nnx.load(trained_file).get_weights()

    def refuse(self, *args, **kwargs):
        raise AssertionError(f"{type(self).__name__} drew weights during nnx.load")

    monkeypatch.setattr(nnx.initializers.Initializer, "__call__", refuse)
    loaded = nnx.load(trained_file)
    assert all(
        a.tobytes() == b.tobytes() for a, b in zip(expected, loaded.get_weights(), strict=True)
    )
