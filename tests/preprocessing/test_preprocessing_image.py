"""ImageDataGenerator: each transformation, the fill modes, the statistics, flow as a
PyDataset that fit takes, on every backend."""

from __future__ import annotations

import numpy as np
import pytest

import nnx
from nnx.data import PyDataset
from nnx.functional import image
from nnx.layers import Dense, Flatten
from nnx.preprocessing.image import ImageDataGenerator

RNG = np.random.default_rng(0)
IMAGES = RNG.uniform(0, 255, size=(10, 6, 5, 3)).astype("float32")


def _batch(gen, x=IMAGES, seed=0):
    return gen.backend.to_numpy(gen.augment(x, seed=seed))


def test_no_transformation_gives_the_images_back(backend):
    gen = ImageDataGenerator(backend=backend)
    np.testing.assert_allclose(_batch(gen), IMAGES, rtol=1e-6)
    flow = gen.flow(IMAGES, np.arange(10), batch_size=4, shuffle=False)
    assert isinstance(flow, PyDataset) and len(flow) == 3
    xb, yb = flow[2]
    np.testing.assert_allclose(backend.to_numpy(xb), IMAGES[8:], rtol=1e-6)
    assert backend.to_numpy(yb).tolist() == [8, 9]


def test_rescale_and_featurewise_statistics(backend):
    gen = ImageDataGenerator(
        featurewise_center=True,
        featurewise_std_normalization=True,
        rescale=1 / 255,
        backend=backend,
    )
    with pytest.raises(RuntimeError, match="fit"):
        gen.augment(IMAGES)
    out = _batch(gen.fit(IMAGES))
    np.testing.assert_allclose(out.mean(axis=(0, 1, 2)), 0.0, atol=1e-5)
    np.testing.assert_allclose(out.std(axis=(0, 1, 2)), 1.0, atol=1e-3)


@pytest.mark.parametrize(
    "fill_mode, expected_first_columns",
    [("constant", [0.0, 0.0]), ("nearest", [0.0, 0.0]), ("reflect", [1.0, 0.0])],
)
def test_a_two_pixel_shift_fills_as_asked(fill_mode, expected_first_columns, backend):
    xp = backend.xp
    x = backend.asarray(np.broadcast_to(np.arange(1.0, 6.0), (1, 4, 5)).reshape(1, 4, 5, 1))
    zero, shift = backend.asarray([0.0]), backend.asarray([[0.0, 2.0]])
    ky, kx = image.affine_weights(xp, 4, 5, zero, shift, fill_mode=fill_mode)
    out = backend.to_numpy(image.resample(xp, x, ky, kx))[0, 0, :, 0]
    expected = {"constant": [0, 0], "nearest": [1, 1], "reflect": [2, 1]}[fill_mode]
    np.testing.assert_allclose(out, [*expected, 1.0, 2.0, 3.0], atol=1e-6)


def test_constant_fill_uses_cval(backend):
    gen = ImageDataGenerator(width_shift_range=3.0, fill_mode="constant", cval=7.0, backend=backend)
    out = _batch(gen, np.zeros((20, 4, 8, 1)))
    # every image moved by up to 3 pixels: its first or last column is cval (up to interpolation)
    edges = np.maximum(out[:, :, 0, 0], out[:, :, -1, 0]).min(axis=1)
    assert out.max() <= 7.0 + 1e-5 and (edges > 0).all()


def test_flips_mirror_some_images_and_keep_the_others(backend):
    gen = ImageDataGenerator(horizontal_flip=True, vertical_flip=True, backend=backend)
    x = np.concatenate([IMAGES] * 3)
    out = _batch(gen, x, seed=1)
    kinds = []
    for picture, original in zip(out, x, strict=True):
        candidates = {
            "none": original,
            "h": original[:, ::-1],
            "v": original[::-1],
            "hv": original[::-1, ::-1],
        }
        kinds.append(next(k for k, c in candidates.items() if np.allclose(picture, c, atol=1e-3)))
    assert set(kinds) == {"none", "h", "v", "hv"}


def test_rotations_and_zooms_are_seeded_and_keep_shapes(backend):
    gen = ImageDataGenerator(rotation_range=30, zoom_range=0.2, backend=backend)
    a, b, c = _batch(gen, seed=1), _batch(gen, seed=1), _batch(gen, seed=2)
    assert a.shape == IMAGES.shape
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c) and not np.allclose(a, IMAGES)
    assert a.min() >= IMAGES.min() - 1e-3 and a.max() <= IMAGES.max() + 1e-3  # nearest fill


def test_zooming_out_fills_the_border_with_cval(backend):
    gen = ImageDataGenerator(zoom_range=(2.0, 2.0), fill_mode="constant", cval=-1, backend=backend)
    out = _batch(gen, np.ones((1, 8, 8, 1)))[0, :, :, 0]
    assert out[0, 0] == pytest.approx(-1.0) and out[4, 4] == pytest.approx(1.0)


def test_channels_first_images(backend):
    gen = ImageDataGenerator(horizontal_flip=True, data_format="channels_first", backend=backend)
    x = np.moveaxis(IMAGES, -1, 1)
    out = _batch(gen, x)
    assert out.shape == x.shape
    for picture, original in zip(out, x, strict=True):
        assert np.allclose(picture, original) or np.allclose(picture, original[:, :, ::-1])


def test_flow_shuffles_each_epoch_and_repeats_a_batch_when_asked_again(backend):
    labels = np.arange(10)
    x = np.broadcast_to(labels[:, None, None, None], (10, 2, 2, 1)).astype("float32")
    flow = ImageDataGenerator(horizontal_flip=True, backend=backend).flow(
        x, labels, batch_size=4, seed=3
    )
    first = [backend.to_numpy(flow[i][1]).tolist() for i in range(3)]
    again = backend.to_numpy(flow[0][1]).tolist()
    for i in range(3):  # images stay aligned with their labels
        xb, yb = flow[i]
        np.testing.assert_array_equal(backend.to_numpy(xb)[:, 0, 0, 0], backend.to_numpy(yb))
    flow.on_epoch_end()
    second = [backend.to_numpy(flow[i][1]).tolist() for i in range(3)]
    assert again == first[0]
    assert sorted(np.ravel(first[:2]).tolist() + first[2]) == list(range(10))
    assert sorted(np.ravel(second[:2]).tolist() + second[2]) == list(range(10))
    assert first != second


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="fill_mode"):
        ImageDataGenerator(fill_mode="wrap")
    with pytest.raises(ValueError, match="zoom_range"):
        ImageDataGenerator(zoom_range=(1.5, 1.0))
    with pytest.raises(ValueError, match=r"rank 4.*x\[\.\.\., None\]"):
        ImageDataGenerator().flow(np.zeros((4, 8, 8)))
    with pytest.raises(ValueError, match="one entry per image"):
        ImageDataGenerator().flow(np.zeros((4, 8, 8, 1)), np.zeros(3))


def test_fit_trains_on_an_augmented_flow(backend):
    n = 96
    y = np.arange(n) % 2
    x = RNG.uniform(0, 60, size=(n, 8, 8, 1)).astype("float32")
    x[y == 1, :4] += 180  # bright top half: class 1 (a horizontal flip keeps it)
    gen = ImageDataGenerator(rescale=1 / 255, horizontal_flip=True, rotation_range=10)
    model = nnx.Sequential(
        [Flatten(input_shape=(8, 8, 1)), Dense(1, activation="sigmoid")], backend=backend, seed=0
    )
    model.compile(nnx.optimizers.Adam(0.05), "binary_crossentropy", metrics=["accuracy"])
    history = model.fit(gen.flow(x, y, batch_size=16, seed=0), epochs=4, verbose=0)
    assert history.history["accuracy"][-1] > 0.9
    assert model.evaluate(x / 255, y, return_dict=True)["accuracy"] > 0.9
