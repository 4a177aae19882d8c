"""MKL from numba (the ``mkl`` extra): finding and switching it off, the products against
NumPy's, the arrays they refuse, and the recurrent kernels built on them."""

from __future__ import annotations

import subprocess
import sys
from importlib import metadata

import numpy as np
import pytest

from nnx.backends import mkl_library

numba = pytest.importorskip("numba")
if not mkl_library.load():
    pytest.skip('MKL is not installed (pip install "nnx-array[mkl]")', allow_module_level=True)

from numba.core.errors import TypingError  # noqa: E402

from nnx.backends import numba_mkl, numba_recurrent_mkl  # noqa: E402
from nnx.backends import numba_recurrent_infer as infer  # noqa: E402


@numba.njit
def _product(a, b, out):  # type: ignore[no-untyped-def]
    numba_mkl.gemm(a, b, out)


@numba.njit
def _packed_products(a, b, out, times):  # type: ignore[no-untyped-def]
    """``out = a b`` ``times`` over through one packed ``b``, MKL held at one thread."""
    threads = numba_mkl.one_thread()
    packed = numba_mkl.pack(b, a.shape[0])
    for _ in range(times):
        numba_mkl.gemm_packed(a, packed, out)
    numba_mkl.restore_threads(threads)
    return packed.ctypes.data


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("m, k, n", [(1, 1, 1), (7, 5, 3), (33, 130, 70), (64, 128, 512)])
def test_products_equal_numpys(dtype, m, k, n):
    rng = np.random.default_rng(m + k + n)
    a = rng.normal(size=(m, k)).astype(dtype)
    b = rng.normal(size=(k, n)).astype(dtype)
    want = a.astype("float64") @ b.astype("float64")
    tol = {"float32": 1e-5, "float64": 1e-13}[dtype] * max(1.0, float(np.abs(want).max()))
    out = np.full((m, n), np.nan, dtype=dtype)
    _product(a, b, out)
    np.testing.assert_allclose(out, want, rtol=0, atol=tol)
    out[...] = np.nan
    address = _packed_products(a, b, out, 3)
    np.testing.assert_allclose(out, want, rtol=0, atol=tol)
    assert address % 64 == 0  # the packed buffer starts on a cache line


def test_products_refuse_strided_and_mixed_arrays():
    a, b = np.ones((4, 3)), np.ones((3, 5))
    with pytest.raises(TypingError, match="C-contiguous arrays of one dtype"):
        _product(a.T.copy().T, b, np.empty((4, 5)))  # Fortran order
    with pytest.raises(TypingError, match="C-contiguous arrays of one dtype"):
        _product(a, b.astype("float32"), np.empty((4, 5)))
    with pytest.raises(TypingError, match="float32 or float64"):
        _product(a.astype(int), b.astype(int), np.empty((4, 5), dtype=int))


def test_recurrent_kernels_are_built_on_mkl():
    built = numba_recurrent_mkl.kernels()
    assert built is not None
    for name in ("lstm_infer", "gru_infer", "rnn_infer"):
        kernel = getattr(built, name)
        assert kernel is not getattr(infer, name)
        assert infer.lstm_infer.py_func.__globals__["gemm_packed"] is not numba_mkl.gemm_packed
        scope = kernel.py_func.__globals__
        assert scope["gemm_packed"] is numba_mkl.gemm_packed
        assert scope["_project_chunk"].py_func.__globals__["gemm"] is numba_mkl.gemm
        assert kernel.py_func.__qualname__ == f"{name}_mkl"  # its own cache entry
    for name in ("lstm_forward", "lstm_backward", "gru_forward", "gru_backward"):
        assert getattr(built, name).py_func.__globals__["pack"] is numba_mkl.pack


def test_the_switch_and_the_status(monkeypatch):
    assert mkl_library.status().startswith("on (mkl ")
    monkeypatch.setenv(mkl_library.ENV, "0")
    assert mkl_library.load.__wrapped__() is False
    assert mkl_library.status() == "off (NNX_MKL=0)"
    monkeypatch.delenv(mkl_library.ENV)
    monkeypatch.setenv("NNX_NUMBA", "0")
    assert mkl_library.status() == "off (the numba kernels are off)"
    monkeypatch.delenv("NNX_NUMBA")
    path = mkl_library.library_path()
    assert path is not None and mkl_library._already_loaded(path)  # load() opened it
    assert not mkl_library._already_loaded(path.with_name("libmkl_not_there.so"))

    def missing(name: str) -> None:
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(metadata, "files", missing)
    assert mkl_library.library_path() is None
    assert mkl_library.load.__wrapped__() is False


def test_mkl_stays_out_of_the_global_namespace():
    """Opened globally, MKL's symbols would bind a later-imported PyTorch's own MKL calls to
    this sequential one (its products then ran on one thread)."""
    code = (
        "import ctypes\n"
        "from nnx.backends import mkl_library, numba_recurrent_mkl\n"
        "assert mkl_library.load() and numba_recurrent_mkl.kernels() is not None\n"
        "print(hasattr(ctypes.CDLL(None), 'MKL_Set_Threading_Layer'))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


def _stacks(dtype, rng):
    """The attention's layouts: q, k, v as strided views of one joint projection."""
    joint = rng.normal(size=(3, 5, 3, 2, 4)).astype(dtype)  # (batch, T, q/k/v, heads, dim)
    q, k, v = (joint[:, :, i].transpose(0, 2, 1, 3) for i in range(3))  # (batch, heads, T, d)
    return q, k, v


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_batched_products_read_the_attention_views_in_place(dtype):
    rng = np.random.default_rng(3)
    q, k, v = _stacks(dtype, rng)
    kt = k.transpose(0, 1, 3, 2)
    tol = {"float32": 1e-5, "float64": 1e-13}[dtype]
    pairs = [(q, kt), (q.copy(), kt.copy()), (kt.transpose(0, 1, 3, 2), q.transpose(0, 1, 3, 2))]
    for a, b in pairs:
        out = np.full((*a.shape[:3], b.shape[3]), np.nan, dtype=dtype)
        assert numba_mkl.batched_matmul(a, b, out)
        np.testing.assert_allclose(out, np.matmul(a, b), rtol=tol, atol=tol)
    joint = np.full((3, 5, 2, 2, 4), np.nan, dtype=dtype)  # products side by side, in place
    view = joint[:, :, 0].transpose(0, 2, 1, 3)
    assert numba_mkl.batched_matmul(np.matmul(q, kt), v, view)
    np.testing.assert_allclose(view, np.matmul(np.matmul(q, kt), v), rtol=tol, atol=tol)
    assert np.isnan(joint[:, :, 1]).all()  # the other slot untouched
    strided = q[..., ::2]  # neither rows nor columns contiguous: declined
    assert not numba_mkl.batched_matmul(strided, kt[:, :, ::2], np.empty((3, 2, 5, 5), dtype))
    out = np.empty((3, 2, 5, 5), dtype)
    for a in (q[:, :, ::-1], np.broadcast_to(q[:, :, :1], q.shape)):  # reversed, broadcast rows
        assert not numba_mkl.batched_matmul(a, kt, out)
    column = np.broadcast_to(q[:, :, :, :1], (3, 2, 5, 1))  # a column: any row stride will do
    assert numba_mkl.batched_matmul(column, np.ones((3, 2, 1, 5), dtype), out)
    np.testing.assert_allclose(out, np.matmul(column, np.ones((3, 2, 1, 5), dtype)), rtol=tol)


def test_the_backend_runs_stacked_products_on_mkl(monkeypatch):
    from nnx.backends import get_backend, numba_paths

    monkeypatch.setattr(numba_paths, "MIN_SIZE", 0)
    calls = []
    real = numba_mkl.batched_matmul

    def spy(a, b, out):
        calls.append(a.shape)
        return real(a, b, out)

    monkeypatch.setattr(numba_mkl, "batched_matmul", spy)
    backend = get_backend("numpy")
    q, k, _ = _stacks("float32", np.random.default_rng(4))
    got = backend.matmul(q, k.transpose(0, 1, 3, 2))
    np.testing.assert_allclose(got, np.matmul(q, k.transpose(0, 1, 3, 2)), rtol=1e-5)
    assert calls == [(3, 2, 5, 4)]
    backend.matmul(q[0], k[0].transpose(0, 2, 1))  # 3-D: NumPy's
    backend.matmul(q, k.transpose(0, 1, 3, 2)[:1])  # batch axes differ: NumPy's (broadcasting)
    assert len(calls) == 1
