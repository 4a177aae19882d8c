"""The named fast paths a backend may override, each beside a portable default or a decline.

Some have a portable Array-API default here (``matmul``, ``im2col``, ``sum_rows``,
``add_bias``); NumPy and CuPy replace it with a faster call. The others are typed methods whose
default declines (returns None or False): the caller then runs the portable code of
:mod:`nnx.functional` (the activation backward passes) or of the optimizer
(:meth:`nnx.optimizers.Adam.update`), which stays the readable reference. Each override is
tested to give the numbers of the portable code (``tests/backends/test_backends_fast_paths.py``).

>>> from nnx.backends import get_backend
>>> numpy = get_backend("numpy")
>>> y = numpy.asarray([0.5, -0.5])
>>> numpy.relu_backward(y, y, y), numpy.tanh_backward(y, y, y)  # tanh: declined
(array([ 0.5, -0. ]), None)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

from nnx.backends.coefficients import (
    AdadeltaCoefficients,
    AdagradCoefficients,
    AdamCoefficients,
    NadamCoefficients,
    Prelude,
    RMSpropCoefficients,
    SGDCoefficients,
)

__all__ = ["DenseStackLayer", "EncoderBlock", "FastPaths", "RecurrentRun"]

Array = Any


class RecurrentRun(NamedTuple):
    """What :meth:`FastPaths.recurrent_forward` returns.

    Attributes:
        hs: ``(steps + 1, batch, units)``: the initial ``h`` then each step's (after the
            mask), or None when neither asked for nor needed by the backward.
        states: the final states (``h`` first).
        tape: what :meth:`FastPaths.recurrent_backward` reads (None when ``keep`` is False).
    """

    hs: Array | None
    states: tuple[Array, ...]
    tape: Any


class DenseStackLayer(NamedTuple):
    """One ``Dense`` layer of :meth:`FastPaths.dense_stack`: its weights and gradients (views
    of the model's flat buffers) and its activation (a name, and ``alpha`` where it has one)."""

    kernel: Array
    bias: Array | None
    kernel_grad: Array
    bias_grad: Array | None
    activation: str
    alpha: float


class EncoderBlock(NamedTuple):
    """The weights of one Transformer encoder block, as :meth:`FastPaths.encoder_block`
    takes them: each a 1-D or 2-D array of the block's dtype, or None where the block has no
    such bias or scale.

    Attributes:
        qkv_kernel: ``(features, heads (2 key_dim + value_dim))``, the query, key and value
            kernels side by side, the query's scaled by ``1 / sqrt(key_dim)``.
        qkv_bias: their biases side by side (the query's scaled too).
        output_kernel: ``(heads value_dim, features)``, and ``output_bias``.
        norm1_gamma, norm1_beta, norm2_gamma, norm2_beta: the two layer normalizations'.
        ffn1_kernel, ffn1_bias, ffn2_kernel, ffn2_bias: the feed-forward network's.
        heads, key_dim, epsilon, pre_norm: the block's configuration.
        activation, alpha: the feed-forward activation's name and parameter.
    """

    qkv_kernel: Array
    qkv_bias: Array | None
    output_kernel: Array
    output_bias: Array | None
    norm1_gamma: Array | None
    norm1_beta: Array | None
    ffn1_kernel: Array
    ffn1_bias: Array | None
    ffn2_kernel: Array
    ffn2_bias: Array | None
    norm2_gamma: Array | None
    norm2_beta: Array | None
    heads: int
    key_dim: int
    epsilon: float
    pre_norm: bool
    activation: str
    alpha: float


class FastPaths:
    """The fast-path methods of :class:`~nnx.backends.Backend` and their defaults."""

    xp: Any

    # --- a portable default here -----------------------------------------------------------
    def matmul(self, a: Array, b: Array, out: Array | None = None) -> Array:
        """``a @ b``, written into ``out`` where the library supports it."""
        return a @ b

    def im2col(
        self,
        x: Array,
        kernel: tuple[int, int],
        strides: tuple[int, int],
        dilation: tuple[int, int],
    ) -> Array:
        """The sliding windows of a padded channels-last image batch, one row per position.

        ``cols[b, p, q, (i kw + j) C + c] = x[b, i dh + p sh, j dw + q sw, c]``: a strided
        slice per kernel offset ``(i, j)``, stacked (portable; NumPy overrides it with a
        ``sliding_window_view``). Shape: ``(b, h, w, C) -> (b, oh, ow, kh kw C)``.
        """
        xp = self.xp
        b, h, w, c = x.shape
        (kh, kw), (sh, sw), (dh, dw) = kernel, strides, dilation
        oh, ow = (h - dh * (kh - 1) - 1) // sh + 1, (w - dw * (kw - 1) - 1) // sw + 1
        parts = [
            x[
                :,
                i * dh : i * dh + (oh - 1) * sh + 1 : sh,
                j * dw : j * dw + (ow - 1) * sw + 1 : sw,
                :,
            ]
            for i in range(kh)
            for j in range(kw)
        ]
        if len(parts) == 1:
            return parts[0]
        return xp.reshape(xp.stack(parts, axis=3), (b, oh, ow, kh * kw * c))

    def sum_rows(self, x: Array, out: Array | None = None) -> Array:
        """``sum(x, axis=0)`` of a 2-d array (bias gradients), into ``out`` where supported."""
        total = self.xp.sum(x, axis=0)
        if out is None:
            return total
        out[...] = total
        return out

    def add_bias(self, z: Array, bias: Array) -> Array:
        """``z += bias`` in place, ``bias`` along the last axis of ``z``; returns ``z``."""
        z += bias
        return z

    def flat_views(
        self, shapes: Sequence[tuple[int, ...]], dtype: str
    ) -> tuple[Array, list[Array]] | None:
        """One zeroed 1-d buffer holding arrays of ``shapes`` back to back, and a writable view
        of each; None where the library has no writable views (the portable default)."""
        return None

    def map_chunks(self, fn: Callable[[slice], Any], n: int) -> None:
        """Call ``fn`` on slices covering ``range(n)``: an elementwise update of flat buffers.
        Backends may run the slices on several threads; the default is one call."""
        fn(slice(0, n))

    # --- named fast paths: None / False here, the caller runs the portable code ---------------
    def relu_backward(self, dy: Array, x: Array, y: Array) -> Array | None:
        """``dx = dy * (x > 0)`` (:func:`nnx.functional.activations.relu_backward`), or None."""
        return None

    def sigmoid_backward(self, dy: Array, x: Array, y: Array) -> Array | None:
        """``dx = dy * y * (1 - y)`` (:func:`nnx.functional.activations.sigmoid_backward`), or
        None."""
        return None

    def tanh_backward(self, dy: Array, x: Array, y: Array) -> Array | None:
        """``dx = dy * (1 - y^2)`` (:func:`nnx.functional.activations.tanh_backward`), or
        None."""
        return None

    def adam_update(self, w: Array, g: Array, m: Array, v: Array, c: AdamCoefficients) -> bool:
        """Adam's in-place update of weights ``w`` and moments ``m``, ``v`` from gradient ``g``
        in one fused pass (see :class:`AdamCoefficients`); False, doing nothing, where this
        backend has no such kernel (then :meth:`nnx.optimizers.Adam.update` runs)."""
        return False

    def sgd_momentum_update(self, w: Array, g: Array, velocity: Array, c: SGDCoefficients) -> bool:
        """SGD-with-momentum's in-place update of ``w`` and ``velocity`` in one fused pass (see
        :class:`SGDCoefficients`); False, doing nothing, where this backend has none."""
        return False

    # --- one recurrent step's gate maths (the CuPy backend's kernels; None here) -------------
    def lstm_cell(self, z: Array, c: Array) -> tuple[Array, ...] | None:
        """An LSTM step's gates from ``z = x W + h U + b (batch, 4 units)`` (blocks ``i, f, c,
        o``; sigmoid gates, tanh) and ``c``: ``(h, c_new, i, f, g, o, tanh(c_new))``, or None
        (then :meth:`nnx.layers.LSTM.step` runs the portable code)."""
        return None

    def lstm_cell_backward(
        self, dh: Array, dc: Array, saved: tuple[Array, ...], c: Array
    ) -> tuple[Array, Array] | None:
        """``(dz, dc_prev)`` of an :meth:`lstm_cell` step given its ``saved = (i, f, g, o,
        tanh(c_new))``, the previous ``c`` and the gradients of ``h`` and ``c_new``, or
        None."""
        return None

    def gru_cell(self, xz: Array, rz: Array, h: Array) -> tuple[Array, ...] | None:
        """A GRU step (``reset_after``; sigmoid gates, tanh) from ``xz = x W + b_in`` and
        ``rz = h U + b_rec`` (``(batch, 3 units)``, blocks ``z, r, h``): ``(h_new, z, r, h~)``,
        or None (then :meth:`nnx.layers.GRU.step` runs the portable code)."""
        return None

    def gru_cell_backward(
        self, dh: Array, h: Array, saved: tuple[Array, ...], rz_h: Array
    ) -> tuple[Array, Array, Array] | None:
        """``(dxz, drz, dh * z)`` of a :meth:`gru_cell` step given its ``saved = (z, r, h~)``,
        the previous ``h``, the ``h`` block of ``rz`` and the gradient of ``h_new``, or
        None."""
        return None

    # --- fused kernels (the numba paths of the NumPy backend; None / False here) ------------
    def recurrent_forward(
        self,
        cell: str,
        xz: Array,
        recurrent: Array,
        recurrent_bias: Array | None,
        states: tuple[Array, ...],
        mask: Array | None,
        hmask: Array | None,
        keep: bool,
        record: bool,
    ) -> RecurrentRun | None:
        """Every timestep of a standard recurrent cell in one call, or None (then
        :meth:`nnx.layers.recurrent.Recurrent.forward_masked` runs its portable loop).

        Args:
            cell: ``"simple_rnn"`` (tanh), ``"lstm"`` (tanh, sigmoid gates), ``"gru"``
                (tanh, sigmoid gates, ``reset_after``).
            xz: ``(steps, batch, width)`` the input projection ``x_t W + b``, time-major.
            recurrent: ``U (units, width)``; recurrent_bias: the GRU's ``b_rec`` or None.
            states: the initial states ``(batch, units)`` (``h``, and ``c`` for the LSTM).
            mask: ``(batch, steps)`` 0/1 floats, or None; hmask: the scaled recurrent dropout
                mask of ``h`` ``(batch, units)``, or None.
            keep: a backward will follow (keep what it reads); record: return ``hs``.
        """
        return None

    def recurrent_inference(
        self,
        cell: str,
        x: Array,
        kernel: Array,
        bias: Array | None,
        recurrent: Array,
        recurrent_bias: Array | None,
        states: tuple[Array, ...],
        mask: Array | None,
        reverse: bool,
        record: bool,
    ) -> tuple[Array | None, tuple[Array, ...]] | None:
        """A whole inference pass of a standard recurrent cell (no dropout, nothing kept),
        input projection included: ``(ys, final states)``, ``ys (batch, steps, units)`` every
        step's ``h`` when ``record`` else None; or None (then the layer takes
        :meth:`recurrent_forward` or its loop). ``x (batch, steps, features)`` unflipped,
        ``kernel`` / ``bias`` the input kernel and bias (``x W + b``), ``mask (batch,
        steps)`` 0/1 floats or None, ``reverse``: read the steps last to first
        (``go_backwards``); the rest as :meth:`recurrent_forward`."""
        return None

    def recurrent_backward(
        self, tape: Any, dys: Array | None, dstates: tuple[Array, ...]
    ) -> tuple[Array, Array, tuple[Array, ...]] | None:
        """Backward through time of a :meth:`recurrent_forward` run: ``(dxz, drec,
        dstates0)``, the gradients of every step's input projection and of its recurrent
        product ``h U (+ b_rec)`` (``(steps, batch, width)``; one array for both where they
        are equal), and of the initial states; or None for a tape it did not make.
        ``dys``: the time-major gradient of every ``h`` (``return_sequences``) or None;
        ``dstates``: those of the final states."""
        return None

    def activation_forward(
        self, z: Array, bias: Array | None, name: str, alpha: float = 0.0
    ) -> Array | None:
        """``z += bias`` in place (when given), then ``y = f(z)`` for the activation ``name``
        (``alpha``: leaky_relu's slope, elu's scale) in one pass; None, doing nothing, where
        this backend has no such kernel (:meth:`nnx.layers.ActivatedLayer.forward` then runs
        the portable code)."""
        return None

    def activation_backward(
        self, dy: Array, x: Array, y: Array, name: str, alpha: float = 0.0
    ) -> Array | None:
        """``dx = dy * f'(x)`` for the activation ``name`` (the Jacobian product for softmax),
        or None (then :mod:`nnx.functional.activations` runs)."""
        return None

    def activation_bias_backward(
        self, dy: Array, x: Array, y: Array, name: str, alpha: float = 0.0
    ) -> tuple[Array, Array] | None:
        """:meth:`activation_backward` and the bias gradient in the same pass:
        ``(dx, sum over every axis but the last of dx)``, or None."""
        return None

    def sigmoid_crossentropy(self, y: Array, z: Array) -> tuple[Array, Array] | None:
        """Per-sample binary cross-entropy of logits ``z (n, k)`` and its gradient in one pass
        (:func:`nnx.functional.losses.binary_crossentropy_logits_value_and_grad`), or None."""
        return None

    def softmax_crossentropy(self, y: Array, z: Array) -> tuple[Array, Array] | None:
        """Per-sample categorical cross-entropy of logits ``z (n, k)`` and its gradient
        (:func:`nnx.functional.losses.categorical_crossentropy_logits_value_and_grad`), or
        None."""
        return None

    def col2im(
        self,
        cols: Array,
        shape: tuple[int, int, int, int],
        kernel: tuple[int, int],
        strides: tuple[int, int],
        dilation: tuple[int, int],
    ) -> Array | None:
        """:func:`nnx.functional.conv.col2im` (overlapping windows add up), or None."""
        return None

    def max_pool2d(self, x: Array, pool: tuple[int, int], strides: tuple[int, int]) -> Array | None:
        """:func:`nnx.functional.pooling.max_pool2d`, or None."""
        return None

    def max_pool2d_backward(
        self, dy: Array, x: Array, y: Array, pool: tuple[int, int], strides: tuple[int, int]
    ) -> Array | None:
        """:func:`nnx.functional.pooling.max_pool2d_backward` (ties: the first maximum), or
        None."""
        return None

    def max_pool2d_argmax(
        self, x: Array, pool: tuple[int, int], strides: tuple[int, int]
    ) -> tuple[Array, Array] | None:
        """``(y, arg)``: :func:`nnx.functional.pooling.max_pool2d` and, per output, the window
        offset ``i pw + j`` of its first maximum (int8), or None."""
        return None

    def max_pool2d_argmax_backward(
        self,
        dy: Array,
        arg: Array,
        shape: tuple[int, int, int, int],
        pool: tuple[int, int],
        strides: tuple[int, int],
    ) -> Array | None:
        """The max pool's ``dx`` of ``shape`` from the offsets of :meth:`max_pool2d_argmax`
        (``dx[window offset arg] += dy``), or None."""
        return None

    def conv2d_direct(
        self,
        x: Array,
        w: Array,
        bias: Array | None,
        kernel: tuple[int, int],
        strides: tuple[int, int],
        dilation: tuple[int, int],
        relu: bool,
    ) -> Array | None:
        """``f(im2col(x) @ w + bias)`` of a padded channels-last ``x (b, h, w, C)`` and ``w
        (kh kw C, filters)``, ``f`` ReLU (``relu``) or the identity, as ``(b, oh, ow,
        filters)``, or None."""
        return None

    def conv2d_weight_grad(
        self,
        dy: Array,
        y: Array | None,
        x: Array,
        kernel: tuple[int, int],
        strides: tuple[int, int],
        dilation: tuple[int, int],
    ) -> tuple[Array, Array] | None:
        """``(im2col(x)^T dz, sum dz)`` reshaped ``(kh kw C, filters)`` and ``(filters,)``,
        with ``dz = dy``, or ReLU's backward ``dy [y > 0]`` given its output ``y``; or None."""
        return None

    def avg_pool2d(
        self, x: Array, pool: tuple[int, int], strides: tuple[int, int], count: Array | float
    ) -> Array | None:
        """:func:`nnx.functional.pooling.avg_pool2d`, or None."""
        return None

    def avg_pool2d_backward(
        self,
        dy: Array,
        shape: tuple[int, ...],
        pool: tuple[int, int],
        strides: tuple[int, int],
        count: Array | float,
    ) -> Array | None:
        """:func:`nnx.functional.pooling.avg_pool2d_backward`, or None."""
        return None

    def batch_norm_statistics(self, x: Array) -> tuple[Array, Array] | None:
        """The mean and biased variance of each column of ``x (n, C)``, each ``(C,)``, or
        None."""
        return None

    def batch_norm_backward(
        self, dy: Array, xhat: Array, gamma: Array | None, inv: Array
    ) -> tuple[Array, Array, Array] | None:
        """``(dx, dgamma, dbeta)`` of ``y = gamma xhat + beta``, ``xhat = (x - mean) inv`` over
        the rows of ``(n, C)`` arrays (:func:`nnx.layers.normalization.normalize_backward`;
        ``gamma`` None: 1), or None."""
        return None

    def attention(
        self,
        q: Array,
        k: Array,
        v: Array,
        allowed: Array | None,
        drop: Array | None,
        keep_probabilities: bool,
    ) -> tuple[Array, Array | None] | None:
        """The attention core ``O = (masked_softmax(Q K^T) * drop) V`` of
        ``q (b, heads, Tq, d)``, ``k (b, heads, Tv, d)``, ``v (b, heads, Tv, dv)`` (any
        layout), ``allowed`` the bool ``(b | 1, 1, Tq, Tv)`` (None: all) and ``drop`` the
        dropout multipliers ``(b, heads, Tq, Tv)`` (None: no dropout), as ``(o, p)``: ``o``
        C-contiguous ``(b, Tq, heads, dv)`` and ``p`` the probabilities before dropout when
        ``keep_probabilities``, else None; or None (declined: the caller runs ``matmul`` and
        :meth:`attention_softmax`)."""
        return None

    def encoder_block(
        self, x: Array, describe: Callable[[], tuple[Array | None, EncoderBlock]]
    ) -> Array | None:
        """The inference pass of a Transformer encoder block (see
        :class:`nnx.layers.TransformerEncoder` for the formulas) on ``x (batch, steps,
        features)`` in one fused call; or None (declined: the caller runs the block's layers).
        ``describe()`` gives the bool ``allowed (batch | 1, 1, steps, steps)`` (None: all pairs)
        and the :class:`EncoderBlock`; a backend calls it only once ``x`` qualifies (it
        concatenates the projection kernels)."""
        return None

    def attention_softmax(self, scores: Array, allowed: Array | None) -> Array | None:
        """:func:`nnx.functional.sequence.masked_softmax` of attention scores ``(b, heads, Tq,
        Tv)`` with the bool ``allowed`` broadcast to them (None: all), or None. A kernel may
        write the result into ``scores`` (the caller's own, fresh array)."""
        return None

    def attention_softmax_backward(
        self, dp: Array, p: Array, allowed: Array | None
    ) -> Array | None:
        """:func:`nnx.functional.sequence.masked_softmax_backward`, or None. A kernel may
        write the result into ``dp`` (the caller's own, fresh array)."""
        return None

    def layer_norm(
        self, x: Array, gamma: Array | None, beta: Array | None, epsilon: float
    ) -> tuple[Array, Array, Array] | None:
        """``(y, mean, inv)`` of the layer normalization of ``x`` over its last axis:
        ``y = gamma (x - mean) inv + beta`` with ``inv = 1 / sqrt(var + epsilon)`` per row
        (``mean``, ``inv`` of shape ``x.shape[:-1] + (1,)``; ``gamma`` / ``beta`` None: 1 / 0),
        or None."""
        return None

    def layer_norm_backward(
        self, dy: Array, x: Array, mean: Array, inv: Array, gamma: Array | None
    ) -> tuple[Array, Array, Array] | None:
        """``(dx, dgamma, dbeta)`` of :meth:`layer_norm` (``xhat = (x - mean) inv``,
        ``g = dy gamma``, ``dx = inv (g - mean(g) - xhat mean(g xhat))``, ``dgamma = sum dy
        xhat``, ``dbeta = sum dy`` over all but the last axis), or None."""
        return None

    def sgd_step(
        self,
        w: Array,
        g: Array,
        velocity: Array | None,
        c: SGDCoefficients,
        nesterov: bool,
        pre: Prelude,
    ) -> bool:
        """SGD (momentum, Nesterov: ``velocity`` given) with ``pre`` folded in, in place over
        flat buffers; False, doing nothing, where this backend has no such kernel."""
        return False

    def adam_step(
        self,
        w: Array,
        g: Array,
        m: Array,
        v: Array,
        v_max: Array | None,
        c: AdamCoefficients,
        pre: Prelude,
    ) -> bool:
        """Adam / AdamW (AMSGrad: ``v_max`` given) with ``pre`` folded in, or False."""
        return False

    def nadam_step(
        self, w: Array, g: Array, m: Array, v: Array, c: NadamCoefficients, pre: Prelude
    ) -> bool:
        """Nadam with ``pre`` folded in, or False."""
        return False

    def rmsprop_step(
        self,
        w: Array,
        g: Array,
        v: Array,
        m: Array | None,
        mg: Array | None,
        c: RMSpropCoefficients,
        pre: Prelude,
    ) -> bool:
        """RMSprop (momentum: ``m`` given, centered: ``mg`` given) with ``pre``, or False."""
        return False

    def adagrad_step(
        self, w: Array, g: Array, acc: Array, c: AdagradCoefficients, pre: Prelude
    ) -> bool:
        """Adagrad with ``pre`` folded in, or False."""
        return False

    def adadelta_step(
        self, w: Array, g: Array, eg: Array, edx: Array, c: AdadeltaCoefficients, pre: Prelude
    ) -> bool:
        """Adadelta with ``pre`` folded in, or False."""
        return False

    # --- whole steps ----------------------------------------------------------------------------
    def dense_stack(
        self, value: Array, grad: Array, layers: Sequence[DenseStackLayer], loss: str
    ) -> Callable[[Array, Array], tuple[Array, Array, Array] | None] | None:
        """A compiled forward + backward of a stack of ``Dense`` layers and its loss, bound to
        the flat buffers ``value`` and ``grad`` (:class:`~nnx.layers.parameter.FlatParameters`):
        ``step(x, y) -> (loss, logits, prediction)`` writes every gradient into ``grad``, or
        returns None for inputs it does not take. ``loss`` is ``"sigmoid_crossentropy"``,
        ``"softmax_crossentropy"`` (fused with the last activation) or
        ``"mean_squared_error"``. None (the default): no compiled step on this backend."""
        return None
