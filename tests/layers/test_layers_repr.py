"""A layer's repr shows its class and config, leaving constructor defaults out."""

from __future__ import annotations

from nnx.layers import Dense, Dropout


def test_layer_repr_shows_config_without_defaults():
    dense = Dense(4, activation="relu", input_shape=(3,), name="hidden")
    text = repr(dense)
    assert text.startswith("Dense(") and text.endswith(")")
    for part in ("name='hidden'", "units=4", "activation='relu'", "input_shape=[3]"):
        assert part in text
    assert "use_bias" not in text and "trainable" not in text  # defaults left out
    assert "kernel_initializer=GlorotUniform" in text  # serialised object as its class name


def test_layer_repr_shows_non_default_values():
    assert repr(Dropout(0.3, name="drop")) == "Dropout(name='drop', rate=0.3)"
    assert "trainable=False" in repr(Dense(2, trainable=False, name="frozen"))
