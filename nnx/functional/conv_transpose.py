"""Shape rules of the transposed convolution (Keras 3's), on plain integers.

A convolution with kernel ``k``, dilation ``d`` (effective kernel ``K = d (k - 1) + 1``) and
stride ``s`` maps an axis of length ``L`` to ``(L - K) // s + 1`` positions. Its transpose maps
``n`` positions back onto the *full* axis of length ``(n - 1) s + K``: every input position
``p`` adds its kernel-weighted values at ``p s + i d`` (col2im of ``x W^T``). Keras then keeps a
window of that full axis: ``crop_before`` values dropped at the start, the output length
:func:`conv_transpose_output_length` kept; where the window reaches past the end (``"valid"``
with ``output_padding``, or strides larger than the kernel) the missing values are zeros.

Keras's rule (``compute_conv_transpose_output_shape``): ``"valid"``: ``(n - 1) s + K + op``
with ``op = max(K, s) - K`` by default; ``"same"``: ``n s`` by default, else
``(n - 1) s + K % 2 + op``. The window's start follows JAX's padding of the dilated input
(``left = min(ceil(total / 2), K - 1)``), which equals TensorFlow's, so the crop is
``K - 1 - left``.

>>> conv_transpose_output_length(7, 3, 2, "same"), conv_transpose_output_length(7, 3, 2, "valid")
(14, 15)
>>> conv_transpose_window(7, 3, 2, "same")
(0, 14, 15)
"""

from __future__ import annotations

__all__ = ["conv_transpose_output_length", "conv_transpose_window"]


def conv_transpose_output_length(
    n: int,
    kernel: int,
    stride: int,
    padding: str,
    output_padding: int | None = None,
    dilation: int = 1,
) -> int:
    """The output length of a transposed convolution over ``n`` positions (Keras 3's rule).

    >>> [conv_transpose_output_length(4, k, s, "valid") for k, s in ((3, 1), (2, 3))]
    [6, 12]
    >>> conv_transpose_output_length(5, 3, 2, "same", output_padding=0)
    9
    """
    k = dilation * (kernel - 1) + 1
    if padding == "valid":
        op = max(k, stride) - k if output_padding is None else output_padding
        return (n - 1) * stride + k + op
    if output_padding is None:
        return n * stride
    return (n - 1) * stride + k % 2 + output_padding


def conv_transpose_window(
    n: int,
    kernel: int,
    stride: int,
    padding: str,
    output_padding: int | None = None,
    dilation: int = 1,
) -> tuple[int, int, int]:
    """``(crop_before, out, buffer)``: the output is ``full[crop_before : crop_before + out]``
    of the full transposed axis, zero-extended to a ``buffer`` of length
    ``max((n - 1) s + K, crop_before + out)`` where the window reaches past its end.

    >>> conv_transpose_window(4, 4, 2, "same"), conv_transpose_window(3, 2, 3, "valid")
    ((1, 8, 10), (0, 9, 9))
    """
    k = dilation * (kernel - 1) + 1
    out = conv_transpose_output_length(n, kernel, stride, padding, output_padding, dilation)
    if padding == "valid":
        before = 0
    else:
        total = stride + k - 2 if output_padding is None else k + k % 2 - 2 + output_padding
        before = k - 1 - min(total // 2 + total % 2, k - 1)
    full = (n - 1) * stride + k
    return before, out, max(full, before + out)
