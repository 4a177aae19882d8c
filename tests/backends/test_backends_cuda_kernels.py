"""Every CUDA kernel nnx owns compiles with NVRTC (no GPU needed), and each kernel's Array-API
reference gives the numbers of the portable code on every backend."""

from __future__ import annotations

import sys

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
