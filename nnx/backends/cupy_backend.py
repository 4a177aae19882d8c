"""The CuPy backend: NVIDIA GPUs through CUDA. CuPy is imported only when it is asked for."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any, NamedTuple

import numpy as np

from nnx.backends.base import Array, Backend, Generator, views_of
from nnx.backends.coefficients import AdamCoefficients, SGDCoefficients


class CupyGenerator(Generator):
    """Host draws for weights (identical to the other backends), device draws for dropout."""

    def __init__(self, backend: CupyBackend, seed: int | None = None) -> None:
        super().__init__(backend, seed)
        import cupy

        with backend.cupy_device:
            self.device_rng = cupy.random.default_rng(int(self.host.integers(2**63)))

    def bernoulli(self, shape: tuple[int, ...], p: float, dtype: str | None = None) -> Array:
        with self.backend.cupy_device:  # type: ignore[attr-defined]
            draws = self.device_rng.random(shape, dtype=np.float32)
            return (draws < p).astype(dtype or self.backend.default_float)


class CupyBackend(Backend):
    """CuPy through ``array_api_compat.cupy`` on one CUDA device.

    Fast paths: flat parameter buffers; fused elementwise kernels for the ReLU, sigmoid and
    tanh backward passes and for the SGD-momentum and Adam updates; cuBLAS matmul into ``out``.

    Args:
        device_id: the CUDA device number.
    """

    name = "cupy"

    def __init__(self, device_id: int = 0) -> None:
        import array_api_compat.cupy as xp_cupy
        import cupy

        self._cupy = cupy
        self.cupy_device = cupy.cuda.Device(device_id)
        super().__init__(xp_cupy, device=self.cupy_device)

    def asarray(self, data: Any, dtype: str | None = None) -> Array:
        with self.cupy_device:
            if isinstance(data, self._cupy.ndarray) and data.device != self.cupy_device:
                data = data.get()
            return super().asarray(data, dtype)

    def owns(self, x: Any) -> bool:
        return isinstance(x, self._cupy.ndarray) and x.device == self.cupy_device

    def to_numpy(self, x: Array) -> np.ndarray:
        return self._cupy.asnumpy(x)

    def rng(self, seed: int | None = None) -> Generator:
        return CupyGenerator(self, seed)

    def synchronize(self) -> None:
        self.cupy_device.synchronize()

    def device_name(self) -> str:
        props = self._cupy.cuda.runtime.getDeviceProperties(self.cupy_device.id)
        name = props["name"]
        return f"cuda:{self.cupy_device.id} ({name.decode() if isinstance(name, bytes) else name})"

    def matmul(self, a: Array, b: Array, out: Array | None = None) -> Array:
        return self._cupy.matmul(a, b, out=out)

    def flat_views(
        self, shapes: Sequence[tuple[int, ...]], dtype: str
    ) -> tuple[Array, list[Array]] | None:
        size = sum(int(np.prod(s)) for s in shapes)
        with self.cupy_device:
            return views_of(self._cupy, self._cupy.zeros(size, dtype=dtype), shapes)

    def relu_backward(self, dy: Array, x: Array, y: Array) -> Array | None:
        return _kernels().relu(dy, x)

    def sigmoid_backward(self, dy: Array, x: Array, y: Array) -> Array | None:
        return _kernels().sigmoid(dy, y)

    def tanh_backward(self, dy: Array, x: Array, y: Array) -> Array | None:
        return _kernels().tanh(dy, y)

    def adam_update(self, w: Array, g: Array, m: Array, v: Array, c: AdamCoefficients) -> bool:
        b1, b2, step, eps = (w.dtype.type(value) for value in c)
        _kernels().adam(g, b1, b2, step, eps, w, m, v)
        return True

    def sgd_momentum_update(self, w: Array, g: Array, velocity: Array, c: SGDCoefficients) -> bool:
        lr, mu = (w.dtype.type(value) for value in c)
        _kernels().momentum(g, lr, mu, w, velocity)
        return True

    def erf(self, x: Array) -> Array:
        from cupyx.scipy.special import erf

        return erf(x)

    def library_version(self) -> str:
        return str(self._cupy.__version__)


class _Kernels(NamedTuple):
    relu: Any
    sigmoid: Any
    tanh: Any
    momentum: Any
    adam: Any


@cache
def _kernels() -> _Kernels:
    """Fused elementwise CUDA kernels: one pass over memory instead of one per operation."""
    import cupy

    return _Kernels(
        relu=cupy.ElementwiseKernel("T dy, T x", "T dx", "dx = x > 0 ? dy : (T)0", "nnx_relu_bwd"),
        sigmoid=cupy.ElementwiseKernel("T dy, T y", "T dx", "dx = dy * y * (1 - y)", "nnx_sig_bwd"),
        tanh=cupy.ElementwiseKernel("T dy, T y", "T dx", "dx = dy * (1 - y * y)", "nnx_tanh_bwd"),
        momentum=cupy.ElementwiseKernel(
            "T g, T lr, T mu", "T w, T v", "v = mu * v - lr * g; w += v;", "nnx_sgd_momentum"
        ),
        adam=cupy.ElementwiseKernel(
            "T g, T b1, T b2, T step, T eps",
            "T w, T m, T v",
            "m = b1 * (m - g) + g; v = b2 * (v - g * g) + g * g; w -= step * m / (sqrt(v) + eps);",
            "nnx_adam",
        ),
    )
