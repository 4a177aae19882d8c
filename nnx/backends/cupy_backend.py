"""The CuPy backend: NVIDIA GPUs through CUDA. CuPy is imported only when it is asked for.

What this code relies on, checked against the CuPy 13.6 and 14.2 sources:

- ``cupy.random`` bit generators (``cupy/random/_bit_generator.pyx``) have no state get/set
  (``state()`` is a device pointer), so nnx draws dropout masks from its own counter-based
  kernel (``nnx_bernoulli`` of :mod:`nnx.backends.cuda_kernels`): the stream's whole state is
  a key and a counter, saved and restored with the host generator.
- ``array_api_compat.cupy``'s ``zeros``/``ones``/``empty``/``full``/``arange``... accept
  ``device=`` but create on the *current* device (only ``asarray`` enters it), so the namespace
  this backend hands out enters the array's or the requested device around every call.
- Every other CuPy operation (operators, ufuncs, kernels) runs on the *current* device and
  refuses arrays of another one, so :meth:`CupyBackend.device_scope` makes the backend's device
  current; models enter it once per ``fit``/``predict``/... call (``scoped = True``).
- ``cupy.matmul`` is a ``_GUFunc`` (``cupy/linalg/_product.py``) whose ``out=`` path returns a
  new array; ``cupy.dot(a, b, out)`` writes into a C-contiguous ``out`` of the result dtype.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from nnx.backends.base import Array, Backend, Generator, register_namespace, views_of
from nnx.backends.coefficients import AdamCoefficients, SGDCoefficients
from nnx.backends.cuda_kernels import SPECS, bernoulli_threshold

#: spawn-key element of the device stream: far from the small indices ``spawn()`` hands out
DEVICE_STREAM = 0x6E6E78


def device_stream_key(host: np.random.Generator) -> int:
    """A 64-bit key for the device stream of a host generator, derived from its seed without
    drawing from it (a ``SeedSequence`` child), so host draws match the other backends.

    >>> device_stream_key(np.random.default_rng(0)) == device_stream_key(np.random.default_rng(0))
    True
    """
    seed = host.bit_generator.seed_seq
    entropy, spawn_key = getattr(seed, "entropy", None), getattr(seed, "spawn_key", ())
    child = np.random.SeedSequence(entropy, spawn_key=(*spawn_key, DEVICE_STREAM))
    return int(child.generate_state(1, np.uint64)[0])


class CupyGenerator(Generator):
    """Host draws for weights (identical to the other backends), device draws for dropout.

    Dropout masks come from a counter-based device stream: mask element ``j`` of the ``n``-th
    drawn element overall is ``splitmix64(key + n golden) < p 2^64``, so ``(key, counter)`` is
    the whole state: :meth:`get_state` saves it next to the host state, :meth:`spawn` gives
    each child its own key.
    """

    def __init__(self, backend: CupyBackend, seed: int | None = None) -> None:
        super().__init__(backend, seed)
        self.device_key = device_stream_key(self.host)
        self.device_counter = 0

    def bernoulli(self, shape: tuple[int, ...], p: float, dtype: str | None = None) -> Array:
        backend: CupyBackend = self.backend  # type: ignore[assignment]
        mask = backend.bernoulli_mask(
            shape, self.device_key, self.device_counter, p, dtype or backend.default_float
        )
        self.device_counter += math.prod(shape)
        return mask

    def spawn(self) -> Generator:
        child = super().spawn()
        assert isinstance(child, CupyGenerator)
        child.device_key = device_stream_key(child.host)
        child.device_counter = 0
        return child

    def get_state(self) -> dict[str, Any]:
        return {**super().get_state(), "device": [self.device_key, self.device_counter]}

    def set_state(self, state: dict[str, Any]) -> None:
        host = {k: v for k, v in state.items() if k != "device"}
        super().set_state(host)
        if "device" in state:  # a state saved on another backend has no device stream
            self.device_key, self.device_counter = (int(v) for v in state["device"])


#: the namespace functions that allocate: CuPy allocates on the current device, whatever
#: ``device=`` says (array_api_compat passes it on only in ``asarray``)
CREATION = frozenset(
    {
        "arange",
        "asarray",
        "empty",
        "empty_like",
        "eye",
        "from_dlpack",
        "full",
        "full_like",
        "linspace",
        "ones",
        "ones_like",
        "zeros",
        "zeros_like",
    }
)


class DeviceNamespace:
    """An Array-API namespace whose creation functions allocate on ``device=`` (or on the
    device of their array argument), so arrays land on the backend's GPU whatever the current
    device is. Everything else is the wrapped namespace's own (no per-call cost)."""

    def __init__(self, xp: Any, cupy: Any) -> None:
        self._xp = xp
        self._cupy = cupy
        self.__name__ = getattr(xp, "__name__", "cupy")

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._xp, name)
        if name not in CREATION:
            return value
        wrapped = self._on_device(value)
        setattr(self, name, wrapped)
        return wrapped

    def _on_device(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        ndarray, device_of = self._cupy.ndarray, self._cupy.cuda.Device

        def call(*args: Any, **kwargs: Any) -> Any:
            device = kwargs.get("device")
            if device is None:
                first = next((a for a in args if isinstance(a, ndarray)), None)
                if first is None and args and isinstance(args[0], list | tuple):
                    first = next((a for a in args[0] if isinstance(a, ndarray)), None)
                device = None if first is None else first.device
            if device is None:
                return fn(*args, **kwargs)
            with device if isinstance(device, device_of) else device_of(device):
                return fn(*args, **kwargs)

        call.__name__ = getattr(fn, "__name__", "call")
        call.__doc__ = fn.__doc__
        return call


class CupyBackend(Backend):
    """CuPy through ``array_api_compat.cupy`` on one CUDA device.

    Fast paths: flat parameter buffers; fused elementwise kernels for the ReLU, sigmoid and
    tanh backward passes and for the SGD-momentum and Adam updates; cuBLAS matmul into ``out``;
    dropout masks drawn on the device.

    Args:
        device_id: the CUDA device number.
        cupy: the ``cupy`` module (tests pass a stand-in); None imports CuPy.
        namespace: its Array-API namespace; None imports ``array_api_compat.cupy``.
    """

    name = "cupy"
    scoped = True

    def __init__(self, device_id: int = 0, cupy: Any = None, namespace: Any = None) -> None:
        if cupy is None:
            import cupy as cupy_module

            cupy = cupy_module
        if namespace is None:
            import array_api_compat.cupy as compat_cupy

            namespace = compat_cupy
        self._cupy = cupy
        self.cupy_device = cupy.cuda.Device(device_id)
        super().__init__(DeviceNamespace(namespace, cupy), device=self.cupy_device)
        register_namespace(cupy.ndarray, self.xp)
        self._kernels: dict[str, Any] = {}

    def kernel(self, name: str) -> Any:
        """The compiled ``cupy.ElementwiseKernel`` of the spec ``name`` (built once)."""
        if name not in self._kernels:
            spec = SPECS[name]
            self._kernels[name] = self._cupy.ElementwiseKernel(
                spec.in_params, spec.out_params, spec.operation, spec.name, preamble=spec.preamble
            )
        return self._kernels[name]

    def asarray(self, data: Any, dtype: str | None = None) -> Array:
        with self.cupy_device:
            if isinstance(data, self._cupy.ndarray) and data.device != self.cupy_device:
                data = self._cupy.asnumpy(data)
            return super().asarray(data, dtype)

    def owns(self, x: Any) -> bool:
        return isinstance(x, self._cupy.ndarray) and x.device == self.cupy_device

    def to_numpy(self, x: Array) -> np.ndarray:
        with self.cupy_device:
            return np.asarray(self._cupy.asnumpy(x))

    def rng(self, seed: int | None = None) -> Generator:
        return CupyGenerator(self, seed)

    def bernoulli_mask(
        self, shape: tuple[int, ...], key: int, counter: int, p: float, dtype: str
    ) -> Array:
        """A 0/1 mask of ``shape`` from the counter-based stream ``(key, counter)``."""
        with self.cupy_device:
            mask = self._cupy.empty(shape, dtype=dtype)
            u64 = np.uint64
            self.kernel("nnx_bernoulli")(u64(key), u64(counter), u64(bernoulli_threshold(p)), mask)
            return mask

    def synchronize(self) -> None:
        self.cupy_device.synchronize()

    def device_scope(self) -> Any:
        """``with cupy.cuda.Device(device_id):``, a fresh object each time (CuPy keeps the
        device to restore on the object, so a shared one would tangle two threads)."""
        return self._cupy.cuda.Device(self.cupy_device.id)

    def device_name(self) -> str:
        props = self._cupy.cuda.runtime.getDeviceProperties(self.cupy_device.id)
        name = props["name"]
        return f"cuda:{self.cupy_device.id} ({name.decode() if isinstance(name, bytes) else name})"

    def matmul(self, a: Array, b: Array, out: Array | None = None) -> Array:
        with self.cupy_device:
            if (
                out is not None
                and a.ndim == b.ndim == 2
                and out.flags.c_contiguous
                and out.dtype == a.dtype == b.dtype
            ):
                return self._cupy.dot(a, b, out)
            result = self._cupy.matmul(a, b)
            if out is None:
                return result
            out[...] = result
            return out

    def flat_views(
        self, shapes: Sequence[tuple[int, ...]], dtype: str
    ) -> tuple[Array, list[Array]] | None:
        size = sum(math.prod(s) for s in shapes)
        with self.cupy_device:
            return views_of(self._cupy, self._cupy.zeros(size, dtype=dtype), shapes)

    def _elementwise(self, name: str, *args: Any) -> Any:
        with self.cupy_device:
            return self.kernel(name)(*args)

    def relu_backward(self, dy: Array, x: Array, y: Array) -> Array | None:
        return self._elementwise("nnx_relu_bwd", dy, x)

    def sigmoid_backward(self, dy: Array, x: Array, y: Array) -> Array | None:
        return self._elementwise("nnx_sigmoid_bwd", dy, y)

    def tanh_backward(self, dy: Array, x: Array, y: Array) -> Array | None:
        return self._elementwise("nnx_tanh_bwd", dy, y)

    def lstm_cell(self, z: Array, c: Array) -> tuple[Array, ...] | None:
        u = c.shape[1]
        blocks = (z[:, :u], z[:, u : 2 * u], z[:, 2 * u : 3 * u], z[:, 3 * u :])
        return self._elementwise("nnx_lstm_cell", *blocks, c)  # type: ignore[no-any-return]

    def lstm_cell_backward(
        self, dh: Array, dc: Array, saved: tuple[Array, ...], c: Array
    ) -> tuple[Array, Array] | None:
        u, xp = c.shape[1], self.xp
        dz, dc_prev = xp.empty((c.shape[0], 4 * u), dtype=c.dtype), xp.empty_like(c)
        blocks = [dz[:, k * u : (k + 1) * u] for k in range(4)]
        self._elementwise("nnx_lstm_cell_bwd", dh, dc, *saved, c, *blocks, dc_prev)
        return dz, dc_prev

    def gru_cell(self, xz: Array, rz: Array, h: Array) -> tuple[Array, ...] | None:
        u = h.shape[1]
        parts = [a[:, k * u : (k + 1) * u] for a in (xz, rz) for k in range(3)]
        return self._elementwise("nnx_gru_cell", *parts, h)  # type: ignore[no-any-return]

    def gru_cell_backward(
        self, dh: Array, h: Array, saved: tuple[Array, ...], rz_h: Array
    ) -> tuple[Array, Array, Array] | None:
        u, xp = h.shape[1], self.xp
        dxz = xp.empty((h.shape[0], 3 * u), dtype=h.dtype)
        drz_h, dh_prev = xp.empty_like(h), xp.empty_like(h)
        da = [dxz[:, k * u : (k + 1) * u] for k in range(3)]
        self._elementwise("nnx_gru_cell_bwd", dh, h, *saved, rz_h, *da, drz_h, dh_prev)
        drz = xp.concat([dxz[:, : 2 * u], drz_h], axis=1)
        return dxz, drz, dh_prev

    def adam_update(self, w: Array, g: Array, m: Array, v: Array, c: AdamCoefficients) -> bool:
        b1, b2, step, eps = (w.dtype.type(value) for value in c)
        self._elementwise("nnx_adam", g, b1, b2, step, eps, w, m, v)
        return True

    def sgd_momentum_update(self, w: Array, g: Array, velocity: Array, c: SGDCoefficients) -> bool:
        lr, mu = (w.dtype.type(value) for value in c)
        self._elementwise("nnx_sgd_momentum", g, lr, mu, w, velocity)
        return True

    def erf(self, x: Array) -> Array:
        from cupyx.scipy.special import erf

        with self.cupy_device:
            return erf(x)

    def library_version(self) -> str:
        return str(self._cupy.__version__)

    def device_info(self) -> dict[str, str]:
        runtime = self._cupy.cuda.runtime

        def version(number: int) -> str:  # CUDA's 12080 is 12.8
            return f"{number // 1000}.{number % 1000 // 10}"

        props = runtime.getDeviceProperties(self.cupy_device.id)
        memory = props.get("totalGlobalMem")
        return {
            **super().device_info(),
            "cuda_driver": version(runtime.driverGetVersion()),
            "cuda_runtime": version(runtime.runtimeGetVersion()),
            "compute_capability": f"{props.get('major', '?')}.{props.get('minor', '?')}",
            "memory_gib": f"{memory / 2**30:.1f}" if memory else "unknown",
        }
