"""LSTM, GRU and MultiHeadAttention against torch.nn.LSTM / GRU / MultiheadAttention with
copied weights (float64): forward outputs, input gradients and two Adam steps agree to 1e-6.

Layouts: Keras and torch order the LSTM gates alike (i, f, c|g, o) but transpose the kernels;
torch's GRU orders them (r, z, n) where Keras has (z, r, h), and its two biases are Keras's
``reset_after`` bias rows; torch's LSTM has a second bias (b_hh) which is frozen at 0 here, so
that Adam updates the one bias Keras has.
"""

from __future__ import annotations

import numpy as np
import pytest

import nnx
from nnx.layers import GRU, LSTM, MultiHeadAttention

torch = pytest.importorskip("torch")

RNG = np.random.default_rng(12)


def _t(a):
    return torch.from_numpy(np.ascontiguousarray(a))


def _lstm_weights(layer, to_np):
    kernel, recurrent, bias = (to_np(p.value) for p in layer.parameters())
    return {"weight_ih_l0": kernel.T, "weight_hh_l0": recurrent.T, "bias_ih_l0": bias}


def _gru_weights(layer, to_np):
    u = layer.units
    kernel, recurrent, bias = (to_np(p.value) for p in layer.parameters())

    def rzn(a):  # Keras blocks (z, r, h) along the last axis -> torch rows (r, z, n)
        return np.concatenate([a[..., u : 2 * u], a[..., :u], a[..., 2 * u :]], axis=-1)

    return {
        "weight_ih_l0": rzn(kernel).T,
        "weight_hh_l0": rzn(recurrent).T,
        "bias_ih_l0": rzn(bias[0]),
        "bias_hh_l0": rzn(bias[1]),
    }


def _mha_weights(layer, to_np):
    w = {p.name.split("/")[-1]: to_np(p.value) for p in layer.parameters()}
    e = w["query_kernel"].shape[0]
    kernels = [w[f"{k}_kernel"].reshape(e, -1).T for k in ("query", "key", "value")]
    biases = [w[f"{k}_bias"].reshape(-1) for k in ("query", "key", "value")]
    return {
        "in_proj_weight": np.concatenate(kernels),
        "in_proj_bias": np.concatenate(biases),
        "out_proj.weight": w["output_kernel"].reshape(-1, e).T,
        "out_proj.bias": w["output_bias"],
    }


def _copy_into(module, weights):
    params = dict(module.named_parameters())
    with torch.no_grad():
        for name, value in weights.items():
            params[name].copy_(_t(value))


def _compare(module, weights):
    params = dict(module.named_parameters())
    for name, value in weights.items():
        np.testing.assert_allclose(params[name].detach().numpy(), value, atol=1e-6, rtol=0)


def _train_side_by_side(backend, layer, module, mapping, run_torch, inputs, target):
    """Forward, input gradients and two Adam steps of ``L = mean((y - target)^2)``."""
    xs = [backend.asarray(a, "float64") for a in inputs]
    optimizer = nnx.optimizers.Adam(0.01, epsilon=1e-8)
    torch_params = [p for p in module.parameters() if p.requires_grad]
    torch_optimizer = torch.optim.Adam(torch_params, lr=0.01, eps=1e-8)
    for _step in range(2):
        tx = [_t(a).requires_grad_(True) for a in inputs]
        ty = run_torch(module, tx)
        torch_optimizer.zero_grad()
        ((ty - _t(target)) ** 2).mean().backward()
        y, backprop = layer.forward_attention(*xs) if len(xs) > 1 else layer.forward(xs[0])
        y_np = backend.to_numpy(y)
        np.testing.assert_allclose(y_np, ty.detach().numpy(), atol=1e-6, rtol=0)
        grads = backprop(backend.asarray(2 * (y_np - target) / target.size, "float64"))
        grads = grads if isinstance(grads, tuple) else (grads,)
        for g, t in zip(grads, tx, strict=False):
            np.testing.assert_allclose(backend.to_numpy(g), t.grad.numpy(), atol=1e-6, rtol=0)
        optimizer.step(layer.trainable_parameters())
        torch_optimizer.step()
        _compare(module, mapping(layer, backend.to_numpy))


@pytest.mark.parametrize("sequences", [False, True])
def test_lstm_matches_torch(backend, sequences):
    layer = LSTM(5, return_sequences=sequences)
    layer.build((None, 3), backend, backend.rng(0), "float64")
    layer.bias.value[...] = backend.asarray(RNG.normal(size=20), "float64")
    module = torch.nn.LSTM(3, 5, batch_first=True, dtype=torch.float64)
    _copy_into(module, _lstm_weights(layer, backend.to_numpy))
    with torch.no_grad():
        module.bias_hh_l0.zero_()
    module.bias_hh_l0.requires_grad_(False)

    def run(m, tx):
        out, (h, _c) = m(tx[0])
        return out if sequences else h[0]

    x = RNG.normal(size=(4, 6, 3))
    target = RNG.normal(size=(4, 6, 5) if sequences else (4, 5))
    _train_side_by_side(backend, layer, module, _lstm_weights, run, [x], target)


def test_gru_reset_after_matches_torch(backend):
    layer = GRU(4, return_sequences=True)
    layer.build((None, 3), backend, backend.rng(1), "float64")
    layer.bias.value[...] = backend.asarray(RNG.normal(size=(2, 12)), "float64")
    module = torch.nn.GRU(3, 4, batch_first=True, dtype=torch.float64)
    _copy_into(module, _gru_weights(layer, backend.to_numpy))
    x, target = RNG.normal(size=(4, 6, 3)), RNG.normal(size=(4, 6, 4))
    _train_side_by_side(
        backend, layer, module, _gru_weights, lambda m, tx: m(tx[0])[0], [x], target
    )


@pytest.mark.parametrize("cross", [False, True])
def test_multi_head_attention_matches_torch(backend, cross):
    layer = MultiHeadAttention(num_heads=2, key_dim=3)
    layer.build((None, 6), backend, backend.rng(2), "float64")
    for p in layer.parameters():
        if p.name.endswith("bias"):
            p.value[...] = backend.asarray(RNG.normal(size=p.shape), "float64")
    module = torch.nn.MultiheadAttention(6, 2, batch_first=True, dtype=torch.float64)
    _copy_into(module, _mha_weights(layer, backend.to_numpy))
    query = RNG.normal(size=(3, 4, 6))
    value = RNG.normal(size=(3, 5, 6)) if cross else query
    causal = np.triu(np.ones((4, value.shape[1]), dtype=bool), 1)  # torch: True = hidden

    def run(m, tx):
        return m(tx[0], tx[1], tx[1], attn_mask=_t(causal), need_weights=False)[0]

    original = layer.forward_attention

    def causal_attention(q, v, key=None, **kwargs):
        return original(q, v, key, use_causal_mask=True, **kwargs)

    layer.forward_attention = causal_attention
    target = RNG.normal(size=(3, 4, 6))
    _train_side_by_side(backend, layer, module, _mha_weights, run, [query, value], target)
