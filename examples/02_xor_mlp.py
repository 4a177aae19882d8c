"""XOR with a 2-2-1 sigmoid network: the hidden layer makes it linearly separable.

Run: python examples/02_xor_mlp.py
"""

from __future__ import annotations

from typing import Any

from _util import run

import nnx
from nnx.datasets import make_xor
from nnx.layers import Dense


def main(quick: bool = False, out: Any = None) -> dict[str, Any]:
    X, y = make_xor()
    model = nnx.Sequential(
        [
            Dense(2, activation="sigmoid", input_shape=(2,), kernel_initializer="glorot_normal"),
            Dense(1, activation="sigmoid"),
        ],
        seed=0,
    )
    model.compile(
        nnx.optimizers.SGD(1.0, momentum=0.9), "binary_crossentropy", metrics=["accuracy"]
    )
    history = model.fit(X, y, epochs=300 if quick else 1000, batch_size=4, verbose=0, shuffle=False)
    p = model.predict(X).ravel()
    return {
        "final_loss": history.history["loss"][-1],
        "accuracy": history.history["accuracy"][-1],
        "predictions": [round(float(v), 3) for v in p],
    }


if __name__ == "__main__":
    run(main, __doc__)
