"""Image augmentation layers: random only in training, the identity at inference, seeded.

Keras' ``ImageDataGenerator(rotation_range=20, horizontal_flip=True)`` becomes two layers at the
front of the model: ``RandomFlip("horizontal")`` and ``RandomRotation(20 / 360)``.
"""

from __future__ import annotations

from typing import Any

from array_api_compat import device as device_of

from nnx.backends.base import Array, Generator
from nnx.functional import image
from nnx.layers import _spatial as sp
from nnx.layers.base import Backprop, identity_backprop, register_layer
from nnx.layers.random_layer import RandomLayer
from nnx.layers.symbolic import current_trace, is_symbolic
from nnx.validation import check_choice, check_float

__all__ = ["GaussianNoise", "RandomFlip", "RandomRotation", "RandomTranslation"]


def _range(factor: Any, arg: str, who: str) -> tuple[float, float]:
    try:
        lo, hi = (-float(factor), float(factor)) if isinstance(factor, (int, float)) else factor
        lo, hi = float(lo), float(hi)
    except (TypeError, ValueError):
        lo, hi = 1.0, -1.0
    if isinstance(factor, bool) or lo > hi:
        raise ValueError(
            f"{who}: {arg} must be a float f (range [-f, f]) or a pair (low, high) with "
            f"low <= high, received {arg}={factor!r}."
        )
    return lo, hi


class _Augmentation(RandomLayer):
    """An augmentation layer: called directly on data (not in a model or graph) with no
    ``training`` it augments, as Keras 3's preprocessing layers do (``data_augmentation(images)``
    in a data pipeline); in a model it follows the model's training flag."""

    def __call__(self, x: Any, training: bool | None = None) -> Any:
        if training is None and not is_symbolic(x) and current_trace() is None:
            training = True
        return super().__call__(x, training)


class _Affine(_Augmentation):
    """Per-sample rotation/translation by bilinear resampling with zero fill."""

    def __init__(self, data_format: str = "channels_last", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.data_format = sp.check_data_format(data_format, type(self).__name__)

    def draw(self, n: int, h: int, w: int, rng: Generator, dtype: str) -> tuple[Array, Array]:
        """Per-sample ``angle (n,)`` in radians and ``shift (n, 2)`` in pixels."""
        raise NotImplementedError

    def forward_training(self, x: Array, rng: Generator) -> tuple[Array, Backprop]:
        xp, fmt = self.backend.xp, self.data_format  # type: ignore[union-attr]
        x2 = sp.to_2d(xp, x, 2, fmt)
        n, h, w, _ = x2.shape
        angle, shift = self.draw(n, h, w, rng, self.dtype)
        ky, kx = image.affine_weights(xp, h, w, angle, shift)
        y = image.resample(xp, x2, ky, kx)

        def backprop(dy: Array) -> Array:
            dy2 = sp.to_2d(xp, dy, 2, fmt)
            return sp.from_2d(xp, image.resample_backward(xp, dy2, ky, kx), 2, fmt)

        return sp.from_2d(xp, y, 2, fmt), backprop

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "data_format": self.data_format}


@register_layer
class RandomRotation(_Affine):
    """Rotate each training image by an angle drawn from ``factor * 2 pi`` (Keras' unit),
    about its centre, with bilinear interpolation and zero fill.

    ``y = S_theta x`` where ``S_theta`` is the (linear) bilinear sampling operator, so the
    backward pass is ``dx = S_theta^T dy`` (see :mod:`nnx.functional.image`). It costs
    ``O(batch h w (h + w c))`` time and ``O(batch h w (h + w))`` memory: meant for small
    images such as MNIST or CIFAR, not for 224x224 photographs.

    Args:
        factor: ``f`` for angles in ``[-f, f]`` turns, or ``(low, high)``; ``20 / 360`` is
            ``ImageDataGenerator(rotation_range=20)``.
        seed: seed of this layer's stream (default: from the model's generator).
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.

    Shape:
        Input ``(batch, h, w, c)``, output the same.

    >>> from nnx.backends import get_backend
    >>> be = get_backend("numpy")
    >>> layer = RandomRotation(0.25, seed=0)
    >>> layer.build((8, 8, 1), be)
    >>> x = be.rng(1).normal((2, 8, 8, 1))
    >>> bool((layer(x, training=False) == x).all()), layer(x).shape  # called directly: augments
    (True, (2, 8, 8, 1))
    """

    def __init__(self, factor: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.factor = _range(factor, "factor", "RandomRotation")

    def draw(self, n: int, h: int, w: int, rng: Generator, dtype: str) -> tuple[Array, Array]:
        lo, hi = self.factor
        angle = rng.uniform((n,), image.radians(lo), image.radians(hi), dtype=dtype)
        xp = self.backend.xp  # type: ignore[union-attr]
        return angle, xp.zeros((n, 2), dtype=angle.dtype, device=device_of(angle))

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "factor": list(self.factor)}


@register_layer
class RandomTranslation(_Affine):
    """Shift each training image by a fraction of its size, drawn uniformly per sample
    (bilinear for fractional shifts, zero fill). Backward: the transposed sampling operator.

    Args:
        height_factor: ``f`` for vertical shifts in ``[-f h, f h]`` pixels, or ``(low, high)``.
        width_factor: the same for horizontal shifts.
        seed, data_format: as in :class:`RandomRotation`.

    Shape:
        Input ``(batch, h, w, c)``, output the same.

    >>> from nnx.backends import get_backend
    >>> be = get_backend("numpy")
    >>> layer = RandomTranslation(0.1, 0.1, seed=0)
    >>> layer.build((8, 8, 1), be)
    >>> layer.forward(be.rng(1).normal((2, 8, 8, 1)), training=True)[0].shape
    (2, 8, 8, 1)
    """

    def __init__(self, height_factor: Any, width_factor: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.height_factor = _range(height_factor, "height_factor", "RandomTranslation")
        self.width_factor = _range(width_factor, "width_factor", "RandomTranslation")

    def draw(self, n: int, h: int, w: int, rng: Generator, dtype: str) -> tuple[Array, Array]:
        xp = self.backend.xp  # type: ignore[union-attr]
        (hlo, hhi), (wlo, whi) = self.height_factor, self.width_factor
        dy = rng.uniform((n, 1), hlo * h, hhi * h, dtype=dtype)
        dx = rng.uniform((n, 1), wlo * w, whi * w, dtype=dtype)
        return xp.zeros((n,), dtype=dy.dtype, device=device_of(dy)), xp.concat([dy, dx], axis=1)

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "height_factor": list(self.height_factor),
            "width_factor": list(self.width_factor),
        }


@register_layer
class RandomFlip(_Augmentation):
    """Mirror each training image with probability 1/2 per sample and per direction.

    ``y = x + m (flip(x) - x)`` with ``m ~ Bernoulli(1/2)`` per sample; backward
    ``dx = (1 - m) dy + flip(m dy)`` (a flip is its own transpose).

    Args:
        mode: ``"horizontal"``, ``"vertical"`` or ``"horizontal_and_vertical"`` (Keras' default).
        seed, data_format: as in :class:`RandomRotation`.

    Shape:
        Input ``(batch, h, w, c)``, output the same.

    >>> from nnx.backends import get_backend
    >>> be = get_backend("numpy")
    >>> layer = RandomFlip("horizontal", seed=1)
    >>> layer.build((1, 3, 1), be)
    >>> layer.forward(be.asarray([[[[1.0], [2.0], [3.0]]]] * 2), training=True)[0][:, 0, :, 0]
    array([[3., 2., 1.],
           [1., 2., 3.]])
    """

    MODES = ("horizontal", "vertical", "horizontal_and_vertical")

    def __init__(
        self,
        mode: str = "horizontal_and_vertical",
        data_format: str = "channels_last",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.mode = check_choice(mode, "mode", self.MODES, who="RandomFlip")
        self.data_format = sp.check_data_format(data_format, "RandomFlip")

    def forward_training(self, x: Array, rng: Generator) -> tuple[Array, Backprop]:
        xp = self.backend.xp  # type: ignore[union-attr]
        first = 1 if self.data_format == "channels_last" else 2
        axes = {"vertical": [first], "horizontal": [first + 1]}.get(self.mode, [first, first + 1])
        masks = [rng.bernoulli((x.shape[0],) + (1,) * (x.ndim - 1), 0.5, self.dtype) for _ in axes]
        y = x
        for axis, m in zip(axes, masks, strict=True):
            y = y + m * (xp.flip(y, axis=axis) - y)

        def backprop(dy: Array) -> Array:
            for axis, m in zip(reversed(axes), reversed(masks), strict=True):
                dy = (1.0 - m) * dy + xp.flip(m * dy, axis=axis)
            return dy

        return y, backprop

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "mode": self.mode, "data_format": self.data_format}


@register_layer
class GaussianNoise(RandomLayer):
    """Add ``N(0, stddev^2)`` noise to every input in training (regularization); identity at
    inference. Backward: ``dx = dy``.

    Args:
        stddev: standard deviation of the noise (>= 0).
        seed: as in :class:`RandomRotation`.

    Shape:
        Input ``(batch, *dims)``, output the same.

    >>> from nnx.backends import get_backend
    >>> be = get_backend("numpy")
    >>> layer = GaussianNoise(0.1, seed=0)
    >>> layer.build((3,), be)
    >>> layer(be.asarray([[1.0, 2.0, 3.0]]))
    array([[1., 2., 3.]])
    """

    def __init__(self, stddev: float, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.stddev = check_float(stddev, "stddev", who="GaussianNoise", minimum=0.0)

    def forward_training(self, x: Array, rng: Generator) -> tuple[Array, Backprop]:
        noise = rng.normal(tuple(x.shape), 0.0, self.stddev, dtype=self.dtype)
        return x + noise, identity_backprop

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "stddev": self.stddev}
