"""Where one step of the bench's Transformer block goes: nnx per backend call against torch's
profiler, on the calling thread's CPU clock.

The case is ``test_bench_sequence.py``'s ``transformer`` (post-norm block, 4 heads, width 128,
feed-forward 256, batch 32, 64 steps, Adam, MSE). nnx's backend methods (``matmul``, the
numba kernels, ...) are wrapped with timers; "rest" is what the step spends outside them
(NumPy elementwise passes such as bias and residual adds, Python). Run pinned, with
single-threaded BLAS and torch, for figures that do not depend on the neighbours::

    OPENBLAS_NUM_THREADS=1 taskset -c 1 python -m bench.transformer_profile --steps 30
"""

from __future__ import annotations

import argparse
import collections
import time
from collections.abc import Callable
from typing import Any

METHODS = (
    "encoder_block",
    "matmul",
    "sum_rows",
    "attention",
    "attention_softmax",
    "attention_softmax_backward",
    "layer_norm",
    "layer_norm_backward",
    "activation_forward",
    "activation_backward",
    "activation_bias_backward",
    "adam_step",
)


def wrap_methods(
    backend: Any,
    totals: dict[str, list[float]],
    methods: tuple[str, ...] = METHODS,
    clock: Callable[[], float] = time.thread_time,
) -> None:
    """Replace each of ``methods`` on ``backend`` by a call that appends its ``clock`` time to
    ``totals[name]``."""
    for name in methods:
        method = getattr(backend, name)

        def timed(*args: Any, _m: Callable[..., Any] = method, _n: str = name, **kw: Any) -> Any:
            start = clock()
            try:
                return _m(*args, **kw)
            finally:
                totals[_n].append(clock() - start)

        setattr(backend, name, timed)


def _profile(step: Callable[[], Any], totals: dict[str, list[float]], steps: int) -> None:
    step()
    best: dict[str, float] = {}
    for _ in range(steps):
        totals.clear()
        start = time.thread_time()
        step()
        total = time.thread_time() - start
        calls = {k: (sum(v), len(v)) for k, v in totals.items()}
        if total < best.get("step", float("inf")):
            best = {"step": total, **{f"{k} x{n}": s for k, (s, n) in calls.items()}}
    inside = sum(v for k, v in best.items() if k != "step")
    for key, value in sorted(best.items(), key=lambda kv: -kv[1]):
        print(f"  {key:34s} {value * 1e6:9.0f} us")
    print(f"  {'rest (NumPy passes, Python)':34s} {(best['step'] - inside) * 1e6:9.0f} us")


def main(argv: list[str] | None = None) -> None:
    """Print the fastest step's time per backend method, then torch's operator table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=30, help="steps per phase (fastest kept)")
    args = parser.parse_args(argv)

    import torch
    from torch.profiler import ProfilerActivity, profile

    from bench.test_bench_sequence import transformer_case
    from nnx.backends import get_backend, numba_paths

    torch.set_num_threads(1)
    (nnx_train, nnx_infer), (torch_train, torch_infer) = transformer_case()
    totals: dict[str, list[float]] = collections.defaultdict(list)
    wrap_methods(get_backend("numpy"), totals)
    print(f"numba: {numba_paths.status()}, torch {torch.__version__}, 1 thread")
    for phase, nnx_step, torch_step in (
        ("inference", nnx_infer, torch_infer),
        ("train", nnx_train, torch_train),
    ):
        print(f"nnx {phase} (CPU time of the fastest of {args.steps} steps):")
        _profile(nnx_step, totals, args.steps)
        for _ in range(3):
            torch_step()
        with profile(activities=[ProfilerActivity.CPU]) as prof:
            for _ in range(args.steps):
                torch_step()
        print(f"torch {phase} (mean per step over {args.steps}):")
        table = prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=14)
        print(table)


if __name__ == "__main__":
    main()
