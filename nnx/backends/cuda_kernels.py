"""The CUDA kernels of the CuPy backend, as specs nnx owns: one source for three uses.

Each :class:`KernelSpec` holds a CuPy ``ElementwiseKernel`` (parameters, CUDA body, preamble)
and the same maths as an Array-API ``reference``. The CuPy backend builds its kernels from the
specs; :func:`cuda_source` writes the standalone CUDA C++ translation unit CuPy would generate
for one dtype, which CI compiles with NVRTC for sm_80 and sm_90 without a GPU
(``tests/backends/test_backends_cuda_compile.py``); the CuPy stand-in of the tests and
``python -m nnx selfcheck`` run the ``reference`` to check the kernels' numbers.

Kernel scalars are typed exactly (``T`` scalars as the arrays' dtype, ``uint64`` as
``numpy.uint64``): CuPy casts Python scalars by its own rules, and a float64 scalar in a float32
kernel would change the numbers.

>>> sorted(SPECS)[:2], "nnx_lstm_cell" in SPECS
(['nnx_adam', 'nnx_bernoulli'], True)
>>> "typedef float T;" in cuda_source(SPECS["nnx_relu_bwd"], "float32")
True
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

__all__ = [
    "C_TYPES",
    "SPECS",
    "KernelSpec",
    "Param",
    "bernoulli_threshold",
    "cuda_source",
    "parse_params",
]

Array = Any

#: dtype name -> CUDA C type, as CuPy's ``_scalar.get_typename``
C_TYPES = {
    "float32": "float",
    "float64": "double",
    "int32": "int",
    "int64": "long long",
    "uint32": "unsigned int",
    "uint64": "unsigned long long",
    "bool": "bool",
}


class Param(NamedTuple):
    """One kernel parameter: ``"T dy"`` is ``Param("T", "dy", is_output=False)``."""

    type: str
    name: str
    is_output: bool


class KernelSpec(NamedTuple):
    """A fused elementwise kernel and its reference.

    Attributes:
        name: the CUDA function name (``"nnx_adam"``).
        in_params, out_params: CuPy's parameter strings (``"T g, T lr"``); ``T`` is the arrays'
            float dtype, other types are dtype names.
        operation: the CUDA body run for each element ``i``; outputs are references.
        reference: the same maths on any Array-API namespace:
            ``reference(xp, *inputs, *outputs) -> tuple of new outputs``.
        preamble: CUDA code placed before the kernel.
        scalars: the inputs passed as scalars rather than arrays.
    """

    name: str
    in_params: str
    out_params: str
    operation: str
    reference: Callable[..., tuple[Array, ...]]
    preamble: str = ""
    scalars: frozenset[str] = frozenset()

    def params(self) -> list[Param]:
        """Inputs then outputs, in call order."""
        return parse_params(self.in_params, False) + parse_params(self.out_params, True)


def parse_params(text: str, is_output: bool) -> list[Param]:
    """``"T g, uint64 key"`` as :class:`Param` s.

    >>> parse_params("T g, uint64 key", False)[1]
    Param(type='uint64', name='key', is_output=False)
    """
    params = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        kind, name = part.split()
        params.append(Param(kind, name, is_output))
    return params


def _relu(xp: Any, dy: Array, x: Array, dx: Array) -> tuple[Array]:
    return (xp.where(x > 0, dy, xp.zeros_like(dy)),)


def _sigmoid(xp: Any, dy: Array, y: Array, dx: Array) -> tuple[Array]:
    return (dy * y * (1 - y),)


def _tanh(xp: Any, dy: Array, y: Array, dx: Array) -> tuple[Array]:
    return (dy * (1 - y * y),)


def _momentum(xp: Any, g: Array, lr: Any, mu: Any, w: Array, v: Array) -> tuple[Array, Array]:
    v = mu * v - lr * g
    return w + v, v


def _adam(
    xp: Any, g: Array, b1: Any, b2: Any, step: Any, eps: Any, w: Array, m: Array, v: Array
) -> tuple[Array, Array, Array]:
    m = b1 * (m - g) + g
    v = b2 * (v - g * g) + g * g
    return w - step * m / (xp.sqrt(v) + eps), m, v


def _gate(xp: Any, z: Array) -> Array:
    """The recurrent gates' sigmoid, ``(1 + tanh(z / 2)) / 2`` (``gate_sigmoid``)."""
    return 0.5 * xp.tanh(0.5 * z) + 0.5


def _lstm_cell(xp: Any, zi: Array, zf: Array, zg: Array, zo: Array, c: Array, *out: Array) -> tuple:
    i, f, g, o = _gate(xp, zi), _gate(xp, zf), xp.tanh(zg), _gate(xp, zo)
    c_new = f * c + i * g
    tc = xp.tanh(c_new)
    return o * tc, c_new, i, f, g, o, tc


def _lstm_cell_bwd(
    xp: Any, dh: Array, dc: Array, i: Array, f: Array, g: Array, o: Array, tc: Array, c: Array,
    *out: Array,
) -> tuple:  # fmt: skip
    dct = dc + dh * o * (1 - tc * tc)
    return (
        dct * g * i * (1 - i),
        dct * c * f * (1 - f),
        dct * i * (1 - g * g),
        dh * tc * o * (1 - o),
        dct * f,
    )


def _gru_cell(
    xp: Any, xz_z: Array, xz_r: Array, xz_h: Array, rz_z: Array, rz_r: Array, rz_h: Array,
    h: Array, *out: Array,
) -> tuple:  # fmt: skip
    z, r = _gate(xp, xz_z + rz_z), _gate(xp, xz_r + rz_r)
    hh = xp.tanh(xz_h + r * rz_h)
    return z * h + (1 - z) * hh, z, r, hh


def _gru_cell_bwd(
    xp: Any, dh: Array, h: Array, z: Array, r: Array, hh: Array, rz_h: Array, *out: Array
) -> tuple:
    da_h = dh * (1 - z) * (1 - hh * hh)
    da_r = da_h * rz_h * r * (1 - r)
    return dh * (h - hh) * z * (1 - z), da_r, da_h, da_h * r, dh * z


_SIGMOID = "(T)0.5 * tanh((T)0.5 * ({})) + (T)0.5"
#: the fused recurrent cells (LSTM, GRU with reset_after; tanh and sigmoid gates): one kernel
#: per step for the gate maths, forward and backward (the layers' formulas element by element)
_RECURRENT = [
    KernelSpec(
        "nnx_lstm_cell",
        "T zi, T zf, T zg, T zo, T c",
        "T h, T c_new, T gi, T gf, T gg, T go, T tc",
        f"gi = {_SIGMOID.format('zi')}; gf = {_SIGMOID.format('zf')}; gg = tanh(zg); "
        f"go = {_SIGMOID.format('zo')}; c_new = gf * c + gi * gg; tc = tanh(c_new); h = go * tc;",
        _lstm_cell,
    ),
    KernelSpec(
        "nnx_lstm_cell_bwd",
        "T dh, T dc, T gi, T gf, T gg, T go, T tc, T c",
        "T dzi, T dzf, T dzg, T dzo, T dc_prev",
        "T dct = dc + dh * go * (1 - tc * tc); dzi = dct * gg * gi * (1 - gi); "
        "dzf = dct * c * gf * (1 - gf); dzg = dct * gi * (1 - gg * gg); "
        "dzo = dh * tc * go * (1 - go); dc_prev = dct * gf;",
        _lstm_cell_bwd,
    ),
    KernelSpec(
        "nnx_gru_cell",
        "T xz_z, T xz_r, T xz_h, T rz_z, T rz_r, T rz_h, T h",
        "T h_new, T z, T r, T hh",
        f"z = {_SIGMOID.format('xz_z + rz_z')}; r = {_SIGMOID.format('xz_r + rz_r')}; "
        "hh = tanh(xz_h + r * rz_h); h_new = z * h + (1 - z) * hh;",
        _gru_cell,
    ),
    KernelSpec(
        "nnx_gru_cell_bwd",
        "T dh, T h, T z, T r, T hh, T rz_h",
        "T da_z, T da_r, T da_h, T drz_h, T dh_prev",
        "da_h = dh * (1 - z) * (1 - hh * hh); da_r = da_h * rz_h * r * (1 - r); "
        "da_z = dh * (h - hh) * z * (1 - z); drz_h = da_h * r; dh_prev = dh * z;",
        _gru_cell_bwd,
    ),
]


#: splitmix64 (Steele, Lea, Flood 2014): a counter-based stream, so the state is two integers
_GOLDEN, _MIX1, _MIX2 = 0x9E3779B97F4A7C15, 0xBF58476D1CE4E5B9, 0x94D049BB133111EB
_BERNOULLI_BITS = 24


def bernoulli_threshold(p: float) -> int:
    """The integer threshold ``round(p 2^24)``: a draw ``u`` of 24 bits is 1 when ``u < t``.

    >>> bernoulli_threshold(0.5), bernoulli_threshold(1.0)
    (8388608, 16777216)
    """
    return round(min(max(p, 0.0), 1.0) * (1 << _BERNOULLI_BITS))


def _bernoulli(xp: Any, key: Any, counter: Any, threshold: Any, mask: Array) -> tuple[Array]:
    u64 = xp.uint64
    device = mask.device

    def c(value: int) -> Array:
        return xp.asarray(value, dtype=u64, device=device)

    n = 1
    for side in mask.shape:
        n *= side
    z = c(int(key)) + (c(int(counter)) + xp.arange(n, dtype=u64, device=device)) * c(_GOLDEN)
    z = (z ^ (z >> c(30))) * c(_MIX1)
    z = (z ^ (z >> c(27))) * c(_MIX2)
    z = z ^ (z >> c(31))
    bits = z >> c(64 - _BERNOULLI_BITS)
    return (xp.reshape(xp.astype(bits < c(int(threshold)), mask.dtype), mask.shape),)


_SPECS = [
    KernelSpec("nnx_relu_bwd", "T dy, T x", "T dx", "dx = x > 0 ? dy : (T)0", _relu),
    KernelSpec("nnx_sigmoid_bwd", "T dy, T y", "T dx", "dx = dy * y * (1 - y)", _sigmoid),
    KernelSpec("nnx_tanh_bwd", "T dy, T y", "T dx", "dx = dy * (1 - y * y)", _tanh),
    KernelSpec(
        "nnx_sgd_momentum",
        "T g, T lr, T mu",
        "T w, T v",
        "v = mu * v - lr * g; w += v;",
        _momentum,
        scalars=frozenset({"lr", "mu"}),
    ),
    KernelSpec(
        "nnx_adam",
        "T g, T b1, T b2, T step, T eps",
        "T w, T m, T v",
        "m = b1 * (m - g) + g; v = b2 * (v - g * g) + g * g; w -= step * m / (sqrt(v) + eps);",
        _adam,
        scalars=frozenset({"b1", "b2", "step", "eps"}),
    ),
    KernelSpec(
        "nnx_bernoulli",
        "uint64 key, uint64 counter, uint64 threshold",
        "T mask",
        "mask = (nnx_splitmix64(key + (counter + (unsigned long long)i) * "
        f"{_GOLDEN:#x}ull) >> {64 - _BERNOULLI_BITS}) < threshold ? (T)1 : (T)0",
        _bernoulli,
        scalars=frozenset({"key", "counter", "threshold"}),
        preamble=(
            "__device__ unsigned long long nnx_splitmix64(unsigned long long z) {\n"
            f"  z = (z ^ (z >> 30)) * {_MIX1:#x}ull;\n"
            f"  z = (z ^ (z >> 27)) * {_MIX2:#x}ull;\n"
            "  return z ^ (z >> 31);\n"
            "}\n"
        ),
    ),
]
#: name -> spec of every CUDA kernel nnx owns
SPECS: dict[str, KernelSpec] = {spec.name: spec for spec in _SPECS + _RECURRENT}


def cuda_source(spec: KernelSpec, dtype: str, target: str = "cuda") -> str:
    """The standalone CUDA C++ source of ``spec`` with ``T`` = ``dtype``.

    It mirrors what CuPy's ``ElementwiseKernel`` generates (CuPy 13.6 / 14.2,
    ``cupy/_core/_kernel.pyx``: ``typedef``s, the preamble, one ``extern "C" __global__``
    function, array parameters bound as ``T &name = _raw_name[index]``, scalars by value, the
    loop variable ``i``), with plain pointers and a grid-stride loop in place of CuPy's
    ``CArray``/``CIndexer`` headers, so NVRTC compiles it alone.

    ``target="host"`` gives the same body as plain C++ with a serial loop, which a host
    compiler builds so the tests can run the CUDA body's arithmetic on the CPU.
    """
    declarations, bindings = [], []
    for p in spec.params():
        ctype = "T" if p.type == "T" else C_TYPES[p.type]
        if p.name not in spec.scalars:
            const = "" if p.is_output else "const "
            declarations.append(f"{const}{ctype}* __restrict__ _raw_{p.name}")
            bindings.append(f"{const}{ctype} &{p.name} = _raw_{p.name}[i];")
        else:
            declarations.append(f"const {ctype} {p.name}")
    declarations.append("const long long _n")
    body = "\n      ".join([*bindings, spec.operation.rstrip("; ") + ";"])
    if target == "host":
        head = (
            "#include <cmath>\n#define __device__\n#define __global__\n"
            "using std::sqrt;\nusing std::tanh;\n"
        )
        loop = "  for (long long i = 0; i < _n; ++i) {\n"
    else:
        head = ""
        loop = (
            "  for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < _n;\n"
            "       i += (long long)blockDim.x * gridDim.x) {\n"
        )
    return (
        f"{head}typedef {C_TYPES[dtype]} T;\n"
        f"{spec.preamble}\n"
        f'extern "C" __global__ void {spec.name}({", ".join(declarations)}) {{\n'
        f"{loop}"
        f"      {body}\n"
        "  }\n"
        "}\n"
    )
