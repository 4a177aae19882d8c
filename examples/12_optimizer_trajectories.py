"""Optimizer trajectories on the elongated bowl f(x, y) = x^2 + 10 y^2 from (-4, 2): distance
to the minimum after 50 steps. Saves optimizer_trajectories.png.

Run: python examples/12_optimizer_trajectories.py
"""

from __future__ import annotations

from typing import Any

import numpy as np
from _util import run, table

import nnx
from nnx.plot import optimizer_trajectory, plot_optimizer_trajectories


def optimizers() -> dict[str, Any]:
    return {
        "SGD 0.05": nnx.optimizers.SGD(0.05),
        "SGD momentum 0.9": nnx.optimizers.SGD(0.05, momentum=0.9),
        "Nesterov": nnx.optimizers.SGD(0.05, momentum=0.9, nesterov=True),
        "RMSprop 0.1": nnx.optimizers.RMSprop(0.1),
        "Adam 0.3": nnx.optimizers.Adam(0.3),
        "Adagrad 1.0": nnx.optimizers.Adagrad(1.0),
    }


def main(quick: bool = False, out: Any = None) -> dict[str, Any]:
    steps = 50
    rows, results = [], {}
    for label, opt in optimizers().items():
        path = optimizer_trajectory(opt, steps=steps)
        distance = float(np.linalg.norm(path[-1]))
        results[label] = distance
        rows.append([label, distance])
    if out is not None:
        plot_optimizer_trajectories(
            optimizers(), steps=steps, path=out / "optimizer_trajectories.png"
        )
    results["table"] = table(["optimizer", f"distance to minimum after {steps} steps"], rows)
    return results


if __name__ == "__main__":
    run(main, __doc__)
