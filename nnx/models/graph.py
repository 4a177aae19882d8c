"""``Graph``: the nodes between a functional model's inputs and outputs, in topological order,
and their forward and backward passes.

The forward runs each node's ``layer.forward`` (with the node's keyword options and tensor
keywords such as ``initial_state``) once its inputs are computed and keeps the ``backprop``
closures; the backward runs them in reverse topological order, summing the gradients that reach
a tensor from every node that reads it. A node with several outputs (``return_state``) gets a
tuple of their gradients, None where nothing reached an output.

Timestep masks travel beside the values, as in Keras and as ``Sequential`` threads them (see
:mod:`nnx.layers.masking`): a node whose inputs carry a mask runs ``forward_masked``, and
``layer.compute_mask`` gives the mask of its output (``Embedding(mask_zero=True)`` and
``Masking`` create one). A list-input layer gets the list of its inputs' masks; when its
``compute_mask`` returns a list, the output's mask is their logical AND (the merge layers
combine their inputs' masks themselves, by Keras 3's rules: :mod:`nnx.layers.merge`).
:meth:`Graph.run_masked` also returns the outputs' masks, which the loss and metrics honour.
A mask given explicitly (``LSTM(8)(x, mask=m)``, attention's ``query_mask``/``value_mask``/
``key_mask``; :data:`~nnx.layers.masking.MASK_KEYWORDS`) is a tensor keyword of the node: it
replaces the mask that came with that input, as in Keras, and gets no gradient.
A layer called more than once (a shared layer) writes its parameters' ``.grad`` at every call,
so the graph adds up the calls' gradients: ``dL/dW = sum over calls c of dL/dW|_c``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from nnx.backends.base import Array, array_namespace
from nnx.layers import ActivatedLayer, Layer, Parameter
from nnx.layers.masking import MASK_KEYWORDS
from nnx.layers.symbolic import Node, SymbolicTensor, keyword_tensors

__all__ = ["Graph"]

#: ``backprop(dys) -> dxs``: one gradient per output in, one per input out
GraphBackprop = Callable[[Sequence[Array | None]], list[Array | None]]


class Graph:
    """The layer calls that lead from ``inputs`` to ``outputs``.

    Args:
        inputs: the graph's input tensors (``nnx.Input`` outputs), in order.
        outputs: the tensors it computes, in order.
        unused: inputs no output needs to read (a traced ``call``'s ``mask``).

    Attributes:
        nodes: the layer calls in topological order (inputs excluded).
        layers: every layer once: the input layers, then in order of first call.
        shared: the layers called more than once.

    Raises:
        ValueError: an output needs an input that is not among ``inputs``, an input that no
            output uses, a repeated input, or two layers with one name.

    >>> import nnx
    >>> from nnx.layers import Add, Dense
    >>> x = nnx.Input((2,), name="x")
    >>> shared = Dense(2, name="shared")
    >>> graph = Graph([x], [Add(name="sum")([shared(x), shared(shared(x))])])
    >>> [n.layer.name for n in graph.nodes], [layer.name for layer in graph.shared]
    (['shared', 'shared', 'shared', 'sum'], ['shared'])
    """

    def __init__(
        self,
        inputs: Sequence[SymbolicTensor],
        outputs: Sequence[SymbolicTensor],
        unused: Sequence[SymbolicTensor] = (),
    ):
        self.inputs, self.outputs = list(inputs), list(outputs)
        given = {id(t) for t in self.inputs}
        if len(given) != len(self.inputs):
            raise ValueError("Model: the same input tensor is given twice in inputs.")
        for t in self.inputs:
            if not t.node.is_input:
                raise ValueError(
                    f"Model: inputs must be nnx.Input(...) tensors, received {t.name!r}, the "
                    f"output of layer {t.node.layer.name!r}."
                )
        self.nodes = _topological(self.outputs, given)
        used = {id(t) for node in self.nodes for t in node.inputs} | {id(t) for t in self.outputs}
        allowed = {id(t) for t in unused}
        disconnected = [t.name for t in self.inputs if id(t) not in used | allowed]
        if disconnected:
            raise ValueError(
                f"Model: input(s) {', '.join(map(repr, disconnected))} are disconnected: no output "
                "depends on them. Remove them from inputs or use them."
            )
        calls: dict[int, int] = {}
        layers: list[Layer] = [t.node.layer for t in self.inputs]
        for node in self.nodes:
            if id(node.layer) not in calls:
                layers.append(node.layer)
            calls[id(node.layer)] = calls.get(id(node.layer), 0) + 1
        self.layers = layers
        self.shared = [layer for layer in layers if calls.get(id(layer), 0) > 1]
        names = [layer.name for layer in layers]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(
                f"Model: two different layers are named {', '.join(map(repr, twice))}; "
                "layer names in a model must be unique."
            )

    def index(self, tensor: SymbolicTensor) -> tuple[str, int]:
        """``(layer name, call number)`` of the call that produced ``tensor``."""
        node = tensor.node
        if node.is_input:
            return node.layer.name, 0
        calls = [n for n in self.nodes if n.layer is node.layer]
        return node.layer.name, calls.index(node)

    def ref(self, tensor: SymbolicTensor) -> list[Any]:
        """``[layer name, call number]`` naming ``tensor`` in a config, plus its output index
        ``[..., k]`` when its node has several outputs (Keras's ``[layer, node, tensor]``)."""
        name, call = self.index(tensor)
        return [name, call, tensor.index] if tensor.node.multiple_outputs else [name, call]

    def run(
        self, xs: Sequence[Array], *, training: bool, logits: frozenset[int] = frozenset()
    ) -> tuple[list[Array], GraphBackprop]:
        """Forward pass on the input arrays ``xs``; returns ``(outputs, backprop)``.

        Args:
            xs: one array per input.
            training: training mode (dropout on, batch statistics).
            logits: positions of outputs computed as pre-activations (``forward_logits``),
                for a loss fused with the activation.
        """
        outputs, backprop, _ = self.run_masked(xs, training=training, logits=logits)
        return outputs, backprop

    def run_masked(
        self,
        xs: Sequence[Array],
        *,
        training: bool,
        logits: frozenset[int] = frozenset(),
        input_masks: Sequence[Array | None] | None = None,
    ) -> tuple[list[Array], GraphBackprop, list[Array | None]]:
        """:meth:`run` plus the timestep mask of each output (None: not masked).

        ``input_masks`` (one per input, None: unmasked) are the masks the inputs come with
        when the graph runs as a layer (a nested model, a traced ``call``): they flow from
        the inputs as the masks layers make do."""
        if len(xs) != len(self.inputs):
            raise ValueError(f"The graph has {len(self.inputs)} inputs, received {len(xs)} arrays.")
        for t, x in zip(self.inputs, xs, strict=True):
            t.node.layer.check_input(x)  # the Input layer: backend and sample shape
        values: dict[int, Array] = {id(t): x for t, x in zip(self.inputs, xs, strict=True)}
        masks: dict[int, Array] = {
            id(t): m for t, m in zip(self.inputs, input_masks or [], strict=False) if m is not None
        }
        raw = {id(self.outputs[i].node) for i in logits}
        records: list[tuple[Node, Callable[[Any], Any]]] = []
        for node in self.nodes:
            args = [values[id(t)] for t in node.args]
            arg = args if node.multiple else args[0]
            arg_masks = [masks.get(id(t)) for t in node.args]
            kwargs = {**node.options, **_keyword_values(node, values)}
            explicit = {k: kwargs.pop(k) for k in list(kwargs) if k in MASK_KEYWORDS}
            if explicit:
                arg_masks = _explicit_masks(node, args, arg_masks, explicit)
            mask: Any = arg_masks if node.multiple else arg_masks[0]
            layer = node.layer
            if id(node) in raw and isinstance(layer, ActivatedLayer):
                y, backprop = layer.forward_logits(arg, training=training)
            elif any(m is not None for m in arg_masks) and _reads_masks(layer):
                y, backprop = layer.forward_masked(arg, mask, training=training, **kwargs)
            else:
                y, backprop = layer.forward(arg, training=training, **kwargs)
            out_mask = _combined(layer.compute_mask(arg, mask))
            ys = list(y) if node.multiple_outputs else [y]
            for t, value in zip(node.outputs, ys, strict=True):
                values[id(t)] = value
            if out_mask is not None:
                masks[id(node.outputs[0])] = out_mask
            records.append((node, backprop))
        outputs = [values[id(t)] for t in self.outputs]
        shared = {id(layer) for layer in self.shared}

        def backprop_all(dys: Sequence[Array | None]) -> list[Array | None]:
            grads: dict[int, Array] = {}
            for t, dy in zip(self.outputs, dys, strict=True):
                _add(grads, t, dy)
            sums: dict[int, tuple[Parameter, Array]] = {}
            for node, backprop in reversed(records):
                douts = [grads.pop(id(t), None) for t in node.outputs]
                if all(d is None for d in douts):
                    continue
                dx = backprop(tuple(douts) if node.multiple_outputs else douts[0])
                if id(node.layer) in shared:
                    _accumulate(sums, node.layer)
                others = {k: v for k, v in node.keywords.items() if k not in MASK_KEYWORDS}
                flat = dx if node.multiple or others else [dx]
                for t, d in zip(node.args + keyword_tensors(others), flat, strict=True):
                    _add(grads, t, d)
            for p, total in sums.values():
                p.grad = total
            return [grads.get(id(t)) for t in self.inputs]

        return outputs, backprop_all, [masks.get(id(t)) for t in self.outputs]


def _explicit_masks(
    node: Node, args: list[Array], masks: list[Array | None], explicit: dict[str, Array]
) -> list[Array | None]:
    """The inputs' masks with the explicitly given ones in place (bool; a ``key_mask`` without
    a key tensor masks the value, which is then the key).

    Raises:
        ValueError: a mask whose shape is not the ``(batch, steps)`` of the input it masks.
    """
    out = list(masks)
    for name in [k for k in MASK_KEYWORDS if k in explicit]:
        m = explicit[name]
        xp = array_namespace(m)
        m = m if m.dtype == xp.bool else m != 0
        at = MASK_KEYWORDS[name] if MASK_KEYWORDS[name] < len(args) else 1
        x = args[at]
        first = getattr(node.layer, "data_format", None) == "channels_first"
        expected = (x.shape[0], x.shape[2] if first else x.shape[1])
        if tuple(m.shape) != tuple(expected):
            raise ValueError(
                f"{type(node.layer).__name__} {node.layer.name!r}: {name} must have the shape "
                f"(batch, steps) = {tuple(expected)} of its input, received "
                f"{tuple(m.shape)}."
            )
        if name == "key_mask" and at == 1 and "value_mask" in explicit:
            m = xp.logical_and(m, out[1])
        out[at] = m
    return out


def _reads_masks(layer: Layer) -> bool:
    """Whether ``layer`` overrides ``forward_masked`` (the base one ignores the mask)."""
    return type(layer).forward_masked is not Layer.forward_masked


def _keyword_values(node: Node, values: dict[int, Array]) -> dict[str, Any]:
    """The arrays of a node's tensor keywords (an array or a list per name)."""
    return {
        k: values[id(v)] if isinstance(v, SymbolicTensor) else [values[id(t)] for t in v]
        for k, v in node.keywords.items()
    }


def _combined(mask: Any) -> Array | None:
    """One mask from what ``compute_mask`` returned: a list of masks is ANDed (None: absent)."""
    if not isinstance(mask, (list, tuple)):
        return mask  # type: ignore[no-any-return]
    present = [m for m in mask if m is not None]
    if not present:
        return None
    out = present[0]
    for m in present[1:]:
        out = array_namespace(out).logical_and(out, m)
    return out


def _add(grads: dict[int, Array], tensor: SymbolicTensor, dy: Array | None) -> None:
    """``grads[tensor] += dy`` (a tensor read by several nodes gets the sum)."""
    if dy is None:
        return
    key = id(tensor)
    grads[key] = dy if key not in grads else grads[key] + dy


def _accumulate(sums: dict[int, tuple[Parameter, Array]], layer: Layer) -> None:
    """Add the gradients one call of a shared layer just wrote (a copy: the next call may
    overwrite the same buffer in place)."""
    for p in layer.parameters():
        if p.grad is None:
            continue
        if id(p) in sums:
            sums[id(p)] = (p, sums[id(p)][1] + p.grad)
        else:
            sums[id(p)] = (p, array_namespace(p.grad).asarray(p.grad, copy=True))


def _topological(outputs: Sequence[SymbolicTensor], given: set[int]) -> list[Node]:
    """The nodes the outputs depend on, each after its inputs' nodes (iterative DFS)."""
    order: list[Node] = []
    done: set[int] = set()
    for out in outputs:
        stack: list[tuple[Node, bool]] = [(out.node, False)]
        while stack:
            node, expanded = stack.pop()
            if id(node) in done:
                continue
            if node.is_input:
                assert node.output is not None
                if id(node.output) not in given:
                    raise ValueError(
                        f"Model: output {out.name!r} is not reachable from the given inputs: "
                        f"it needs input {node.output.name!r}, which is not in inputs."
                    )
                done.add(id(node))
                continue
            if expanded:
                done.add(id(node))
                order.append(node)
                continue
            stack.append((node, True))
            stack.extend((t.node, False) for t in reversed(node.inputs))
    return order
