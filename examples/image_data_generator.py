"""ImageDataGenerator on scikit-learn's digits: a batch before and after augmentation.

    python examples/image_data_generator.py            # writes docs/image_data_generator.png

Draws one batch of ``flow`` (rotation 20 degrees, shifts 15 %, zoom 15 %, nearest fill) under
the original images (blown up to 32x32), seeded, on the default backend.
"""

from __future__ import annotations

import pathlib

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits

from nnx.preprocessing.image import ImageDataGenerator

OUT = pathlib.Path(__file__).parents[1] / "docs" / "image_data_generator.png"


def main(path: pathlib.Path = OUT, columns: int = 8) -> pathlib.Path:
    digits = load_digits().images[:columns] / 16.0  # 8x8 pixels in [0, 1]
    images = np.kron(digits, np.ones((1, 4, 4)))[..., None]  # blown up to 32x32 to see more
    gen = ImageDataGenerator(
        rotation_range=20,
        width_shift_range=0.15,
        height_shift_range=0.15,
        zoom_range=0.15,
        fill_mode="nearest",
    )
    batch = gen.backend.to_numpy(gen.flow(images, batch_size=columns, shuffle=False, seed=0)[0])
    fig, axes = plt.subplots(2, columns, figsize=(1.3 * columns, 3.0))
    for row, (title, pictures) in enumerate((("before", images), ("after", batch))):
        for column, ax in enumerate(axes[row]):
            ax.imshow(pictures[column, :, :, 0], cmap="gray_r", vmin=0, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
        axes[row, 0].set_ylabel(title)
    fig.suptitle("ImageDataGenerator(rotation_range=20, shifts 0.15, zoom_range=0.15)")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


if __name__ == "__main__":
    print(main())
