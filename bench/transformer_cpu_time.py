"""CPU time of one Transformer encoder block step, nnx against PyTorch, on one pinned core.

Wall-clock ratios swing by 2x when other jobs share a small machine; the CPU time of the
calling thread, on one core with single-threaded BLAS and torch, is the steadier measure (it
still feels the neighbours' cache traffic). The case is ``test_bench_sequence.py``'s
``transformer`` (post-norm block, 4 heads, width 128, feed-forward 256, batch 32, 64 steps,
Adam, MSE); steps of nnx (numpy) and torch alternate, and the fastest of each is kept::

    OPENBLAS_NUM_THREADS=1 taskset -c 1 python -m bench.transformer_cpu_time --steps 60

Pin to one core: with several, the numba kernels also run on pool threads, whose time the
calling thread's clock does not count. ``NNX_NUMBA=0`` times the portable code.
"""

from __future__ import annotations

import argparse
import time


def main(argv: list[str] | None = None) -> None:
    """Print ``train`` and ``inference`` CPU times (ms) and the ratio torch / nnx."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=60, help="alternated steps per phase")
    args = parser.parse_args(argv)

    import torch

    from bench.test_bench_sequence import transformer_case
    from nnx.backends import numba_paths

    torch.set_num_threads(1)
    (nnx_train, nnx_infer), (torch_train, torch_infer) = transformer_case()
    print(f"numba: {numba_paths.status()}, torch {torch.__version__}, 1 thread")
    for phase, steps in (
        ("train", (nnx_train, torch_train)),
        ("inference", (nnx_infer, torch_infer)),
    ):
        best = [float("inf"), float("inf")]
        for step in steps:
            step()
            step()
        for _ in range(args.steps):
            for i, step in enumerate(steps):
                start = time.thread_time()
                step()
                best[i] = min(best[i], time.thread_time() - start)
        print(
            f"{phase}: nnx {best[0] * 1e3:.2f} ms, torch {best[1] * 1e3:.2f} ms CPU time, "
            f"speed nnx/torch = {best[1] / best[0]:.2f}"
        )


if __name__ == "__main__":
    main()
