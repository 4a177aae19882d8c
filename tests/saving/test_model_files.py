"""Saving and loading models: bit-exact round trips of every layer, cross-backend loads, the
optimizer state, weights-only files."""

from __future__ import annotations

import numpy as np
import pytest

import nnx
from nnx.layers import (
    Activation,
    Dense,
    Dropout,
    Flatten,
    Input,
    Layer,
    Reshape,
    layer_class,
    layer_names,
    register_layer,
)
from nnx.saving import FileFormatError


@register_layer
class NoisyNorm(Layer):
    """A stand-in for batch normalization: a trainable scale, non-trainable moving statistics
    updated in training, and its own random stream (covered by the generic fallback)."""

    def build_parameters(self, input_shape, rng):
        self.scale = self.add_weight("scale", input_shape[-1:], "ones", rng)
        self.moving_mean = self.add_weight(
            "moving_mean", input_shape[-1:], "zeros", rng, None, False
        )
        self.noise = rng.spawn()

    def forward(self, x, *, training=False):
        xp = self.backend.xp
        if training:
            mean = xp.mean(x, axis=0) + self.noise.normal(tuple(x.shape[1:]), dtype=self.dtype)
            self.moving_mean.value[...] = 0.9 * self.moving_mean.value + 0.1 * mean
        y = (x - self.moving_mean.value) * self.scale.value

        def backprop(dy):
            self.scale.grad = xp.sum(dy * (x - self.moving_mean.value), axis=0)
            return dy * self.scale.value

        return y, backprop


# One sample config per registered layer: (factory, input shape of one sample). A layer added on
# another branch without a row here is covered by the generic fallback: the first of a few
# common argument sets (Keras names) and sample shapes with which it builds. If none works,
# test_every_registered_layer_is_covered fails and asks for a row.
SAMPLES = {
    "Dense": (
        lambda: Dense(
            3,
            activation="tanh",
            kernel_regularizer="l2",
            kernel_constraint=nnx.constraints.max_norm(1.5),
            bias_constraint="non_neg",
            activity_regularizer="l1",
        ),
        (4,),
    ),
    "Activation": (lambda: Activation("softmax"), (5,)),
    "Dropout": (lambda: Dropout(0.3), (4,)),
    "Flatten": (lambda: Flatten(), (2, 3)),
    "Reshape": (lambda: Reshape((3, 2)), (6,)),
    "RepeatVector": (lambda: nnx.layers.RepeatVector(3), (4,)),
    "Masking": (lambda: nnx.layers.Masking(mask_value=0.5), (4, 3)),
    "Rescaling": (lambda: nnx.layers.Rescaling([0.5, 2.0], offset=1.0), (3, 2)),
    "PReLU": (lambda: nnx.layers.PReLU("glorot_uniform", shared_axes=1), (3, 2)),
    "Input": (lambda: Input((4,)), (4,)),
    # image layers take (h, w, c) samples: the generic fallback would try (8,) first
    "RandomFlip": (lambda: nnx.layers.RandomFlip("horizontal_and_vertical", seed=1), (6, 6, 2)),
    "RandomRotation": (lambda: nnx.layers.RandomRotation(0.1, seed=1), (6, 6, 2)),
    "RandomTranslation": (lambda: nnx.layers.RandomTranslation(0.2, 0.2, seed=1), (6, 6, 2)),
    "GaussianNoise": (lambda: nnx.layers.GaussianNoise(0.1, seed=1), (6, 6, 2)),
    "SpatialDropout2D": (lambda: nnx.layers.SpatialDropout2D(0.25), (6, 6, 2)),
    "SpatialDropout1D": (lambda: nnx.layers.SpatialDropout1D(0.25), (5, 4)),
    "Cropping2D": (lambda: nnx.layers.Cropping2D(((1, 0), (2, 1))), (6, 6, 2)),
    "DepthwiseConv2D": (
        lambda: nnx.layers.DepthwiseConv2D(
            3, depth_multiplier=2, depthwise_regularizer="l2", depthwise_constraint="unit_norm"
        ),
        (6, 6, 2),
    ),
    "DepthwiseConv1D": (lambda: nnx.layers.DepthwiseConv1D(2, padding="same"), (5, 4)),
    "SeparableConv2D": (
        lambda: nnx.layers.SeparableConv2D(3, 3, padding="same", activation="relu"),
        (6, 6, 2),
    ),
    "SeparableConv1D": (lambda: nnx.layers.SeparableConv1D(3, 2, depth_multiplier=2), (5, 4)),
    # merge layers take a list: they round-trip in a graph model, called on [x, x]
    "Add": (lambda: nnx.layers.Add(), (6, 2)),
    "Average": (lambda: nnx.layers.Average(), (6, 2)),
    "Multiply": (lambda: nnx.layers.Multiply(), (6, 2)),
    "Subtract": (lambda: nnx.layers.Subtract(), (6, 2)),
    "Concatenate": (lambda: nnx.layers.Concatenate(axis=1), (6, 2)),
    "Maximum": (lambda: nnx.layers.Maximum(), (6, 2)),
    "Minimum": (lambda: nnx.layers.Minimum(), (6, 2)),
    "Dot": (lambda: nnx.layers.Dot(axes=2, normalize=True), (6, 2)),
    "Permute": (lambda: nnx.layers.Permute((2, 1)), (6, 2)),
    # strings are encoded before a model's backend sees them: the saved model keeps the vocabulary
    "TextVectorization": (
        lambda: nnx.layers.TextVectorization(vocabulary=["a", "b"], output_sequence_length=5),
        (5,),
    ),
    "StringLookup": (lambda: nnx.layers.StringLookup(vocabulary=["a", "b"], mask_token=""), (5,)),
    # ids looked up through the host at each call: the vocabulary (and IDF weights) in the config
    "IntegerLookup": (
        lambda: nnx.layers.IntegerLookup(
            vocabulary=[1, 2, 3], idf_weights=[0.5, 1.0, 2.0], output_mode="tf_idf"
        ),
        (5,),
    ),
    # numeric preprocessing: statistics given (adapted ones are weights, saved the same way)
    "Normalization": (lambda: nnx.layers.Normalization(mean=[1.0, 2.0], variance=[4.0, 9.0]), (2,)),
    "Discretization": (
        lambda: nnx.layers.Discretization(bin_boundaries=[-0.5, 0.5], output_mode="one_hot"),
        (3,),
    ),
    "CategoryEncoding": (lambda: nnx.layers.CategoryEncoding(6, output_mode="count"), (5,)),
    # sequence layers take (steps, features) samples; Embedding takes tokens (see INPUTS)
    "Embedding": (
        lambda: nnx.layers.Embedding(6, 3, mask_zero=True, embeddings_constraint="non_neg"),
        (5,),
    ),
    "PositionalEmbedding": (lambda: nnx.layers.PositionalEmbedding(6), (5, 4)),
    "SinusoidalPositionalEncoding": (lambda: nnx.layers.SinusoidalPositionalEncoding(), (5, 4)),
    "GRU": (
        lambda: nnx.layers.GRU(
            3, dropout=0.2, recurrent_dropout=0.2, seed=1, recurrent_constraint="max_norm"
        ),
        (5, 4),
    ),
    "MultiHeadAttention": (lambda: nnx.layers.MultiHeadAttention(2, 2, dropout=0.2), (5, 4)),
    "TransformerEncoder": (lambda: nnx.layers.TransformerEncoder(8, 2, dropout=0.2), (5, 4)),
    # Keras's projection-free attention layers take [query, value]: called on [x, x]
    "Attention": (lambda: nnx.layers.Attention(True, "concat", dropout=0.2, seed=1), (5, 4)),
    "AdditiveAttention": (lambda: nnx.layers.AdditiveAttention(dropout=0.2), (5, 4)),
    "Bidirectional": (
        lambda: nnx.layers.Bidirectional(nnx.layers.LSTM(3, return_sequences=True, dropout=0.2)),
        (5, 4),
    ),
    "TimeDistributed": (lambda: nnx.layers.TimeDistributed(Dense(3)), (5, 4)),
    # cells round-trip inside the RNN layer that runs them
    "RNN": (
        lambda: nnx.layers.RNN(
            [
                nnx.layers.LSTMCell(3, dropout=0.2, recurrent_dropout=0.1, seed=1),
                nnx.layers.GRUCell(2),
            ],
            return_sequences=True,
        ),
        (5, 4),
    ),
    "SimpleRNNCell": (lambda: nnx.layers.RNN(nnx.layers.SimpleRNNCell(3, dropout=0.2)), (5, 4)),
    "LSTMCell": (
        lambda: nnx.layers.RNN(nnx.layers.LSTMCell(3, recurrent_dropout=0.2), go_backwards=True),
        (5, 4),
    ),
    "GRUCell": (lambda: nnx.layers.RNN(nnx.layers.GRUCell(3, reset_after=False)), (5, 4)),
    "StackedRNNCells": (
        lambda: nnx.layers.RNN(
            nnx.layers.StackedRNNCells([nnx.layers.SimpleRNNCell(2), nnx.layers.GRUCell(3)])
        ),
        (5, 4),
    ),
    "Conv2DTranspose": (
        lambda: nnx.layers.Conv2DTranspose(
            3, 3, strides=2, padding="same", activation="relu", kernel_constraint="max_norm"
        ),
        (4, 5, 2),
    ),
    # arithmetic on symbolic tensors: an operation takes a list; a constant enters through one
    "TensorOp": (lambda: nnx.layers.TensorOp("multiply", leading=[None, None]), (6, 2)),
    "Constant": (lambda: None, (6, 2)),
    # a functional model as a layer: a fresh copy of its graph, built with the outer model
    "NestedModel": (
        lambda: nnx.models.NestedModel(
            nnx.Model(
                *(lambda x: (x, Dense(3, activation="tanh")(x)))(nnx.Input((6, 2)))
            ).get_config()
        ),
        (6, 2),
    ),
}
#: layers whose inputs are not real-valued features: ``(rng, n, shape) -> x``
INPUTS = {
    "Embedding": lambda rng, n, shape: rng.integers(0, 6, size=(n, *shape)),
    "CategoryEncoding": lambda rng, n, shape: rng.integers(0, 6, size=(n, *shape)),
    "IntegerLookup": lambda rng, n, shape: rng.integers(0, 5, size=(n, *shape)),
}
FALLBACK_ARGS = [
    {},
    {"units": 3},
    {"filters": 2, "kernel_size": 3},
    {"filters": 2, "kernel_size": 2},
    {"pool_size": 2},
    {"rate": 0.25},
    {"activation": "tanh"},
    {"target_shape": (-1,)},
]
FALLBACK_SHAPES = [(8,), (6, 6, 2), (8, 3), (4, 6, 6, 2)]


def _generic(name: str):
    """``(factory, shape)`` for the first guessed arguments and shape that build, else None."""
    cls = layer_class(name)
    for kwargs in FALLBACK_ARGS:
        for shape in FALLBACK_SHAPES:
            try:
                cls(**kwargs).build(shape, "numpy")
            except Exception:
                continue
            return (lambda kwargs=kwargs: cls(**kwargs)), shape
    return None


def _case(name: str):
    if name in SAMPLES:
        return SAMPLES[name]
    found = _generic(name)
    assert found is not None
    return found


def _own_layer_names() -> list[str]:
    """nnx's layers and this file's (other test files register layers of their own, such as
    RNN cells that only run inside ``RNN``)."""
    own = ("nnx.", __name__)
    return [n for n in layer_names() if layer_class(n).__module__.startswith(own)]


def test_every_registered_layer_is_covered():
    missing = [n for n in _own_layer_names() if n not in SAMPLES and _generic(n) is None]
    assert not missing, f"add a (factory, input_shape) row to SAMPLES for {missing}"


def _train_briefly(model, shape, backend_name, name=""):
    rng = np.random.default_rng(0)
    draw = INPUTS.get(name, lambda rng, n, shape: rng.normal(size=(n, *shape)))
    x = draw(rng, 16, shape).astype("float32")
    y = rng.normal(size=(16, *model.output_shape)).astype("float32")
    model.compile(nnx.optimizers.Adam(0.01), "mse")
    model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    return x


def _exact(a, b):
    return all(
        x.dtype == y.dtype and x.shape == y.shape and x.tobytes() == y.tobytes()
        for x, y in zip(a, b, strict=True)
    )


@pytest.mark.parametrize("name", _own_layer_names())
def test_every_layer_round_trips_bit_exactly(name, backend, tmp_path):
    factory, shape = _case(name)
    if name == "Constant":  # x + table records a Constant node and an add
        x = nnx.Input(shape)
        y = Dense(2)(Flatten()(x + np.arange(12.0).reshape(shape)))
        model = nnx.Model(x, y, backend=backend, seed=1)
    elif layer_class(name).multiple_inputs:
        x = nnx.Input(shape)
        y = Dense(2)(Flatten()(factory()([x, x])))
        model = nnx.Model(x, y, backend=backend, seed=1)
    else:
        layers = [factory()] if name == "Input" else [Input(shape), factory(), Flatten(), Dense(2)]
        model = nnx.Sequential(layers, backend=backend, seed=1)
    x = _train_briefly(model, shape, backend.name, name)
    path = tmp_path / "m.nnx"
    model.save(path)
    clone = nnx.load(path, backend=backend)
    assert clone.get_config() == model.get_config()
    assert [p.name for p in clone.parameters()] == [p.name for p in model.parameters()]
    assert [p.trainable for p in clone.parameters()] == [p.trainable for p in model.parameters()]
    assert _exact(model.get_weights(), clone.get_weights())
    assert model.predict(x).tobytes() == clone.predict(x).tobytes()
    assert clone.optimizer.iterations == model.optimizer.iterations
    more = (x[:4], model.predict(x[:4]))
    model.fit(*more, epochs=1, verbose=0)
    clone.fit(*more, epochs=1, verbose=0)  # RNG streams and optimizer state continue alike
    assert _exact(model.get_weights(), clone.get_weights())


def test_save_on_one_backend_load_on_another(tmp_path):
    for source in nnx.available():
        model = nnx.Sequential([Dense(4, activation="relu", input_shape=(3,)), Dense(1)], seed=0)
        model = nnx.Sequential(
            [Dense(4, activation="relu", input_shape=(3,)), Dense(1)], backend=source, seed=0
        )
        model.compile("adam", "mse", ["mae"])
        model.save(tmp_path / f"{source}.nnx")
        for target in nnx.available():
            clone = nnx.load(tmp_path / f"{source}.nnx", backend=target)
            assert clone.backend.name == target
            assert _exact(model.get_weights(), clone.get_weights())
            assert [m.name for m in clone.metrics] == ["mae"]


def test_non_trainable_parameters_and_optimizer_state_are_saved(tmp_path):
    model = nnx.Sequential([Dense(3, input_shape=(2,)), Dense(1, trainable=False)], seed=0)
    x = np.ones((4, 2), "float32")
    model.compile(nnx.optimizers.Nadam(0.01), "mse")
    model.fit(x, np.ones((4, 1), "float32"), epochs=2, verbose=0)
    model.save(tmp_path / "m.nnx")
    clone = nnx.load(tmp_path / "m.nnx")
    assert [p.trainable for p in clone.parameters()] == [True, True, False, False]
    a, b = model.optimizer.state_dict(), clone.optimizer.state_dict()
    assert a["iterations"] == b["iterations"] == 2 and a["u_product"] == b["u_product"]
    for sa, sb in zip(a["slots"], b["slots"], strict=True):
        assert sa.keys() == sb.keys()
        assert all(np.array_equal(sa[k], sb[k]) for k in sa)
    assert nnx.load(tmp_path / "m.nnx", compile=False).optimizer is None


def test_save_without_optimizer_and_uncompiled(tmp_path):
    model = nnx.Sequential([Dense(2, input_shape=(3,))], seed=0)
    model.save(tmp_path / "plain.nnx")
    assert nnx.load(tmp_path / "plain.nnx").loss is None
    model.compile("sgd", "mse")
    model.save(tmp_path / "noopt.nnx", include_optimizer=False)
    clone = nnx.load(tmp_path / "noopt.nnx")
    assert clone.optimizer.iterations == 0 and clone.loss.name == "mean_squared_error"


def test_save_weights_and_load_weights(tmp_path, backend):
    model = nnx.Sequential([Dense(3, input_shape=(2,)), Dense(1)], backend=backend, seed=0)
    other = nnx.Sequential([Dense(3, input_shape=(2,)), Dense(1)], backend=backend, seed=9)
    model.save_weights(tmp_path / "w.nnx")
    other.load_weights(tmp_path / "w.nnx")
    assert _exact(model.get_weights(), other.get_weights())
    with pytest.raises(FileFormatError, match="weights only"):
        nnx.load(tmp_path / "w.nnx")


def test_unbuilt_model_cannot_be_saved(tmp_path):
    with pytest.raises(RuntimeError, match="not built"):
        nnx.Sequential([Dense(2)]).save(tmp_path / "m.nnx")


def test_compile_settings_are_written_in_the_registry_form_and_read_back(tmp_path):
    model = nnx.Sequential([Dense(2, activation="softmax", input_shape=(3,))], seed=0)
    model.compile(
        nnx.optimizers.SGD(0.05, momentum=0.9),
        "sparse_categorical_crossentropy",
        ["accuracy"],
        stop_on_nonfinite=False,
    )
    model.save(tmp_path / "m.nnx")
    _, meta = nnx.saving.read(tmp_path / "m.nnx")
    settings = meta["compile"]
    assert settings["optimizer"] == nnx.registry.serialize(model.optimizer)
    assert settings["optimizer"]["class_name"] == "SGD"
    assert settings["loss"] == {
        "class_name": "SparseCategoricalCrossentropy",
        "config": model.loss.get_config(),
    }
    assert settings["metrics"] == ["accuracy"] and settings["stop_on_nonfinite"] is False
    clone = nnx.load(tmp_path / "m.nnx")
    assert clone.optimizer.get_config() == model.optimizer.get_config()
    assert clone.loss.get_config() == model.loss.get_config()
    assert clone.stop_on_nonfinite is False and clone.compiled


def test_save_load_functions_are_the_methods(tmp_path, backend):
    model = nnx.Sequential([Dense(3, input_shape=(2,))], backend=backend, seed=0)
    nnx.saving.save_weights(model, tmp_path / "w.nnx")
    other = nnx.Sequential([Dense(3, input_shape=(2,))], backend=backend, seed=1)
    nnx.saving.load_weights(other, tmp_path / "w.nnx")
    assert _exact(model.get_weights(), other.get_weights())
    arrays, meta = nnx.saving.read(tmp_path / "w.nnx")
    assert meta["kind"] == "weights" and sorted(arrays) == ["weights/0", "weights/1"]


def test_a_loss_with_its_own_name_and_arguments_round_trips(tmp_path):
    model = nnx.Sequential([Dense(1, input_shape=(3,))], seed=0)
    model.compile("adam", nnx.losses.Huber(delta=0.5, name="robust"))
    model.save(tmp_path / "m.nnx")
    clone = nnx.load(tmp_path / "m.nnx")
    assert isinstance(clone.loss, nnx.losses.Huber)
    assert (clone.loss.name, clone.loss.delta) == ("robust", 0.5)
