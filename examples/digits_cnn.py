"""A small CNN on scikit-learn's handwritten digits (8x8 grey images, 1797 samples).

    python examples/digits_cnn.py                 # NumPy, about 10 s
    python examples/digits_cnn.py --backend cupy  # on a CUDA GPU

The data ship inside scikit-learn (no download). Prints the test accuracy (>= 0.97).
"""

from __future__ import annotations

import argparse

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

import nnx
from nnx.layers import (
    BatchNormalization,
    Conv2D,
    Dense,
    Dropout,
    Flatten,
    MaxPooling2D,
    RandomRotation,
)


def build(backend: str, seed: int) -> nnx.Sequential:
    """Conv-BN-Pool twice, then a small dense head (Keras tutorial style)."""
    return nnx.Sequential(
        [
            RandomRotation(10 / 360, input_shape=(8, 8, 1)),  # rotation_range=10 (degrees)
            Conv2D(32, (3, 3), padding="same", activation="relu"),
            BatchNormalization(),
            MaxPooling2D((2, 2)),
            Conv2D(64, (3, 3), padding="same", activation="relu"),
            MaxPooling2D((2, 2)),
            Flatten(),
            Dropout(0.3),
            Dense(64, activation="relu"),
            Dense(10, activation="softmax"),
        ],
        backend=backend,
        seed=seed,
    )


def main() -> float:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", default="numpy")
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    digits = load_digits()
    x = (digits.images / 16.0).astype("float32")[..., None]  # (1797, 8, 8, 1), channels last
    y = np.eye(10, dtype="float32")[digits.target]
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=0.2, random_state=args.seed, stratify=digits.target
    )
    model = build(args.backend, args.seed)
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    model.summary()
    model.fit(x_train, y_train, epochs=args.epochs, batch_size=32, verbose=0)
    loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
    print(f"test loss {loss:.4f}  test accuracy {accuracy:.4f}  ({len(x_test)} images)")
    return accuracy


if __name__ == "__main__":
    main()
