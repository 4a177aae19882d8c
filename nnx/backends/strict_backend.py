"""The ``array_api_strict`` backend: the conformance reference.

It runs the whole library on a namespace that has nothing beyond the Array API standard, which
is what proves the core is portable. It is slow and not meant for real training.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from nnx.backends.base import Array, Backend


class StrictBackend(Backend):
    """``array_api_strict`` on its default CPU device."""

    name = "array_api_strict"

    def __init__(self) -> None:
        import array_api_strict

        super().__init__(array_api_strict, device=array_api_strict.Device("CPU_DEVICE"))
        self._array_type = type(array_api_strict.asarray(0))

    def owns(self, x: Any) -> bool:
        return isinstance(x, self._array_type) and x.device == self.device

    def to_numpy(self, x: Array) -> np.ndarray:
        return np.from_dlpack(x).copy()

    def library_version(self) -> str:
        return str(self.xp.__version__)
