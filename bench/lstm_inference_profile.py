"""Where one LSTM inference pass goes: CPU time of each piece, nnx's numba kernels against
PyTorch, one thread each (BLAS and torch at one thread).

The case is ``test_bench_sequence.py``'s ``lstm``: LSTM(128) over 50 steps of 32 features,
batch 64, float32. Each figure is the calling thread's CPU time (the steadier measure on a
shared host), the fastest of ``--repeat`` calls::

    OPENBLAS_NUM_THREADS=1 taskset -c 1 python -m bench.lstm_inference_profile

Rows: the whole-sequence inference kernel (all 64 rows, and the 32 rows one core takes when the
rows are split; with the ``mkl`` extra also its build on MKL's products), its input projection
and its 50 recurrent products alone (``np.dot`` inside numba, SciPy's BLAS), NumPy's
``np.matmul(out=)`` from Python, the per-step path the layer took before (a Python loop of
``np.matmul`` and one fused gate kernel per step), and torch's ``nn.LSTM`` with its
``torch.mm`` and projection.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np


def _cpu_ms(fn: Callable[[], object], repeat: int) -> float:
    fn()
    times = []
    for _ in range(repeat):
        start = time.thread_time()
        fn()
        times.append(time.thread_time() - start)
    return min(times) * 1e3


def main(argv: list[str] | None = None) -> None:
    """Print each piece's CPU time (ms, and per step in µs)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=40, help="calls per piece")
    args = parser.parse_args(argv)

    import numba
    import torch
    from threadpoolctl import threadpool_limits

    from nnx.backends import numba_recurrent as rnn
    from nnx.backends import numba_recurrent_infer as infer

    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    n, steps, features, units = 64, 50, 32, 128
    width = 4 * units
    x = rng.normal(size=(n, steps, features)).astype("float32")
    w = (rng.normal(size=(features, width)) * 0.1).astype("float32")
    b = np.zeros(width, "float32")
    u = (rng.normal(size=(units, width)) * 0.1).astype("float32")
    h, c = np.zeros((n, units), "float32"), np.zeros((n, units), "float32")
    e2, e3 = np.empty((0, 0), "float32"), np.empty((0, 0, 0), "float32")
    xz, z = np.empty((n * steps, width), "float32"), np.empty((n, width), "float32")
    x2 = np.ascontiguousarray(x.transpose(1, 0, 2)).reshape(steps * n, features)  # time-major
    x2_half = np.ascontiguousarray(x[:32].transpose(1, 0, 2)).reshape(steps * 32, features)
    xzt = rng.normal(size=(steps, n, width)).astype("float32")
    gates = np.empty((1, n, 5 * units), "float32")

    @numba.njit(nogil=True)
    def products(h, u, z, steps):  # type: ignore[no-untyped-def]
        for _ in range(steps):
            np.dot(h, u, z)

    @numba.njit(nogil=True)
    def projection(x2, w, xz):  # type: ignore[no-untyped-def]
        np.dot(x2, w, xz)

    def per_step_path() -> None:
        for t in range(steps):
            np.matmul(h, u, out=z)
            rnn.lstm_step(t, 0, xzt, z, h, c, e2, e2, h, gates, e3, e3)

    def gate_kernels() -> None:
        for t in range(steps):
            rnn.lstm_step(t, 0, xzt, z, h, c, e2, e2, h, gates, e3, e3)

    rows: dict[str, Callable[[], object]] = {
        "nnx kernel, whole pass, 64 rows": lambda: infer.lstm_infer(
            x2, w, b, u, h, c, e2, False, e3, xz[: infer.projection_chunk(n, steps) * n], z
        ),
        "nnx kernel, 32 rows (one core's half)": lambda: infer.lstm_infer(
            x2_half,
            w,
            b,
            u,
            h[:32],
            c[:32],
            e2,
            False,
            e3,
            xz[: infer.projection_chunk(32, steps) * 32],
            z[:32],
        ),
        "  its input projection, 64 rows": lambda: projection(x2, w, xz),
        "  its 50 np.dot(h, U), 64 rows": lambda: products(h, u, z, steps),
        "  its 50 np.dot(h, U), 32 rows": lambda: products(h[:32], u, z[:32], steps),
        "NumPy: 50 np.matmul(h, U, out=) from Python": lambda: [
            np.matmul(h, u, out=z) for _ in range(steps)
        ],
        "before: 50 (np.matmul + lstm_step) from Python": per_step_path,
        "before: 50 lstm_step gate kernels alone": gate_kernels,
    }
    from nnx.backends import numba_recurrent_mkl

    mkl = numba_recurrent_mkl.kernels()
    if mkl is not None:  # the mkl extra: the same kernel on MKL's products, U packed once
        rows["nnx kernel on MKL, whole pass, 64 rows"] = lambda: mkl.lstm_infer(
            x2, w, b, u, h, c, e2, False, e3, xz[: infer.projection_chunk(n, steps) * n], z
        )
        rows["nnx kernel on MKL, 32 rows"] = lambda: mkl.lstm_infer(
            x2_half, w, b, u, h[:32], c[:32], e2, False, e3,
            xz[: infer.projection_chunk(32, steps) * 32], z[:32],
        )  # fmt: skip
    xt, wt = torch.from_numpy(x), torch.from_numpy(w)
    lstm = torch.nn.LSTM(features, units, batch_first=True)
    ht, ut, zt = torch.from_numpy(h), torch.from_numpy(u), torch.from_numpy(z)
    rows.update(
        {
            "torch: nn.LSTM inference": lambda: lstm(xt),
            "torch: 50 torch.mm(h, U, out=)": lambda: [
                torch.mm(ht, ut, out=zt) for _ in range(steps)
            ],
            "torch: input projection": lambda: torch.mm(xt.reshape(-1, features), wt),
        }
    )
    with threadpool_limits(1, user_api="blas"), torch.no_grad():
        for name, fn in rows.items():
            ms = _cpu_ms(fn, args.repeat)
            print(f"{name:50s} {ms:6.2f} ms  {ms * 1e3 / steps:6.1f} us/step")


if __name__ == "__main__":
    main()
