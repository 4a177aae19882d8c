"""A NumPy-backed stand-in for the parts of ``cupy`` that nnx's CuPy backend touches.

It runs :class:`nnx.backends.cupy_backend.CupyBackend` and its generator on the CPU: arrays are
``FakeArray`` (a NumPy subclass that remembers the device it was created on), devices are
context managers over a current-device stack, and each ``ElementwiseKernel`` runs the NumPy
reference of its spec in :mod:`nnx.backends.cuda_kernels`, after checking what CuPy would refuse
or silently change: an array on another device than the current one, and kernel arguments
whose dtypes do not match the kernel's types (a float64 scalar in a float32 kernel).

Use :func:`make` for a fresh module and namespace:
``CupyBackend(device_id, cupy=fake, namespace=fake_namespace)``.
"""

from __future__ import annotations

import types
from typing import Any

import array_api_compat.common._helpers
import array_api_compat.numpy as compat_numpy
import numpy as np

from nnx.backends.cuda_kernels import SPECS, parse_params


class FakeDevice:
    """``cupy.cuda.Device``: a number, a context manager, ``synchronize``."""

    module: FakeCupy  # set on the subclass each FakeCupy makes

    def __init__(self, device_id: int | None = None) -> None:
        self.id = self.module.current if device_id is None else int(device_id)

    def __enter__(self) -> FakeDevice:
        self.module.stack.append(self.id)
        return self

    def __exit__(self, *exc: object) -> None:
        self.module.stack.pop()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, FakeDevice) and other.id == self.id

    def __hash__(self) -> int:
        return self.id

    def synchronize(self) -> None:
        self.module.synchronizations += 1

    def __repr__(self) -> str:
        return f"<CUDA Device {self.id}>"


class FakeArray(np.ndarray):
    """A device array: a NumPy array plus the id of the device it lives on."""

    device_id: int = 0

    def __array_finalize__(self, obj: Any) -> None:
        self.device_id = getattr(obj, "device_id", _CURRENT[-1].current if _CURRENT else 0)

    @property
    def device(self) -> FakeDevice:  # type: ignore[override]
        return _CURRENT[-1].cuda.Device(self.device_id)

    def __array_ufunc__(self, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Any:
        """Operators and ufuncs (``a + b``, ``x.sum()``, ``g += d``) run as CuPy's kernels do:
        on the current device, refusing an array on another one; results land on it."""
        out = kwargs.get("out", ())
        _on_current_device(f"{ufunc.__name__}.{method}", (*inputs, *out))
        plain = [_plain(a) for a in inputs]
        if out:
            kwargs["out"] = tuple(_plain(o) for o in out)
        result = getattr(ufunc, method)(*plain, **kwargs)
        if out:
            return out[0] if len(out) == 1 else out
        if isinstance(result, tuple):
            return tuple(_CURRENT[-1]._wrap(r) for r in result)
        return _CURRENT[-1]._wrap(result) if isinstance(result, np.ndarray | np.generic) else result

    def __setitem__(self, key: Any, value: Any) -> None:
        _on_current_device("__setitem__", (self, value, *_index_arrays(key)))
        super().__setitem__(key, value)

    def __getitem__(self, key: Any) -> Any:
        arrays = _index_arrays(key)
        if arrays:  # advanced indexing runs a kernel; basic slicing only makes a view
            _on_current_device("__getitem__", (self, *arrays))
        return super().__getitem__(key)


def _plain(a: Any) -> Any:
    return a.view(np.ndarray) if isinstance(a, FakeArray) else a


def _index_arrays(key: Any) -> tuple[Any, ...]:
    keys = key if isinstance(key, tuple) else (key,)
    return tuple(k for k in keys if isinstance(k, np.ndarray))


def _on_current_device(what: str, args: tuple[Any, ...]) -> None:
    """CuPy's check: every device array of an operation is on the current device."""
    if not _CURRENT:
        return
    current = _CURRENT[-1].current
    for a in args:
        if isinstance(a, FakeArray) and a.device_id != current:
            _CURRENT[-1].device_errors += 1
            raise ValueError(
                f"{what}: Array device must be same as the current device: array device = "
                f"{a.device_id} while current = {current}"
            )


_CURRENT: list[FakeCupy] = []


class FakeKernel:
    """``cupy.ElementwiseKernel`` running the NumPy reference of the spec called ``name``."""

    def __init__(
        self, in_params: str, out_params: str, operation: str, name: str, preamble: str = ""
    ) -> None:
        self.module = _CURRENT[-1]
        self.spec = SPECS[name]
        assert (in_params, out_params, operation, preamble) == (
            self.spec.in_params,
            self.spec.out_params,
            self.spec.operation,
            self.spec.preamble,
        ), f"kernel {name} is not built from its spec"
        self.inputs = parse_params(in_params, False)
        self.outputs = parse_params(out_params, True)
        self.calls = 0

    def __call__(self, *args: Any) -> Any:
        self.calls += 1
        self.module.kernel_calls.append(self.spec.name)
        n_in = len(self.inputs)
        if len(args) not in (n_in, n_in + len(self.outputs)):
            raise TypeError(f"{self.spec.name}: wrong number of arguments ({len(args)})")
        arrays = [a for a in args if isinstance(a, np.ndarray)]
        for a in arrays:
            if not isinstance(a, FakeArray) or a.device_id != self.module.current:
                raise ValueError(
                    f"{self.spec.name}: an array on device {getattr(a, 'device_id', 'host')} "
                    f"but the current device is {self.module.current}"
                )
        t = self._bind_types(args)
        if len(args) == n_in:  # outputs allocated like the first array input, as CuPy does
            like = arrays[0]
            args = (*args, *(np.empty_like(like, dtype=t).view(FakeArray) for _ in self.outputs))
        host = [np.asarray(a).view(np.ndarray) if isinstance(a, np.ndarray) else a for a in args]
        results = self.spec.reference(compat_numpy, *host)
        outs = args[n_in:]
        for out, value in zip(outs, results, strict=True):
            np.copyto(out, np.asarray(value, dtype=out.dtype))
        return outs[0] if len(outs) == 1 else tuple(outs)

    def _bind_types(self, args: tuple[Any, ...]) -> Any:
        bound: dict[str, Any] = {}
        for p, a in zip(self.inputs + self.outputs, args, strict=False):
            dtype = getattr(a, "dtype", None)
            if dtype is None:
                raise TypeError(
                    f"{self.spec.name}: argument {p.name!r} is a Python {type(a).__name__}; "
                    "kernel scalars must be NumPy scalars of the kernel's type"
                )
            expected = bound.setdefault(p.type, dtype) if p.type == "T" else np.dtype(p.type)
            if dtype != expected:
                raise TypeError(
                    f"{self.spec.name}: argument {p.name!r} has dtype {dtype}, expected {expected}"
                )
        return bound.get("T")


class FakeCupy(types.ModuleType):
    """The ``cupy`` module stand-in; ``stack`` is the current-device stack."""

    def __init__(self) -> None:
        super().__init__("cupy")
        self.__version__ = "0.0.0+nnx-fake"
        self.stack: list[int] = [0]
        self.synchronizations = 0
        #: operations refused for an array on another device than the current one
        self.device_errors = 0
        self.kernel_calls: list[str] = []
        self.ndarray = FakeArray
        self.cuda = types.SimpleNamespace(
            Device=type("Device", (FakeDevice,), {"module": self}),
            runtime=types.SimpleNamespace(
                getDeviceProperties=lambda i: {
                    "name": b"nnx fake GPU",
                    "major": 9,
                    "minor": 0,
                    "totalGlobalMem": 141 * 2**30,
                },
                driverGetVersion=lambda: 12080,
                runtimeGetVersion=lambda: 12080,
            ),
        )
        self.ElementwiseKernel = FakeKernel

    @property
    def current(self) -> int:
        return self.stack[-1]

    def _wrap(self, array: Any) -> FakeArray:
        out = np.asarray(array).view(FakeArray)
        out.device_id = self.current
        return out

    def zeros(self, shape: Any, dtype: Any = float) -> FakeArray:
        return self._wrap(np.zeros(shape, dtype=dtype))

    def empty(self, shape: Any, dtype: Any = float) -> FakeArray:
        return self._wrap(np.zeros(shape, dtype=dtype))

    def reshape(self, x: FakeArray, shape: Any) -> FakeArray:
        return np.reshape(x, shape)  # a view: keeps the device

    def asnumpy(self, x: Any) -> np.ndarray:
        return np.array(x).view(np.ndarray)

    def dot(self, a: FakeArray, b: FakeArray, out: FakeArray | None = None) -> FakeArray:
        self.kernel_calls.append("dot")
        result = np.matmul(a.view(np.ndarray), b.view(np.ndarray))
        if out is None:
            return self._wrap(result)
        out[...] = result
        return out

    def matmul(self, a: FakeArray, b: FakeArray, out: FakeArray | None = None) -> FakeArray:
        self.kernel_calls.append("matmul")
        return self._wrap(np.matmul(a.view(np.ndarray), b.view(np.ndarray)))


class FakeNamespace(types.ModuleType):
    """``array_api_compat.cupy`` stand-in: NumPy's compat namespace whose results are
    FakeArrays on the current device (as CuPy creates on the current device)."""

    def __init__(self, cupy: FakeCupy) -> None:
        super().__init__("array_api_compat.cupy")
        self._cupy = cupy

    def __getattr__(self, name: str) -> Any:
        value = getattr(compat_numpy, name)
        if not callable(value) or isinstance(value, type):
            return value
        cupy = self._cupy

        def call(*args: Any, **kwargs: Any) -> Any:
            kwargs.pop("device", None)  # as array_api_compat.cupy: the current device is used
            flat = [a for arg in args for a in (arg if isinstance(arg, list | tuple) else [arg])]
            _on_current_device(name, tuple(flat))  # as CuPy's kernels
            if name == "asarray" and not isinstance(args[0], FakeArray):
                kwargs["copy"] = True  # host to device is always a copy
            plain = [a.view(np.ndarray) if isinstance(a, FakeArray) else a for a in args]
            result = value(*plain, **kwargs)
            return cupy._wrap(result) if isinstance(result, np.ndarray) else result

        return call


def _see_device_arrays() -> None:
    """Let ``array_api_compat.device(x)`` return a FakeArray's device, as it does for CuPy's
    arrays, rather than the ``"cpu"`` of the NumPy class it subclasses."""
    helpers = array_api_compat.common._helpers
    if getattr(helpers.is_numpy_array, "nnx_fake", False):
        return
    original = helpers.is_numpy_array

    def is_numpy_array(x: Any) -> bool:
        return not isinstance(x, FakeArray) and original(x)

    is_numpy_array.nnx_fake = True  # type: ignore[attr-defined]
    helpers.is_numpy_array = is_numpy_array


def make() -> tuple[FakeCupy, FakeNamespace]:
    """A fresh stand-in ``cupy`` and its namespace (made the current stand-in)."""
    _see_device_arrays()
    cupy = FakeCupy()
    _CURRENT.append(cupy)
    return cupy, FakeNamespace(cupy)
