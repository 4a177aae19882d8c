"""The ``array_api_strict`` backend: the conformance reference, and a simulated accelerator.

It runs the whole library on a namespace that has nothing beyond the Array API standard, which
is what proves the core is portable. It is slow and not meant for real training.

On its non-default device (``"array_api_strict:device1"``) it stands in for a GPU on machines
without one: such arrays refuse ``numpy.asarray`` and any mixing with arrays of another device,
as CuPy's do, so a host conversion or a wrong-device array inside nnx fails the test suite.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from nnx.backends.base import Array, Backend

#: the array_api_strict device that plays an accelerator (array_api_strict >= 2.2 has it)
SIMULATED_DEVICE = "device1"


class StrictBackend(Backend):
    """``array_api_strict`` on one of its devices.

    Args:
        device_name: ``"CPU_DEVICE"`` (the default, host-like) or ``"device1"`` (plays a GPU).
    """

    def __init__(self, device_name: str = "CPU_DEVICE") -> None:
        import array_api_strict

        super().__init__(array_api_strict, device=array_api_strict.Device(device_name))
        self.name = (
            "array_api_strict" if device_name == "CPU_DEVICE" else f"array_api_strict:{device_name}"
        )
        self.on_host = device_name == "CPU_DEVICE"
        self._array_type = type(array_api_strict.asarray(0))

    def owns(self, x: Any) -> bool:
        return isinstance(x, self._array_type) and x.device == self.device

    def to_numpy(self, x: Array) -> np.ndarray:
        # NOTE: DLPack is array_api_strict's only door to the host on every device (as CuPy's
        # .get()); numpy.asarray refuses a non-CPU device.
        return np.from_dlpack(x).copy()

    def device_name(self) -> str:
        return str(self.device)

    def library_version(self) -> str:
        return str(self.xp.__version__)
