"""Page faults and step times with glibc's malloc thresholds set by nnx and left alone.

Each setting runs in a fresh process (the thresholds are process-wide and glibc's own rule
depends on the process's history): nnx's steps of the sequence bench's Transformer block and
LSTM and of the tutorial CNN, 100 timed calls each after 10 untimed, printing the minor page
faults per call (``getrusage``: a count, not a timing, so the shared host's noise does not move
it) and the fastest / 25th percentile / median milliseconds::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python -m bench.host_memory --rounds 2

``NNX_MALLOC_TUNING=0`` is the "left alone" setting (nnx/backends/host_memory.py).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

CASES = ("transformer", "lstm", "cnn")


def _steps(case: str) -> dict[str, Callable[[], Any]]:
    """nnx's ``{"train": ..., "inference": ...}`` steps of one case."""
    if case == "cnn":
        from nnx.benchmarks.cases import Case, NnxRunner

        return {p: NnxRunner(Case("cnn", 64, p)) for p in ("train_sgd", "inference")}
    from bench.test_bench_sequence import lstm_case, transformer_case

    (train, infer), _ = {"transformer": transformer_case, "lstm": lstm_case}[case]()
    return {"train": train, "inference": infer}


def _time(step: Callable[[], Any], calls: int = 100) -> dict[str, float]:
    for _ in range(10):
        step()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    times = []
    for _ in range(calls):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    faults = (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / calls
    times.sort()
    ms = [t * 1e3 for t in (times[0], times[calls // 4], times[calls // 2])]
    return {"faults": faults, "min": ms[0], "p25": ms[1], "median": ms[2]}


def _child(case: str) -> None:
    print(json.dumps({phase: _time(step) for phase, step in _steps(case).items()}))


def main(argv: list[str] | None = None) -> None:
    """Print one line per (round, case, setting, phase)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=1, help="repeats of every setting")
    parser.add_argument("--child", choices=CASES, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        _child(args.child)
        return
    from nnx.benchmarks.host import describe

    print(describe())
    for r in range(args.rounds):
        for case in CASES:
            for setting, env in (("set by nnx", "1"), ("left alone", "0")):
                out = subprocess.run(
                    [sys.executable, "-m", "bench.host_memory", "--child", case],
                    env={**os.environ, "NNX_MALLOC_TUNING": env},
                    capture_output=True,
                    text=True,
                    check=True,
                ).stdout
                for phase, f in json.loads(out.splitlines()[-1]).items():
                    print(
                        f"round {r + 1} {case:11s} {phase:9s} malloc {setting:10s}: "
                        f"{f['faults']:7.0f} faults/call, ms fastest {f['min']:6.2f} "
                        f"p25 {f['p25']:6.2f} median {f['median']:6.2f}"
                    )


if __name__ == "__main__":
    main()
