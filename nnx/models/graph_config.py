"""A graph model as JSON-serialisable data, the calls that rebuild it from its layers, and the
forms (one tensor, a list, a dict by name) its inputs and outputs are given in.

The config lists every layer once (``{"class_name", "config"}``, rebuilt only through the layer
registry), the calls in topological order (``nodes``: the layer's name and the tensors it reads,
each as ``[layer name, call number]``, or ``[layer name, call number, output index]`` for an
output of a node with several (``return_state``), its keyword ``options`` if any, and its
tensor ``keywords`` if any, e.g. ``{"initial_state": [["enc", 0, 1], ["enc", 0, 2]]}``),
the inputs and outputs as such references, their form (one tensor, a list or a dict) and
names, and, once compiled, each output's loss, loss weight and metric names.

>>> import nnx
>>> from nnx.layers import Dense
>>> x = nnx.Input((2,), name="x")
>>> config = graph_config(nnx.Model(x, Dense(1, name="out")(x)))
>>> config["nodes"], config["outputs"]
([{'layer': 'out', 'inputs': [['x', 0]], 'multiple': False}], [['out', 0]])
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from nnx.layers import Input as InputLayer
from nnx.layers import Layer
from nnx.layers.symbolic import SymbolicTensor, as_symbolic, call_symbolic
from nnx.registry import serialize

__all__ = ["connect", "graph_config", "read_form", "unique_names"]


def graph_config(model: Any) -> dict[str, Any]:
    """The architecture of a :class:`~nnx.models.functional.Functional` (see the module)."""
    ref = model.graph.ref
    config: dict[str, Any] = {
        "class_name": "Functional",
        "name": model.name,
        "dtype": model.dtype,
        "seed": model.seed,
        "layers": [
            {"class_name": type(layer).__name__, "config": layer.get_config()}
            for layer in model.layers
        ],
        "nodes": [
            {
                "layer": node.layer.name,
                "inputs": [ref(t) for t in node.args],
                "multiple": node.multiple,
                **({"options": dict(node.options)} if node.options else {}),
                **({"keywords": _keyword_refs(node, ref)} if node.keywords else {}),
            }
            for node in model.graph.nodes
        ],
        "inputs": [ref(t) for t in model.inputs],
        "outputs": [ref(t) for t in model.outputs],
        "input_form": model.input_form,
        "output_form": model.output_form,
        "input_names": model.input_names,
        "output_names": model.output_names,
    }
    if model.heads:
        several = len(model.heads) > 1
        config["compiled_outputs"] = {
            "losses": [serialize(h.loss) for h in model.heads],
            "loss_weights": [h.weight for h in model.heads],
            "metrics": [
                [m.name.removeprefix(f"{h.name}_") if several else m.name for m in h.metrics]
                for h in model.heads
            ],
        }
    return config


def connect(layers: Sequence[Layer], config: dict[str, Any]) -> tuple[Any, Any]:
    """Call the (fresh) ``layers`` as ``config["nodes"]`` says; returns ``(inputs, outputs)``
    in the form :class:`~nnx.models.functional.Functional` was given them.

    Raises:
        ValueError: a node or an output names a layer or call that does not exist.
    """
    by_name = {layer.name: layer for layer in layers}
    made: dict[str, list[list[SymbolicTensor]]] = {
        layer.name: [[layer.output]] for layer in layers if isinstance(layer, InputLayer)
    }

    def ref(reference: Sequence[Any]) -> SymbolicTensor:
        name, call, index = [*reference, 0][:3]
        try:
            return made[name][call][index]
        except (KeyError, IndexError, TypeError):
            shown = "][".join(map(str, reference[1:]))
            raise ValueError(f"the graph refers to {name}[{shown}], never computed.") from None

    for node in config["nodes"]:
        if node["layer"] not in by_name:
            raise ValueError(f"the graph calls layer {node['layer']!r}, which it lacks.")
        args = [ref(r) for r in node["inputs"]]
        layer, arg = by_name[node["layer"]], args if node["multiple"] else args[0]
        keywords = {
            k: [ref(r) for r in v] if v and isinstance(v[0], list) else ref(v)
            for k, v in node.get("keywords", {}).items()
        }
        out = call_symbolic(layer, arg, node.get("options"), keywords)
        made.setdefault(node["layer"], []).append(out if isinstance(out, list) else [out])
    inputs = [ref(r) for r in config["inputs"]]
    outputs = [ref(r) for r in config["outputs"]]
    return (
        _form(inputs, config.get("input_form", "list"), config.get("input_names")),
        _form(outputs, config.get("output_form", "list"), config.get("output_names")),
    )


def _keyword_refs(node: Any, ref: Any) -> dict[str, Any]:
    """A node's tensor keywords as references (one, or a list per name)."""
    return {
        k: ref(v) if isinstance(v, SymbolicTensor) else [ref(t) for t in v]
        for k, v in node.keywords.items()
    }


def _form(tensors: list[SymbolicTensor], form: str, names: list[str] | None) -> Any:
    if form == "single" and len(tensors) == 1:
        return tensors[0]
    if form == "dict" and names is not None:
        return dict(zip(names, tensors, strict=True))
    return tensors


def read_form(value: Any, what: str) -> tuple[str, list[SymbolicTensor], list[str] | None]:
    """``(form, tensors, dict keys or None)`` of the ``inputs`` or ``outputs`` given to
    ``Model``: one tensor (``"single"``), a list (``"list"``) or a dict by name (``"dict"``)."""
    if isinstance(value, dict):
        form, items, keys = "dict", list(value.values()), [str(k) for k in value]
    elif isinstance(value, (list, tuple)):
        form, items, keys = "list", list(value), None
    else:
        form, items, keys = "single", [value], None
    if not items:
        raise ValueError(f"Model: {what} must hold at least one tensor, received {value!r}.")
    tensors = [as_symbolic(t) for t in items]
    for item, t in zip(items, tensors, strict=True):
        if t is None:
            raise TypeError(
                f"Model: {what} must be symbolic tensors (from nnx.Input and layer calls), "
                f"received {type(item).__name__}."
            )
    return form, [t for t in tensors if t is not None], keys


def unique_names(names: list[str]) -> list[str]:
    """Output names made unique (``dense``, ``dense_1``) when one layer gives two outputs."""
    out: list[str] = []
    for name in names:
        candidate, k = name, 1
        while candidate in out:
            candidate, k = f"{name}_{k}", k + 1
        out.append(candidate)
    return out
