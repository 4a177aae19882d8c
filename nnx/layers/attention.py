"""``MultiHeadAttention``: scaled dot-product attention over several heads, Keras's layout."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import nnx.initializers as initializers
import nnx.regularizers as regularizers
from nnx.backends import backend_of
from nnx.backends.base import Array, Generator, array_namespace
from nnx.functional.sequence import allowed_pairs, masked_softmax, masked_softmax_backward
from nnx.layers.base import (
    Layer,
    Shape,
    backprop_needed,
    no_backprop,
    register_layer,
    serialize_or_none,
)
from nnx.layers.parameter import Parameter
from nnx.layers.symbolic import call_symbolic, check_graph_training, is_symbolic
from nnx.validation import check_bool, check_float, check_int

__all__ = ["MultiHeadAttention"]


def _is_shape_list(shape: Any) -> bool:
    """Whether ``shape`` is a list of sample shapes (a graph node's), not one shape."""
    return (
        isinstance(shape, (list, tuple))
        and len(shape) > 0
        and all(isinstance(s, (list, tuple)) for s in shape)
    )


#: ``backprop(dy) -> (d query, d value, d key)``; ``d key`` is None when no key was given
AttentionBackprop = Callable[[Array], tuple[Array, Array, Array | None]]
#: ``backprop(dy, d_p=None) -> [d source, ...]`` of :meth:`MultiHeadAttention._attend`
AttendBackprop = Callable[..., list[Array]]


@register_layer
class MultiHeadAttention(Layer):
    """Multi-head attention (Vaswani et al.), self- or cross-attention.

    Per head ``h``, with ``Q = query Wq_h + bq_h``, ``K = key Wk_h + bk_h``,
    ``V = value Wv_h + bv_h``::

        S = Q K^T / sqrt(key_dim)        P = softmax(S) over allowed keys (0 elsewhere)
        O_h = dropout(P) V               y = sum_h O_h Wo_h + bo

    Backward: ``dP = dO V^T``, ``dV = P^T dO``, ``dS = P (dP - sum(dP P))``,
    ``dQ = dS K / sqrt(key_dim)``, ``dK = dS^T Q / sqrt(key_dim)``, then each projection's
    ``dW = x^T dZ``, ``db = sum dZ``, ``dx = dZ W^T``.

    A key ``j`` is allowed for query ``i`` where ``attention_mask[b, i, j]`` is True, ``j <= i``
    with ``use_causal_mask``, and both steps are valid under the query and value masks (the
    sequence mask in a ``Sequential``). A query with no allowed key averages all the values,
    as Keras's default (``dropout=0``) attention: a masked score counts as the most negative
    float, so such a row's softmax is uniform (and its gradient zero).

    Args:
        num_heads: number of heads.
        key_dim: size of each head's queries and keys.
        value_dim: size of each head's values (default ``key_dim``).
        dropout: dropout rate on the attention probabilities in training.
        use_bias: whether the projections have biases.
        output_shape: size of the output features (default: the query's).
        kernel_initializer, bias_initializer, kernel_regularizer, bias_regularizer,
            kernel_constraint, bias_constraint: of the four projections.
        seed: seed of the dropout masks.

    Shape:
        ``query (batch, Tq, Eq)``, ``value (batch, Tv, Ev)``, ``key (batch, Tv, Ek)``; output
        ``(batch, Tq, output_shape or Eq)``. Weights as Keras: ``query_kernel (Eq, heads,
        key_dim)``, ``query_bias (heads, key_dim)``, ``key_*``, ``value_*`` alike,
        ``output_kernel (heads, value_dim, E)``, ``output_bias (E,)``. In a ``Sequential`` the
        layer is self-attention: ``query = value = key = x``.

    In a functional graph it is called as in Keras on symbolic tensors,
    ``MultiHeadAttention(2, 8)(query, value, key=None, attention_mask=None,
    use_causal_mask=False, return_attention_scores=False)``: the node reads
    ``[query, value(, key)]``, records the two options, and takes ``attention_mask`` as a
    tensor input (an ``nnx.Input((Tq, Tv))`` or a tensor computed in the graph; nonzero means
    allowed; its gradient is zero). The inputs' timestep masks (``Embedding(mask_zero=True)``)
    act as query and value masks, as in Keras. ``mha(x, x)`` is self-attention: ``x`` gets
    the sum of both gradients.

    ``return_attention_scores=True`` returns ``(output, scores)``, the scores being the
    attention probabilities ``P`` ``(batch, heads, Tq, Tv)`` before dropout (two tensors in a
    graph); the backprop then takes ``(dy, d scores)``, either may be None, and
    ``dS = P (dP - sum(dP P))`` gets ``dP = dO V^T + d scores``.

    >>> from nnx.backends import get_backend
    >>> x = get_backend("numpy").rng(0).normal((2, 5, 8))
    >>> mha = MultiHeadAttention(num_heads=2, key_dim=4)
    >>> mha(x, x, use_causal_mask=True).shape
    (2, 5, 8)
    """

    #: in a functional graph a node reads ``[query, value]`` or ``[query, value, key]``
    multiple_inputs = True

    def __init__(
        self,
        num_heads: int,
        key_dim: int,
        value_dim: int | None = None,
        dropout: float = 0.0,
        use_bias: bool = True,
        output_shape: int | None = None,
        kernel_initializer: Any = "glorot_uniform",
        bias_initializer: Any = "zeros",
        kernel_regularizer: Any = None,
        bias_regularizer: Any = None,
        activity_regularizer: Any = None,
        kernel_constraint: Any = None,
        bias_constraint: Any = None,
        seed: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        who = "MultiHeadAttention"
        self.num_heads = check_int(num_heads, "num_heads", who=who, minimum=1)
        self.key_dim = check_int(key_dim, "key_dim", who=who, minimum=1)
        self.value_dim = check_int(
            key_dim if value_dim is None else value_dim, "value_dim", who=who, minimum=1
        )
        self.dropout = check_float(
            dropout, "dropout", who=who, minimum=0.0, maximum=1.0, maximum_open=True
        )
        self.use_bias = bool(use_bias)
        self.output_size = (
            None if output_shape is None else check_int(output_shape, "output_shape", who=who)
        )
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.kernel_constraint = self.check_constraint(kernel_constraint, "kernel_constraint")
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.bias_constraint = self.check_constraint(bias_constraint, "bias_constraint")
        self.seed = seed
        self.rng: Generator | None = None
        self.source_shapes: tuple[Shape | None, Shape | None] = (None, None)
        #: ``[query, value(, key)]`` sample shapes when built as a graph node, else None
        self.input_shapes: list[Shape] | None = None
        self.projections: dict[str, tuple[Parameter, Parameter | None]] = {}

    # --- building -------------------------------------------------------------------------------
    def build(  # type: ignore[override]
        self,
        input_shape: Any,
        backend: Any = None,
        rng: Generator | None = None,
        dtype: str = "float32",
        value_shape: Any = None,
        key_shape: Any = None,
    ) -> None:
        """Create the weights for queries of ``input_shape`` ``(Tq, Eq)`` and values/keys of
        ``value_shape`` / ``key_shape`` (default: the query's: self-attention); a graph node
        gives ``input_shape`` as the list ``[query, value(, key)]``."""
        if _is_shape_list(input_shape):
            shapes = self._node_shapes(input_shape)
            self.input_shapes = shapes
            input_shape, value_shape = shapes[0], shapes[1]
            key_shape = shapes[2] if len(shapes) == 3 else None
        self.source_shapes = (
            None if value_shape is None else tuple(value_shape),
            None if key_shape is None else tuple(key_shape),
        )
        super().build(input_shape, backend, rng, dtype)

    def build_parameters(self, input_shape: Shape, rng: Generator) -> None:
        value_shape, key_shape = self.source_shapes
        value_shape = value_shape or input_shape
        key_shape = key_shape or value_shape
        for what, shape in (("query", input_shape), ("value", value_shape), ("key", key_shape)):
            if len(shape) != 2 or shape[-1] is None:
                raise ValueError(
                    f"MultiHeadAttention {self.name!r} expects {what} of shape (batch, steps, "
                    f"features), received {what} shape (batch, {', '.join(map(str, shape))})."
                )
        assert self.backend is not None
        self.rng = self.backend.rng(self.seed) if self.seed is not None else rng.spawn()
        heads, out = self.num_heads, self.output_size or input_shape[-1]
        dims = {"query": self.key_dim, "key": self.key_dim, "value": self.value_dim}
        features = {"query": input_shape[-1], "key": key_shape[-1], "value": value_shape[-1]}
        self.projections = {}
        for what in ("query", "key", "value"):
            self.projections[what] = self._projection(
                what, (features[what], heads, dims[what]), (heads, dims[what]), rng
            )
        self.projections["output"] = self._projection(
            "output", (heads, self.value_dim, out), (out,), rng
        )

    def _projection(
        self, what: str, kernel: tuple[Any, ...], bias: tuple[Any, ...], rng: Generator
    ) -> tuple[Parameter, Parameter | None]:
        w = self.add_weight(
            f"{what}_kernel",
            kernel,
            self.kernel_initializer,
            rng,
            self.kernel_regularizer,
            constraint=self.kernel_constraint,
        )
        b = None
        if self.use_bias:
            b = self.add_weight(
                f"{what}_bias",
                bias,
                self.bias_initializer,
                rng,
                self.bias_regularizer,
                constraint=self.bias_constraint,
            )
        return w, b

    def compute_output_shape(self, input_shape: Any) -> Shape:
        """``(Tq, output_shape or Eq)``, for the query's shape or ``[query, value(, key)]``."""
        if _is_shape_list(input_shape):
            input_shape = self._node_shapes(input_shape)[0]
        return (input_shape[0], self.output_size or input_shape[-1])

    def _node_shapes(self, shapes: Any) -> list[Shape]:
        """Check the ``[query, value(, key)]`` sample shapes of a graph node."""
        return query_value_key_shapes(shapes, f"MultiHeadAttention {self.name!r}")

    def compute_mask(self, x: Any, mask: Any) -> Array | None:
        """The query's mask: every query step keeps its validity (for a graph node's list
        of masks, the first)."""
        return mask[0] if isinstance(mask, (list, tuple)) else mask

    # --- running -------------------------------------------------------------------------------
    def __call__(  # type: ignore[override]
        self,
        query: Any,
        value: Any = None,
        key: Any = None,
        attention_mask: Any = None,
        use_causal_mask: bool = False,
        return_attention_scores: bool = False,
        query_mask: Any = None,
        value_mask: Any = None,
        key_mask: Any = None,
        training: bool | None = None,
    ) -> Any:
        """Inference: ``attention(query, value, key)`` (Keras's call signature), the pair
        ``(output, scores)`` with ``return_attention_scores``; on symbolic tensors it records
        a graph node (see the class). A list ``[query, value(, key)]`` as the only argument is
        accepted too, as for the other list-input layers. ``query_mask``, ``value_mask`` and
        ``key_mask`` (``(batch, steps)``, True = valid) are Keras's padding masks: given
        explicitly they replace the masks that came with those inputs in a graph.
        ``training=True`` on data applies the attention dropout; in a graph ``training`` must
        be None or a traced call's own."""
        if isinstance(query, (list, tuple)) and value is None and key is None:
            if len(query) not in (2, 3):
                raise ValueError(
                    f"MultiHeadAttention {self.name!r} takes 2 or 3 inputs (query, value[, key]), "
                    f"received a list of {len(query)}."
                )
            query, value, key = query[0], query[1], (query[2] if len(query) == 3 else None)
        who = f"MultiHeadAttention {self.name!r}"
        scores = check_bool(return_attention_scores, "return_attention_scores", who=who)
        masks = {"query_mask": query_mask, "value_mask": value_mask, "key_mask": key_mask}
        given = {k: m for k, m in masks.items() if m is not None}
        if any(is_symbolic(a) for a in (query, value, key, attention_mask, *given.values())):
            check_graph_training(self, training)
            return self._call_symbolic(
                query, value, key, attention_mask, use_causal_mask, scores, given
            )
        if value is None:
            raise TypeError(
                f"MultiHeadAttention {self.name!r} takes query and value, received only a query."
            )
        if not self.built:
            self.build(
                (None, query.shape[-1]),
                backend_of(query),
                value_shape=(None, value.shape[-1]),
                key_shape=None if key is None else (None, key.shape[-1]),
            )
        with no_backprop():  # as every layer's call: nothing kept for a backward
            return self.forward_attention(
                query,
                value,
                key,
                attention_mask=attention_mask,
                use_causal_mask=use_causal_mask,
                query_mask=query_mask,
                value_mask=_both(value_mask, key_mask),
                training=bool(training),
                return_attention_scores=scores,
            )[0]

    def _call_symbolic(
        self,
        query: Any,
        value: Any,
        key: Any,
        attention_mask: Any,
        use_causal_mask: bool,
        return_attention_scores: bool,
        padding_masks: dict[str, Any] | None = None,
    ) -> Any:
        """Record the graph node ``[query, value(, key)]`` with its options and mask inputs."""
        who = f"MultiHeadAttention {self.name!r}"
        if value is None:
            raise TypeError(
                f"{who} takes 2 or 3 inputs (query, value[, key]), received 1: give the value "
                "too, e.g. mha(x, x) for self-attention."
            )
        causal = check_bool(use_causal_mask, "use_causal_mask", who=who)
        tensors = [query, value] + ([] if key is None else [key])
        options = {"use_causal_mask": True} if causal else {}
        if return_attention_scores:
            options["return_attention_scores"] = True
        keywords = {} if attention_mask is None else {"attention_mask": attention_mask}
        keywords.update(padding_masks or {})
        return call_symbolic(self, tensors, options, keywords or None)

    def compute_call_output_shape(
        self, input_shape: Any, options: dict[str, Any], keywords: dict[str, Any]
    ) -> Any:
        """A graph call's output shape, ``[output, scores (heads, Tq, Tv)]`` with
        ``return_attention_scores``.

        Raises:
            ValueError: an ``attention_mask`` tensor not of sample shape ``(Tq, Tv)``.
        """
        shapes = self._node_shapes(input_shape)
        tq, tv = shapes[0][0], shapes[1][0]
        if "attention_mask" in keywords:
            mask = tuple(keywords["attention_mask"])
            if len(mask) != 2 or not all(
                a is None or b is None or a in (1, b) for a, b in zip(mask, (tq, tv), strict=True)
            ):
                raise ValueError(
                    f"MultiHeadAttention {self.name!r}: attention_mask must have shape "
                    f"(batch, Tq, Tv) = (None, {tq}, {tv}), received "
                    f"(None, {', '.join(map(str, mask))})."
                )
        y = self.compute_output_shape(shapes)
        if options.get("return_attention_scores"):
            return [y, (self.num_heads, tq, tv)]
        return y

    def forward(
        self,
        x: Any,
        *,
        training: bool = False,
        use_causal_mask: bool = False,
        return_attention_scores: bool = False,
        attention_mask: Array | None = None,
    ) -> tuple[Any, Any]:
        """Self-attention of one array ``x`` (as in a ``Sequential``), or attention of the list
        ``[query, value(, key)]`` (a graph node), whose backprop returns one gradient each
        (and a zero gradient for ``attention_mask`` when one is given)."""
        return self.forward_masked(
            x,
            None,
            training=training,
            use_causal_mask=use_causal_mask,
            return_attention_scores=return_attention_scores,
            attention_mask=attention_mask,
        )

    def forward_masked(
        self,
        x: Any,
        mask: Any,
        *,
        training: bool = False,
        causal: bool = False,
        use_causal_mask: bool = False,
        return_attention_scores: bool = False,
        attention_mask: Array | None = None,
    ) -> tuple[Any, Any]:
        """Self-attention of ``x`` whose valid steps are ``mask`` (``dx`` sums the three), or
        of the list ``[query, value(, key)]`` with the list of their masks (a graph node)."""
        causal = causal or use_causal_mask
        if not isinstance(x, (list, tuple)):  # q, k and v in one projection matmul
            self._check_ranks(x, x, None)
            allowed = self.self_attention_allowed(x, mask, causal, attention_mask)
            y, p, attend_back = self._attend(
                [x], [("query", "key", "value")], allowed, training, return_attention_scores
            )

            def backprop_self(dout: Any) -> Any:
                dy, dp = dout if return_attention_scores else (dout, None)
                dx = attend_back(dy, dp)[0]
                return dx if attention_mask is None else [dx, _zeros(attention_mask)]

            return ((y, p) if return_attention_scores else y), backprop_self
        if len(x) not in (2, 3):
            raise ValueError(
                f"MultiHeadAttention {self.name!r} takes 2 or 3 inputs (query, value[, key]), "
                f"received {len(x)}."
            )
        masks = list(mask) if isinstance(mask, (list, tuple)) else [None] * len(x)
        key = x[2] if len(x) == 3 else None
        value_mask = _both(masks[1], masks[2] if len(x) == 3 else None)
        y, backprop = self.forward_attention(
            x[0],
            x[1],
            key,
            attention_mask=attention_mask,
            use_causal_mask=causal,
            query_mask=masks[0],
            value_mask=value_mask,
            return_attention_scores=return_attention_scores,
            training=training,
        )

        def backprop_node(dy: Any) -> list[Any]:
            dq, dv, dk = backprop(dy)
            grads = [dq, dv] if dk is None else [dq, dv, dk]
            return grads if attention_mask is None else [*grads, _zeros(attention_mask)]

        return y, backprop_node

    def forward_attention(
        self,
        query: Array,
        value: Array,
        key: Array | None = None,
        *,
        attention_mask: Array | None = None,
        use_causal_mask: bool = False,
        query_mask: Array | None = None,
        value_mask: Array | None = None,
        training: bool = False,
        return_attention_scores: bool = False,
    ) -> tuple[Any, AttentionBackprop]:
        """``(y, backprop)`` with ``backprop(dy) -> (d query, d value, d key or None)``;
        with ``return_attention_scores`` the output is ``(y, scores)`` and ``dy`` the pair
        ``(dy, d scores)`` (either may be None).

        Args:
            query, value, key: ``(batch, T, E)`` arrays (``key`` defaults to ``value``).
            attention_mask: ``(batch, Tq, Tv)``, True (nonzero) where query ``i`` may see key
                ``j``.
            use_causal_mask: also forbid keys after the query (``j > i``).
            query_mask, value_mask: bool ``(batch, T)`` valid steps (padding masks).
            training: apply attention dropout.
        """
        self._check_ranks(query, value, key)
        source = value if key is None else key
        allowed = self._allowed(
            query, source, attention_mask, use_causal_mask, query_mask, value_mask
        )
        if key is None:  # keys and values come from one array: one projection matmul
            groups: list[tuple[str, ...]] = [("query",), ("key", "value")]
            y, p, backprop = self._attend(
                [query, value], groups, allowed, training, return_attention_scores
            )
        else:
            groups = [("query",), ("value",), ("key",)]
            y, p, backprop = self._attend(
                [query, value, key], groups, allowed, training, return_attention_scores
            )

        def backprop_inputs(dout: Any) -> tuple[Array, Array, Array | None]:
            dy, dp = dout if return_attention_scores else (dout, None)
            grads = backprop(dy, dp)
            return grads[0], grads[1], (grads[2] if key is not None else None)

        return ((y, p) if return_attention_scores else y), backprop_inputs

    def self_attention_allowed(
        self, x: Array, mask: Array | None, causal: bool, attention_mask: Array | None = None
    ) -> Array | None:
        """The bool ``(batch | 1, 1, T, T)`` of the (query, key) pairs self-attention on ``x``
        allows, its valid steps ``mask (batch, T)`` (None: all); None for all pairs."""
        return self._allowed(x, x, attention_mask, causal, mask, mask)

    def _check_ranks(self, query: Array, value: Array, key: Array | None) -> None:
        self.check_input(query)
        for what, a in (("query", query), ("value", value), ("key", key)):
            if a is not None and a.ndim != 3:
                raise ValueError(
                    f"MultiHeadAttention {self.name!r} expects {what} of shape (batch, steps, "
                    f"features), received shape {tuple(a.shape)}."
                )

    def _attend(
        self,
        sources: list[Array],
        groups: list[tuple[str, ...]],
        allowed: Array | None,
        training: bool,
        keep_scores: bool = True,
    ) -> tuple[Array, Array, AttendBackprop]:
        """``(y, p, backprop)``: attention whose projections ``groups[i]`` (of query/key/value)
        all read ``sources[i]``, its probabilities ``p (b, heads, Tq, Tv)`` before dropout
        (None where the backend's fused kernel ran with neither ``keep_scores`` nor a
        backward to come: inference never holds the whole score tensor), and
        ``backprop(dy, d_p=None)`` returning one gradient per source (``dy`` None: zero; ``d_p``
        adds to ``dP = dO V^T``, for callers that return the scores).

        The heads are a batch axis of each matmul; ``1 / sqrt(key_dim)`` is folded into the
        query projection's weights, so the scores need no scaling pass.
        """
        backend = self.backend
        assert backend is not None
        xp = backend.xp
        heads: dict[str, Array] = {}
        backs = []
        for x, names in zip(sources, groups, strict=True):
            parts, back = self._project(names, x)
            heads.update(zip(names, parts, strict=True))
            backs.append(back)
        q, k, v = heads["query"], heads["key"], heads["value"]  # (b, heads, T, dim)
        n, num_heads, tq = q.shape[0], q.shape[1], q.shape[2]
        drop = None
        if training and self.dropout > 0.0:
            assert self.rng is not None
            keep = 1.0 - self.dropout
            shape = (n, num_heads, tq, k.shape[2])
            drop = self.rng.bernoulli(shape, keep, dtype=self.dtype) / keep
        fused = backend.attention(q, k, v, allowed, drop, keep_scores or backprop_needed())
        if fused is not None:  # one kernel: scores, softmax and P V, by (batch, head) pair
            o, p = fused
            o2 = xp.reshape(o, (n * tq, num_heads * v.shape[3]))
        else:
            scores = backend.matmul(q, xp.permute_dims(k, (0, 1, 3, 2)))
            p = backend.attention_softmax(scores, allowed)
            if p is None:  # the backend has no fused kernel
                p = masked_softmax(scores, allowed)
            o2 = _products_side_by_side(backend, [(p if drop is None else p * drop, v)])
        y, back_o = self._output(o2, n)

        def backprop(dy: Array | None, d_p: Array | None = None) -> list[Array]:
            do = back_o(xp.zeros_like(y) if dy is None else dy)
            dp = backend.matmul(do, xp.permute_dims(v, (0, 1, 3, 2)))
            if drop is not None:
                dp *= drop
            if d_p is not None:
                dp += d_p
            ds = backend.attention_softmax_backward(dp, p, allowed)
            if ds is None:
                ds = masked_softmax_backward(dp, p, allowed)
            pd = p if drop is None else p * drop
            products = {
                "query": (ds, k),
                "key": (xp.permute_dims(ds, (0, 1, 3, 2)), q),
                "value": (xp.permute_dims(pd, (0, 1, 3, 2)), do),
            }
            return [
                back(_products_side_by_side(backend, [products[name] for name in names]))
                for back, names in zip(backs, groups, strict=True)
            ]

        return y, p, backprop

    def _project(
        self, names: tuple[str, ...], x: Array
    ) -> tuple[list[Array], Callable[[Array], Array]]:
        """The projections ``names`` of one input ``x (b, T, E)``, each ``(b, heads, T, dim)``,
        as one matmul with the kernels side by side; ``backprop(dz) -> dx``, with the
        gradients side by side too (``dz (b T, sum heads dim)``), sets the weights'
        gradients. The query's kernel and bias enter scaled by ``1 / sqrt(key_dim)``,
        so its gradients are scaled back: ``dW = s x^T dz'`` for ``z' = x (s W) + s b``."""
        backend = self.backend
        assert backend is not None
        xp = backend.xp
        n, steps, features = x.shape
        scales = [self.query_scale if name == "query" else 1.0 for name in names]
        dims = [tuple(self.projections[name][0].shape[1:]) for name in names]
        widths = [heads * dim for heads, dim in dims]
        w_all, b_all = self.joint_projection(names)
        x2 = xp.reshape(x, (n * steps, features))
        z = backend.matmul(x2, w_all)
        if b_all is not None:
            z = backend.add_bias(z, b_all)
        z3 = xp.reshape(z, (n, steps, sum(widths)))
        parts, start = [], 0
        for (heads, dim), width in zip(dims, widths, strict=True):
            part = xp.reshape(z3[:, :, start : start + width], (n, steps, heads, dim))
            parts.append(xp.permute_dims(part, (0, 2, 1, 3)))
            start += width

        def backprop(dz: Array) -> Array:
            dw = backend.matmul(x2.T, dz)
            db = backend.sum_rows(dz) if b_all is not None else None
            start = 0
            for name, scale, width in zip(names, scales, widths, strict=True):
                w, b = self.projections[name]
                w.grad = xp.reshape(_scaled(dw[:, start : start + width], scale), w.shape)
                if b is not None and db is not None:
                    b.grad = xp.reshape(_scaled(db[start : start + width], scale), b.shape)
                start += width
            return xp.reshape(backend.matmul(dz, w_all.T), (n, steps, features))

        return parts, backprop

    def joint_projection(self, names: tuple[str, ...]) -> tuple[Array, Array | None]:
        """``(kernel, bias)`` of the projections ``names`` (of query/key/value) side by side:
        ``(features, sum heads dim)`` and its bias (None without biases), the query's scaled
        by :attr:`query_scale`."""
        xp = self.backend.xp  # type: ignore[union-attr]
        kernels, biases = [], []
        for name in names:
            w, b = self.projections[name]
            scale = self.query_scale if name == "query" else 1.0
            width = w.shape[1] * w.shape[2]
            kernels.append(_scaled(xp.reshape(w.value, (w.shape[0], width)), scale))
            if b is not None:
                biases.append(_scaled(xp.reshape(b.value, (width,)), scale))
        w_all = kernels[0] if len(kernels) == 1 else xp.concat(kernels, axis=1)
        b_all = None if not biases else biases[0] if len(biases) == 1 else xp.concat(biases)
        return w_all, b_all

    @property
    def query_scale(self) -> float:
        """``1 / sqrt(key_dim)``, the scale of the attention scores."""
        return 1.0 / math.sqrt(self.key_dim)

    def _output(self, o2: Array, n: int) -> tuple[Array, Callable[[Array], Array]]:
        """The output projection of the heads' outputs side by side, ``o2 (b Tq, heads dv)
        -> (b, Tq, E)``, and its backprop (to ``(b, heads, Tq, dv)``)."""
        backend = self.backend
        assert backend is not None
        xp = backend.xp
        w, b = self.projections["output"]
        heads, dim, out = w.shape
        steps = o2.shape[0] // n
        w2 = xp.reshape(w.value, (heads * dim, out))
        y = backend.matmul(o2, w2)
        if b is not None:
            y = backend.add_bias(y, b.value)

        def backprop(dy: Array) -> Array:
            dy2 = xp.reshape(dy, (n * steps, out))
            w.grad = xp.reshape(backend.matmul(o2.T, dy2), w.shape)
            if b is not None:
                b.grad = backend.sum_rows(dy2)
            do = xp.reshape(backend.matmul(dy2, w2.T), (n, steps, heads, dim))
            return xp.permute_dims(do, (0, 2, 1, 3))

        return xp.reshape(y, (n, steps, out)), backprop

    def _allowed(
        self,
        query: Array,
        source: Array,
        attention_mask: Array | None,
        causal: bool,
        query_mask: Array | None,
        value_mask: Array | None,
    ) -> Array | None:
        """The bool ``(batch | 1, 1, Tq, Tv)`` of allowed (query, key) pairs, None for all."""
        n, tq, tv = query.shape[0], query.shape[1], source.shape[1]
        if attention_mask is not None and (
            attention_mask.ndim != 3
            or any(a not in (1, b) for a, b in zip(attention_mask.shape, (n, tq, tv), strict=True))
        ):
            raise ValueError(
                f"MultiHeadAttention {self.name!r}: attention_mask must have shape "
                f"{(n, tq, tv)} (or 1 on an axis, broadcast), received "
                f"{tuple(attention_mask.shape)}."
            )
        xp = self.backend.xp  # type: ignore[union-attr]
        if attention_mask is not None and attention_mask.dtype != xp.bool:
            attention_mask = attention_mask != 0  # a graph input or computed tensor: nonzero
        return allowed_pairs(
            xp, (n, tq, tv), attention_mask, causal, query_mask, value_mask, query.device
        )

    def get_config(self) -> dict[str, Any]:
        base = super().get_config()
        if self.input_shapes is not None:  # a graph node: the graph gives the shapes again
            base.pop("input_shape", None)
        return {
            **base,
            "num_heads": self.num_heads,
            "key_dim": self.key_dim,
            "value_dim": self.value_dim,
            "dropout": self.dropout,
            "use_bias": self.use_bias,
            "output_shape": self.output_size,
            "kernel_initializer": serialize_or_none(self.kernel_initializer),
            "bias_initializer": serialize_or_none(self.bias_initializer),
            "kernel_regularizer": serialize_or_none(self.kernel_regularizer),
            "kernel_constraint": serialize_or_none(self.kernel_constraint),
            "bias_regularizer": serialize_or_none(self.bias_regularizer),
            "bias_constraint": serialize_or_none(self.bias_constraint),
            "seed": self.seed,
        }


def _scaled(a: Array, scale: float) -> Array:
    return a if scale == 1.0 else a * scale


def _products_side_by_side(backend: Any, pairs: list[tuple[Array, Array]]) -> Array:
    """``[a_i @ b_i, ...]``, each ``(b, heads, T, d_i)``, as one ``(b T, sum_i heads d_i)``
    array: the layout of a joint projection. Where the backend's ``matmul`` writes into
    ``out=`` (NumPy), each product lands in place, in strided views of the result; else the
    products are copied side by side."""
    xp = backend.xp
    a0, b0 = pairs[0]
    n, heads, steps, dim = a0.shape[0], a0.shape[1], a0.shape[2], b0.shape[-1]
    if all(b.shape[-1] == dim for _, b in pairs):
        joint = xp.empty((n, steps, len(pairs), heads, dim), dtype=a0.dtype, device=a0.device)
        views = [xp.permute_dims(joint[:, :, i, ...], (0, 2, 1, 3)) for i in range(len(pairs))]
        products = [backend.matmul(a, b, out=v) for (a, b), v in zip(pairs, views, strict=True)]
        if all(p is v for p, v in zip(products, views, strict=True)):
            return xp.reshape(joint, (n * steps, -1))
    else:
        products = [backend.matmul(a, b) for a, b in pairs]
    cols = [xp.reshape(xp.permute_dims(p, (0, 2, 1, 3)), (n * steps, -1)) for p in products]
    return cols[0] if len(cols) == 1 else xp.concat(cols, axis=1)


def _zeros(mask: Array) -> Array:
    """The gradient of an ``attention_mask`` input: zero (it only selects pairs)."""
    return array_namespace(mask).zeros_like(mask)


def _both(a: Array | None, b: Array | None) -> Array | None:
    """The AND of two optional masks (a value's and a key's)."""
    if a is None or b is None:
        return a if b is None else b
    return array_namespace(a).logical_and(a, b)


def query_value_key_shapes(shapes: Any, who: str) -> list[Shape]:
    """``[query, value(, key)]`` sample shapes checked: 2 or 3 of them, each ``(steps,
    features)`` with known features, value and key of one length; errors name ``who``."""
    if len(shapes) not in (2, 3):
        raise ValueError(
            f"{who} takes a list of 2 or 3 inputs, namely [query, value] or [query, value, "
            f"key]; received {len(shapes)}."
        )
    out = [tuple(shape) for shape in shapes]
    for what, shape in zip(("query", "value", "key"), out, strict=False):
        if len(shape) != 2 or shape[-1] is None:
            raise ValueError(
                f"{who} expects {what} of shape (batch, steps, features), received "
                f"(None, {', '.join(map(str, shape))})."
            )
    if len(out) == 3 and None not in (out[1][0], out[2][0]) and out[1][0] != out[2][0]:
        raise ValueError(
            f"{who}: value and key must have the same number of steps, received "
            f"{out[1][0]} and {out[2][0]}."
        )
    return out  # type: ignore[return-value]
