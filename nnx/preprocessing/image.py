"""``ImageDataGenerator``: Keras's legacy image augmentation, on every backend, seeded.

Each batch is drawn, moved to the generator's backend, transformed on the device and then
standardised, as Keras does it (transform, then ``rescale``, then the feature-wise statistics).
One affine map per image (rotation, shift, zoom) is resampled bilinearly with
:func:`nnx.functional.image.affine_weights` (the maths of the ``RandomRotation`` and
``RandomTranslation`` layers), then flips mirror half of the images along each asked axis.

One deliberate difference from Keras: :meth:`ImageDataGenerator.fit` applies ``rescale`` before
it measures the mean and standard deviation, so ``rescale=1/255`` with
``featurewise_center=True`` centres the rescaled images (Keras measures the raw ones).
"""

from __future__ import annotations

import math
from typing import Any

from nnx.backends import Backend, get_backend
from nnx.backends.base import Array, Generator
from nnx.functional import image
from nnx.preprocessing.iterator import NumpyArrayIterator
from nnx.validation import check_bool, check_choice, check_float

__all__ = ["ImageDataGenerator"]

#: added to the standard deviation before dividing (Keras's value)
EPSILON = 1e-6


def _symmetric(value: Any, arg: str) -> float:
    return check_float(value, arg, who="ImageDataGenerator", minimum=0.0)


class ImageDataGenerator:
    """Random image transformations and standardisation, batch by batch (Keras's legacy API).

    Args:
        featurewise_center: subtract the per-channel mean measured by :meth:`fit`.
        featurewise_std_normalization: divide by the per-channel standard deviation of :meth:`fit`.
        rotation_range: rotate by an angle drawn from ``[-r, r]`` degrees.
        width_shift_range: shift horizontally by ``[-f, f]`` of the width (``f < 1``) or
            ``[-f, f]`` pixels (``f >= 1``).
        height_shift_range: the same vertically.
        zoom_range: ``z`` for scale factors in ``[1 - z, 1 + z]``, or ``(low, high)``; drawn
            for each axis (``> 1`` zooms out).
        fill_mode: ``"nearest"`` (Keras's default), ``"constant"`` (``cval``) or ``"reflect"``.
        cval: the value outside the image for ``fill_mode="constant"``.
        horizontal_flip: mirror half of the images left-right.
        vertical_flip: mirror half of the images upside down.
        rescale: multiply every pixel by this (e.g. ``1 / 255``), None or 0 for no rescaling.
        data_format: ``"channels_last"`` (``(n, h, w, c)``) or ``"channels_first"``.
        backend: where batches are transformed (default: the current default backend).
        dtype: float dtype of the batches.

    Shape:
        Images ``(n, h, w, c)`` (channels last) or ``(n, c, h, w)``; batches the same.

    >>> import numpy as np
    >>> gen = ImageDataGenerator(rotation_range=20, horizontal_flip=True, rescale=1 / 255)
    >>> flow = gen.flow(np.full((10, 8, 8, 1), 255.0), np.arange(10), batch_size=4, seed=0)
    >>> len(flow), flow[0][0].shape, float(flow[0][0].max()) <= 1.0
    (3, (4, 8, 8, 1), True)
    """

    def __init__(
        self,
        featurewise_center: bool = False,
        featurewise_std_normalization: bool = False,
        rotation_range: float = 0.0,
        width_shift_range: float = 0.0,
        height_shift_range: float = 0.0,
        zoom_range: float | tuple[float, float] = 0.0,
        fill_mode: str = "nearest",
        cval: float = 0.0,
        horizontal_flip: bool = False,
        vertical_flip: bool = False,
        rescale: float | None = None,
        data_format: str = "channels_last",
        backend: str | Backend | None = None,
        dtype: str = "float32",
    ) -> None:
        who = "ImageDataGenerator"
        self.featurewise_center = check_bool(featurewise_center, "featurewise_center", who=who)
        self.featurewise_std_normalization = check_bool(
            featurewise_std_normalization, "featurewise_std_normalization", who=who
        )
        self.rotation_range = _symmetric(rotation_range, "rotation_range")
        self.width_shift_range = _symmetric(width_shift_range, "width_shift_range")
        self.height_shift_range = _symmetric(height_shift_range, "height_shift_range")
        if isinstance(zoom_range, (int, float)) and not isinstance(zoom_range, bool):
            z = check_float(zoom_range, "zoom_range", who=who, minimum=0.0, maximum=1.0)
            self.zoom_range = (1.0 - z, 1.0 + z)
        elif isinstance(zoom_range, (tuple, list)) and len(zoom_range) == 2:
            lo, hi = (check_float(z, "zoom_range", who=who, minimum=0.0) for z in zoom_range)
            if lo > hi or lo == 0:
                raise ValueError(f"{who}: zoom_range needs 0 < low <= high, received {zoom_range}.")
            self.zoom_range = (lo, hi)
        else:
            raise ValueError(
                f"{who}: zoom_range must be a float in [0, 1] or a pair (low, high), "
                f"received zoom_range={zoom_range!r}."
            )
        self.fill_mode = check_choice(fill_mode, "fill_mode", image.FILL_MODES, who=who)
        self.cval = check_float(cval, "cval", who=who)
        self.horizontal_flip = check_bool(horizontal_flip, "horizontal_flip", who=who)
        self.vertical_flip = check_bool(vertical_flip, "vertical_flip", who=who)
        self.rescale = None if not rescale else check_float(rescale, "rescale", who=who)
        self.data_format = check_choice(
            data_format, "data_format", ("channels_last", "channels_first"), who=who
        )
        self.dtype = check_choice(dtype, "dtype", ("float32", "float64"), who=who)
        self.backend = get_backend(backend)
        self.mean: Array | None = None
        self.std: Array | None = None

    # --- statistics -------------------------------------------------------------------------
    def as_images(self, x: Any, arg: str = "x") -> Array:
        """``x`` on the backend as float images ``(n, h, w, c)`` (channels last inside)."""
        xb = self.backend.asarray(x, dtype=self.dtype)
        if xb.ndim != 4:
            raise ValueError(
                f"ImageDataGenerator: {arg} must be a batch of images of rank 4 "
                f"(n, h, w, c) or (n, c, h, w), received shape {tuple(xb.shape)}; add a "
                "channel axis to grayscale images with x[..., None]."
            )
        if self.data_format == "channels_first":
            xb = self.backend.xp.permute_dims(xb, (0, 2, 3, 1))
        return xb

    def _output(self, x: Array) -> Array:
        if self.data_format == "channels_first":
            return self.backend.xp.permute_dims(x, (0, 3, 1, 2))
        return x

    def fit(self, x: Any) -> ImageDataGenerator:
        """Measure the per-channel mean and standard deviation of ``x`` (after ``rescale``)
        for ``featurewise_center`` / ``featurewise_std_normalization``; returns ``self``."""
        xp = self.backend.xp
        xb = self.as_images(x)
        if self.rescale:
            xb = xb * self.rescale
        self.mean = xp.mean(xb, axis=(0, 1, 2), keepdims=True)
        self.std = xp.std(xb, axis=(0, 1, 2), keepdims=True)
        return self

    def standardize(self, x: Array) -> Array:
        """``rescale``, then the feature-wise centring and scaling (channels last inside)."""
        needs_fit = self.featurewise_center or self.featurewise_std_normalization
        if needs_fit and self.mean is None:
            raise RuntimeError(
                "ImageDataGenerator: featurewise_center/featurewise_std_normalization need "
                "the statistics of the data: call gen.fit(x_train) first."
            )
        if self.rescale:
            x = x * self.rescale
        if self.featurewise_center:
            x = x - self.mean
        if self.featurewise_std_normalization:
            x = x / (self.std + EPSILON)  # type: ignore[operator]
        return x

    # --- random transformations -------------------------------------------------------------
    def _shift(self, f: float, size: int) -> float:
        return f * size if f < 1 else f

    def random_transform_batch(self, x: Array, rng: Generator) -> Array:
        """Rotate, shift, zoom and flip each image of ``x`` (channels last) at random."""
        xp = self.backend.xp
        n, h, w, _ = x.shape
        zlo, zhi = self.zoom_range
        affine = self.rotation_range or self.width_shift_range or self.height_shift_range
        if affine or (zlo, zhi) != (1.0, 1.0):
            r = math.radians(self.rotation_range)
            angle = rng.uniform((n,), -r, r, dtype=self.dtype)
            sy, sx = self._shift(self.height_shift_range, h), self._shift(self.width_shift_range, w)
            shift = xp.concat(
                [
                    rng.uniform((n, 1), -sy, sy, self.dtype),
                    rng.uniform((n, 1), -sx, sx, self.dtype),
                ],
                axis=1,
            )
            zoom = rng.uniform((n, 2), zlo, zhi, dtype=self.dtype)
            ky, kx = image.affine_weights(xp, h, w, angle, shift, zoom, self.fill_mode)
            cval = self.cval if self.fill_mode == "constant" else 0.0
            x = image.resample(xp, x - cval, ky, kx) + cval
        for axis, wanted in ((2, self.horizontal_flip), (1, self.vertical_flip)):
            if wanted:
                m = rng.bernoulli((n, 1, 1, 1), 0.5, self.dtype)
                x = x + m * (xp.flip(x, axis=axis) - x)
        return x

    def augment(self, x: Any, seed: int | None = None) -> Array:
        """A transformed and standardised copy of the images ``x``, on the backend."""
        return self.transform(self.as_images(x), self.backend.rng(seed))

    def transform(self, x: Array, rng: Generator) -> Array:
        """Images from :meth:`as_images` transformed at random, standardised and returned in
        ``data_format``."""
        return self._output(self.standardize(self.random_transform_batch(x, rng)))

    def flow(
        self,
        x: Any,
        y: Any = None,
        batch_size: int = 32,
        shuffle: bool = True,
        seed: int | None = None,
        sample_weight: Any = None,
    ) -> NumpyArrayIterator:
        """Batches of augmented ``x`` (with ``y`` and ``sample_weight``): a
        :class:`~nnx.data.PyDataset` for ``model.fit(gen.flow(x, y))``."""
        return NumpyArrayIterator(self, x, y, batch_size, shuffle, seed, sample_weight)
