"""Model files that parse but must not load: tampered headers, unknown layers, newer formats,
weights that do not fit, bad paths."""

from __future__ import annotations

import json

import pytest

import nnx
from nnx.layers import Dense
from nnx.saving import FileFormatError


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
def test_tampered_headers_are_refused(tmp_path, edit, saved_file, forge):
    path = forge.rewrite(saved_file, tmp_path / "tampered.nnx", edit)
    with pytest.raises(FileFormatError):
        nnx.load(path)


def test_unknown_layer_is_refused(tmp_path, saved_file, forge):
    def edit(header):
        model = json.loads(header["model"])
        model["layers"][0]["class_name"] = "os.system"
        header["model"] = json.dumps(model)

    path = forge.rewrite(saved_file, tmp_path / "unknown.nnx", edit)
    with pytest.raises(ValueError, match=r"Unknown layer type 'os.system'.*register_layer"):
        nnx.load(path)


def test_newer_format_version_is_refused(tmp_path, saved_file, forge):
    def edit(header):
        header["format_version"] = "99"

    path = forge.rewrite(saved_file, tmp_path / "new.nnx", edit)
    with pytest.raises(FileFormatError, match="version 99, newer.*upgrade nnx"):
        nnx.load(path)


def test_shape_mismatch_is_refused(tmp_path, saved_file, forge):
    def edit(header):
        model = json.loads(header["model"])
        model["layers"][1]["config"]["units"] = 2
        header["model"] = json.dumps(model)

    path = forge.rewrite(saved_file, tmp_path / "shape.nnx", edit)
    with pytest.raises(
        FileFormatError, match=r"weights/2 .*declares shape \(3, 2\), the file holds \(3, 1\)"
    ):
        nnx.load(path)
    wider = nnx.Sequential([Dense(4, input_shape=(2,)), Dense(1)])
    with pytest.raises(ValueError, match="in the model but"):
        wider.load_weights(saved_file)


def test_bad_layer_config_is_refused(tmp_path, saved_file, forge):
    def edit(header):
        model = json.loads(header["model"])
        model["layers"][0]["config"]["units"] = -3
        header["model"] = json.dumps(model)

    path = forge.rewrite(saved_file, tmp_path / "cfg.nnx", edit)
    with pytest.raises(
        FileFormatError, match=r"model.layers\[0\].config: cannot rebuild layer Dense"
    ):
        nnx.load(path)


def test_missing_file():
    with pytest.raises(FileNotFoundError):
        nnx.load("/nonexistent/model.nnx")


@pytest.mark.parametrize("path", [3, None, b"model.nnx"])
def test_path_must_be_a_path(path):
    with pytest.raises(TypeError, match="path must be a str or os.PathLike"):
        nnx.load(path)


def test_unknown_backend_is_refused(saved_file):
    with pytest.raises(ValueError, match="nope"):
        nnx.load(saved_file, backend="nope")
