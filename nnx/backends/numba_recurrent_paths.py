"""The NumPy backend's whole-sequence recurrent fast paths: a loop over time whose steps are
one NumPy matmul (``h U``) and one fused numba kernel for the gate maths (the kernels are in
:mod:`nnx.backends.numba_recurrent`).

Each method declines (None: the layer runs its portable loop) when numba is off, for sequences
under :data:`~nnx.backends.numba_paths.MIN_SIZE` elements of input projection, for dtypes
other than float32/float64, or for a cell it has no kernel for (the layer only asks for
``"simple_rnn"``, ``"lstm"`` and ``"gru"`` with tanh and sigmoid, ``reset_after``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from nnx.backends.fast_paths import FastPaths, RecurrentRun
from nnx.backends.numba_paths import kernels, ok

__all__ = ["NumbaRecurrentPaths"]

Array = Any
_WIDTH = {"simple_rnn": 1, "lstm": 4, "gru": 3}


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
        z = np.empty((n, w), dtype=dt)
        cs = _slot(None, xz, 3)
        blocks = {"lstm": 5, "gru": 4}.get(cell, 0)  # what each step keeps: see the kernels
        gates = np.empty((steps if keep else 1, n, blocks * units), dtype=dt)
        rnn = k.rnn
        if cell == "lstm":
            c = np.array(states[1], dtype=dt, order="C")
            if keep:
                cs = np.empty((steps + 1, n, units), dtype=dt)
                cs[0] = c
            for t in range(steps):
                np.matmul(hd, u, out=z)
                rnn.lstm_step(t, xz, z, h, c, m, hm, hd, gates, hs, cs)
            final: tuple[Array, ...] = (h, c)
        elif cell == "gru":
            brec = np.zeros(w, dtype=dt) if recurrent_bias is None else _slot(recurrent_bias, xz, 1)
            for t in range(steps):
                np.matmul(hd, u, out=z)
                rnn.gru_step(t, xz, z, brec, h, m, hm, hd, gates, hs)
            final = (h,)
        else:
            for t in range(steps):
                np.matmul(hd, u, out=z)
                rnn.rnn_step(t, xz, z, h, m, hm, hd, hs)
            final = (h,)
        tape = _Tape(cell, k, u, m, hm, hs, cs, gates) if keep else None
        return RecurrentRun(hs if hs.size else None, final, tape)

    def recurrent_backward(
        self, tape: Any, dys: Array | None, dstates: tuple[Array, ...]
    ) -> tuple[Array, Array, tuple[Array, ...]] | None:
        if not isinstance(tape, _Tape):
            return super().recurrent_backward(tape, dys, dstates)
        u, hs, m, hm = tape.recurrent, tape.hs, tape.mask, tape.hmask
        steps, n, units = hs.shape[0] - 1, hs.shape[1], hs.shape[2]
        w, dt = u.shape[1], u.dtype
        ut = np.ascontiguousarray(u.T)
        dy = _slot(dys, hs, 3)
        dh = np.array(dstates[0], dtype=dt, order="C")
        tmp = np.zeros((n, units), dtype=dt)  # dz_{t+1} U^T, none after the last step
        dxz = np.empty((steps, n, w), dtype=dt)
        rnn = tape.kernels.rnn
        if tape.cell == "lstm":
            dc = np.array(dstates[1], dtype=dt, order="C")
            for t in range(steps - 1, -1, -1):
                rnn.lstm_step_backward(t, dy, tmp, hm, dh, dc, tape.gates, tape.cs, m, dxz)
                np.matmul(dxz[t], ut, out=tmp)
            drec, rest = dxz, [dc]
        elif tape.cell == "gru":
            drec = np.empty((steps, n, w), dtype=dt)
            for t in range(steps - 1, -1, -1):
                rnn.gru_step_backward(t, dy, tmp, hm, dh, tape.gates, hs, m, dxz, drec)
                np.matmul(drec[t], ut, out=tmp)
            rest = []
        else:
            for t in range(steps - 1, -1, -1):
                rnn.rnn_step_backward(t, dy, tmp, hm, dh, hs, m, dxz)
                np.matmul(dxz[t], ut, out=tmp)
            drec, rest = dxz, []
        dh += tmp if hm.size == 0 else tmp * hm
        return dxz, drec, (dh, *rest)
