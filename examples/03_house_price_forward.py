"""The house-price 3-3-1 forward pass: nnx's Dense layers give the hand-computed numbers.

Features (size in 1000 sq ft, bedrooms, age in decades) -> 3 ReLU units -> 1 linear price.
Run: python examples/03_house_price_forward.py
"""

from __future__ import annotations

from typing import Any

import numpy as np
from _util import run

import nnx
from nnx.layers import Dense

X = np.array([[2.1, 3.0, 1.5], [1.4, 2.0, 3.0], [3.2, 4.0, 0.5]])
W1 = np.array([[0.5, -0.2, 0.3], [0.4, 0.1, -0.5], [-0.3, 0.2, 0.1]])
B1 = np.array([0.1, -0.1, 0.05])
W2 = np.array([[0.7], [0.3], [-0.4]])
B2 = np.array([0.2])


def main(quick: bool = False, out: Any = None) -> dict[str, Any]:
    hidden = np.maximum(X @ W1 + B1, 0.0)  # the notebook's hand computation
    by_hand = hidden @ W2 + B2
    model = nnx.Sequential(
        [Dense(3, activation="relu", input_shape=(3,)), Dense(1)], dtype="float64", seed=0
    )
    model.set_weights([W1, B1, W2, B2])
    by_nnx = model.predict(X)
    return {
        "prices_by_hand": by_hand.ravel().round(4).tolist(),
        "prices_by_nnx": by_nnx.ravel().round(4).tolist(),
        "max_abs_difference": float(np.abs(by_hand - by_nnx).max()),
    }


if __name__ == "__main__":
    run(main, __doc__)
