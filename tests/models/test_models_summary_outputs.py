"""``summary()`` of graph models whose layers have several outputs (states, two directions,
attention scores): each output's shape is printed, and "Connected to" names each output."""

from __future__ import annotations

import nnx
from nnx.layers import GRU, LSTM, Bidirectional, Dense, MultiHeadAttention


def _rows(model) -> dict[str, str]:
    lines: list[str] = []
    model.summary(print_fn=lines.append)
    return {line.split(" (")[0]: line for line in lines if " (" in line and "Model:" not in line}


def test_summary_lists_the_shape_of_every_output():
    enc, dec = nnx.Input((None, 12), name="enc_in"), nnx.Input((7, 12), name="dec_in")
    _, h, c = LSTM(16, return_state=True, name="encoder")(enc)
    y = LSTM(16, return_sequences=True, name="decoder")(dec, initial_state=[h, c])
    f, b = Bidirectional(GRU(8, return_sequences=True), merge_mode=None, name="both")(y)
    o, *_ = Bidirectional(LSTM(4, return_state=True), name="states")(f)
    att, _ = MultiHeadAttention(2, 4, name="mha")(b, f, return_attention_scores=True)
    model = nnx.Model([enc, dec], [Dense(3, name="head")(o), att])
    rows = _rows(model)
    assert "[(None, 16), (None, 16), (None, 16)]" in rows["encoder"]
    assert "(None, 7, 16)" in rows["decoder"]
    assert "encoder[0][1], encoder[0][2]" in rows["decoder"]
    assert "[(None, 7, 8), (None, 7, 8)]" in rows["both"]
    assert "[(None, 8), (None, 4), (None, 4), (None, 4), (None, 4)]" in rows["states"]
    assert "both[0][0]" in rows["states"]
    assert "[(None, 7, 8), (None, 2, 7, 7)]" in rows["mha"]
    assert "both[0][1], both[0][0]" in rows["mha"]
    assert "(None, 3)" in rows["head"] and "[" not in rows["head"].split("(None, 3)")[0]
    assert "[(None" in model._repr_html_()
