"""``TransformerEncoder``: one encoder block, its residual connections inside."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from nnx.backends.base import Array, Generator
from nnx.backends.fast_paths import EncoderBlock
from nnx.layers.attention import MultiHeadAttention
from nnx.layers.base import Backprop, Layer, Shape, backprop_needed, register_layer
from nnx.layers.dense import Dense
from nnx.layers.normalization import LayerNormalization
from nnx.layers.parameter import Parameter
from nnx.layers.wrappers import build_child
from nnx.validation import check_bool, check_float, check_int

__all__ = ["TransformerEncoder"]


@register_layer
class TransformerEncoder(Layer):
    """A Transformer encoder block (keras-hub's arguments): self-attention and a feed-forward
    network, each with a residual connection, dropout and layer normalization.

    Post-norm (``normalize_first=False``, the original paper)::

        h = LN1(x + drop(MHA(x)))             y = LN2(h + drop(FFN(h)))

    Pre-norm (``normalize_first=True``, steadier for deep stacks)::

        h = x + drop(MHA(LN1(x)))             y = h + drop(FFN(LN2(h)))

    with ``FFN(h) = activation(h W1 + b1) W2 + b2``. Backward runs the children's closures in
    reverse; at each residual ``x + f(x)`` the gradient is ``dy + f'(x)^T dy``.

    Args:
        intermediate_dim: hidden size of the feed-forward network.
        num_heads: attention heads; each has ``key_dim = features // num_heads``.
        dropout: rate of the residual-branch and attention dropouts.
        activation: the feed-forward activation (``"relu"``).
        layer_norm_epsilon: the normalizations' epsilon.
        normalize_first: pre-norm instead of post-norm.
        use_causal_mask: each step attends only to itself and earlier steps (a language
            model); padding masks from ``Embedding(mask_zero=True)`` apply too.
        seed: seed of the dropout masks.

    Shape:
        Input ``(batch, steps, features)``, output the same.

    >>> from nnx.backends import get_backend
    >>> x = get_backend("numpy").rng(0).normal((2, 5, 8))
    >>> TransformerEncoder(16, num_heads=2)(x).shape
    (2, 5, 8)
    """

    supports_masking = True

    def __init__(
        self,
        intermediate_dim: int,
        num_heads: int,
        dropout: float = 0.0,
        activation: Any = "relu",
        layer_norm_epsilon: float = 1e-5,
        normalize_first: bool = False,
        use_causal_mask: bool = False,
        seed: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        who = "TransformerEncoder"
        self.intermediate_dim = check_int(intermediate_dim, "intermediate_dim", who=who, minimum=1)
        self.num_heads = check_int(num_heads, "num_heads", who=who, minimum=1)
        self.dropout = check_float(
            dropout, "dropout", who=who, minimum=0.0, maximum=1.0, maximum_open=True
        )
        self.activation = activation
        self.layer_norm_epsilon = check_float(
            layer_norm_epsilon, "layer_norm_epsilon", who=who, minimum=0.0, minimum_open=True
        )
        self.normalize_first = check_bool(normalize_first, "normalize_first", who=who)
        self.use_causal_mask = check_bool(use_causal_mask, "use_causal_mask", who=who)
        self.seed = seed
        self.rng: Generator | None = None
        self.children: dict[str, Layer] = {}

    def build_parameters(self, input_shape: Shape, rng: Generator) -> None:
        features = input_shape[-1]
        if len(input_shape) != 2 or features is None:
            raise ValueError(
                f"TransformerEncoder {self.name!r} expects inputs of shape (batch, steps, "
                f"features), received input shape (batch, {', '.join(map(str, input_shape))})."
            )
        if features % self.num_heads:
            raise ValueError(
                f"TransformerEncoder {self.name!r}: features={features} must be divisible by "
                f"num_heads={self.num_heads}."
            )
        assert self.backend is not None
        self.rng = self.backend.rng(self.seed) if self.seed is not None else rng.spawn()
        name, eps = self.name, self.layer_norm_epsilon
        self.children = {
            "attention": MultiHeadAttention(
                self.num_heads, features // self.num_heads, dropout=self.dropout,
                name=f"{name}/attention",
            ),
            "norm1": LayerNormalization(epsilon=eps, name=f"{name}/norm1"),
            "ffn1": Dense(self.intermediate_dim, self.activation, name=f"{name}/ffn1"),
            "ffn2": Dense(features, name=f"{name}/ffn2"),
            "norm2": LayerNormalization(epsilon=eps, name=f"{name}/norm2"),
        }  # fmt: skip
        shapes = {"ffn2": (input_shape[0], self.intermediate_dim)}
        for key, child in self.children.items():
            build_child(self, child, shapes.get(key, input_shape), rng)
        # NOTE: one stream for the block: gradcheck and saving replay the attention's draws too.
        self.children["attention"].rng = self.rng  # type: ignore[attr-defined]

    def forward(self, x: Array, *, training: bool = False) -> tuple[Array, Backprop]:
        return self.forward_masked(x, None, training=training)

    def forward_masked(
        self, x: Array, mask: Array | None, *, training: bool = False
    ) -> tuple[Array, Backprop]:
        self.check_input(x)
        c = self.children
        attention = c["attention"]
        assert isinstance(attention, MultiHeadAttention)
        if not training and not backprop_needed():  # inference: the backend may fuse the block

            def describe() -> tuple[Array | None, EncoderBlock]:
                allowed = attention.self_attention_allowed(x, mask, self.use_causal_mask)
                return allowed, self._encoder_block()

            fused = self.backend.encoder_block(x, describe)  # type: ignore[union-attr]
            if fused is not None:
                return fused, self.kept_nothing_backprop

        def attend(h: Array) -> tuple[Array, Backprop]:
            y, back = attention.forward_masked(
                h, mask, training=training, causal=self.use_causal_mask
            )
            return self._dropout(y, back, training)

        def feed_forward(h: Array) -> tuple[Array, Backprop]:
            z, back1 = c["ffn1"].forward(h, training=training)
            y, back2 = c["ffn2"].forward(z, training=training)
            y, back3 = self._dropout(y, back2, training)
            return y, lambda dy: back1(back3(dy))

        backs: list[Callable[[Array], Array]] = []
        h = x
        for branch, norm in ((attend, c["norm1"]), (feed_forward, c["norm2"])):
            # NOTE: the residual adds land in place in the branch's output: a fresh array
            # that no backprop reads (a new array would cost an allocation per add).
            if self.normalize_first:
                n, back_n = norm.forward(h, training=training)
                f, back_f = branch(n)
                f += h
                h = f
                backs.append(_pre_norm(back_n, back_f))
            else:
                f, back_f = branch(h)
                f += h
                h, back_n = norm.forward(f, training=training)
                backs.append(_post_norm(back_n, back_f))

        def backprop(dy: Array) -> Array:
            for back in reversed(backs):
                dy = back(dy)
            return dy

        return h, backprop

    def _encoder_block(self) -> EncoderBlock:
        """The block's weights and configuration as the backend's fused pass takes them."""
        c = self.children
        attention, ffn1, ffn2 = c["attention"], c["ffn1"], c["ffn2"]
        norm1, norm2 = c["norm1"], c["norm2"]
        assert isinstance(attention, MultiHeadAttention)
        assert isinstance(norm1, LayerNormalization) and isinstance(norm2, LayerNormalization)
        assert isinstance(ffn1, Dense) and isinstance(ffn2, Dense)
        qkv_kernel, qkv_bias = attention.joint_projection(("query", "key", "value"))
        w_out, b_out = attention.projections["output"]
        xp = self.backend.xp  # type: ignore[union-attr]
        heads, dim, features = w_out.shape
        act = ffn1.activation
        fusable_act = set(act.config) <= {"alpha"}
        return EncoderBlock(
            qkv_kernel, qkv_bias,
            xp.reshape(w_out.value, (heads * dim, features)), _value(b_out),
            _value(norm1.gamma), _value(norm1.beta),
            _value(ffn1.kernel), _value(ffn1.bias), _value(ffn2.kernel), _value(ffn2.bias),
            _value(norm2.gamma), _value(norm2.beta),
            heads, attention.key_dim, self.layer_norm_epsilon, self.normalize_first,
            act.name if fusable_act else "", float(act.config.get("alpha", 0.0)),
        )  # fmt: skip

    def _dropout(self, y: Array, back: Backprop, training: bool) -> tuple[Array, Backprop]:
        """Inverted dropout on a residual branch, composed with the branch's backprop."""
        if not training or self.dropout == 0.0:
            return y, back
        assert self.rng is not None
        keep = 1.0 - self.dropout
        m = self.rng.bernoulli(tuple(y.shape), keep, dtype=self.dtype) / keep
        return y * m, lambda dy: back(dy * m)

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "intermediate_dim": self.intermediate_dim,
            "num_heads": self.num_heads,
            "dropout": self.dropout,
            "activation": self.activation,
            "layer_norm_epsilon": self.layer_norm_epsilon,
            "normalize_first": self.normalize_first,
            "use_causal_mask": self.use_causal_mask,
            "seed": self.seed,
        }


def _value(parameter: Parameter | None) -> Array | None:
    return None if parameter is None else parameter.value


def _pre_norm(back_norm: Backprop, back_branch: Backprop) -> Backprop:
    """Backprop of ``h + f(LN(h))``: ``dy + LN'^T f'^T dy``."""

    def backprop(dy: Array) -> Array:
        return dy + back_norm(back_branch(dy))

    return backprop


def _post_norm(back_norm: Backprop, back_branch: Backprop) -> Backprop:
    """Backprop of ``LN(h + f(h))``: ``g + f'(h)^T g`` with ``g = LN'^T dy``."""

    def backprop(dy: Array) -> Array:
        g = back_norm(dy)
        return g + back_branch(g)

    return backprop
