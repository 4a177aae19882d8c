"""Vanishing gradients: ||dL/dW_first|| / ||dL/dW_last|| as depth grows, for sigmoid, tanh and
relu (He init), at initialisation. Saves vanishing_gradients.png.

Run: python examples/07_vanishing_gradients.py
"""

from __future__ import annotations

from typing import Any

from _util import run, table

from nnx.diagnostics import depth_gradient_ratio
from nnx.plot import plot_gradient_norms

SETUPS = {"sigmoid": "glorot_uniform", "tanh": "glorot_uniform", "relu": "he_normal"}


def main(quick: bool = False, out: Any = None) -> dict[str, Any]:
    depths = (2, 5, 10) if quick else (2, 5, 10, 20, 30)
    ratios = {
        act: depth_gradient_ratio(act, depths, kernel_initializer=init)
        for act, init in SETUPS.items()
    }
    if out is not None:
        plot_gradient_norms(
            ratios,
            path=out / "vanishing_gradients.png",
            title="first / last layer gradient norm vs depth",
        )
    rows = [[act, *(ratios[act][d] for d in depths)] for act in SETUPS]
    results: dict[str, Any] = {
        f"{act}_ratio_at_{depths[-1]}": ratios[act][depths[-1]] for act in SETUPS
    }
    results["table"] = table(["activation", *(f"depth {d}" for d in depths)], rows)
    return results


if __name__ == "__main__":
    run(main, __doc__)
