"""Keras's numeric preprocessing layers: ``Normalization`` (adapt, given statistics, invert),
``Discretization`` and ``CategoryEncoding``, against NumPy's formulas, on every backend; the
TensorFlow "basic regression" flow (adapt, then the layer at the head of a model) trains, saves
and reloads with its statistics."""

from __future__ import annotations

import numpy as np
import pytest

import nnx
from nnx.layers import CategoryEncoding, Dense, Discretization, Normalization

RNG = np.random.default_rng(0)


def test_adapt_learns_the_mean_and_population_variance_per_feature(backend, to_np):
    x = RNG.normal(loc=[1.0, -5.0, 30.0], scale=[0.5, 2.0, 10.0], size=(200, 3))
    norm = Normalization()
    norm.adapt(backend.asarray(x, "float64"))
    y = to_np(norm(backend.asarray(x, "float64")))
    np.testing.assert_allclose(y, (x - x.mean(0)) / x.std(0), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(to_np(norm.mean.value), x.mean(0), rtol=1e-6)
    np.testing.assert_allclose(to_np(norm.variance.value), x.var(0), rtol=1e-5)


@pytest.mark.parametrize(
    ("axis", "reduce"), [(None, (0, 1, 2)), (1, (0, 2)), ((1, 2), (0,)), (-1, (0, 1))]
)
def test_kept_axes_match_keras(backend, to_np, axis, reduce):
    x = RNG.normal(size=(16, 4, 5)) * np.arange(1, 6)
    norm = Normalization(axis=axis)
    norm.adapt(backend.asarray(x, "float64"))
    mean = x.mean(axis=reduce, keepdims=True)
    std = x.std(axis=reduce, keepdims=True)
    np.testing.assert_allclose(
        to_np(norm(backend.asarray(x, "float64"))), (x - mean) / std, rtol=1e-5, atol=1e-6
    )


def test_adapting_batch_by_batch_equals_adapting_at_once():
    x = RNG.normal(loc=3.0, scale=[1.0, 4.0], size=(103, 2))
    whole, batched = Normalization(), Normalization()
    whole.adapt(x)
    batched.adapt(x[i : i + 10] for i in range(0, 103, 10))
    probe = RNG.normal(size=(5, 2))
    np.testing.assert_allclose(batched(probe), whole(probe), rtol=1e-10)
    first_two = Normalization()
    first_two.adapt((x[i : i + 10] for i in range(0, 103, 10)), steps=2)
    np.testing.assert_allclose(first_two.mean.value, x[:20].mean(0), rtol=1e-6)


def test_given_statistics_invert_and_a_constant_feature(backend, to_np):
    x = RNG.normal(size=(6, 3))
    norm = Normalization(mean=[1.0, 2.0, 3.0], variance=[4.0, 0.25, 0.0])
    y = to_np(norm(backend.asarray(x, "float64")))
    std = np.maximum(np.sqrt([4.0, 0.25, 0.0]), 1e-7)
    np.testing.assert_allclose(y, (x - [1.0, 2.0, 3.0]) / std, rtol=1e-6)
    back = Normalization(mean=[1.0, 2.0, 3.0], variance=[4.0, 0.25, 0.0], invert=True)
    np.testing.assert_allclose(to_np(back(backend.asarray(y, "float64"))), x, rtol=1e-6, atol=1e-6)
    constant = Normalization()
    constant.adapt(np.ones((10, 2)))
    assert np.isfinite(constant(np.ones((3, 2)))).all()


def test_normalization_gradients(backend):
    norm = Normalization(axis=(1, 2))
    x = RNG.normal(size=(5, 3, 2)) * 3 + 1
    norm.adapt(x)
    assert nnx.gradcheck(norm, x, backend=backend)["input"] < 1e-8
    inverse = Normalization(mean=2.0, variance=9.0, invert=True)
    assert nnx.gradcheck(inverse, x, backend=backend)["input"] < 1e-8


def test_the_basic_regression_flow_trains_saves_and_reloads(tmp_path):
    features = RNG.normal(loc=[1000.0, 5.0, -40.0], scale=[300.0, 2.0, 10.0], size=(300, 3))
    target = (features - [1000.0, 5.0, -40.0]) / [300.0, 2.0, 10.0] @ [1.0, -2.0, 0.5] + 3.0
    normalizer = Normalization(axis=-1)
    normalizer.adapt(np.array(features))
    model = nnx.Sequential([normalizer, Dense(32, activation="relu"), Dense(1)], seed=0)
    model.compile(loss="mean_absolute_error", optimizer=nnx.optimizers.Adam(0.01))
    history = model.fit(features, target, validation_split=0.2, epochs=30, verbose=0)
    assert history.history["val_loss"][-1] < 0.3 * np.abs(target - target.mean()).mean()
    path = tmp_path / "regression.keras"
    model.save(path)
    loaded = nnx.load(path)
    np.testing.assert_allclose(loaded.predict(features[:5]), model.predict(features[:5]))
    np.testing.assert_allclose(loaded.layers[0].mean.value, features.mean(0), rtol=1e-5)


def test_normalization_refuses_bad_arguments_and_data():
    with pytest.raises(ValueError, match="batch axis"):
        Normalization(axis=0)
    with pytest.raises(ValueError, match="both mean and variance"):
        Normalization(mean=1.0)
    with pytest.raises(ValueError, match="variance must be >= 0"):
        Normalization(mean=[0.0], variance=[-1.0])
    with pytest.raises(ValueError, match="no data"):
        Normalization().adapt(iter([]))
    with pytest.raises(ValueError, match="NaN or infinite"):
        Normalization().adapt(np.array([[1.0], [np.nan]]))
    with pytest.raises(ValueError, match=r"axis=3 is not a feature axis"):
        Normalization(axis=3).adapt(np.ones((4, 2)))
    built = Normalization()
    built(np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"statistics of shape \(4,\).*keeps \(3,\)"):
        built.adapt(np.ones((5, 4)))


@pytest.mark.parametrize("mode", ["one_hot", "multi_hot", "count"])
def test_category_encoding_matches_keras(backend, to_np, mode):
    ids = np.array([[0, 3, 3], [2, 1, 0]])
    y = to_np(CategoryEncoding(num_tokens=5, output_mode=mode)(backend.asarray(ids, "int64")))
    if mode == "one_hot":
        expected = np.eye(5)[ids]
    else:
        counts = np.stack([np.bincount(row, minlength=5) for row in ids])
        expected = counts if mode == "count" else (counts > 0).astype(float)
    np.testing.assert_array_equal(y, expected)
    column = to_np(CategoryEncoding(5, output_mode="one_hot")(backend.asarray([[4], [1]], "int64")))
    np.testing.assert_array_equal(column, np.eye(5)[[4, 1]])


def test_category_encoding_refuses_ids_out_of_range():
    with pytest.raises(ValueError, match=r"id 5 is outside \[0, num_tokens=5\)"):
        CategoryEncoding(5)(np.array([[1, 5]]))
    with pytest.raises(ValueError, match="num_tokens is required"):
        CategoryEncoding()


def test_discretization_bins_and_adapted_quantiles(backend, to_np):
    x = RNG.normal(size=(50, 4))
    bounds = [-1.0, 0.0, 0.5]
    y = to_np(Discretization(bin_boundaries=bounds)(backend.asarray(x, "float64")))
    np.testing.assert_array_equal(y, np.digitize(x, bounds))
    layer = Discretization(num_bins=4)
    layer.adapt(backend.asarray(x, "float64"))
    np.testing.assert_allclose(layer.bin_boundaries, np.quantile(x, [0.25, 0.5, 0.75]))
    counts = np.bincount(to_np(layer(backend.asarray(x, "float64"))).ravel(), minlength=4)
    assert counts.min() >= 45  # four bins of about 50 values each
    hot = Discretization(bin_boundaries=bounds, output_mode="one_hot")
    np.testing.assert_array_equal(
        to_np(hot(backend.asarray(x[:, :1], "float64"))), np.eye(4)[np.digitize(x[:, 0], bounds)]
    )


def test_preprocessing_layers_save_in_a_model(tmp_path):
    disc = Discretization(num_bins=3)
    disc.adapt(RNG.normal(size=(60, 1)))
    model = nnx.Sequential(
        [
            nnx.Input((1,)),
            Discretization(bin_boundaries=disc.bin_boundaries, output_mode="one_hot"),
            Dense(2),
        ],
        seed=0,
    )
    model.compile("adam", "mse")
    x = RNG.normal(size=(8, 1))
    path = tmp_path / "bins.keras"
    model.save(path)
    np.testing.assert_allclose(nnx.load(path).predict(x), model.predict(x))
    with pytest.raises(ValueError, match="exactly one of bin_boundaries and num_bins"):
        Discretization()
    with pytest.raises(ValueError, match="must increase"):
        Discretization(bin_boundaries=[1.0, 0.0])
