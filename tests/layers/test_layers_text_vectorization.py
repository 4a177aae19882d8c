"""``TextVectorization``: Keras's vocabulary order and special tokens, standardize / split /
n-grams, the four output modes by hand, a given vocabulary, argument errors, and the layer as
the first of a Sequential on every backend (strings on the host, numbers on the backend),
saved and loaded with its vocabulary."""

from __future__ import annotations

import math

import numpy as np
import pytest

import nnx
from nnx.layers import Dense, Embedding, GlobalAveragePooling1D, TextVectorization, layer_class

DOCS = ["The cat sat.", "The DOG sat!", "a cat, a cat"]


def test_vocabulary_by_frequency_then_ties_in_descending_order():
    layer = TextVectorization()
    layer.adapt(DOCS)
    # counts: cat 3, a 2, sat 2, the 2, dog 1 -> ties (a, sat, the) in descending order
    assert layer.get_vocabulary() == ["", "[UNK]", "cat", "the", "sat", "a", "dog"]
    assert layer.get_vocabulary(include_special_tokens=False)[0] == "cat"
    assert layer.vocabulary_size() == 7
    small = TextVectorization(max_tokens=4)
    small.adapt(DOCS)
    assert small.get_vocabulary() == ["", "[UNK]", "cat", "the"]
    bag = TextVectorization(max_tokens=4, output_mode="multi_hot")
    bag.adapt(DOCS)
    assert bag.get_vocabulary() == ["[UNK]", "cat", "the", "sat"]


def test_int_mode_indices_padding_and_output_length(backend):
    layer = TextVectorization(output_sequence_length=5)
    layer.build((), backend)
    layer.adapt(DOCS)
    y = layer(["the cat", "A bird sat on the cat!"])
    assert backend.owns(y)
    assert backend.xp.isdtype(y.dtype, "integral")
    np.testing.assert_array_equal(backend.to_numpy(y), [[3, 2, 0, 0, 0], [5, 1, 4, 1, 3]])
    free = TextVectorization(vocabulary=["cat", "the"])
    np.testing.assert_array_equal(free(["the cat cat", "cat"]), [[3, 2, 2], [2, 0, 0]])


@pytest.mark.parametrize(
    ("standardize", "split", "expected"),
    [
        ("lower_and_strip_punctuation", "whitespace", [["hello", "world"]]),
        ("lower", "whitespace", [["hello,", "world!"]]),
        ("strip_punctuation", "whitespace", [["Hello", "World"]]),
        (None, None, [["Hello, World!"]]),
        ("lower_and_strip_punctuation", "character", [list("hello world")]),
        (lambda s: s.replace("World", "there"), lambda s: s.split(","), [["Hello", " there!"]]),
    ],
)
def test_standardize_and_split(standardize, split, expected):
    layer = TextVectorization(standardize=standardize, split=split)
    assert layer.tokenize(["Hello, World!"]) == expected


def test_ngrams_follow_the_unigrams():
    layer = TextVectorization(ngrams=2)
    assert layer.tokenize(["a b c"]) == [["a", "b", "c", "a b", "b c"]]
    assert TextVectorization(ngrams=(2,)).tokenize(["a b c"]) == [["a b", "b c"]]


def test_multi_hot_count_and_tf_idf_by_hand(backend):
    docs = ["a b b", "b c", "c c c d"]
    unseen = ["b b z a"]
    rows = {}
    for mode in ("multi_hot", "count", "tf_idf"):
        layer = TextVectorization(output_mode=mode)
        layer.build((), backend, None, "float64")
        layer.adapt(docs)
        assert layer.get_vocabulary() == ["[UNK]", "c", "b", "d", "a"]
        rows[mode] = backend.to_numpy(layer(unseen))[0]
    np.testing.assert_array_equal(rows["multi_hot"], [1, 0, 1, 0, 1])
    np.testing.assert_array_equal(rows["count"], [1, 0, 2, 0, 1])
    idf = [math.log(1 + 3 / (1 + df)) for df in (2, 2, 1, 1)]  # c, b, d, a
    expected = [np.mean(idf), 0, 2 * idf[1], 0, idf[3]]
    np.testing.assert_allclose(rows["tf_idf"], expected, rtol=1e-12)
    wide = TextVectorization(max_tokens=8, output_mode="count", pad_to_max_tokens=True)
    wide.adapt(docs)
    assert wide(unseen).shape == (1, 8)


def test_given_vocabulary_and_idf_weights():
    layer = TextVectorization(
        output_mode="tf_idf", vocabulary=["[UNK]", "x", "y"], idf_weights=[0.5, 2.0]
    )
    assert layer.get_vocabulary() == ["[UNK]", "x", "y"]
    np.testing.assert_allclose(layer(["y y q"]), [[1.25, 0.0, 4.0]])
    with pytest.raises(ValueError, match=r"idf_weights must have one weight per token \(2\)"):
        TextVectorization(output_mode="tf_idf", vocabulary=["x", "y"], idf_weights=[1.0])
    with pytest.raises(ValueError, match=r"idf_weights must be given with output_mode='tf_idf'"):
        TextVectorization(output_mode="tf_idf", vocabulary=["x"])
    with pytest.raises(ValueError, match=r"the vocabulary repeats a token"):
        TextVectorization(vocabulary=["x", "x"])


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"output_mode": "bag"}, ValueError, r"output_mode must be one of .*output_mode='bag'"),
        ({"standardize": "upper"}, ValueError, r"standardize must be one of .*'upper'"),
        ({"split": "comma"}, ValueError, r"split must be one of .*'comma'"),
        ({"ngrams": "x"}, TypeError, r"ngrams must be None, an int or a tuple.*'x'"),
        ({"max_tokens": 1}, ValueError, r"max_tokens.*max_tokens=1"),
        (
            {"output_mode": "count", "output_sequence_length": 3},
            ValueError,
            r"output_sequence_length is for output_mode='int' only",
        ),
        ({"pad_to_max_tokens": True}, ValueError, r"pad_to_max_tokens=True needs max_tokens"),
    ],
)
def test_bad_arguments_are_named(kwargs, error, message):
    with pytest.raises(error, match=message):
        TextVectorization(name="tv", **kwargs)


def test_inputs_strings_arrays_and_refusals():
    layer = TextVectorization(vocabulary=["b", "a"])
    as_column = np.array([["a b"], ["b"]])
    np.testing.assert_array_equal(layer(as_column), [[3, 2], [2, 0]])
    np.testing.assert_array_equal(layer(np.array(["a", "b b"])), [[3, 0], [2, 2]])
    np.testing.assert_array_equal(layer([b"a"]), [[3]])
    with pytest.raises(TypeError, match=r"TextVectorization 'text_vec.*' takes strings.* 3 "):
        TextVectorization(name="text_vec")(["a", 3])
    with pytest.raises(ValueError, match=r"custom standardize or split function cannot be saved"):
        TextVectorization(split=str.split).get_config()


def test_config_round_trip_keeps_the_vocabulary():
    layer = TextVectorization(max_tokens=6, ngrams=2, output_mode="tf_idf", name="tv")
    layer.adapt(DOCS)
    twin = layer_class("TextVectorization").from_config(layer.get_config())
    assert twin.get_vocabulary() == layer.get_vocabulary()
    np.testing.assert_array_equal(twin(DOCS), layer(DOCS))


def test_first_layer_of_a_sequential_fits_predicts_and_saves_on_every_backend(backend, tmp_path):
    vectorizer = TextVectorization(output_sequence_length=4, name="tv")
    vectorizer.adapt(["good fine", "bad awful", "good", "bad"])
    model = nnx.Sequential(
        [
            vectorizer,
            Embedding(vectorizer.vocabulary_size(), 4, mask_zero=True),
            GlobalAveragePooling1D(),
            Dense(1, activation="sigmoid"),
        ],
        backend=backend,
        seed=0,
    )
    texts = ["good fine", "bad", "fine good good", "awful bad"] * 4
    labels = np.array([1, 0, 1, 0] * 4)
    model.compile(nnx.optimizers.Adam(0.1), "binary_crossentropy", metrics=["accuracy"])
    history = model.fit(texts, labels, epochs=15, batch_size=8, verbose=0)
    assert history.history["accuracy"][-1] == 1.0
    predicted = model.predict(["good good", "awful awful"])
    assert predicted[0, 0] > 0.5 > predicted[1, 0]
    path = tmp_path / "text.nnx"
    model.save(path)
    loaded = nnx.load(path, backend=backend.name)
    assert loaded.layers[0].get_vocabulary() == vectorizer.get_vocabulary()
    np.testing.assert_array_equal(loaded.predict(texts), model.predict(texts))
    encoded = vectorizer.encode(texts)  # or: encode the dataset first, then fit on numbers
    np.testing.assert_array_equal(model.predict(encoded), model.predict(texts))
