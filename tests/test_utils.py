"""nnx.utils: set_random_seed and its scope, to_categorical, the Sequence alias."""

from __future__ import annotations

import numpy as np
import pytest

import nnx
from nnx.data import PyDataset
from nnx.preprocessing.image import ImageDataGenerator
from nnx.utils import Sequence, next_seed, seeded, set_random_seed, to_categorical


def _weights():
    return nnx.Sequential([nnx.layers.Dense(3, input_shape=(2,))]).get_weights()[0]


def test_set_random_seed_makes_unseeded_models_repeat_and_differ_from_each_other():
    with seeded(1):
        set_random_seed(5)
        first, second = _weights(), _weights()
        set_random_seed(5)
        np.testing.assert_array_equal(first, _weights())
        np.testing.assert_array_equal(second, _weights())
        assert not np.allclose(first, second)
    assert next_seed() is None  # the scope ended: no seed leaks into other code


def test_an_explicit_seed_wins_and_flow_follows_the_stream():
    with seeded(3):
        a = nnx.Sequential([nnx.layers.Dense(3, input_shape=(2,))], seed=0).get_weights()[0]
    b = nnx.Sequential([nnx.layers.Dense(3, input_shape=(2,))], seed=0).get_weights()[0]
    np.testing.assert_array_equal(a, b)
    x = np.random.default_rng(0).normal(size=(6, 4, 4, 1))
    gen = ImageDataGenerator(rotation_range=45)
    batches = []
    for _ in range(2):
        with seeded(7):
            batches.append(gen.backend.to_numpy(gen.flow(x, batch_size=6)[0]))
    np.testing.assert_array_equal(*batches)


@pytest.mark.parametrize("seed", [-1, 1.5, "0", True])
def test_bad_seeds_are_refused(seed):
    with pytest.raises(ValueError, match="seed"):
        set_random_seed(seed)


def test_to_categorical_on_host_data_and_on_each_backend(backend):
    assert to_categorical([1, 0], num_classes=3).tolist() == [[0, 1, 0], [1, 0, 0]]
    codes = to_categorical(backend.asarray(np.array([[2], [0]])))
    assert backend.owns(codes)
    assert backend.to_numpy(codes).tolist() == [[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]


def test_sequence_is_keras_2s_name_for_py_dataset():
    assert Sequence is PyDataset
