"""The CuPy backend: NVIDIA GPUs through CUDA. CuPy is imported only when it is asked for."""

from __future__ import annotations

from typing import Any

import numpy as np

from nnx.backends.base import Array, Backend, Generator


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

    def erf(self, x: Array) -> Array:
        from cupyx.scipy.special import erf

        return erf(x)

    def library_version(self) -> str:
        return str(self._cupy.__version__)
