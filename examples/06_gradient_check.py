"""Backprop checked numerically: max relative error of every analytic gradient against
central differences (float64) for shallow, deep and very deep networks.

Run: python examples/06_gradient_check.py
"""

from __future__ import annotations

from typing import Any

import numpy as np
from _util import run, table

from nnx.diagnostics import deep_mlp, gradcheck_report

DEPTHS = {"shallow": 1, "deep": 5, "very deep": 20}


def main(quick: bool = False, out: Any = None) -> dict[str, Any]:
    x = np.random.default_rng(0).normal(size=(4, 6))
    rows, results = [], {}
    for label, depth in DEPTHS.items():
        for act in ("sigmoid", "tanh", "relu"):
            if quick and depth > 5:
                continue
            model = deep_mlp(depth, act, width=4 if quick else 8, n_inputs=6, seed=0)
            report = gradcheck_report(model, x)
            results[f"max_error_{label.replace(' ', '_')}_{act}"] = report["max"]
            rows.append([label, depth, act, model.count_params(), report["max"]])
    results["max_error"] = max(v for k, v in results.items() if k.startswith("max_error_"))
    results["table"] = table(
        ["net", "hidden layers", "activation", "parameters", "max rel. error"], rows
    )
    return results


if __name__ == "__main__":
    run(main, __doc__)
