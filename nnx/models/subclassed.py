"""Keras subclassing: a layer that builds sublayers in ``__init__`` and composes them in
``call`` runs as a traced graph.

A ``Layer`` subclass that defines ``call(self, inputs, training=None, ...)`` (and not
``forward``) is traced: on its first call (on symbolic tensors in a functional graph, or on
data), ``call`` runs once on symbolic placeholders of its inputs, recording every sublayer call,
arithmetic and ``nnx.ops`` operation as nodes (:mod:`nnx.layers.symbolic`); the layer's
``forward`` then runs that :class:`~nnx.models.graph.Graph` and its backprop runs the graph's
closures in reverse. Its weights are those of the layers ``call`` uses (and any it makes in its
own ``build(input_shape)`` with ``add_weight``), each once. A ``call`` taking ``training`` is
traced once per mode (True/False), so Python branches on ``training`` follow the mode, as in
Keras. Data inside ``call`` (``ops.arange``) becomes a constant node, so a layer called on it
(a position embedding) still learns.

Masks flow as in Keras: the inputs' timestep masks flow into the traced graph, a ``call``
taking ``mask`` receives them as bool graph inputs (:mod:`nnx.models.subclassed_masks`; traced
once with and once without), and the output's mask is the class's ``compute_mask``, else the
incoming one with ``supports_masking``. Inputs of unknown length (``Input(shape=(None,))``)
are traced per length (:mod:`nnx.models.subclassed_lengths`).

>>> import nnx
>>> from nnx import layers
>>> class Residual(layers.Layer):
...     def __init__(self, units, **kwargs):
...         super().__init__(**kwargs)
...         self.dense = layers.Dense(units, activation="tanh")
...     def call(self, inputs):
...         return inputs + self.dense(inputs)
>>> x = nnx.Input((4,))
>>> model = nnx.Model(x, Residual(4)(x), seed=0)
>>> model.count_params(), model.predict([[1.0, 2.0, 3.0, 4.0]]).shape
(20, (1, 4))
"""

from __future__ import annotations

import functools
import inspect
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from nnx.backends import Backend, backend_of, get_backend
from nnx.backends.base import Generator
from nnx.layers import Input as InputLayer
from nnx.layers import Layer, Parameter
from nnx.layers.base import no_backprop
from nnx.layers.symbolic import (
    SymbolicTensor,
    as_symbolic,
    call_in_graph,
    current_trace,
    is_symbolic,
    tracing,
)
from nnx.layers.tensor_ops import constant_tensor
from nnx.models.graph import Graph
from nnx.models.model import Model
from nnx.models.subclassed_lengths import has_none, merge_probes, probe
from nnx.models.subclassed_masks import call_with_mask, mask_argument, mask_inputs, received_masks
from nnx.models.weight_read import WeightRead

__all__ = ["CallRunner", "Traced", "traced_layers"]


@dataclass
class Traced:
    """One trace of a layer's ``call``: its graph, and whether it takes or gives lists."""

    graph: Graph
    multiple_outputs: bool
    reads: dict[int, SymbolicTensor] = field(default_factory=dict)


class _Trace:
    """What a ``call`` being traced sees (:func:`nnx.layers.symbolic.current_trace`)."""

    def __init__(self, layer: Layer, inputs: list[SymbolicTensor], training: bool | None):
        self.layer, self.anchor, self.training = layer, inputs[0], training
        self.reads: dict[int, SymbolicTensor] = {}
        #: a layer of unknown sequence length traced for one length: no same-shape check
        self.loose = False

    def constant(self, value: Any) -> SymbolicTensor:
        """A constant node for data, or a weight node for one of the layer's weights."""
        if isinstance(value, Parameter):
            return self.weight(value)
        return constant_tensor(value, self.anchor)

    def weight(self, p: Parameter) -> SymbolicTensor:
        """The node reading weight ``p`` (one per weight, so its uses' gradients add up)."""
        if id(p) not in self.reads:
            index = next((i for i, w in enumerate(self.layer._weights) if w is p), None)
            if index is None:
                raise ValueError(
                    f"Layer {self.layer.name!r}: call() uses weight {p.name!r}, which it did not "
                    "create in its build() with self.add_weight."
                )
            out: SymbolicTensor = WeightRead(self.layer, index)(self.anchor)
            out.leading_dim = 1
            self.reads[id(p)] = out
        return self.reads[id(p)]


def _accepts(layer: Layer, name: str) -> bool:
    """Whether ``layer.call`` takes the keyword ``name`` (or ``**kwargs``)."""
    return _accepts_keyword(type(layer).call, name)  # type: ignore[attr-defined]


@functools.cache
def _accepts_keyword(call: Any, name: str) -> bool:
    parameters = inspect.signature(call).parameters
    return name in parameters or any(p.kind is p.VAR_KEYWORD for p in parameters.values())


def _key(shape: Any, training: bool | None, options: dict[str, Any]) -> tuple[Any, ...]:
    return (json.dumps(shape), training, json.dumps(options, sort_keys=True, default=str))


class CallRunner:
    """Traces, builds and runs the layers that define ``call`` (installed as
    :attr:`nnx.layers.Layer.call_runner`; the layer methods delegate here)."""

    # --- calling ----------------------------------------------------------------------------
    def call(self, layer: Layer, inputs: Any, args: Sequence[Any], kwargs: dict[str, Any]) -> Any:
        """``layer(inputs, *args, training=None, **options)``: records a node on symbolic
        tensors (or inside a trace), else runs the layer on data in inference (or
        ``training=True``) mode."""
        training = kwargs.pop("training", None)
        mask = kwargs.pop("mask", None)
        if args:
            inputs = [inputs, *args]
            layer.spread_inputs = True  # type: ignore[attr-defined]
        layer.multiple_inputs = isinstance(inputs, (list, tuple))  # type: ignore[misc]
        if layer.multiple_inputs:
            inputs = list(inputs)
        if is_symbolic(inputs) or current_trace() is not None:
            layer.__dict__.setdefault("input_dtypes", _dtypes(inputs))
            if mask is None:
                return call_in_graph(layer, inputs, kwargs or None, training=training)
            return call_with_mask(layer, inputs, mask, kwargs, training)
        items = inputs if layer.multiple_inputs else [inputs]
        if not layer.built:
            shapes = [tuple(a.shape[1:]) for a in items]
            layer.input_dtypes = _dtypes(inputs)  # type: ignore[attr-defined]
            shape: Any = shapes if layer.multiple_inputs else shapes[0]
            layer.build(shape, backend_of(items[0]))
        with no_backprop():
            return self.forward(layer, inputs, bool(training), kwargs, mask)[0]

    def compute_mask(self, layer: Layer, x: Any, mask: Any) -> Any:
        """Keras's rule for a layer defining ``call`` without ``compute_mask``: with
        ``supports_masking`` the mask ``call`` received passes through (for
        ``call(inputs, other, mask=None)`` the first input's), else the output has none."""
        if not layer.supports_masking:
            return None
        if layer.__dict__.get("spread_inputs") and isinstance(mask, (list, tuple)):
            return mask[0]
        return mask

    # --- shapes and building ----------------------------------------------------------------
    def output_shape(self, layer: Layer, input_shape: Any, options: dict[str, Any]) -> Any:
        """The output sample shape(s) of ``call`` for inputs of ``input_shape``."""
        if not layer.built and _user_build(layer) is not None and not layer._weights:
            self.build_own_only(layer, input_shape)
        traced = self.trace(layer, input_shape, _default_mode(layer), options)
        shapes = [t.sample_shape for t in traced.graph.outputs]
        return shapes if traced.multiple_outputs else shapes[0]

    def build(
        self,
        layer: Layer,
        input_shape: Any,
        backend: Backend | str | None,
        rng: Generator | None,
        dtype: str,
    ) -> None:
        """Create the weights: the layer's own (its ``build(input_shape)``), then trace
        ``call`` and build every layer it uses with the same backend, generator and dtype."""
        backend = get_backend(backend)
        multiple = _is_list_of_shapes(input_shape)
        layer.multiple_inputs = multiple  # type: ignore[misc]
        shape: Any = [tuple(s) for s in input_shape] if multiple else tuple(input_shape)
        layer.backend, layer.dtype = backend, dtype
        if multiple:
            layer.input_shapes = shape  # type: ignore[attr-defined]
        else:
            layer.input_shape = shape
        rng = rng if rng is not None else backend.rng(None)
        layer._weights, layer._declared_trainable = [], []
        layer.__dict__.pop("_run_cache", None)
        user_build = _user_build(layer)
        if user_build is not None:
            layer._build_rng = rng  # type: ignore[attr-defined]
            layer._in_user_build = True  # type: ignore[attr-defined]
            try:
                with backend.device_scope():
                    user_build(layer, _with_batch(shape, multiple))
            finally:
                del layer._in_user_build  # type: ignore[attr-defined]
                del layer._build_rng  # type: ignore[attr-defined]
        layer.built = True
        layer._traced_rng = rng  # type: ignore[attr-defined]
        traced = self.trace(layer, shape, _default_mode(layer), {})
        layer.output_shape = [t.sample_shape for t in traced.graph.outputs]  # type: ignore[assignment]
        if not traced.multiple_outputs:
            layer.output_shape = traced.graph.outputs[0].sample_shape
        for other in layer.__dict__.get("_traces", {}).values():
            self._build_graph(layer, other)

    def build_own_only(self, layer: Layer, input_shape: Any) -> None:
        """The layer's own ``build(input_shape)`` alone, on the default backend: placeholder
        weights, so ``call`` can be traced before the model builds the layer (the real
        weights replace them, in the same order, and the trace reads them by position)."""
        backend = get_backend(None)
        multiple = _is_list_of_shapes(input_shape)
        layer.backend = backend
        layer._build_rng = backend.rng(0)  # type: ignore[attr-defined]
        layer._in_user_build = True  # type: ignore[attr-defined]
        try:
            user = _user_build(layer)
            assert user is not None
            user(layer, _with_batch(input_shape, multiple))
        finally:
            del layer._in_user_build  # type: ignore[attr-defined]
            del layer._build_rng  # type: ignore[attr-defined]
            layer.backend = None

    def trace(
        self,
        layer: Layer,
        input_shape: Any,
        training: bool | None,
        options: dict[str, Any],
        masked: tuple[bool, ...] = (),
    ) -> Traced:
        """The graph of ``call`` for inputs of ``input_shape`` in mode ``training`` (cached);
        ``masked`` says which of the masks ``call`` receives are present: each is one more
        graph input, a bool ``(batch, steps)`` tensor, given to ``call`` as ``mask=``."""
        traces: dict[tuple[Any, ...], Traced] = layer.__dict__.setdefault("_traces", {})
        key = (*_key(input_shape, training, options), masked)
        if key in traces:
            return traces[key]
        declared = layer.__dict__.get("input_shapes") or layer.input_shape
        free = has_none(input_shape)
        loose = free or has_none(declared)
        if free:  # steps of unknown length: two probe lengths tell which sizes follow them
            traced = self._record(layer, probe(input_shape, 2), training, options, masked, loose)
            other = self._record(layer, probe(input_shape, 3), training, options, masked, loose)
            merge_probes(layer, traced.graph, other.graph)
        else:
            traced = self._record(layer, input_shape, training, options, masked, loose)
        traces[key] = traced
        if layer.built:
            self._build_graph(layer, traced)
        return traced

    def _record(
        self,
        layer: Layer,
        input_shape: Any,
        training: bool | None,
        options: dict[str, Any],
        masked: tuple[bool, ...],
        loose: bool,
    ) -> Traced:
        """Run ``call`` once on placeholders of ``input_shape`` and record its graph."""
        multiple = bool(layer.__dict__.get("multiple_inputs", False))
        shapes = list(input_shape) if multiple else [input_shape]
        dtypes = layer.__dict__.get("input_dtypes") or [None] * len(shapes)
        inputs = [
            InputLayer(s, name=f"{layer.name}/input_{i}", dtype=d).output
            for i, (s, d) in enumerate(zip(shapes, dtypes, strict=True))
        ]
        recorder = _Trace(layer, inputs, training)
        recorder.loose = loose  # sublayers see a length other than the one they are built for
        kwargs = dict(options)
        if training is not None:
            kwargs["training"] = training
        masks = mask_inputs(layer, shapes, masked)
        if any(masked):
            kwargs["mask"] = mask_argument(layer, masks, masked)
        arg: Any = inputs if multiple else inputs[0]
        with tracing(recorder):
            if layer.__dict__.get("spread_inputs"):
                out = type(layer).call(layer, *arg, **kwargs)  # type: ignore[attr-defined]
            else:
                out = type(layer).call(layer, arg, **kwargs)  # type: ignore[attr-defined]
        outs = list(out) if isinstance(out, (list, tuple)) else [out]
        for t in outs:
            _check_output(layer, t)
        graph = Graph(inputs + masks, outs, unused=masks)
        return Traced(graph, isinstance(out, (list, tuple)), recorder.reads)

    def _build_graph(self, layer: Layer, traced: Traced) -> None:
        """Build the layers of a trace not built yet; collect the layer's weights."""
        backend, rng = layer.backend, layer.__dict__.get("_traced_rng")
        for t in traced.graph.inputs:
            t.node.layer.build(t.sample_shape, backend, rng, layer.dtype)
        for node in traced.graph.nodes:
            if node.layer.built:
                continue
            shapes = [t.sample_shape for t in node.args]
            node.layer.build(shapes if node.multiple else shapes[0], backend, rng, layer.dtype)
        own = [p for p in layer._weights if not any(p is q for q in _sublayer_weights(layer))]
        declared = [p for p in layer._declared_trainable if any(p is q for q in own)]
        seen = {id(p) for p in own}
        for sub in traced_layers(layer):
            for p in sub.parameters():
                if id(p) not in seen:
                    seen.add(id(p))
                    own.append(p)
                    if any(p is q for q in sub._declared_trainable):
                        declared.append(p)
        layer._weights, layer._declared_trainable = own, declared
        _name_by_attribute(layer)

    # --- running ----------------------------------------------------------------------------
    def forward(
        self,
        layer: Layer,
        x: Any,
        training: bool,
        options: dict[str, Any],
        mask: Any = None,
    ) -> tuple[Any, Any]:
        """Run the trace of ``call`` for this mode: ``(y, backprop)``. ``mask`` (one, or a
        list for a list input; None: none) is the inputs' timestep masks: they flow into the
        traced graph from its inputs, and ``call(..., mask=...)`` receives them as tensors."""
        multiple = bool(layer.__dict__.get("multiple_inputs", False))
        xs = list(x) if multiple else [x]
        masks = list(mask) if isinstance(mask, (list, tuple)) else [mask] * (mask is not None)
        masks += [None] * (len(xs) - len(masks))
        received = received_masks(layer, masks) if _accepts(layer, "mask") else []
        masked = tuple(m is not None for m in received)
        mode = bool(training) if _accepts(layer, "training") else None
        cache: dict[Any, Traced] = layer.__dict__.setdefault("_run_cache", {})
        key: tuple[Any, ...] = (mode, tuple(sorted(options.items())) if options else (), masked)
        built = layer.__dict__.get("input_shapes") if multiple else layer.input_shape
        if not built or has_none(built):  # traced for the data's own step counts
            concrete = [tuple(a.shape[1:]) for a in xs]
            built = concrete if multiple else concrete[0]
            key = (*key, json.dumps(built))
        traced = cache.get(key)
        if traced is None:
            traced = self.trace(layer, built, mode, options, masked if any(masked) else ())
            cache[key] = traced
        feeds = xs + [m for m in received if m is not None]
        outs, backprop, _ = traced.graph.run_masked(feeds, training=training, input_masks=masks)

        def backprop_call(dy: Any) -> Any:
            dxs = backprop(list(dy) if traced.multiple_outputs else [dy])[: len(xs)]
            return dxs if multiple else dxs[0]

        return (tuple(outs) if traced.multiple_outputs else outs[0]), backprop_call


def _user_build(layer: Layer) -> Any:
    """The layer's own Keras-style ``build(input_shape)``, if its class defines one."""
    return getattr(type(layer), "keras_build", None)


def _default_mode(layer: Layer) -> bool | None:
    return False if _accepts(layer, "training") else None


def _is_list_of_shapes(shape: Any) -> bool:
    return isinstance(shape, list) and all(isinstance(s, (list, tuple)) for s in shape)


def _with_batch(shape: Any, multiple: bool) -> Any:
    """Keras's ``build`` sees shapes with the batch axis: ``(None, *shape)``."""
    return [(None, *s) for s in shape] if multiple else (None, *shape)


def _dtypes(inputs: Any) -> list[str | None]:
    """The non-float dtypes of the inputs (integer token ids), None for floats."""
    items = inputs if isinstance(inputs, list) else [inputs]
    out: list[str | None] = []
    for item in items:
        t = as_symbolic(item)
        if t is not None:
            out.append(t.dtype)
            continue
        name = backend_of(item).dtype_name(item) if hasattr(item, "shape") else None
        out.append(name if name is not None and not name.startswith("float") else None)
    return out


def _check_output(layer: Layer, t: Any) -> None:
    if not isinstance(t, SymbolicTensor):
        raise TypeError(
            f"Layer {layer.name!r} ({type(layer).__name__}).call must return tensors computed "
            f"from its inputs (layer calls, arithmetic, nnx.ops), received {type(t).__name__}."
        )
    if t.leading_dim is not None:
        raise ValueError(
            f"Layer {layer.name!r} ({type(layer).__name__}).call returns {t.name!r} of shape "
            f"{t.shape}, which does not depend on the inputs' batch."
        )


def traced_layers(layer: Layer) -> list[Layer]:
    """Every layer the traces of ``layer.call`` use, once, in order of first use."""
    seen: dict[int, Layer] = {}
    for traced in layer.__dict__.get("_traces", {}).values():
        for sub in traced.graph.layers:
            seen.setdefault(id(sub), sub)
    return list(seen.values())


def _name_by_attribute(layer: Layer) -> None:
    """Name the weights of the sublayers ``layer`` holds in attributes by where they are:
    ``block/ffn/0/kernel`` for ``block.ffn.layers[0].kernel`` (Keras's tracking paths), so
    the names are the same in every instance, a loaded one too (the sublayers' own names
    come from global counters)."""
    paths: dict[int, str] = {}

    def visit(value: Any, path: str) -> None:
        if isinstance(value, Layer):
            paths.setdefault(id(value), path)
        elif isinstance(value, Model):
            for i, sub in enumerate(value.layers):
                visit(sub, f"{path}/{i}")
        elif isinstance(value, (list, tuple)):
            for i, item in enumerate(value):
                visit(item, f"{path}/{i}")
        elif isinstance(value, dict):
            for key, item in value.items():
                visit(item, f"{path}/{key}")

    for attribute, value in vars(layer).items():
        if not attribute.startswith("_"):
            visit(value, attribute)
    for sub in traced_layers(layer):
        path = paths.get(id(sub))
        if path is None:
            continue
        prefix, own = f"{layer.name}/{path}/", f"{sub.name}/"
        for p in sub.parameters():
            if p.name.startswith(own):  # not renamed yet (a second trace reaches it too)
                p.name = prefix + p.name[len(own) :]


def _sublayer_weights(layer: Layer) -> list[Parameter]:
    return [p for sub in traced_layers(layer) for p in sub.parameters()]


Layer.call_runner = CallRunner()
