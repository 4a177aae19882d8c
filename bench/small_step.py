"""Microseconds of a tiny/small MLP's training step, whole and piece by piece.

The README's "Small-step overhead" figures: the whole ``train_step`` (SGD-momentum and Adam; the
layers' step, ``jit_compile=False``, and the compiled one, ``jit_compile=True``),
``predict`` of one 32-row batch and ``model(x)``, then each piece of the SGD step timed alone
(every Dense forward and backward, the output's logits, the loss's value and gradient, the
optimizer's update, the interrupt block). Each figure is the minimum over many short blocks,
the robust figure on a shared machine. Compare two trees by alternating them::

    PYTHONPATH=. python -m bench.small_step
    PYTHONPATH=/path/to/other/tree python /path/to/this/bench/small_step.py
"""

from __future__ import annotations

import argparse
import timeit
from collections.abc import Callable
from functools import partial
from typing import Any


def best_us(fn: Callable[[], Any], number: int, repeat: int) -> float:
    """The fastest of ``repeat`` blocks of ``number`` calls, in µs per call."""
    return min(timeit.repeat(fn, number=number, repeat=repeat)) / number * 1e6


def whole(model_name: str) -> dict[str, float]:
    """µs per ``train_step`` (SGD, Adam), ``predict`` (32 rows) and ``model(x)``."""
    from nnx.benchmarks.cases import Case, NnxRunner

    out = {}
    for jit in (False, True):
        for phase in ("train_sgd", "train_adam"):
            runner = NnxRunner(Case(model_name, 32, phase))
            model, x, y = runner.model, runner.x, runner.y
            model.compile(model.optimizer, model.loss, jit_compile=jit)
            for _ in range(50):
                model.train_step(x, y)
            out[f"{phase} ({'compiled' if jit else 'layers'})"] = best_us(
                partial(model.train_step, x, y), 10, 400
            )
    out["predict"] = best_us(lambda: model.predict(runner.x_host, batch_size=32), 10, 400)
    out["model(x)"] = best_us(lambda: model(x), 10, 400)
    return out


def pieces(model_name: str) -> dict[str, float]:
    """µs of each piece of the SGD step, each timed alone."""
    from nnx.benchmarks.cases import Case, NnxRunner
    from nnx.training.interrupts import deferred_interrupts

    runner = NnxRunner(Case(model_name, 32, "train_sgd"))
    model, x, y = runner.model, runner.x, runner.y
    model.compile(model.optimizer, model.loss, jit_compile=False)  # the layers, piece by piece
    for _ in range(30):
        model.train_step(x, y)
    out: dict[str, float] = {}
    h = x
    for layer in model.layers[1:-1]:  # after the Input layer, before the output layer
        out[f"{layer.name} forward"] = best_us(partial(layer.forward, h, training=True), 200, 40)
        y_h, backprop = layer.forward(h, training=True)
        out[f"{layer.name} backward"] = best_us(partial(backprop, y_h), 200, 40)
        h = y_h
    from nnx.layers import ActivatedLayer

    last, loss, optimizer = model.layers[-1], model._fused_loss, model.optimizer
    assert isinstance(last, ActivatedLayer) and loss is not None and optimizer is not None
    out["logits forward"] = best_us(lambda: last.forward_logits(h, training=True), 200, 40)
    z, backprop_z = last.forward_logits(h, training=True)
    out["loss value+gradient"] = best_us(lambda: loss.value_and_gradient(y, z, None), 200, 40)
    dz = loss.value_and_gradient(y, z, None)[1]
    out["logits backward"] = best_us(lambda: backprop_z(dz), 200, 40)
    params = model._trainable
    out["optimizer step"] = best_us(lambda: optimizer.step(params), 200, 40)

    def block() -> None:
        with deferred_interrupts():
            pass

    out["interrupt block"] = best_us(block, 200, 40)
    return out


def main(argv: list[str] | None = None) -> None:
    """Print the figures of each model."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["tiny", "small"])
    args = parser.parse_args(argv)
    for name in args.models:
        for title, figures in (("step", whole(name)), ("pieces", pieces(name))):
            cells = ", ".join(f"{k} {v:.1f}" for k, v in figures.items())
            print(f"{name} {title} (µs): {cells}", flush=True)


if __name__ == "__main__":
    main()
