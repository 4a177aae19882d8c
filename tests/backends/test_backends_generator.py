"""The seeded generator: the same numbers on every backend, masks, state round trip."""

from __future__ import annotations

import numpy as np

import nnx.backends as nb


def test_generator_is_seeded_and_identical_across_backends(backend):
    reference = nb.get_backend("numpy").rng(42)
    rng = backend.rng(42)
    for draw in ("normal", "uniform"):
        np.testing.assert_array_equal(
            backend.to_numpy(getattr(rng, draw)((3, 4))), getattr(reference, draw)((3, 4))
        )
    np.testing.assert_array_equal(backend.to_numpy(rng.permutation(10)), reference.permutation(10))
    ints = backend.to_numpy(rng.integers(0, 5, (100,)))
    assert ints.min() >= 0 and ints.max() < 5


def test_bernoulli_mask(backend):
    mask = backend.to_numpy(backend.rng(0).bernoulli((10000,), 0.3))
    assert set(np.unique(mask)) <= {0.0, 1.0}
    assert 0.27 < mask.mean() < 0.33


def test_generator_state_round_trip(backend):
    rng = backend.rng(1)
    state = rng.get_state()
    a = backend.to_numpy(rng.normal((5,)))
    rng.set_state(state)
    np.testing.assert_array_equal(a, backend.to_numpy(rng.normal((5,))))
