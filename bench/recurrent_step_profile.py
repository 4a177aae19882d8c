"""Where a train step of the sequence bench's LSTM or GRU goes: the backend's recurrent forward
and backward, its matmuls and the rest, wall time of the fastest of ``--steps`` steps, then
torch's step (``test_bench_sequence.py``'s case, both libraries at their default threads)::

    python -m bench.recurrent_step_profile lstm --steps 30

``NNX_MKL=0`` times SciPy's BLAS in place of MKL (the loop over time then runs in Python);
``NNX_RECURRENT_SPLIT=1`` splits the batch rows over the cores.
"""

from __future__ import annotations

import argparse
import collections
import time

#: the backend methods timed inside the step
METHODS = ("recurrent_forward", "recurrent_backward", "matmul", "add_bias", "sum_rows")


def main(argv: list[str] | None = None) -> None:
    """Print the fastest nnx step's split by method, then torch's fastest step (ms)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("case", choices=("lstm", "gru"))
    parser.add_argument("--steps", type=int, default=30, help="steps timed (fastest kept)")
    args = parser.parse_args(argv)

    from bench.test_bench_sequence import CASES
    from bench.transformer_profile import wrap_methods
    from nnx.backends import get_backend
    from nnx.benchmarks.host import describe

    (train, _), (torch_train, _) = CASES[args.case]()
    totals: dict[str, list[float]] = collections.defaultdict(list)
    wrap_methods(get_backend("numpy"), totals, METHODS, time.perf_counter)
    print(describe())
    for _ in range(3):
        train()
    best: tuple[float, dict[str, tuple[float, int]]] = (float("inf"), {})
    for _ in range(args.steps):
        totals.clear()
        start = time.perf_counter()
        train()
        total = time.perf_counter() - start
        if total < best[0]:
            best = (total, {k: (sum(v), len(v)) for k, v in totals.items()})
    print(f"nnx {args.case} train step {best[0] * 1e3:.2f} ms")
    inside = 0.0
    for name, (seconds, calls) in sorted(best[1].items(), key=lambda kv: -kv[1][0]):
        print(f"  {name:20s} x{calls:<3d} {seconds * 1e3:7.2f} ms")
        inside += seconds
    print(f"  {'rest':20s}      {(best[0] - inside) * 1e3:7.2f} ms")
    torch_s = float("inf")
    for _ in range(args.steps):
        start = time.perf_counter()
        torch_train()
        torch_s = min(torch_s, time.perf_counter() - start)
    print(f"torch {args.case} train step {torch_s * 1e3:.2f} ms")


if __name__ == "__main__":
    main()
