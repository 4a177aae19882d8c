"""The CuPy backend: NVIDIA GPUs through CUDA. CuPy is imported only when it is asked for."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import cache
from typing import Any

import numpy as np

from nnx.backends.base import Array, Backend, Generator, views_of


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

    def fast_backward(self, activation: str) -> Callable[[Array, Array, Array], Array] | None:
        return _kernels().get(f"{activation}_backward")

    def fast_update(self, rule: str) -> Callable[..., None] | None:
        return _kernels().get(f"{rule}_update")

    def erf(self, x: Array) -> Array:
        from cupyx.scipy.special import erf

        return erf(x)

    def library_version(self) -> str:
        return str(self._cupy.__version__)


@cache
def _kernels() -> dict[str, Callable[..., Any]]:
    """Fused elementwise CUDA kernels: one pass over memory instead of one per operation."""
    import cupy

    relu = cupy.ElementwiseKernel("T dy, T x", "T dx", "dx = x > 0 ? dy : (T)0", "nnx_relu_bwd")
    sigmoid = cupy.ElementwiseKernel("T dy, T y", "T dx", "dx = dy * y * (1 - y)", "nnx_sig_bwd")
    tanh = cupy.ElementwiseKernel("T dy, T y", "T dx", "dx = dy * (1 - y * y)", "nnx_tanh_bwd")
    momentum = cupy.ElementwiseKernel(
        "T g, T lr, T mu", "T w, T v", "v = mu * v - lr * g; w += v;", "nnx_sgd_momentum"
    )
    adam = cupy.ElementwiseKernel(
        "T g, T b1, T b2, T step, T eps",
        "T w, T m, T v",
        "m = b1 * (m - g) + g; v = b2 * (v - g * g) + g * g; w -= step * m / (sqrt(v) + eps);",
        "nnx_adam",
    )

    def sgd_momentum_update(xp: Any, w: Array, g: Array, s: dict[str, Array], c: Any) -> None:
        lr, mu = (w.dtype.type(v) for v in c)
        momentum(g, lr, mu, w, s["momentum"])

    def adam_update(xp: Any, w: Array, g: Array, s: dict[str, Array], c: Any) -> None:
        b1, b2, step, eps = (w.dtype.type(v) for v in c)
        adam(g, b1, b2, step, eps, w, s["momentum"], s["velocity"])

    return {
        "relu_backward": lambda dy, x, y: relu(dy, x),
        "sigmoid_backward": lambda dy, x, y: sigmoid(dy, y),
        "tanh_backward": lambda dy, x, y: tanh(dy, y),
        "sgd_momentum_update": sgd_momentum_update,
        "adam_update": adam_update,
    }
