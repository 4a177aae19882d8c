"""A model's reprs: a one-line text summary and, for Jupyter, the summary as an HTML table."""

from __future__ import annotations

import nnx
from nnx.layers import Dense


def _model(backend, **kwargs):
    return nnx.Sequential(
        [Dense(4, activation="relu", input_shape=(3,), name="hidden"), Dense(1, name="out")],
        backend=backend,
        name="mlp",
        **kwargs,
    )


def test_model_repr_is_short_summary(backend):
    model = _model(backend)
    assert repr(model) == f"<Sequential 'mlp': 2 layers, 21 params, {backend.name} float32>"
    unbuilt = nnx.Sequential([Dense(2)], backend=backend, name="lazy")
    assert repr(unbuilt) == f"<Sequential 'lazy': 1 layer, not built, {backend.name} float32>"


def test_model_html_repr_is_summary_table(backend):
    html = _model(backend)._repr_html_()
    assert html.count("<tr>") == 3  # header and one row per layer
    assert "<td>hidden (Dense)</td><td>(None, 4)</td><td>16</td>" in html
    assert "<td>out (Dense)</td><td>(None, 1)</td><td>5</td>" in html
    assert "Total params: 21" in html and "&quot;mlp&quot;" in html  # escaped


def test_functional_model_html_has_connections(backend):
    inputs = nnx.Input((3,), name="x")
    outputs = Dense(2, name="head")(inputs)
    html = nnx.Model(inputs, outputs, backend=backend)._repr_html_()
    assert "<th>Connected to</th>" in html and "x[0]" in html
