"""Helpers shared by the backend kernel tests: the attention mask cases and the copy of a
recurrent layer's weights into its torch twin."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from nnx.functional.sequence import allowed_pairs
from nnx.layers import LSTM

Blocks = Callable[[np.ndarray], np.ndarray]


def allowed_case(kind: str, n: int, tq: int, tv: int) -> np.ndarray | None:
    """The ``(n | 1, 1, Tq, Tv)`` mask of each case (``none``, ``causal``, ``padding``);
    ``padding`` leaves sample 0 with no valid key, so all its rows are fully masked."""
    rng = np.random.default_rng(4)
    if kind == "none":
        return None
    if kind == "causal":
        return allowed_pairs(np, (n, tq, tv), causal=True)
    query, value = rng.random((n, tq)) < 0.7, rng.random((n, tv)) < 0.6
    value[0] = False
    return allowed_pairs(np, (n, tq, tv), query_mask=query, value_mask=value)


@pytest.fixture
def mask_case() -> Callable[[str, int, int, int], np.ndarray | None]:
    """:func:`allowed_case`."""
    return allowed_case


def copy_to_torch(layer: Any, module: Any) -> Blocks:
    """Copy a built float64 ``LSTM``/``GRU``'s weights into ``torch.nn.LSTM``/``GRU``
    (kernels transposed, GRU gates reordered from Keras's (z, r, h) to torch's (r, z, n), the
    recurrent bias or zeros as torch's second bias); returns the gate reordering, for
    comparing gradients."""
    import torch

    kernel, recurrent, bias = (p.value for p in layer.parameters())
    order = [0, 1, 2, 3] if isinstance(layer, LSTM) else [1, 0, 2]

    def blocks(a: np.ndarray) -> np.ndarray:
        return np.concatenate([np.split(a, len(order), axis=-1)[i] for i in order], axis=-1)

    with torch.no_grad():
        module.weight_ih_l0.copy_(torch.from_numpy(blocks(kernel).T.copy()))
        module.weight_hh_l0.copy_(torch.from_numpy(blocks(recurrent).T.copy()))
        b_in, b_rec = (bias, np.zeros_like(bias)) if bias.ndim == 1 else bias
        module.bias_ih_l0.copy_(torch.from_numpy(blocks(b_in)))
        module.bias_hh_l0.copy_(torch.from_numpy(blocks(b_rec)))
    return blocks


@pytest.fixture
def torch_twin() -> Callable[[Any, Any], Blocks]:
    """:func:`copy_to_torch`."""
    return copy_to_torch
