"""Training graph models: lists and dicts of arrays, a loss per output, loss_weights, metrics
per output, Keras's history keys, shared layers' summed gradients, clear refusals."""

from __future__ import annotations

import numpy as np
import pytest

import nnx
from nnx.layers import Concatenate, Dense

RNG = np.random.default_rng(4)
N = 64


def _two_io(backend, **kwargs):
    a, b = nnx.Input((3,), name="a"), nnx.Input((2,), name="b")
    h = Concatenate()([Dense(8, activation="tanh")(a), Dense(8, activation="tanh")(b)])
    reg = Dense(1, name="reg")(h)
    cls = Dense(3, activation="softmax", name="cls")(h)
    return nnx.Model([a, b], [reg, cls], backend=backend, seed=0, **kwargs)


def _data():
    xa, xb = RNG.normal(size=(N, 3)), RNG.normal(size=(N, 2))
    reg = xa[:, :1] - 2 * xb[:, :1]
    cls = (xa[:, 0] > 0).astype(int) + (xb[:, 0] > 0).astype(int)
    return xa, xb, reg, cls


def test_two_inputs_two_outputs_train_with_keras_history_keys(backend):
    xa, xb, reg, cls = _data()
    model = _two_io(backend)
    model.compile(
        nnx.optimizers.Adam(0.02),
        {"reg": "mse", "cls": "sparse_categorical_crossentropy"},
        metrics={"cls": ["accuracy"], "reg": "mae"},
        loss_weights={"reg": 1.0, "cls": 0.5},
    )
    history = model.fit(
        {"a": xa, "b": xb},
        [reg, cls],
        epochs=40,
        batch_size=16,
        verbose=0,
        validation_data=([xa, xb], {"reg": reg, "cls": cls}),
    )
    h = history.history
    assert list(h) == [
        "loss",
        "reg_loss",
        "cls_loss",
        "reg_mae",
        "cls_accuracy",
        "val_loss",
        "val_reg_loss",
        "val_cls_loss",
        "val_reg_mae",
        "val_cls_accuracy",
    ]
    assert h["loss"][-1] < 0.3 * h["loss"][0] and h["cls_accuracy"][-1] > 0.75
    logs = model.evaluate([xa, xb], [reg, cls], return_dict=True)
    assert logs["loss"] == pytest.approx(logs["reg_loss"] + 0.5 * logs["cls_loss"], rel=1e-5)
    reg_pred, cls_pred = model.predict([xa, xb], batch_size=10)
    assert reg_pred.shape == (N, 1) and cls_pred.shape == (N, 3)
    assert isinstance(reg_pred, np.ndarray)


def test_one_loss_for_every_output_and_flat_metrics_apply_to_each(backend):
    xa, xb, reg, _ = _data()
    a, b = nnx.Input((3,), name="a"), nnx.Input((2,), name="b")
    h = Concatenate()([a, b])
    model = nnx.Model({"a": a, "b": b}, {"p": Dense(1, name="p")(h), "q": Dense(1, name="q")(h)})
    model.compile("sgd", "mse", metrics=["mae"])
    history = model.fit([xa, xb], {"p": reg, "q": -reg}, epochs=2, verbose=0)
    assert set(history.history) == {"loss", "p_loss", "q_loss", "p_mae", "q_mae"}
    out = model.predict({"a": xa, "b": xb})
    assert set(out) == {"p", "q"} and out["p"].shape == (N, 1)


def test_loss_weights_scale_each_outputs_gradient(backend):
    xa, xb, reg, cls = _data()
    grads = {}
    for weights in ([1.0, 1.0], [2.0, 0.0]):
        model = _two_io(backend, dtype="float64")
        model.compile("sgd", ["mse", "sparse_categorical_crossentropy"], loss_weights=weights)
        x = [backend.asarray(xa), backend.asarray(xb)]
        y = [backend.asarray(reg), backend.asarray(cls)]
        model.compute_gradients(x, y)
        grads[tuple(weights)] = {p.name: backend.to_numpy(p.grad) for p in model.parameters()}
    even, skewed = grads[(1.0, 1.0)], grads[(2.0, 0.0)]
    np.testing.assert_allclose(skewed["reg/kernel"], 2 * even["reg/kernel"], rtol=1e-12)
    assert not np.any(skewed["cls/kernel"])


def test_a_shared_layer_sums_its_calls_gradients_through_training(backend):
    """Two calls of one layer on the same data must give twice one call's gradient."""
    x = nnx.Input((3,))
    shared = Dense(2, name="shared")
    model = nnx.Model(x, nnx.layers.Add()([shared(x), shared(x)]), backend=backend, seed=0)
    single = nnx.Model(x, Dense(2, name="single")(x), backend=backend, seed=0)
    single.set_weights(model.get_weights())
    xs, ys = RNG.normal(size=(8, 3)), RNG.normal(size=(8, 2))
    for m in (model, single):
        m.compile(nnx.optimizers.SGD(0.1), "mse")
    model.fit(xs, ys, epochs=1, batch_size=8, verbose=0)  # flat gradient buffers where possible
    pred = lambda m: 2 * m.predict(xs) if m is single else m.predict(xs)  # noqa: E731
    before = pred(single)
    dy = 2 * (before - ys) / ys.size  # d mse / d y of the doubled single layer
    expected_kernel = single.get_weights()[0] - 0.1 * 2 * (xs.T @ dy)
    np.testing.assert_allclose(model.get_weights()[0], expected_kernel, rtol=1e-5, atol=1e-6)


def test_single_output_graph_keeps_plain_keys_and_fuses_its_activation(backend):
    x = nnx.Input((3,))
    model = nnx.Model(
        x, Dense(1, activation="sigmoid")(Dense(4, activation="relu")(x)), backend=backend, seed=0
    )
    model.compile("adam", "binary_crossentropy", metrics=["accuracy"])
    assert model.heads[0].fused is not None
    xs = RNG.normal(size=(N, 3))
    history = model.fit(
        xs, (xs[:, :1] > 0).astype(float), epochs=2, verbose=0, validation_split=0.25
    )
    assert list(history.history) == ["loss", "accuracy", "val_loss", "val_accuracy"]
    assert model.predict(xs).shape == (N, 1)


def test_compile_and_data_refusals():
    model = _two_io("numpy")
    xa, xb, reg, cls = _data()
    with pytest.raises(ValueError, match="loss must have one entry per output .2: 'reg', 'cls'"):
        model.compile("sgd", ["mse"])
    with pytest.raises(ValueError, match="loss has key.s. 'nope' that are not outputs"):
        model.compile("sgd", {"nope": "mse", "reg": "mse", "cls": "mse"})
    with pytest.raises(ValueError, match="gives nothing for output.s. 'cls'; every output needs"):
        model.compile("sgd", {"reg": "mse"})
    with pytest.raises(ValueError, match="compile needs a loss"):
        model.compile("sgd")
    with pytest.raises(ValueError, match="loss_weights\\['reg'\\] must be"):
        model.compile("sgd", "mse", loss_weights=[-1.0, 1.0])
    model.compile("sgd", ["mse", "sparse_categorical_crossentropy"])
    with pytest.raises(
        ValueError,
        match="The model has 2 inputs .'a', 'b'.: x must be a list of "
        "2 arrays or a dict by name, received ndarray",
    ):
        model.fit(xa, [reg, cls], verbose=0)
    with pytest.raises(
        ValueError,
        match="x must map each model input name to an array; expected "
        "keys 'a', 'b', received 'a', 'c'",
    ):
        model.fit({"a": xa, "c": xb}, [reg, cls], verbose=0)
    with pytest.raises(
        ValueError,
        match=r"x\['b'\] has shape \(64, 3\) but input 'b' expects "
        r"\(batch, 2\)",
    ):
        model.fit([xa, xa], [reg, cls], verbose=0)
    with pytest.raises(ValueError, match=r"Data cardinality is ambiguous.*y\['cls'\] has 10"):
        model.fit([xa, xb], [reg, cls[:10]], verbose=0)
    with pytest.raises(ValueError, match=r"y\['cls'\] must hold integer class labels"):
        model.fit([xa, xb], [reg, cls + 0.5], verbose=0)
    with pytest.raises(ValueError, match="class_weight is not supported; give per-sample"):
        model.fit([xa, xb], [reg, cls], class_weight={0: 2.0}, verbose=0)


def test_callbacks_and_the_nonfinite_guard_work_with_several_outputs():
    xa, xb, reg, cls = _data()
    model = _two_io("numpy")
    model.compile(nnx.optimizers.SGD(0.05), ["mse", "sparse_categorical_crossentropy"])
    stop = nnx.callbacks.EarlyStopping(monitor="val_cls_loss", patience=0, min_delta=10.0)
    history = model.fit(
        [xa, xb], [reg, cls], epochs=5, validation_split=0.25, callbacks=[stop], verbose=0
    )
    assert len(history.history["val_cls_loss"]) == 2  # no improvement of 10: stops after one more
    model.compile(nnx.optimizers.SGD(1e30), ["mse", "sparse_categorical_crossentropy"])
    before = model.get_weights()
    with np.errstate(all="ignore"), pytest.warns(nnx.training.nonfinite.NonFiniteWarning):
        history = model.fit([xa, xb], [reg * 1e20, cls], epochs=2, batch_size=64, verbose=0)
    assert history.nonfinite["epoch"] == 0 and history.nonfinite["batch"] == 0
    for w0, w1 in zip(before, model.get_weights(), strict=True):
        np.testing.assert_array_equal(w0, w1)


class CountOnes(nnx.layers.Layer):
    """The number of ones in each row of integer codes, as floats (no gradient; unregistered,
    so the registry-wide saving tests do not see it)."""

    def compute_output_shape(self, input_shape):
        return (1,)

    def forward(self, x, *, training=False):
        xp = self.backend.xp
        assert xp.isdtype(x.dtype, "integral")
        y = xp.astype(xp.sum(xp.astype(x == 1, xp.int64), axis=1, keepdims=True), xp.float32)
        return y, lambda dy: None


def test_an_integer_input_keeps_its_dtype(backend):
    codes = nnx.Input((4,), dtype="int64", name="codes")
    model = nnx.Model(codes, Dense(1, name="out")(CountOnes()(codes)), backend=backend, seed=0)
    model.compile(nnx.optimizers.SGD(0.05), "mse")
    x = RNG.integers(0, 3, size=(32, 4))
    y = (x == 1).sum(axis=1, keepdims=True).astype(float)
    history = model.fit(x, 2 * y + 1, epochs=60, batch_size=8, verbose=0)
    assert history.history["loss"][-1] < 0.01
    np.testing.assert_allclose(model.predict(x[:3]), 2 * y[:3] + 1, atol=0.2)


def test_one_input_data_of_the_wrong_shape_names_the_input(backend):
    x = nnx.Input((3,), name="features")
    model = nnx.Model(x, nnx.layers.Add()([x, Dense(3)(x)]), backend=backend)
    model.compile("sgd", "mse")
    with pytest.raises(
        ValueError,
        match=r"Layer 'features' \(Input\) expected input shape "
        r"\(batch, 3\), received \(4, 4\)",
    ):
        model.fit(np.zeros((4, 4)), np.zeros((4, 3)), verbose=0)
