"""The NCCL communicator's calls, checked against a stand-in for ``cupy.cuda.nccl`` (no GPU here).

What is checked is the contract in CuPy's documentation: rank 0's ``get_unique_id()`` reaches
``NcclCommunicator(ndev, commId, rank)`` through MPI, and ``allReduce(sendbuf, recvbuf, count,
datatype, op, stream)`` gets the buffer's device pointer twice (in place), its element count,
the NCCL type of its dtype, ``NCCL_SUM`` and CuPy's current stream.
"""

from __future__ import annotations

import contextlib
import sys
import types
from typing import Any

import pytest

from nnx.backends.nccl import nccl_module
from nnx.distributed.nccl import NCCLCommunicator
from nnx.distributed.runtime import MissingDependencyError


class FakeNccl(types.ModuleType):
    available = True
    NCCL_SUM, NCCL_FLOAT16, NCCL_FLOAT32, NCCL_FLOAT64 = 0, 6, 7, 8

    def __init__(self) -> None:
        super().__init__("cupy.cuda.nccl")
        self.calls: list[tuple[Any, ...]] = []
        outer = self

        class NcclCommunicator:
            def __init__(self, ndev: int, uid: bytes, rank: int) -> None:
                outer.calls.append(("init", ndev, uid, rank))

            def allReduce(self, *args: Any) -> None:  # noqa: N802 (CuPy's name)
                outer.calls.append(("allReduce", *args))

        self.NcclCommunicator = NcclCommunicator

    @staticmethod
    def get_unique_id() -> bytes:
        return b"unique-id"


class FakeArray:
    def __init__(self, size: int, dtype: str) -> None:
        self.size, self.dtype = size, dtype
        self.data = types.SimpleNamespace(ptr=0xDEAD00)
        self.flags = types.SimpleNamespace(c_contiguous=True)


class FakeBackend:
    cupy_device = contextlib.nullcontext()
    xp = None

    @staticmethod
    def dtype_name(x: FakeArray) -> str:
        return x.dtype


@pytest.fixture
def nccl(monkeypatch: pytest.MonkeyPatch) -> FakeNccl:
    fake = FakeNccl()
    cuda = types.ModuleType("cupy.cuda")
    cuda.nccl = fake  # type: ignore[attr-defined]
    cuda.get_current_stream = lambda: types.SimpleNamespace(ptr=42)  # type: ignore[attr-defined]
    cupy = types.ModuleType("cupy")
    cupy.cuda = cuda  # type: ignore[attr-defined]
    for name, module in [("cupy", cupy), ("cupy.cuda", cuda), ("cupy.cuda.nccl", fake)]:
        monkeypatch.setitem(sys.modules, name, module)
    return fake


def test_bootstrap_and_in_place_sum(nccl: FakeNccl) -> None:
    comm = NCCLCommunicator(FakeBackend())  # type: ignore[arg-type]
    assert nccl.calls == [("init", 1, b"unique-id", 0)]
    for dtype, code in [("float32", 7), ("float64", 8)]:
        buf = FakeArray(1_860_000, dtype)
        assert comm.allreduce(buf, FakeBackend()) is buf  # type: ignore[arg-type]
        assert nccl.calls[-1] == ("allReduce", 0xDEAD00, 0xDEAD00, 1_860_000, code, 0, 42)


def test_integer_buffers_are_refused(nccl: FakeNccl) -> None:
    comm = NCCLCommunicator(FakeBackend())  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="int64"):
        comm.allreduce(FakeArray(3, "int64"), FakeBackend())  # type: ignore[arg-type]


def test_missing_nccl_names_the_fix(nccl: FakeNccl, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(nccl, "available", False)
    with pytest.raises(MissingDependencyError, match="nvidia-nccl"):
        NCCLCommunicator(FakeBackend())  # type: ignore[arg-type]
    for name in ("cupy", "cupy.cuda", "cupy.cuda.nccl"):
        monkeypatch.setitem(sys.modules, name, None)
    with pytest.raises(ImportError, match=r"nnx-array\[cupy,mpi\]"):
        nccl_module()
