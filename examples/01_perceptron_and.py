"""The perceptron learns AND (and OR) with the perceptron rule, and cannot learn XOR.

Run: python examples/01_perceptron_and.py
"""

from __future__ import annotations

from typing import Any

from _util import run, table

from nnx import Perceptron
from nnx.datasets import logic_gate


def main(quick: bool = False, out: Any = None) -> dict[str, Any]:
    rows, results = [], {}
    for gate in ("and", "or", "xor"):
        X, y = logic_gate(gate)
        p = Perceptron(learning_rate=0.1, max_iter=20 if quick else 100, random_state=0)
        p.fit(X, y.ravel())
        accuracy = p.score(X, y.ravel())
        results[f"{gate}_accuracy"] = accuracy
        results[f"{gate}_epochs"] = p.n_iter_
        rows.append(
            [
                gate.upper(),
                accuracy,
                p.n_iter_,
                p.errors_[-1],
                p.coef_.round(2).tolist(),
                round(p.intercept_, 2),
            ]
        )
    results["table"] = table(["gate", "accuracy", "epochs", "last-epoch errors", "w", "b"], rows)
    return results


if __name__ == "__main__":
    run(main, __doc__)
