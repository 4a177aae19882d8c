"""The ``kernels`` check: every fast path of a backend against its reference, on the device.

The activation backward passes are compared with :mod:`nnx.functional`, the fused optimizer
updates and the device dropout stream with the Array-API references of
:mod:`nnx.backends.cuda_kernels`, in float32 and float64.
"""

from __future__ import annotations

from typing import Any

import nnx.backends as nb
from nnx.backends.coefficients import AdamCoefficients, SGDCoefficients
from nnx.backends.cuda_kernels import SPECS, bernoulli_threshold
from nnx.functional import activations as F

__all__ = ["check_kernels"]

Result = dict[str, Any]


def _close(backend: nb.Backend, got: Any, want: Any, dtype: str) -> float:
    """The largest relative difference (0 when equal)."""
    a, b = backend.to_numpy(got), backend.to_numpy(want)
    scale = max(float(abs(b).max()), 1e-30) if b.size else 1.0
    return float(abs(a - b).max()) / scale if a.size else 0.0


def check_kernels(backend: nb.Backend) -> Result:
    """Each fast path against its Array-API reference, float32 and float64."""
    from nnx.backends import get_backend

    host = get_backend("numpy")
    worst: dict[str, float] = {}
    declined = []
    for dtype in ("float32", "float64"):
        rng = host.rng(1)
        dy, x = rng.normal((257, 33), dtype=dtype), rng.normal((257, 33), dtype=dtype)
        dyb, xb = backend.asarray(dy), backend.asarray(x)
        yb = backend.xp.tanh(xb)
        for name, fast, portable in [
            ("relu_backward", backend.relu_backward, F.relu_backward),
            ("sigmoid_backward", backend.sigmoid_backward, F.sigmoid_backward),
            ("tanh_backward", backend.tanh_backward, F.tanh_backward),
        ]:
            got = fast(dyb, xb, yb)
            if got is None:
                declined.append(name)
                continue
            worst[f"{name}/{dtype}"] = _close(backend, got, portable(dyb, xb, yb), dtype)
        worst.update(_check_updates(backend, host, dtype, declined))
        worst.update(_check_bernoulli(backend, dtype))
    tolerance = {"float32": 1e-5, "float64": 1e-12}
    bad = {k: v for k, v in worst.items() if v > tolerance[k.rsplit("/", 1)[1]]}
    return {
        "status": "fail" if bad else "pass",
        "max_relative_error": worst,
        "declined (portable code runs)": sorted(set(declined)),
        "failed": bad,
    }


def _check_updates(
    backend: nb.Backend, host: nb.Backend, dtype: str, declined: list[str]
) -> dict[str, float]:
    rng, xp, out = host.rng(2), backend.xp, {}
    w, g, m = (rng.normal((4097,), dtype=dtype) for _ in range(3))
    v = host.xp.abs(rng.normal((4097,), dtype=dtype))
    c = AdamCoefficients(0.9, 0.999, 1e-2, 1e-7)

    def fresh(*arrays: Any) -> list[Any]:  # copies: NumPy's asarray would share the memory
        return [backend.asarray(a.copy()) for a in arrays]

    fast = fresh(w, g, m, v)
    if backend.adam_update(fast[0], fast[1], fast[2], fast[3], c):
        cast = [getattr(fast[0].dtype, "type", float)(k) for k in c]
        want = SPECS["nnx_adam"].reference(xp, fast[1], *cast, *fresh(w, m, v))
        for name, got, ref in zip(("w", "m", "v"), (fast[0], fast[2], fast[3]), want, strict=True):
            out[f"adam_update.{name}/{dtype}"] = _close(backend, got, ref, dtype)
    else:
        declined.append("adam_update")
    fast = fresh(w, g, m)
    if backend.sgd_momentum_update(fast[0], fast[1], fast[2], SGDCoefficients(0.1, 0.9)):
        want = SPECS["nnx_sgd_momentum"].reference(xp, *fresh(g), 0.1, 0.9, *fresh(w, m))
        for name, got, ref in zip(("w", "velocity"), (fast[0], fast[2]), want, strict=True):
            out[f"sgd_momentum_update.{name}/{dtype}"] = _close(backend, got, ref, dtype)
    else:
        declined.append("sgd_momentum_update")
    return out


def _check_bernoulli(backend: nb.Backend, dtype: str) -> dict[str, float]:
    mask_of = getattr(backend, "bernoulli_mask", None)
    if mask_of is None:
        return {}
    got = mask_of((129, 65), 2**63 + 12345, 77, 0.3, dtype)
    zeros = backend.xp.zeros((129, 65), dtype=backend.dtype(dtype), device=backend.device)
    (want,) = SPECS["nnx_bernoulli"].reference(
        backend.xp, 2**63 + 12345, 77, bernoulli_threshold(0.3), zeros
    )
    return {f"bernoulli_mask/{dtype}": _close(backend, got, want, dtype)}
