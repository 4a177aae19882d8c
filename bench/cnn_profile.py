"""Where the tutorial CNN's train step spends its time: nnx per operation against PyTorch's
profiler on the same model, batch and optimizer.

nnx: every backend fast path and every layer's forward and backward closure is wrapped with a
timer (``time.thread_time``: the calling thread's CPU time, steadier than the wall clock where
other jobs share the machine); torch: ``torch.profiler``'s self CPU time per aten operation.
Pin to one core with single-threaded BLAS and torch, so that all the work is on the calling
thread (the numba kernels split over threads only where the process has several cores)::

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 taskset -c 1 python -m bench.cnn_profile --batch 64

Without ``taskset`` the figures are wall-clock (``--wall``). ``NNX_NUMBA=0`` profiles the
portable code.
"""

from __future__ import annotations

import argparse
import time
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import numpy as np

import nnx
from nnx.layers import Conv2D, Dense, Flatten, MaxPooling2D

#: the backend methods timed (those the CNN's step calls, whichever route it takes)
OPS = (
    "conv2d_direct",
    "conv2d_weight_grad",
    "im2col",
    "col2im",
    "matmul",
    "max_pool2d",
    "max_pool2d_backward",
    "max_pool2d_argmax",
    "max_pool2d_argmax_backward",
    "activation_forward",
    "activation_backward",
    "activation_bias_backward",
    "relu_backward",
    "sum_rows",
    "softmax_crossentropy",
)


def _model(optimizer: str) -> nnx.Sequential:
    model = nnx.Sequential(
        [
            Conv2D(32, (3, 3), activation="relu", input_shape=(28, 28, 1)),
            MaxPooling2D((2, 2)),
            Flatten(),
            Dense(64, activation="relu"),
            Dense(10, activation="softmax"),
        ],
        seed=0,
    )
    opt = nnx.optimizers.SGD(0.01, momentum=0.9) if optimizer == "sgd" else "adam"
    model.compile(optimizer=opt, loss="categorical_crossentropy")
    return model


def profile_nnx(batch: int, optimizer: str, steps: int, clock: Callable[[], float]) -> None:
    """Print the step time and the microseconds per step of each operation and layer."""
    rng = np.random.default_rng(0)
    model = _model(optimizer)
    be = model.backend
    x = be.asarray(rng.random((batch, 28, 28, 1), dtype=np.float32))
    y = be.asarray(np.eye(10, dtype=np.float32)[rng.integers(0, 10, batch)])
    spent: dict[str, float] = defaultdict(float)
    calls: dict[str, int] = defaultdict(int)
    on = [False]

    def timed(label: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def run(*args: Any, **kwargs: Any) -> Any:
            start = clock()
            out = fn(*args, **kwargs)
            if on[0]:
                spent[label] += clock() - start
                calls[label] += 1
            return out

        return run

    for op in OPS:
        setattr(be, op, timed(op, getattr(be, op)))
    for layer in model.layers:

        def forward(
            x: Any, *, training: bool = False, inner: Any = layer.forward, name: str = layer.name
        ) -> Any:
            y, backprop = timed(f"layer {name} forward", inner)(x, training=training)
            return y, timed(f"layer {name} backward", backprop)

        layer.forward = forward  # type: ignore[method-assign]
    model.optimizer.step = timed("optimizer", model.optimizer.step)  # type: ignore[union-attr]
    for _ in range(5):
        model.train_step(x, y)
    on[0] = True
    start = clock()
    for _ in range(steps):
        model.train_step(x, y)
    total = (clock() - start) / steps
    on[0] = False
    print(
        f"nnx, batch {batch}, {optimizer}: {total * 1e3:.2f} ms/step "
        f"({batch / total:,.0f} samples/s)"
    )
    for label in sorted(spent, key=lambda k: -spent[k]):
        print(
            f"  {label:38s} {spent[label] / steps * 1e6:9.0f} us  ({calls[label] / steps:.0f}/step)"
        )


def profile_torch(batch: int, optimizer: str, steps: int, clock: Callable[[], float]) -> None:
    """Print torch's step time and its profiler's self CPU time per operation."""
    import torch

    torch.manual_seed(0)
    model = torch.nn.Sequential(
        torch.nn.Conv2d(1, 32, 3), torch.nn.ReLU(), torch.nn.MaxPool2d(2), torch.nn.Flatten(),
        torch.nn.Linear(32 * 13 * 13, 64), torch.nn.ReLU(), torch.nn.Linear(64, 10),
    )  # fmt: skip
    params = model.parameters()
    opt = (
        torch.optim.SGD(params, 0.01, momentum=0.9)
        if optimizer == "sgd"
        else torch.optim.Adam(params)
    )
    x, y = torch.rand(batch, 1, 28, 28), torch.randint(0, 10, (batch,))

    def step() -> None:
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(x), y).backward()
        opt.step()

    for _ in range(5):
        step()
    start = clock()
    for _ in range(steps):
        step()
    total = (clock() - start) / steps
    print(
        f"torch {torch.__version__} ({torch.get_num_threads()} threads): {total * 1e3:.2f} ms/step"
    )
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as prof:
        for _ in range(steps):
            step()
    # NOTE: the profiler's times are wall-clock, whatever --wall says
    for event in sorted(prof.key_averages(), key=lambda e: -e.self_cpu_time_total)[:14]:
        print(
            f"  {event.key:38s} {event.self_cpu_time_total / steps:9.0f} us  "
            f"({event.count / steps:.0f}/step)"
        )


def main(argv: list[str] | None = None) -> None:
    """Profile both libraries (``--no-torch``: nnx only)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--optimizer", choices=("sgd", "adam"), default="sgd")
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--wall", action="store_true", help="wall-clock instead of thread CPU time")
    parser.add_argument("--no-torch", action="store_true")
    args = parser.parse_args(argv)
    clock = time.perf_counter if args.wall else time.thread_time
    profile_nnx(args.batch, args.optimizer, args.steps, clock)
    if not args.no_torch:
        profile_torch(args.batch, args.optimizer, args.steps, clock)


if __name__ == "__main__":
    main()
