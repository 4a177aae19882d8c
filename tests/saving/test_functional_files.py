"""Graph models in files: the round trip gives identical predictions, per-output compile
settings and optimizer state; training continues alike; corrupted graphs are refused."""

from __future__ import annotations

import json

import numpy as np
import pytest

import nnx
from nnx.layers import Add, Concatenate, Dense, Dropout
from nnx.models import Functional
from nnx.saving import read

RNG = np.random.default_rng(6)


def _two_io(backend):
    a, b = nnx.Input((3,), name="a"), nnx.Input((2,), name="b")
    shared = Dense(3, activation="tanh", name="shared")
    h = Concatenate()([shared(a), shared(shared(a)), Dense(3, name="side")(b)])
    h = Dropout(0.2, seed=3)(h)
    outputs = {"p": Dense(1, activation="sigmoid", name="p")(h), "q": Dense(2, name="q")(h)}
    return nnx.Model({"a": a, "b": b}, outputs, backend=backend, seed=0, name="two")


def _data():
    xa, xb = RNG.normal(size=(32, 3)), RNG.normal(size=(32, 2))
    return {"a": xa, "b": xb}, {"p": (xa[:, :1] > 0).astype(float), "q": xb * 2}


def test_graph_round_trip_predicts_identically_and_trains_on_alike(backend, tmp_path):
    model = _two_io(backend)
    model.compile(
        nnx.optimizers.Adam(0.01),
        {"p": "binary_crossentropy", "q": "mse"},
        metrics={"p": ["accuracy"]},
        loss_weights={"p": 1.0, "q": 0.25},
    )
    x, y = _data()
    model.fit(x, y, epochs=2, batch_size=8, verbose=0)
    model.save(tmp_path / "two.nnx")
    clone = nnx.load(tmp_path / "two.nnx", backend=backend)
    assert type(clone) is Functional and clone.name == "two"
    assert clone.get_config() == model.get_config()
    assert [h.weight for h in clone.heads] == [1.0, 0.25]
    assert [m.name for m in clone.metrics] == ["p_loss", "q_loss", "p_accuracy"]
    ours, theirs = model.predict(x), clone.predict(x)
    assert set(theirs) == {"p", "q"}
    for k in ours:
        assert ours[k].tobytes() == theirs[k].tobytes()
    assert clone.optimizer.iterations == model.optimizer.iterations == 8
    h1 = model.fit(x, y, epochs=1, batch_size=8, verbose=0).history
    h2 = clone.fit(x, y, epochs=1, batch_size=8, verbose=0).history
    assert h1 == h2  # optimizer state, shuffling and dropout streams continue alike
    for w1, w2 in zip(model.get_weights(), clone.get_weights(), strict=True):
        assert w1.tobytes() == w2.tobytes()


def test_residual_graph_round_trip_across_backends(tmp_path):
    x = nnx.Input((4,))
    h = Dense(4, activation="relu")(x)
    model = nnx.Model(x, Dense(1)(Add()([x, h])), seed=0)
    model.save(tmp_path / "res.nnx")
    data = RNG.normal(size=(5, 4)).astype("float32")
    for target in nnx.available():
        clone = nnx.load(tmp_path / "res.nnx", backend=target)
        assert clone.loss is None and clone.backend.name == target
        np.testing.assert_array_equal(clone.predict(data), model.predict(data))


def test_a_corrupted_graph_is_refused_naming_what_is_missing(tmp_path):
    x = nnx.Input((2,), name="x")
    model = nnx.Model(x, Dense(1, name="out")(Dense(2, name="hidden")(x)), seed=0)
    config = model.get_config()
    config["nodes"][1]["inputs"] = [["hidden", 3]]
    layers = [type(layer).from_config(layer.get_config()) for layer in model.layers]
    with pytest.raises(ValueError, match=r"the graph refers to hidden\[3\], never computed"):
        Functional.from_layers(layers, config)
    model.save(tmp_path / "m.nnx")
    meta = read(tmp_path / "m.nnx")[1]
    assert meta["model"]["class_name"] == "Functional"
    assert json.loads(json.dumps(meta["model"])) == {
        **config,
        "nodes": model.get_config()["nodes"],
        "input_shape": [2],
    }


def test_sequential_files_still_load_as_sequential(tmp_path):
    model = nnx.Sequential([Dense(2, input_shape=(3,))], seed=0)
    model.save(tmp_path / "seq.nnx")
    assert type(nnx.load(tmp_path / "seq.nnx")) is nnx.Sequential
