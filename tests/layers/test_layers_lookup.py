"""``StringLookup`` and ``IntegerLookup``: Keras's documented examples reproduced exactly, the
index layout (mask, OOV, vocabulary), ``adapt`` order and limits, every output mode and its
shapes, ``invert``, IDF weights, argument errors, config and save/load, and a functional model
with a one-hot ``StringLookup`` branch beside a ``Normalization`` branch on every backend."""

from __future__ import annotations

import math

import numpy as np
import pytest

import nnx
from nnx.layers import (
    Concatenate,
    Dense,
    Embedding,
    GlobalAveragePooling1D,
    IntegerLookup,
    Normalization,
    StringLookup,
    layer_class,
)

VOCAB = ["a", "b", "c", "d"]
DATA = [["a", "c", "d"], ["d", "z", "b"]]
BAGS = [["a", "c", "d", "d"], ["d", "z", "b", "z"]]
IVOCAB = [12, 36, 1138, 42]
IBAGS = np.array([[12, 1138, 42, 42], [42, 7, 36, 7]])


def lst(y):
    return np.asarray(y).tolist()


# --- Keras's docstring examples (keras/src/layers/preprocessing/string_lookup.py) -------------
def test_keras_string_examples_int_adapt_and_invert():
    assert lst(StringLookup(vocabulary=VOCAB)(DATA)) == [[1, 3, 4], [4, 0, 2]]
    layer = StringLookup()
    layer.adapt(DATA)
    assert layer.get_vocabulary() == ["[UNK]", "d", "z", "c", "b", "a"]
    assert lst(layer(DATA)) == [[5, 3, 1], [1, 2, 4]]
    inverse = StringLookup(vocabulary=VOCAB, invert=True)
    assert lst(inverse([[1, 3, 4], [4, 0, 2]])) == [["a", "c", "d"], ["d", "[UNK]", "b"]]
    assert lst(inverse(StringLookup(vocabulary=VOCAB)(DATA))) == [
        ["a", "c", "d"],
        ["d", "[UNK]", "b"],
    ]


def test_keras_string_examples_encodings():
    one_hot = StringLookup(vocabulary=VOCAB, output_mode="one_hot")(["a", "b", "c", "d", "z"])
    assert lst(one_hot) == [
        [0, 1, 0, 0, 0],
        [0, 0, 1, 0, 0],
        [0, 0, 0, 1, 0],
        [0, 0, 0, 0, 1],
        [1, 0, 0, 0, 0],
    ]
    assert lst(StringLookup(vocabulary=VOCAB, output_mode="multi_hot")(BAGS)) == [
        [0, 1, 0, 1, 1],
        [1, 0, 1, 0, 1],
    ]
    assert lst(StringLookup(vocabulary=VOCAB, output_mode="count")(BAGS)) == [
        [0, 1, 0, 1, 2],
        [2, 0, 1, 0, 1],
    ]
    tf_idf = StringLookup(output_mode="tf_idf")
    tf_idf.set_vocabulary(VOCAB, idf_weights=[0.25, 0.75, 0.6, 0.4])
    np.testing.assert_allclose(
        tf_idf(BAGS), [[0, 0.25, 0, 0.6, 0.8], [1.0, 0, 0.75, 0, 0.4]], rtol=1e-6
    )
    tf_idf.set_vocabulary(["[UNK]", *VOCAB], idf_weights=[0.9, 0.25, 0.75, 0.6, 0.4])
    np.testing.assert_allclose(
        tf_idf(BAGS), [[0, 0.25, 0, 0.6, 0.8], [1.8, 0, 0.75, 0, 0.4]], rtol=1e-6
    )


# --- Keras's docstring examples (integer_lookup.py) ------------------------------------------
def test_keras_integer_examples():
    data = np.array([[12, 1138, 42], [42, 1000, 36]])
    assert lst(IntegerLookup(vocabulary=IVOCAB)(data)) == [[1, 3, 4], [4, 0, 2]]
    layer = IntegerLookup()
    layer.adapt(data)
    assert layer.get_vocabulary() == [-1, 42, 1138, 1000, 36, 12]
    assert lst(layer(data)) == [[5, 2, 1], [1, 3, 4]]
    two = IntegerLookup(vocabulary=IVOCAB, num_oov_indices=2)  # floormod: 37 -> 1, 1000 -> 0
    assert lst(two(np.array([[12, 1138, 42], [37, 1000, 36]]))) == [[2, 4, 5], [1, 0, 3]]
    assert lst(IntegerLookup(vocabulary=IVOCAB, output_mode="one_hot")([12, 36, 1138, 42, 7])) == [
        [0, 1, 0, 0, 0],
        [0, 0, 1, 0, 0],
        [0, 0, 0, 1, 0],
        [0, 0, 0, 0, 1],
        [1, 0, 0, 0, 0],
    ]
    assert lst(IntegerLookup(vocabulary=IVOCAB, output_mode="multi_hot")(IBAGS)) == [
        [0, 1, 0, 1, 1],
        [1, 0, 1, 0, 1],
    ]
    assert lst(IntegerLookup(vocabulary=IVOCAB, output_mode="count")(IBAGS)) == [
        [0, 1, 0, 1, 2],
        [2, 0, 1, 0, 1],
    ]
    tf_idf = IntegerLookup(
        output_mode="tf_idf", vocabulary=[-1, *IVOCAB], idf_weights=[0.9, 0.25, 0.75, 0.6, 0.4]
    )
    np.testing.assert_allclose(
        tf_idf(IBAGS), [[0, 0.25, 0, 0.6, 0.8], [1.8, 0, 0.75, 0, 0.4]], rtol=1e-6
    )
    inverse = IntegerLookup(vocabulary=layer.get_vocabulary(), invert=True)
    assert lst(inverse(layer(data))) == data.tolist()
    assert lst(IntegerLookup(vocabulary=IVOCAB, invert=True)([[1, 3, 4], [4, 0, 2]])) == [
        [12, 1138, 42],
        [42, -1, 36],
    ]


# --- index layout, adapt --------------------------------------------------------------------
def test_mask_token_is_index_zero_in_int_mode_and_dropped_in_bag_modes():
    layer = StringLookup(mask_token="", vocabulary=["a", "b"])
    assert layer.get_vocabulary() == ["", "[UNK]", "a", "b"]
    assert layer.get_vocabulary(include_special_tokens=False) == ["a", "b"]
    assert layer.vocabulary_size() == 4
    assert lst(layer([["a", "", "q"]])) == [[2, 0, 1]]
    inverse = StringLookup(mask_token="", vocabulary=["a", "b"], invert=True)
    assert lst(inverse([[2, 0, 1, 9]])) == [["a", "", "[UNK]", "[UNK]"]]
    bag = StringLookup(mask_token="", vocabulary=["a", "b"], output_mode="count")
    assert bag.get_vocabulary() == ["[UNK]", "a", "b"]
    assert lst(bag([["a", "", "", "q"]])) == [[1, 1, 0]]
    # the special tokens may lead a given vocabulary, in their order
    again = StringLookup(mask_token="", vocabulary=["", "[UNK]", "a", "b"])
    assert again.get_vocabulary() == layer.get_vocabulary()


def test_adapt_orders_by_count_then_descending_token_and_skips_special_tokens():
    data = [["b", "a", "c", "a", "[UNK]", "", ""], ["c", "d"]]
    layer = StringLookup(mask_token="")
    layer.adapt(data)
    # a 2, c 2, b 1, d 1: ties in descending order; "" and "[UNK]" are not vocabulary
    assert layer.get_vocabulary() == ["", "[UNK]", "c", "a", "d", "b"]
    small = StringLookup(max_tokens=3)
    small.adapt(data)
    assert small.get_vocabulary() == ["[UNK]", "c", "a"]
    ints = IntegerLookup(mask_token=0)
    ints.adapt(np.array([5, 5, 0, 3, -1, 9, 9]))
    assert ints.get_vocabulary() == [0, -1, 9, 5, 3]
    zero_oov = StringLookup(num_oov_indices=0)
    zero_oov.adapt(["x", "y", "y"])
    assert zero_oov.get_vocabulary() == ["y", "x"]
    assert lst(zero_oov(["x", "y"])) == [1, 0]


def test_adapted_idf_weights_and_padding_to_max_tokens():
    docs = [["a", "a", "b"], ["b", "c"], ["a"]]
    layer = StringLookup(output_mode="tf_idf", max_tokens=6, pad_to_max_tokens=True)
    layer.adapt(docs)
    assert layer.get_vocabulary() == ["[UNK]", "a", "b", "c"]
    idf = [math.log(1 + 3 / (1 + df)) for df in (2, 2, 1)]  # a, b, c
    expected = [2 * idf[0], idf[1], 0.0]
    y = layer([["a", "a", "b", "z"]])
    assert y.shape == (1, 6)
    np.testing.assert_allclose(y, [[sum(idf) / 3, *expected, 0.0, 0.0]], rtol=1e-6)
    count = StringLookup(vocabulary=["a"], output_mode="multi_hot", max_tokens=4)
    assert count.compute_output_shape((3,)) == (2,)
    padded = StringLookup(
        vocabulary=["a"], output_mode="multi_hot", max_tokens=4, pad_to_max_tokens=True
    )
    assert lst(padded([["a", "q"]])) == [[1, 1, 0, 0]]


def test_output_shapes_of_each_mode():
    layer = StringLookup(vocabulary=VOCAB, output_mode="one_hot")
    assert np.shape(layer(np.array(["a", "b"]))) == (2, 5)
    assert np.shape(layer(np.array([["a"], ["b"]]))) == (2, 5)  # a last axis of 1 is replaced
    assert np.shape(layer(np.array([["a", "b", "c"]]))) == (1, 3, 5)
    assert np.shape(layer(np.array([[["a"], ["b"], ["c"]]]))) == (1, 3, 5)
    assert layer.compute_output_shape((1,)) == (5,)
    assert layer.compute_output_shape((3,)) == (3, 5)
    bag = StringLookup(vocabulary=VOCAB, output_mode="multi_hot")
    assert lst(bag(["a", "d", "a"])) == [0, 1, 0, 0, 1]  # rank 1: one sample
    assert bag.compute_output_shape((3,)) == (5,)
    ints = StringLookup(vocabulary=VOCAB)
    assert np.shape(ints(np.array([[["a"], ["b"]]]))) == (1, 2, 1)
    assert lst(ints("c")) == 3
    assert lst(ints([b"c", "d"])) == [3, 4]  # bytes are decoded (utf-8)


def test_outputs_are_arrays_of_the_layers_backend(backend):
    layer = StringLookup(vocabulary=VOCAB, output_mode="count")
    layer.build((4,), backend)
    y = layer(BAGS)
    assert backend.owns(y)
    assert y.dtype == backend.dtype("float32")
    ints = IntegerLookup(vocabulary=IVOCAB)
    ints.build((3,), backend)
    z = ints(backend.asarray([[12, 7, 42]]))  # a backend array goes through the host
    assert backend.owns(z)
    assert backend.to_numpy(z).tolist() == [[1, 0, 4]]
    inverse = IntegerLookup(vocabulary=IVOCAB, invert=True)
    inverse.build((3,), backend)
    assert backend.to_numpy(inverse(z)).tolist() == [[12, -1, 42]]
    assert backend.owns(IntegerLookup(vocabulary=IVOCAB)(backend.asarray([[12]])))  # unbuilt


def test_adapt_then_invert_round_trips():
    words = np.array([["x", "y", "y"], ["z", "y", "x"]])
    forward = StringLookup()
    forward.adapt(words)
    inverse = StringLookup(vocabulary=forward.get_vocabulary(), invert=True)
    assert lst(inverse(forward(words))) == words.tolist()


# --- errors ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: StringLookup(num_oov_indices=2, name="s"), r"'s'.*num_oov_indices=2"),
        (lambda: StringLookup(sparse=True), r"sparse=True"),
        (lambda: StringLookup(output_mode="binary"), r"output_mode='binary'"),
        (lambda: StringLookup(max_tokens=1), r"max_tokens"),
        (lambda: StringLookup(num_oov_indices=-1), r"num_oov_indices"),
        (lambda: StringLookup(invert=True, output_mode="one_hot"), r"output_mode='one_hot'"),
        (lambda: StringLookup(pad_to_max_tokens=True), r"pad_to_max_tokens"),
        (lambda: StringLookup(vocabulary=VOCAB, output_mode="tf_idf"), r"idf_weights"),
        (lambda: StringLookup(vocabulary=VOCAB, idf_weights=[1.0] * 4), r"idf_weights"),
        (lambda: StringLookup(vocabulary=["a", "b", "a"]), r"repeats.*'a'"),
        (lambda: StringLookup(vocabulary=[]), r"empty vocabulary"),
        (lambda: StringLookup(mask_token="", vocabulary=["a", ""]), r"mask_token=''"),
        (lambda: StringLookup(invert=True, vocabulary=["a", "[UNK]"]), r"oov_token='\[UNK\]'"),
        (lambda: StringLookup(max_tokens=3, vocabulary=VOCAB), r"max_tokens=3"),
        (lambda: IntegerLookup(oov_method="farmhash"), r"oov_method='farmhash'"),
        (lambda: IntegerLookup(vocabulary_dtype="string"), r"vocabulary_dtype='string'"),
    ],
)
def test_bad_arguments_name_the_layer_argument_and_value(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_bad_inputs_are_clear_errors():
    strict = StringLookup(vocabulary=VOCAB, num_oov_indices=0, name="strict")
    with pytest.raises(ValueError, match=r"'strict'.*num_oov_indices=0.*\['z'\]"):
        strict([["a", "z"]])
    with pytest.raises(TypeError, match=r"StringLookup .* takes strings, received 3"):
        StringLookup().adapt([["a", 3]])
    with pytest.raises(TypeError, match=r"integer tokens.*received 1.5"):
        IntegerLookup(vocabulary=IVOCAB)([1.5])
    with pytest.raises(TypeError, match=r"integer tokens.*received nan"):
        IntegerLookup(vocabulary=IVOCAB)(np.array([np.nan]))
    fixed = StringLookup(vocabulary=VOCAB, name="fixed")
    with pytest.raises(ValueError, match=r"'fixed': cannot adapt"):
        fixed.adapt(DATA)
    with pytest.raises(ValueError, match=r"rank 2 at most"):
        StringLookup(vocabulary=VOCAB, output_mode="count")([[["a"]]])


# --- config, saving, models -----------------------------------------------------------------
def test_config_round_trip_keeps_vocabulary_and_weights():
    layer = StringLookup(output_mode="tf_idf", mask_token="", encoding="utf-8")
    layer.adapt(BAGS)
    clone = layer_class("StringLookup").from_config(layer.get_config())
    assert clone.get_vocabulary() == layer.get_vocabulary()
    np.testing.assert_allclose(clone(BAGS), layer(BAGS), rtol=1e-6)
    ints = IntegerLookup(num_oov_indices=3, mask_token=0)
    ints.adapt(IBAGS)
    clone_i = IntegerLookup.from_config(ints.get_config())
    assert clone_i.get_vocabulary() == ints.get_vocabulary() == [0, -1, -1, -1, 42, 7, 1138, 36, 12]
    # unknown 5 -> OOV index 1 + (5 mod 3)
    assert lst(clone_i([[5, 42]])) == lst(ints([[5, 42]])) == [[3, 4]]
    empty = StringLookup.from_config(StringLookup().get_config())
    assert empty.get_vocabulary() == ["[UNK]"]


def test_sequential_starting_with_string_lookup_trains_saves_and_loads(tmp_path, backend):
    x = np.array([["a", "b"], ["b", "c"], ["a", "a"], ["c", "c"]] * 8)
    y = np.array([1, 0, 1, 0] * 8, dtype="float32")
    lookup = StringLookup(input_shape=(2,))
    lookup.adapt(x)
    model = nnx.Sequential(
        [lookup, Embedding(lookup.vocabulary_size(), 4), GlobalAveragePooling1D(), Dense(1)],
        backend=backend,
        seed=0,
    )
    model.compile("adam", "mse")
    model.fit(x, y, epochs=2, verbose=0)
    path = tmp_path / "lookup.nnx"
    model.save(path)
    loaded = nnx.load(path)
    assert loaded.layers[0].get_vocabulary() == lookup.get_vocabulary()
    np.testing.assert_allclose(loaded.predict(x), model.predict(x), rtol=1e-6)


def test_functional_one_hot_branch_and_normalization_beat_the_majority_class(tmp_path, backend):
    rng = np.random.default_rng(0)
    n = 400
    color = rng.choice(["red", "green", "blue", "black"], size=(n, 1))
    numbers = rng.normal(size=(n, 2)) * 5 + 3
    y = (np.isin(color[:, 0], ["red", "blue"]) ^ (numbers[:, 0] > 3)).astype("float32")
    lookup = StringLookup(output_mode="one_hot")
    lookup.adapt(color)
    norm = Normalization()
    norm.adapt(backend.asarray(numbers, "float32"))
    a = nnx.Input((1,), name="color", dtype="string")
    b = nnx.Input((2,), name="numbers")
    h = Dense(16, activation="relu")(Concatenate()([lookup(a), norm(b)]))
    model = nnx.Model([a, b], Dense(1, activation="sigmoid")(h), backend=backend, seed=0)
    assert model.output_shape == (1,)
    model.compile("adam", "binary_crossentropy", metrics=["accuracy"])
    model.fit([color, numbers], y, epochs=25, batch_size=32, verbose=0)
    _, accuracy = model.evaluate([color, numbers], y, verbose=0)
    majority = max(y.mean(), 1 - y.mean())
    assert accuracy > majority + 0.2
    path = tmp_path / "table.nnx"
    model.save(path)
    loaded = nnx.load(path)
    by_name = {"color": color[:5], "numbers": numbers[:5]}
    np.testing.assert_allclose(
        loaded.predict(by_name), model.predict([color[:5], numbers[:5]]), rtol=1e-6
    )


def test_sequential_from_a_string_input_one_hot(backend):
    x = np.array([["a"], ["b"], ["c"], ["a"]] * 4)
    lookup = StringLookup(output_mode="one_hot")
    lookup.adapt(x)
    model = nnx.Sequential(
        [nnx.Input((1,), dtype="string"), lookup, Dense(1)], backend=backend, seed=0
    )
    assert model.layers[1].output_shape == (4,)
    model.compile("sgd", "mse")
    model.fit(x, np.ones(16, "float32"), epochs=1, verbose=0)
    assert model.predict(x).shape == (16, 1)
    text = nnx.Input((1,), dtype="string")
    plain = nnx.Model(text, Dense(1)(text), backend=backend)  # only a lookup encodes strings
    with pytest.raises(TypeError, match="must hold numbers"):
        plain.predict(x)
