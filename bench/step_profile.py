"""Where a benchmark case's step goes: each backend fast path wrapped and timed inside the real
step (``matmul``, the activation kernels, the optimizer's update, the convolution and pooling
kernels), the rest being Python and everything not wrapped::

    PYTHONPATH=. python -m bench.step_profile large 1024 train_adam

The README's "Where the large step's time goes" figures. Milliseconds per step over ``--steps``
steps after a warm-up; run it several times on a shared host and report the range (with
``env -u OPENBLAS_CORETYPE`` where the environment forces a BLAS kernel).
"""

from __future__ import annotations

import argparse
import time
from collections import defaultdict
from typing import Any

#: the backend methods timed (those a case calls; the others stay unwrapped)
METHODS = (
    "matmul",
    "activation_forward",
    "activation_backward",
    "activation_bias_backward",
    "sum_rows",
    "sgd_step",
    "adam_step",
    "conv2d_direct",
    "conv2d_weight_grad",
    "max_pool2d_argmax",
    "max_pool2d_argmax_backward",
)


def profile(model: str, batch: int, phase: str, steps: int) -> dict[str, float]:
    """Milliseconds per step of each method, ``"step"`` (the fastest) and ``"rest"``."""
    from nnx.benchmarks.cases import Case, NnxRunner

    runner = NnxRunner(Case(model, batch, phase))
    backend = runner.backend
    for _ in range(3):
        runner()
    spent: dict[str, float] = defaultdict(float)

    def timed(name: str, inner: Any) -> Any:
        def call(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            out = inner(*args, **kwargs)
            spent[name] += time.perf_counter() - start
            return out

        return call

    for name in METHODS:
        setattr(backend, name, timed(name, getattr(backend, name)))
    try:
        times = []
        for _ in range(steps):
            start = time.perf_counter()
            runner()
            times.append(time.perf_counter() - start)
    finally:
        for name in METHODS:
            delattr(backend, name)
    total = sum(times)
    out = {name: 1e3 * s / steps for name, s in spent.items() if s}
    out["rest"] = 1e3 * (total - sum(spent.values())) / steps
    out["step"] = 1e3 * min(times)
    out["matmul %"] = 100 * spent["matmul"] / total
    return out


def main(argv: list[str] | None = None) -> None:
    """Print one line of figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", choices=("tiny", "small", "large", "cnn"))
    parser.add_argument("batch", type=int)
    parser.add_argument("phase", choices=("forward_backward", "train_sgd", "train_adam"))
    parser.add_argument("--steps", type=int, default=8)
    args = parser.parse_args(argv)
    figures = profile(args.model, args.batch, args.phase, args.steps)
    print(f"{args.model}/{args.batch}/{args.phase} (ms per step):")
    print(", ".join(f"{name} {value:.2f}" for name, value in figures.items()))


if __name__ == "__main__":
    main()
