"""``Attention``: Keras's dot-product (Luong-style) attention layer, no projections.

The machinery here is shared with :class:`~nnx.layers.additive_attention.AdditiveAttention`,
which only changes the weights and the score function (:mod:`nnx.functional.attention_scores`
has the scores and their gradients).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from nnx.backends import backend_of
from nnx.backends.base import Array, Generator
from nnx.functional.attention_scores import (
    concat_scores,
    dot_scores,
    keras_softmax,
    keras_softmax_backward,
)
from nnx.layers.attention import query_value_key_shapes
from nnx.layers.base import Layer, Shape, no_backprop, register_layer
from nnx.layers.parameter import Parameter
from nnx.layers.symbolic import (
    as_symbolic,
    call_symbolic,
    check_graph_training,
    current_trace,
    is_symbolic,
)
from nnx.validation import check_bool, check_choice, check_float, check_int

__all__ = ["Attention", "ScoresBackward"]

#: ``backward(ds) -> (dq, dk)``, setting the score weights' gradients on the way
ScoresBackward = Callable[[Array], tuple[Array, Array]]
_MASK_NAMES = ("query_mask", "value_mask")


@register_layer
class Attention(Layer):
    """Dot-product attention (Luong-style), Keras's ``layers.Attention``.

    Called on ``[query, value]`` or ``[query, value, key]`` (``key`` defaults to ``value``)::

        s = c q k^T   (score_mode="dot";  c the learned scalar ``scale``, 1 without use_scale)
        s = w sum_d tanh(c (q_i + k_j))   (score_mode="concat", w ``concat_score_weight``)
        s' = where(allowed, s, s - 1e9)     p = softmax(s')     y = dropout(p) v

    and ``y`` is 0 at the steps the query mask marks invalid. A key is allowed where the value
    mask is True and, with ``use_causal_mask``, ``j <= i``. As in Keras a masked score is
    lowered by ``1e9``, not replaced: its weight is 0 in a row with an allowed key, and a row
    with none is the softmax of its lowered scores (finite; in float32 about uniform).

    Backward: ``dP = dy v^T (+ d scores)``, ``dv = P^T dy`` (P after dropout), ``ds = p (dp -
    sum(dp p))`` with ``dp`` the dropout-masked ``dP`` (the lowering is a constant shift), then
    the score function's gradients (:mod:`nnx.functional.attention_scores`).

    Args:
        use_scale: learn the scalar ``scale`` (initialised to 1).
        score_mode: ``"dot"`` or ``"concat"``.
        dropout: rate of dropout on the attention weights, in training.
        seed: seed of the dropout masks.

    Call arguments:
        inputs: ``[query (b, Tq, d), value (b, Tv, dv)]``, ``key (b, Tv, d)`` third if given.
        mask: ``[query_mask (b, Tq), value_mask (b, Tv)]`` (True: valid), either None.
        training: apply the dropout (data only: a graph runs in the mode fit/predict choose).
        return_attention_scores: also return the weights ``P (b, Tq, Tv)`` (after dropout).
        use_causal_mask: forbid keys after the query.

    Shape:
        Output ``(batch, Tq, dv)``; its mask is the query's. Weights: ``scale ()`` and, for
        ``"concat"``, ``concat_score_weight ()``.

    >>> from nnx.backends import get_backend
    >>> rng = get_backend("numpy").rng(0)
    >>> q, v = rng.normal((2, 3, 4)), rng.normal((2, 5, 4))
    >>> Attention()([q, v]).shape
    (2, 3, 4)
    """

    multiple_inputs = True

    def __init__(
        self,
        use_scale: bool = False,
        score_mode: str = "dot",
        dropout: float = 0.0,
        seed: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        who = type(self).__name__
        self.use_scale = check_bool(use_scale, "use_scale", who=who)
        self.score_mode = check_choice(score_mode, "score_mode", ("dot", "concat"), who=who)
        self.dropout = check_float(
            dropout, "dropout", who=who, minimum=0.0, maximum=1.0, maximum_open=True
        )
        self.seed = None if seed is None else check_int(seed, "seed", who=who, minimum=0)
        self.rng: Generator | None = None
        #: ``[query, value(, key)]`` sample shapes, once built
        self.input_shapes: list[Shape] | None = None
        self.scale: Parameter | None = None
        self.concat_score_weight: Parameter | None = None

    # --- shapes and building -------------------------------------------------------------------
    @property
    def who(self) -> str:
        """The layer as errors name it."""
        return f"{type(self).__name__} {self.name!r}"

    def _shapes(self, input_shape: Any) -> list[Shape]:
        """Check the ``[query, value(, key)]`` sample shapes: ``(steps, features)`` each, value
        and key of one length, query and key of one width."""
        if not isinstance(input_shape, (list, tuple)) or not all(
            isinstance(s, (list, tuple)) for s in input_shape
        ):
            raise ValueError(
                f"{self.who} must be called on a list of inputs, namely [query, value] or "
                f"[query, value, key]; received one input of shape {input_shape!r} (a "
                "Sequential feeds one tensor: use the functional API)."
            )
        shapes = query_value_key_shapes(input_shape, self.who)
        key = shapes[-1]
        if shapes[0][-1] != key[-1]:
            raise ValueError(
                f"{self.who}: the query's last dimension must equal the key's for "
                f"{self._score_name}, received query (None, {', '.join(map(str, shapes[0]))}) "
                f"and key (None, {', '.join(map(str, key))})."
            )
        return shapes  # type: ignore[return-value]

    @property
    def _score_name(self) -> str:
        return f"score_mode={self.score_mode!r}"

    def build(  # type: ignore[override]
        self,
        input_shape: Any,
        backend: Any = None,
        rng: Generator | None = None,
        dtype: str = "float32",
    ) -> None:
        """Create the weights for the list of sample shapes ``[query, value(, key)]``."""
        self.input_shapes = self._shapes(input_shape)
        super().build(self.input_shapes[0], backend, rng, dtype)

    def build_parameters(self, input_shape: Shape, rng: Generator) -> None:
        self._build_rng(rng)
        self.scale = self.add_weight("scale", (), "ones", rng) if self.use_scale else None
        self.concat_score_weight = None
        if self.score_mode == "concat":
            self.concat_score_weight = self.add_weight("concat_score_weight", (), "ones", rng)

    def _build_rng(self, rng: Generator) -> None:
        """The dropout masks' generator (as Keras, only with dropout)."""
        assert self.backend is not None
        self.rng = None
        if self.dropout > 0.0:
            self.rng = self.backend.rng(self.seed) if self.seed is not None else rng.spawn()

    def compute_output_shape(self, input_shape: Any) -> Shape:
        """``(Tq, dv)`` for ``[query, value(, key)]`` (or the query's shape once built)."""
        if input_shape and isinstance(input_shape[0], (list, tuple)):
            shapes = self._shapes(input_shape)
        elif self.input_shapes is not None:
            shapes = self.input_shapes
        else:
            raise ValueError(f"{self.who} needs the shapes [query, value(, key)].")
        return (shapes[0][0], shapes[1][-1])

    def compute_call_output_shape(
        self, input_shape: Any, options: dict[str, Any], keywords: dict[str, Any]
    ) -> Any:
        """A graph call's output shape: ``[output, scores (Tq, Tv)]`` with
        ``return_attention_scores``."""
        shapes = self._shapes(input_shape)
        y = self.compute_output_shape(shapes)
        if options.get("return_attention_scores"):
            return [y, (shapes[0][0], shapes[1][0])]
        return y

    def compute_mask(self, x: Any, mask: Any) -> Array | None:
        """The query's mask (Keras: ``mask[0]``); None without masks."""
        return mask[0] if isinstance(mask, (list, tuple)) and mask else None

    # --- calling -------------------------------------------------------------------------------
    def __call__(  # type: ignore[override]
        self,
        inputs: Any,
        mask: Any = None,
        training: bool | None = None,
        return_attention_scores: bool = False,
        use_causal_mask: bool = False,
    ) -> Any:
        """Keras's call: ``layer([query, value(, key)], mask=[query_mask, value_mask],
        training=None, return_attention_scores=False, use_causal_mask=False)``; on data it
        computes (``(output, scores)`` with ``return_attention_scores``), on symbolic tensors
        (or in a traced ``call``) it records a graph node whose masks are the explicit ones
        given here, else those that came with the inputs."""
        if not isinstance(inputs, (list, tuple)):
            raise ValueError(
                f"{self.who} must be called on a list of inputs, namely [query, value] or "
                f"[query, value, key]; received {type(inputs).__name__}."
            )
        xs = list(inputs)
        if len(xs) not in (2, 3):
            raise ValueError(
                f"{self.who} takes a list of 2 or 3 inputs, namely [query, value] or "
                f"[query, value, key]; received {len(xs)}."
            )
        masks = self._mask_list(mask)
        scores = check_bool(return_attention_scores, "return_attention_scores", who=self.who)
        causal = check_bool(use_causal_mask, "use_causal_mask", who=self.who)
        trace = current_trace()
        if trace is not None or is_symbolic(xs) or is_symbolic([m for m in masks if m is not None]):
            check_graph_training(self, training)

            def graph_tensor(t: Any) -> Any:
                return t if trace is None or as_symbolic(t) is not None else trace.constant(t)

            options = {"use_causal_mask": True} if causal else {}
            if scores:
                options["return_attention_scores"] = True
            keywords = {
                name: graph_tensor(m)
                for name, m in zip(_MASK_NAMES, masks, strict=False)
                if m is not None
            }
            return call_symbolic(self, [graph_tensor(t) for t in xs], options, keywords or None)
        if not self.built:
            self.build([tuple(a.shape[1:]) for a in xs], backend_of(xs[0]))
        with no_backprop():
            return self.forward_masked(
                xs,
                masks,
                training=bool(training),
                use_causal_mask=causal,
                return_attention_scores=scores,
            )[0]

    def _mask_list(self, mask: Any) -> list[Any]:
        """Keras's ``mask=[query_mask, value_mask(, key_mask)]`` (the key's is not read)."""
        if mask is None:
            return []
        if not isinstance(mask, (list, tuple)) or len(mask) not in (2, 3):
            raise ValueError(
                f"{self.who}: mask must be a list [query_mask, value_mask], received "
                f"{type(mask).__name__}{f' of {len(mask)}' if isinstance(mask, list) else ''}."
            )
        return list(mask[:2])

    def forward(
        self,
        x: Any,
        *,
        training: bool = False,
        use_causal_mask: bool = False,
        return_attention_scores: bool = False,
    ) -> tuple[Any, Any]:
        """Attention of ``[query, value(, key)]`` without masks (see :meth:`forward_masked`)."""
        return self.forward_masked(
            x,
            None,
            training=training,
            use_causal_mask=use_causal_mask,
            return_attention_scores=return_attention_scores,
        )

    def forward_masked(
        self,
        x: Any,
        mask: Any,
        *,
        training: bool = False,
        use_causal_mask: bool = False,
        return_attention_scores: bool = False,
    ) -> tuple[Any, Any]:
        """``(y, backprop)`` for ``x = [query, value(, key)]`` with ``mask`` the list of their
        ``(batch, steps)`` masks (or None). ``backprop(dy)`` returns ``[dq, dv(, dk)]``; with
        ``return_attention_scores`` the output is ``(y, scores)`` and ``dy`` the pair ``(dy,
        d scores)``, either may be None."""
        q, v, k = self._check(x)
        masks = list(mask) if isinstance(mask, (list, tuple)) else []
        q_mask = self._bool_mask(masks[0], q, "query_mask") if masks else None
        v_mask = self._bool_mask(masks[1], v, "value_mask") if len(masks) > 1 else None
        return self._attend(
            q, v, k, q_mask, v_mask, use_causal_mask, training, return_attention_scores
        )

    def _check(self, x: Any) -> tuple[Array, Array, Array | None]:
        if not isinstance(x, (list, tuple)):
            raise ValueError(
                f"{self.who} must be called on a list of inputs, namely [query, value] or "
                f"[query, value, key]; received one {type(x).__name__} (a Sequential feeds one "
                "tensor: use the functional API)."
            )
        xs = list(x)
        self._shapes([tuple(a.shape[1:]) for a in xs])
        self.check_input(xs[0])
        backend = self.backend
        assert backend is not None
        for a in xs[1:]:
            if not backend.owns(a):
                raise TypeError(
                    f"{self.who} runs on backend {backend.name!r} but received "
                    f"{type(a).__module__}.{type(a).__name__}."
                )
        return xs[0], xs[1], (xs[2] if len(xs) == 3 else None)

    def _bool_mask(self, m: Any, x: Array, name: str) -> Array | None:
        if m is None:
            return None
        backend = self.backend
        assert backend is not None
        if not backend.owns(m):
            raise TypeError(
                f"{self.who} runs on backend {backend.name!r} but its {name} is a "
                f"{type(m).__module__}.{type(m).__name__}; move it first with backend.asarray."
            )
        xp = backend.xp
        if tuple(m.shape) != tuple(x.shape[:2]):
            raise ValueError(
                f"{self.who}: {name} must have shape (batch, steps) = {tuple(x.shape[:2])}, "
                f"received {tuple(m.shape)}."
            )
        return m if m.dtype == xp.bool else m != 0

    def _allowed(self, q: Array, v: Array, v_mask: Array | None, causal: bool) -> Array | None:
        """Keras's score mask: ``value_mask[b, None, j]`` and ``i >= j`` with ``causal``,
        broadcast as ``(b | 1, 1 | Tq, Tv)``; None when neither applies."""
        xp = self.backend.xp  # type: ignore[union-attr]
        allowed = None if v_mask is None else xp.expand_dims(v_mask, axis=1)
        if causal:
            tq, tv = q.shape[1], v.shape[1]
            rows = xp.reshape(xp.arange(tq, device=q.device), (1, tq, 1))
            lower = rows >= xp.reshape(xp.arange(tv, device=q.device), (1, 1, tv))
            allowed = lower if allowed is None else xp.logical_and(allowed, lower)
        return allowed

    def _attend(
        self,
        q: Array,
        v: Array,
        k: Array | None,
        q_mask: Array | None,
        v_mask: Array | None,
        causal: bool,
        training: bool,
        keep_scores: bool,
    ) -> tuple[Any, Any]:
        xp = self.backend.xp  # type: ignore[union-attr]
        s, scores_backward = self.scores(q, v if k is None else k)
        p = keras_softmax(s, self._allowed(q, v, v_mask, causal))
        drop = None
        if training and self.dropout > 0.0:
            assert self.rng is not None
            keep = 1.0 - self.dropout
            drop = self.rng.bernoulli(tuple(p.shape), keep, dtype=self.dtype) / keep
        pd = p if drop is None else p * drop
        y = pd @ v
        valid = None if q_mask is None else xp.expand_dims(q_mask, axis=-1)
        if valid is not None:
            y = xp.where(valid, y, xp.zeros_like(y))

        def backprop(dout: Any) -> list[Array]:
            dy, d_scores = dout if keep_scores else (dout, None)
            if dy is None:
                dy = xp.zeros_like(y)
            elif valid is not None:
                dy = xp.where(valid, dy, xp.zeros_like(dy))
            dv = xp.matrix_transpose(pd) @ dy
            dp = dy @ xp.matrix_transpose(v)
            if d_scores is not None:
                dp = dp + d_scores
            if drop is not None:
                dp = dp * drop
            dq, dk = scores_backward(keras_softmax_backward(dp, p))
            if k is None:  # the value was the key too
                return [dq, dv + dk]
            return [dq, dv, dk]

        return ((y, pd) if keep_scores else y), backprop

    def scores(self, q: Array, k: Array) -> tuple[Array, ScoresBackward]:
        """``(s, backward)``: the scores ``(b, Tq, Tv)`` of ``score_mode``;
        ``backward(ds) -> (dq, dk)`` sets the weights' gradients."""
        scale = None if self.scale is None else self.scale.value
        if self.score_mode == "dot":
            s, back = dot_scores(q, k, scale)
        else:
            assert self.concat_score_weight is not None
            s, back = concat_scores(q, k, self.concat_score_weight.value, scale)

        def backward(ds: Array) -> tuple[Array, Array]:
            dq, dk, *dw = back(ds)
            if self.score_mode == "concat":
                assert self.concat_score_weight is not None
                self.concat_score_weight.grad = dw.pop(0)
            if self.scale is not None:
                self.scale.grad = dw[0]
            return dq, dk

        return s, backward

    def get_config(self) -> dict[str, Any]:
        base = super().get_config()
        base.pop("input_shape", None)  # a list-input layer gets its shapes from its call
        return {
            **base,
            "use_scale": self.use_scale,
            "score_mode": self.score_mode,
            "dropout": self.dropout,
            "seed": self.seed,
        }
