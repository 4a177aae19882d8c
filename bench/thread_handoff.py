"""What handing a small kernel to a second thread costs on this host: a float32 layer norm of
``(2048, 128)`` (the Transformer bench's), timed with a 0.5 ms pause before each call (as
between a model's layers), three ways:

- ``one``: nnx's kernel on the calling thread (``NNX_THREAD_WAKE=slow``);
- ``pool``: nnx's kernel split over its Python thread pool (``NNX_THREAD_WAKE=fast``);
- ``prange-omp`` / ``prange-workqueue``: the same loop as a numba ``prange`` kernel on numba's
  OpenMP or workqueue threading layer (GNU OpenMP threads spin a while after a region, so the
  next one starts without a wake-up); ``prange-omp-1``: that kernel on one thread (it writes
  into a preallocated output and keeps no statistics, so it is leaner than nnx's).

Each mode runs in its own process (the threading layer and the wake rule are fixed once per
process)::

    python -m bench.thread_handoff
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

MODES = ("one", "pool", "prange-omp-1", "prange-omp", "prange-workqueue")


def _prange_layer_norm():  # type: ignore[no-untyped-def]
    import numba
    import numpy as np

    @numba.njit(parallel=True, fastmath={"reassoc", "contract"}, error_model="numpy")
    def layer_norm(x, gamma, beta, y, epsilon):  # type: ignore[no-untyped-def]
        n, c = x.shape
        for r in numba.prange(n):
            row, out = x[r], y[r]
            mean = 0.0
            for j in range(c):
                mean += row[j]
            mean /= c
            square = 0.0
            for j in range(c):
                d = row[j] - mean
                square += d * d
            inv = 1.0 / np.sqrt(square / c + epsilon)
            mean_t, inv_t = np.float32(mean), np.float32(inv)
            for j in range(c):
                out[j] = (row[j] - mean_t) * inv_t * gamma[j] + beta[j]

    return layer_norm


def _time(mode: str, calls: int) -> str:
    import numpy as np

    rng = np.random.default_rng(0)
    x = rng.normal(size=(2048, 128)).astype("float32")
    gamma, beta = np.ones(128, "float32"), np.zeros(128, "float32")
    if mode.startswith("prange"):
        import numba

        kernel, y = _prange_layer_norm(), np.empty_like(x)
        if mode.endswith("-1"):
            numba.set_num_threads(1)

        def run() -> None:
            kernel(x, gamma, beta, y, 1e-5)
    else:
        from nnx.backends import get_backend

        backend = get_backend("numpy")

        def run() -> None:
            backend.layer_norm(x, gamma, beta, 1e-5)

    run()
    times = []
    for _ in range(calls):
        time.sleep(0.0005)
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    times.sort()
    layer = f" ({numba.threading_layer()})" if mode.startswith("prange") else ""
    return (
        f"{mode:17s} fastest {times[0] * 1e6:6.0f} µs, median {times[len(times) // 2] * 1e6:6.0f}"
        f" µs{layer}"
    )


def main(argv: list[str] | None = None) -> None:
    """Print each mode's fastest and median time, each from a fresh process."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=300, help="timed calls per mode")
    parser.add_argument("--mode", choices=MODES, help=argparse.SUPPRESS)  # one child's mode
    args = parser.parse_args(argv)
    if args.mode:
        print(_time(args.mode, args.calls))
        return
    for mode in MODES:
        env = dict(os.environ, NNX_THREAD_WAKE="fast" if mode == "pool" else "slow")
        if mode.startswith("prange"):
            env["NUMBA_THREADING_LAYER"] = mode.split("-")[1]  # omp or workqueue
        command = [sys.executable, "-m", "bench.thread_handoff", "--mode", mode]
        command += ["--calls", str(args.calls)]
        subprocess.run(command, env=env, check=True)


if __name__ == "__main__":
    main()
