"""Augmented images: the originals on the first row, augmented copies below.

>>> import numpy as np
>>> from nnx.layers import RandomFlip
>>> fig = plot_augmented_images(np.eye(8, dtype="float32")[None, :, :, None], RandomFlip(), 2)
>>> fig.axes[0].get_title()
'original'
"""

from __future__ import annotations

from typing import Any

from nnx.backends import get_backend
from nnx.plot.base import finish, grid

__all__ = ["plot_augmented_images"]


def plot_augmented_images(
    images: Any, augment: Any, copies: int = 3, path: Any = None, seed: int = 0
) -> Any:
    """Each image (column) as given, then ``copies`` outputs of an augmentation layer.

    Args:
        images: ``(n, height, width, channels)`` channels-last images (1 or 3 channels).
        augment: an augmentation layer (``RandomRotation``, ``RandomFlip``, ...), run in
            training mode, built (with ``seed``) on first use.
        copies: augmented rows.
        path: where to save a PNG (optional).
        seed: the generator seed of the augmentation.

    Returns:
        The Figure.
    """
    b = get_backend("numpy")
    xp = b.xp
    x = xp.asarray(images, dtype=xp.float32)
    n = x.shape[0]
    rows = [x]
    if not getattr(augment, "built", True):
        augment.build(tuple(x.shape[1:]), b, b.rng(seed))
    for _ in range(copies):
        rows.append(xp.asarray(b.to_numpy(augment.forward(b.asarray(x), training=True)[0])))
    fig, axes = grid(n * (copies + 1), n, (1.6, 1.6))
    for r, batch in enumerate(rows):
        for c in range(n):
            ax = axes[r * n + c]
            img = batch[c]
            ax.imshow(img[..., 0] if img.shape[-1] == 1 else xp.clip(img, 0, 1), cmap="gray")
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_title("original" if r == 0 else f"augmented {r}", fontsize=9)
    fig.suptitle(f"{type(augment).__name__} augmentation: originals, then {copies} draws")
    return finish(fig, path)
