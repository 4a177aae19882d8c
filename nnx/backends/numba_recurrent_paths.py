"""The NumPy backend's whole-sequence recurrent fast paths: a loop over time whose steps are
one NumPy matmul (``h U``) and one fused numba kernel for the gate maths (the kernels are in
:mod:`nnx.backends.numba_recurrent`); where MKL is installed (the ``mkl`` extra) the whole loop
is one compiled call (:mod:`nnx.backends.numba_recurrent_loops`). Inference runs the
projection and every step in one compiled call per block of rows
(:mod:`nnx.backends.numba_recurrent_infer`).

Each method declines (None: the layer runs its portable loop) when numba is off, for sequences
under :data:`~nnx.backends.numba_paths.MIN_SIZE` elements of input projection, for dtypes
other than float32/float64, or for a cell it has no kernel for (the layer only asks for
``"simple_rnn"``, ``"lstm"`` and ``"gru"`` with tanh and sigmoid, ``reset_after``).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from nnx.backends.blas_threads import blas_controller, run_split_one_blas_thread
from nnx.backends.fast_paths import FastPaths, RecurrentRun
from nnx.backends.numba_paths import has_blas, kernels, ok

__all__ = ["NumbaRecurrentPaths"]

Array = Any
_WIDTH = {"simple_rnn": 1, "lstm": 4, "gru": 3}
#: the kernels' name of each cell (``lstm_step``, ``rnn_forward``, ...)
_NAME = {"simple_rnn": "rnn", "lstm": "lstm", "gru": "gru"}


@dataclass
class _Tape:
    """What the backward reads, kept by the forward (time-major, C-contiguous)."""

    cell: str
    kernels: Any
    recurrent: Array
    mask: Array
    hmask: Array
    hs: Array
    cs: Array
    gates: Array


def _slot(a: Array | None, like: Array, ndim: int) -> Array:
    """``a`` as a C-contiguous array of ``like``'s dtype, or an empty one of ``ndim`` axes."""
    if a is None:
        return np.empty((0,) * ndim, dtype=like.dtype)
    return np.ascontiguousarray(a, dtype=like.dtype)


#: the fewest batch rows a thread takes (smaller blocks: one thread runs them all)
MIN_ROWS = 16
#: split the batch rows over the cores (``NNX_RECURRENT_SPLIT=1``). Off by default: on an idle
#: 2-core host one loop with BLAS's own threads was faster (LSTM bench: train 16.5 against
#: 25.3 ms, inference 6.6 against 8.2 ms); the split held up where other processes held the
#: cores (the recurrence 24 against 109 ms at load average 7).
ROW_SPLIT = os.environ.get("NNX_RECURRENT_SPLIT", "0") == "1"
#: split the rows of an inference pass (:meth:`NumbaRecurrentPaths.recurrent_inference`) over
#: the cores, each running the whole sequence in one compiled call with BLAS single-threaded
#: (on by default; ``NNX_RECURRENT_INFER_SPLIT=0`` runs one call with BLAS's own threads). On
#: the idle 2-core host the split won (LSTM bench, fastest of 40 passes: 5.4-6.3 against
#: 6.5-9.9 ms; GRU 3.9 against 6.4 ms); on a host loaded by other processes (load average
#: 7-12) one call was faster (23 against 50 ms).
INFER_SPLIT = os.environ.get("NNX_RECURRENT_INFER_SPLIT", "1") != "0"
#: threadpoolctl's handle on the BLAS libraries (None without threadpoolctl): a module name, so
#: that a test can take it away
_blas_controller = blas_controller


def _row_blocks(n: int, split: bool) -> list[tuple[int, int]] | None:
    """The batch rows in one block per core, the calling thread's block last; None where one
    loop runs (``split`` off, a batch too small, or no threadpoolctl to hold BLAS at one
    thread)."""
    from nnx.backends.numba_jit import threads

    parts = min(threads(), n // MIN_ROWS)
    if not split or _blas_controller() is None or parts < 2:
        return None
    step = -(-n // parts)
    return [*((lo, min(lo + step, n)) for lo in range(step, n, step)), (0, step)]


def _by_rows(n: int, run: Callable[[int, int], None], split: bool | None = None) -> None:
    """``run(lo, hi)`` over blocks of the batch rows, one per core, each a whole loop over
    time (the rows of a recurrent layer never meet); one loop, BLAS threads as they are, where
    :func:`_row_blocks` gives no blocks (:data:`ROW_SPLIT` off by default)."""
    blocks = _row_blocks(n, ROW_SPLIT if split is None else split)
    if blocks is None:
        run(0, n)
    else:
        run_split_one_blas_thread(run, blocks)


def _compiled_loops() -> Any:
    """The whole-sequence training loops where MKL is installed (else None: a Python loop over
    time, one NumPy matmul per step; see :mod:`nnx.backends.numba_recurrent_loops`)."""
    from nnx.backends import numba_recurrent_mkl

    return numba_recurrent_mkl.kernels()


class NumbaRecurrentPaths(FastPaths):
    """:meth:`recurrent_forward` and :meth:`recurrent_backward` with fused numba steps."""

    def recurrent_forward(
        self,
        cell: str,
        xz: Array,
        recurrent: Array,
        recurrent_bias: Array | None,
        states: tuple[Array, ...],
        mask: Array | None,
        hmask: Array | None,
        keep: bool,
        record: bool,
    ) -> RecurrentRun | None:
        k = kernels(xz.size) if cell in _WIDTH else None
        if (
            k is None
            or xz.ndim != 3
            or not ok(xz, recurrent, *states)
            or xz.shape[2] != _WIDTH[cell] * recurrent.shape[0]
        ):
            return super().recurrent_forward(
                cell, xz, recurrent, recurrent_bias, states, mask, hmask, keep, record
            )
        steps, n, w = xz.shape
        units, dt = recurrent.shape[0], xz.dtype
        xz, u = np.ascontiguousarray(xz), np.ascontiguousarray(recurrent)
        m = _slot(None if mask is None else mask.T, xz, 2)
        hm = _slot(hmask, xz, 2)
        h = np.array(states[0], dtype=dt, order="C")
        hs = np.empty((steps + 1, n, units), dtype=dt) if keep or record else _slot(None, xz, 3)
        if hs.size:
            hs[0] = h
        # NOTE: hd is the product's left factor h * hmask, which each step prepares for the next
        hd = h if hmask is None else h * hm
        cs = _slot(None, xz, 3)
        blocks = {"lstm": 5, "gru": 4}.get(cell, 0)  # what each step keeps: see the kernels
        gates = np.empty((steps if keep else 1, n, blocks * units), dtype=dt)
        rnn, name = k.rnn, _NAME[cell]
        if cell == "lstm":
            c = np.array(states[1], dtype=dt, order="C")
            if keep:
                cs = np.empty((steps + 1, n, units), dtype=dt)
                cs[0] = c
            args: tuple[Array, ...] = (h, c, m, hm, hd, gates, hs, cs)
            final: tuple[Array, ...] = (h, c)
        elif cell == "gru":
            brec = np.zeros(w, dtype=dt) if recurrent_bias is None else _slot(recurrent_bias, xz, 1)
            args, final = (brec, h, m, hm, hd, gates, hs), (h,)
        else:
            args, final = (h, m, hm, hd, hs), (h,)
        step, loops = getattr(rnn, f"{name}_step"), _compiled_loops()

        def rows(lo: int, hi: int) -> None:
            hdb, zb = hd[lo:hi], np.empty((hi - lo, w), dtype=dt)
            if loops is not None:  # MKL: the whole loop compiled
                getattr(loops, f"{name}_forward")(lo, xz, zb, u, hdb, *args)
                return
            for t in range(steps):
                np.matmul(hdb, u, out=zb)
                step(t, lo, xz, zb, *args)

        _by_rows(n, rows)
        tape = _Tape(cell, k, u, m, hm, hs, cs, gates) if keep else None
        return RecurrentRun(hs if hs.size else None, final, tape)

    def recurrent_backward(
        self, tape: Any, dys: Array | None, dstates: tuple[Array, ...]
    ) -> tuple[Array, Array, tuple[Array, ...]] | None:
        if not isinstance(tape, _Tape):
            return super().recurrent_backward(tape, dys, dstates)
        u, hs, m, hm = tape.recurrent, tape.hs, tape.mask, tape.hmask
        gates, cs = tape.gates, tape.cs
        steps, n, units = hs.shape[0] - 1, hs.shape[1], hs.shape[2]
        w, dt = u.shape[1], u.dtype
        ut = np.ascontiguousarray(u.T)
        dy = _slot(dys, hs, 3)
        dh = np.array(dstates[0], dtype=dt, order="C")
        tmp = np.zeros((n, units), dtype=dt)  # dz_{t+1} U^T, none after the last step
        dxz = np.empty((steps, n, w), dtype=dt)
        rnn, name = tape.kernels.rnn, _NAME[tape.cell]
        if tape.cell == "lstm":
            dc = np.array(dstates[1], dtype=dt, order="C")
            args: tuple[Array, ...] = (dy, tmp, hm, dh, dc, gates, cs, m, dxz)
            drec, rest = dxz, [dc]
        elif tape.cell == "gru":
            drec = np.empty((steps, n, w), dtype=dt)
            args, rest = (dy, tmp, hm, dh, gates, hs, m, dxz, drec), []
        else:
            args, drec, rest = (dy, tmp, hm, dh, hs, m, dxz), dxz, []
        step, loops = getattr(rnn, f"{name}_step_backward"), _compiled_loops()

        def rows(lo: int, hi: int) -> None:
            if loops is not None:  # MKL: the whole loop compiled
                getattr(loops, f"{name}_backward")(lo, hi, ut, drec, tmp, *args)
                return
            for t in range(steps - 1, -1, -1):
                step(t, lo, hi, *args)
                np.matmul(drec[t, lo:hi], ut, out=tmp[lo:hi])

        _by_rows(n, rows)
        dh += tmp if hm.size == 0 else tmp * hm
        return dxz, drec, (dh, *rest)

    def recurrent_inference(
        self,
        cell: str,
        x: Array,
        kernel: Array,
        bias: Array | None,
        recurrent: Array,
        recurrent_bias: Array | None,
        states: tuple[Array, ...],
        mask: Array | None,
        reverse: bool,
        record: bool,
    ) -> tuple[Array | None, tuple[Array, ...]] | None:
        n, steps, _ = x.shape
        width = kernel.shape[1]
        k = kernels(steps * n * width) if cell in _WIDTH and has_blas() else None
        if (
            k is None
            or x.ndim != 3
            or n == 0
            or steps == 0
            or not ok(x, kernel, recurrent, *states)
            or width != _WIDTH[cell] * recurrent.shape[0]
        ):
            return super().recurrent_inference(
                cell, x, kernel, bias, recurrent, recurrent_bias, states, mask, reverse, record
            )
        units, dt = recurrent.shape[0], x.dtype
        x = np.ascontiguousarray(x)
        w, u = np.ascontiguousarray(kernel), np.ascontiguousarray(recurrent)
        b = np.zeros(width, dtype=dt) if bias is None else _slot(bias, x, 1)
        m = _slot(mask, x, 2)
        h = np.array(states[0], dtype=dt, order="C")
        ys = np.empty((n, steps, units), dtype=dt) if record else _slot(None, x, 3)
        from nnx.backends import numba_recurrent_infer as infer  # numba is there: k is set
        from nnx.backends import numba_recurrent_mkl

        if cell == "lstm":
            c = np.array(states[1], dtype=dt, order="C")
            final: tuple[Array, ...] = (h, c)
        else:
            final = (h,)
            brec = (
                np.zeros(width, dtype=dt) if recurrent_bias is None else _slot(recurrent_bias, x, 1)
            )

        built = numba_recurrent_mkl.kernels() or infer  # MKL's products with the mkl extra
        compiled = {"lstm": built.lstm_infer, "gru": built.gru_infer}.get(cell, built.rnn_infer)

        def block(lo: int, hi: int) -> tuple[Any, ...]:
            """The kernel's arguments for batch rows ``lo:hi``, made on the calling thread: a
            pool thread then runs only the compiled call, without the GIL (made there, one
            transposed copy was seen waiting 3.9 ms for the GIL while the other block ran)."""
            rows = hi - lo
            x2 = np.ascontiguousarray(x[lo:hi].transpose(1, 0, 2)).reshape(steps * rows, -1)
            xz = np.empty((infer.projection_chunk(rows, steps) * rows, width), dtype=dt)
            z = np.empty((rows, width), dtype=dt)
            mb = m[lo:hi] if m.size else m
            yb = ys[lo:hi] if ys.size else ys
            if cell == "lstm":
                return (x2, w, b, u, h[lo:hi], c[lo:hi], mb, reverse, yb, xz, z)
            if cell == "gru":
                return (x2, w, b, u, brec, h[lo:hi], mb, reverse, yb, xz, z)
            return (x2, w, b, u, h[lo:hi], mb, reverse, yb, xz, z)

        blocks = _row_blocks(n, INFER_SPLIT)
        if blocks is None:
            compiled(*block(0, n))
        else:
            run_split_one_blas_thread(compiled, [block(lo, hi) for lo, hi in blocks])
        return (ys if record else None), final
