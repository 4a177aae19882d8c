"""Every CUDA kernel nnx owns compiles with NVRTC (no GPU needed); its CUDA body, built for the
host by a C++ compiler, gives the numbers of its Array-API reference; and each reference gives
the numbers of the portable code on every backend."""

from __future__ import annotations

import ctypes
import shutil
import subprocess
import sys

import array_api_compat.numpy as host_np
import numpy as np
import pytest

from nnx.backends import get_backend
from nnx.backends.cuda_kernels import SPECS, bernoulli_threshold, cuda_source
from nnx.backends.nvrtc import NvrtcError, NvrtcUnavailableError, compile_cuda, nvrtc_version
from nnx.functional import activations as F

ARCHS = ("sm_80", "sm_90")  # A100, H100/H200


def _nvrtc_or_skip() -> None:
    try:
        nvrtc_version()
    except NvrtcUnavailableError:
        if sys.platform == "darwin":  # NVIDIA publishes no NVRTC wheel for macOS
            pytest.skip("no NVRTC wheel for macOS")
        raise  # elsewhere the test extra installs it: a missing NVRTC is a failure


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", sorted(SPECS))
def test_kernel_compiles_for_ampere_and_hopper(name, dtype):
    _nvrtc_or_skip()
    for arch in ARCHS:
        image = compile_cuda(cuda_source(SPECS[name], dtype), arch)
        assert image[:4] == b"\x7fELF" and name.encode() in image


def test_a_broken_kernel_fails_with_the_compiler_log():
    _nvrtc_or_skip()
    broken = SPECS["nnx_relu_bwd"]._replace(operation="dx = x > 0 ? dy : undefined_name")
    with pytest.raises(NvrtcError, match="undefined_name"):
        compile_cuda(cuda_source(broken, "float32"), "sm_80")


def test_every_parameter_is_used_and_scalars_are_inputs():
    for spec in SPECS.values():
        code = spec.preamble + spec.operation
        params = spec.params()
        assert all(p.name in code for p in params), spec.name
        assert spec.scalars <= {p.name for p in params if not p.is_output}, spec.name


def test_activation_references_match_the_functional_code(backend, to_np):
    rng = np.random.default_rng(0)
    dy, x = (backend.asarray(rng.normal(size=(3, 4)), "float64") for _ in range(2))
    y = backend.xp.tanh(x)
    zeros = backend.xp.zeros_like(x)
    for name, portable, second in [
        ("nnx_relu_bwd", F.relu_backward, x),
        ("nnx_sigmoid_bwd", F.sigmoid_backward, y),
        ("nnx_tanh_bwd", F.tanh_backward, y),
    ]:
        (got,) = SPECS[name].reference(backend.xp, dy, second, zeros)
        np.testing.assert_allclose(to_np(got), to_np(portable(dy, x, y)), rtol=1e-12)


def test_bernoulli_reference_is_the_same_stream_on_every_backend(backend, to_np):
    host_xp = get_backend("numpy").xp
    mask = backend.xp.zeros((5, 40), dtype=backend.xp.float32, device=backend.device)
    args = (12345, 7, bernoulli_threshold(0.25), mask)
    (got,) = SPECS["nnx_bernoulli"].reference(backend.xp, *args)
    (host,) = SPECS["nnx_bernoulli"].reference(host_xp, *args[:3], np.zeros((5, 40), np.float32))
    np.testing.assert_array_equal(to_np(got), host)
    assert got.shape == (5, 40) and 0.15 < float(np.mean(host)) < 0.35
    (shifted,) = SPECS["nnx_bernoulli"].reference(host_xp, 12345, 47, args[2], np.zeros(160, "f4"))
    np.testing.assert_array_equal(host.ravel()[40:], shifted)  # the counter is an offset


_CTYPES = {"T": None, "uint64": ctypes.c_uint64}


@pytest.fixture(scope="module")
def host_build(tmp_path_factory):
    """Build ``cuda_source(spec, dtype, target="host")`` with the C++ compiler into a library."""
    compiler = shutil.which("g++") or shutil.which("c++") or shutil.which("clang++")
    if compiler is None:
        pytest.skip("no C++ compiler to run the CUDA bodies on the host")
    folder, built = tmp_path_factory.mktemp("kernels"), {}

    def build(dtype: str) -> ctypes.CDLL:  # every kernel of one dtype in one library
        if dtype not in built:
            source = folder / f"kernels_{dtype}.cpp"
            source.write_text("\n".join(cuda_source(s, dtype, "host") for s in SPECS.values()))
            library = source.with_suffix(".so")
            flags = ["-O1", "-ffp-contract=off", "-shared", "-fPIC"]
            subprocess.run([compiler, *flags, str(source), "-o", str(library)], check=True)
            built[dtype] = ctypes.CDLL(str(library))
        return built[dtype]

    return build


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", sorted(SPECS))
def test_cuda_body_on_the_host_matches_the_reference(host_build, name, dtype):
    spec, rng, n = SPECS[name], np.random.default_rng(5), 1000
    scalar_values = {"lr": 0.1, "mu": 0.9, "b1": 0.9, "b2": 0.999, "step": 0.01, "eps": 1e-7}
    scalar_values.update(key=2**63 + 5, counter=11, threshold=bernoulli_threshold(0.3))
    args, argtypes = [], []
    for p in spec.params():
        if p.name in spec.scalars:
            if p.type == "T":
                args.append(np.dtype(dtype).type(scalar_values[p.name]))
                argtypes.append(ctypes.c_float if dtype == "float32" else ctypes.c_double)
            else:
                args.append(np.uint64(scalar_values[p.name]))
                argtypes.append(_CTYPES[p.type])
        else:
            args.append(np.abs(rng.normal(size=n)).astype(dtype))  # v >= 0 for Adam's sqrt
            argtypes.append(ctypes.c_void_p)
    expected = spec.reference(host_np, *[a.copy() if hasattr(a, "copy") else a for a in args])
    kernel = getattr(host_build(dtype), name)
    kernel.argtypes, kernel.restype = [*argtypes, ctypes.c_longlong], None
    kernel(*[a.ctypes.data if isinstance(a, np.ndarray) else a.item() for a in args], n)
    outputs = [a for p, a in zip(spec.params(), args, strict=True) if p.is_output]
    for got, want in zip(outputs, expected, strict=True):
        if name == "nnx_bernoulli":
            np.testing.assert_array_equal(got, want)  # the stream is bit-exact
        else:
            # float32: libstdc++'s and NumPy's tanhf may differ by an ulp, which the GRU's
            # z h + (1 - z) h~ can turn into 2e-6 relative on a small result: atol one ulp of 1
            tol = {"rtol": 1e-6, "atol": 1.2e-7} if dtype == "float32" else {"rtol": 1e-13}
            np.testing.assert_allclose(got, want, **tol)
