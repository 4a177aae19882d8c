"""NumPy's BLAS against torch's on the products the sequence and MLP benches run.

Which BLAS is the faster depends on the host (OpenBLAS against MKL: MKL is slow on AMD and fast
on Intel), and every nnx/torch ratio in ``bench/`` inherits it. This prints, for each shape
``m x k x n``, the fastest ``np.matmul(a, b, out=)`` and ``torch.mm(a, b, out=)`` of
``--repeat`` calls, in µs and GFLOP/s, with both libraries at ``--threads`` threads, and,
where the ``mkl`` extra is installed, MKL's product as nnx's numba kernels call it (one thread,
as each kernel runs on one core's block of rows)::

    PYTHONPATH=. python -m bench.gemm_compare --threads 2
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

#: (m, k, n): the LSTM's per-step product (64 and 32 rows), its input projection, the
#: Transformer block's projections and feed-forward, the large MLP's hidden layer
SHAPES = (
    (64, 128, 512),
    (32, 128, 512),
    (3200, 32, 512),
    (2048, 128, 384),
    (2048, 128, 256),
    (2048, 256, 128),
    (1024, 1024, 1024),
)


def fastest_s(fn: Callable[[], object], repeat: int) -> float:
    """The fastest of ``repeat`` calls (after one warm-up), in seconds."""
    fn()
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def mkl_product() -> Callable[..., None] | None:
    """A compiled ``out = a b`` through :mod:`nnx.backends.numba_mkl`, or None without MKL."""
    from nnx.backends import mkl_library

    if not mkl_library.load():
        return None
    import numba

    from nnx.backends import numba_mkl

    @numba.njit(nogil=True)
    def product(a, b, out):  # type: ignore[no-untyped-def]
        numba_mkl.gemm(a, b, out)

    return product  # type: ignore[no-any-return]


def attention_stacks(repeat: int) -> None:
    """The Transformer bench's score and value products, ``(32, 4, 64, 32) @ (32, 4, 32, 64)``
    then ``(32, 4, 64, 64) @ (32, 4, 64, 32)``, on the strided views of one joint projection:
    NumPy's batched matmul, torch's, and (with the ``mkl`` extra) nnx's MKL loop."""
    import numpy as np
    import torch

    from nnx.backends import mkl_library

    rng = np.random.default_rng(0)
    joint = rng.random((32, 64, 3, 4, 32), dtype=np.float32)
    q, k, v = (joint[:, :, i].transpose(0, 2, 1, 3) for i in range(3))
    kt = k.transpose(0, 1, 3, 2)
    s, o = np.empty((32, 4, 64, 64), np.float32), np.empty((32, 4, 64, 32), np.float32)
    tq, tkt, tv = (torch.from_numpy(x) for x in (q, kt, v))
    ts, to = torch.from_numpy(s), torch.from_numpy(o)
    times = {
        "numpy": fastest_s(lambda: np.matmul(np.matmul(q, kt, out=s), v, out=o), repeat),
        "torch": fastest_s(lambda: torch.matmul(torch.matmul(tq, tkt, out=ts), tv, out=to), repeat),
    }
    if mkl_library.load():
        from nnx.backends.numba_mkl import batched_matmul

        def mkl_pair() -> None:
            batched_matmul(q, kt, s)
            batched_matmul(s, v, o)

        times["numba MKL (1 thread)"] = fastest_s(mkl_pair, repeat)
    print("attention scores + values, (32, 4, 64, 32) stacks: " + " | ".join(
        f"{name} {t * 1e6:8.1f} us" for name, t in times.items()
    ))  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    """Print one line per shape: NumPy and torch µs and GFLOP/s, and torch time / NumPy time."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2, help="BLAS and torch threads")
    parser.add_argument("--repeat", type=int, default=50, help="calls per product")
    args = parser.parse_args(argv)

    import numpy as np
    import torch
    from threadpoolctl import threadpool_limits

    from nnx.benchmarks.host import describe

    torch.set_num_threads(args.threads)
    mkl = mkl_product()
    rng = np.random.default_rng(0)
    with threadpool_limits(args.threads, user_api="blas"):
        print(describe())
        for m, k, n in SHAPES:
            a = rng.random((m, k), dtype=np.float32)
            b = rng.random((k, n), dtype=np.float32)
            out = np.empty((m, n), dtype=np.float32)
            ta, tb, tout = torch.from_numpy(a), torch.from_numpy(b), torch.empty(m, n)
            numpy_s = fastest_s(lambda: np.matmul(a, b, out=out), args.repeat)  # noqa: B023
            torch_s = fastest_s(lambda: torch.mm(ta, tb, out=tout), args.repeat)  # noqa: B023
            flop = 2 * m * k * n
            line = (
                f"{m}x{k}x{n}: numpy {numpy_s * 1e6:8.1f} us {flop / numpy_s / 1e9:5.0f} GFLOP/s"
                f" | torch {torch_s * 1e6:8.1f} us {flop / torch_s / 1e9:5.0f} GFLOP/s"
                f" | numpy speed / torch {torch_s / numpy_s:.2f}"
            )
            if mkl is not None:
                mkl_s = fastest_s(lambda: mkl(a, b, out), args.repeat)  # noqa: B023
                line += f" | numba MKL (1 thread) {mkl_s * 1e6:8.1f} us"
            print(line)
        attention_stacks(args.repeat)


if __name__ == "__main__":
    main()
