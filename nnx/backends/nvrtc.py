"""Compile CUDA source with NVRTC through ``ctypes``: no GPU, no CuPy, no CUDA Toolkit.

NVIDIA ships NVRTC as a wheel (``pip install "nnx-array[gpu-compile]"``, which installs
``nvidia-cuda-nvrtc-cu12``); compiling needs neither a device nor a driver, so CI proves every
kernel of :mod:`nnx.backends.cuda_kernels` compiles for the GPUs nnx targets.

>>> from nnx.backends.cuda_kernels import SPECS, cuda_source
>>> try:
...     image = compile_cuda(cuda_source(SPECS["nnx_relu_bwd"], "float32"), "sm_80")
... except NvrtcUnavailableError:
...     image = b"\\x7fELF"
>>> image[:4]
b'\\x7fELF'
"""

from __future__ import annotations

import ctypes
import ctypes.util
import glob
import os
from functools import cache

__all__ = ["NvrtcError", "NvrtcUnavailableError", "compile_cuda", "nvrtc_version"]

_EXTRA = 'pip install "nnx-array[gpu-compile]"'


class NvrtcUnavailableError(ImportError):
    """No NVRTC library was found on this machine."""


class NvrtcError(RuntimeError):
    """NVRTC refused a source; the message holds the compiler's log."""


def _candidates() -> list[str]:
    found = []
    if os.environ.get("NNX_NVRTC"):
        found.append(os.environ["NNX_NVRTC"])
    try:
        import nvidia.cuda_nvrtc as wheel  # the nvidia-cuda-nvrtc-cu12 wheel

        for root in wheel.__path__:
            found += sorted(glob.glob(os.path.join(root, "lib", "libnvrtc.so*")))
    except ImportError:
        pass
    try:  # what CuPy >= 14 uses to find CUDA's libraries (cupy/_environment.py)
        from cuda.pathfinder import load_nvidia_dynamic_lib

        found.append(load_nvidia_dynamic_lib("nvrtc").abs_path)
    except Exception:  # not installed, or no NVRTC where it looks
        pass
    system = ctypes.util.find_library("nvrtc")
    if system:
        found.append(system)
    return [f for f in found if "builtins" not in f and ".alt." not in f]


@cache
def _library() -> ctypes.CDLL:
    errors = []
    for path in _candidates():
        try:
            return ctypes.CDLL(path)
        except OSError as exc:
            errors.append(f"{path}: {exc}")
    raise NvrtcUnavailableError(
        f"NVRTC (libnvrtc.so) was not found{'; ' + '; '.join(errors) if errors else ''}. "
        f"Install it with: {_EXTRA}, or point NNX_NVRTC at libnvrtc.so."
    )


def nvrtc_version() -> str:
    """The NVRTC version, ``"12.9"``; NvrtcUnavailableError when there is none."""
    major, minor = ctypes.c_int(), ctypes.c_int()
    _check(_library().nvrtcVersion(ctypes.byref(major), ctypes.byref(minor)), "nvrtcVersion")
    return f"{major.value}.{minor.value}"


def _check(status: int, call: str) -> None:
    if status != 0:
        describe = _library().nvrtcGetErrorString
        describe.restype = ctypes.c_char_p
        raise NvrtcError(f"{call} failed: {describe(status).decode()} (NVRTC status {status})")


def compile_cuda(source: str, arch: str = "sm_80", options: tuple[str, ...] = ()) -> bytes:
    """Compile one CUDA C++ translation unit to a cubin for ``arch`` (``"sm_80"``, ``"sm_90"``).

    Args:
        source: the CUDA source.
        arch: the real architecture to build a cubin for.
        options: extra NVRTC options.

    Returns:
        The cubin image (an ELF file).

    Raises:
        NvrtcError: the source does not compile; the message holds NVRTC's log.
        NvrtcUnavailableError: NVRTC is not installed.
    """
    lib = _library()
    program = ctypes.c_void_p()
    _check(
        lib.nvrtcCreateProgram(
            ctypes.byref(program), source.encode(), b"nnx_kernel.cu", 0, None, None
        ),
        "nvrtcCreateProgram",
    )
    try:
        flags = [f"--gpu-architecture={arch}", "--std=c++17", *options]
        argv = (ctypes.c_char_p * len(flags))(*(f.encode() for f in flags))
        status = lib.nvrtcCompileProgram(program, len(flags), argv)
        size = ctypes.c_size_t()
        lib.nvrtcGetProgramLogSize(program, ctypes.byref(size))
        log = ctypes.create_string_buffer(size.value)
        lib.nvrtcGetProgramLog(program, log)
        if status != 0:
            raise NvrtcError(
                f"NVRTC could not compile for {arch} (status {status}):\n"
                f"{log.value.decode(errors='replace')}\n--- source ---\n{source}"
            )
        _check(lib.nvrtcGetCUBINSize(program, ctypes.byref(size)), "nvrtcGetCUBINSize")
        image = ctypes.create_string_buffer(size.value)
        _check(lib.nvrtcGetCUBIN(program, image), "nvrtcGetCUBIN")
        return image.raw
    finally:
        lib.nvrtcDestroyProgram(ctypes.byref(program))
