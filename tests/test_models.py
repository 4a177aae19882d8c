"""Sequential end to end: XOR, two moons, regression; the Keras API; refusals; determinism."""

from __future__ import annotations

import numpy as np
import pytest

import nnx
from nnx import datasets
from nnx.layers import Dense, Dropout, Input


def _moons(n=600, seed=0):
    x, y = datasets.make_moons(n_samples=n, noise=0.2, seed=seed)
    return datasets.train_test_split(
        x, y.reshape(-1, 1).astype("float32"), test_size=0.25, seed=seed
    )


def _mlp(backend, seed=0, dropout=0.0):
    layers = [
        Dense(16, activation="relu", input_shape=(2,)),
        Dense(16, activation="relu"),
        Dense(1, activation="sigmoid"),
    ]
    if dropout:
        layers.insert(1, Dropout(dropout))
    return nnx.Sequential(layers, backend=backend, seed=seed)


@pytest.mark.slow
def test_xor_reaches_full_accuracy(backend):
    x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype="float32")
    y = np.array([[0], [1], [1], [0]], dtype="float32")
    model = nnx.Sequential(
        [Dense(4, activation="tanh", input_shape=(2,)), Dense(1, activation="sigmoid")],
        backend=backend,
        seed=1,
    )
    model.compile(
        optimizer=nnx.optimizers.Adam(learning_rate=0.05),
        loss="binary_crossentropy",
        metrics=["accuracy"],
    )
    model.fit(x, y, epochs=300, batch_size=4, verbose=0)
    loss, acc = model.evaluate(x, y)
    assert acc == 1.0, (loss, model.predict(x))


@pytest.mark.slow
def test_two_moons_reaches_95_percent(backend):
    x_train, x_test, y_train, y_test = _moons(1000)
    model = _mlp(backend)
    model.compile(
        optimizer=nnx.optimizers.Adam(learning_rate=0.01),
        loss="binary_crossentropy",
        metrics=["accuracy"],
    )
    history = model.fit(
        x_train, y_train, epochs=60, batch_size=32, verbose=0, validation_data=(x_test, y_test)
    )
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert set(history.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert model.evaluate(x_test, y_test, return_dict=True)["accuracy"] >= 0.95


@pytest.mark.slow
def test_nonlinear_regression_r2(backend):
    rng = np.random.default_rng(0)
    x = rng.uniform(-2, 2, size=(800, 1)).astype("float32")
    y = (np.sin(3 * x) + 0.5 * x**2 + rng.normal(0, 0.05, size=x.shape)).astype("float32")
    model = nnx.Sequential(
        [Dense(32, activation="tanh", input_shape=(1,)), Dense(32, activation="tanh"), Dense(1)],
        backend=backend,
        seed=0,
    )
    model.compile(optimizer=nnx.optimizers.Adam(learning_rate=0.01), loss="mse", metrics=["mae"])
    model.fit(x[:600], y[:600], epochs=80, batch_size=32, verbose=0)
    pred = model.predict(x[600:])
    r2 = 1 - ((pred - y[600:]) ** 2).sum() / ((y[600:] - y[600:].mean()) ** 2).sum()
    assert r2 >= 0.9


def test_issue_quickstart_runs(backend, capsys):
    x_train, x_test, y_train, y_test = _moons(200)
    x_train = np.hstack([x_train, np.zeros((len(x_train), 28), "float32")])
    x_test = np.hstack([x_test, np.zeros((len(x_test), 28), "float32")])
    model = nnx.Sequential(
        [
            Dense(16, activation="relu", input_shape=(30,)),
            Dropout(0.3),
            Dense(8, activation="relu", kernel_regularizer=nnx.regularizers.l2(0.01)),
            Dense(1, activation="sigmoid"),
        ],
        backend=backend,
    )
    model.compile(
        optimizer=nnx.optimizers.Adam(learning_rate=1e-3),
        loss="binary_crossentropy",
        metrics=["accuracy"],
    )
    history = model.fit(
        x_train.tolist(),
        y_train,
        epochs=3,
        batch_size=32,
        validation_data=(x_test, y_test),
        verbose=2,
        callbacks=[
            nnx.callbacks.EarlyStopping(monitor="val_loss", patience=5, restore_best_weights=True)
        ],
    )
    loss, acc = model.evaluate(x_test, y_test)
    proba = model.predict(x_test)
    model.summary()
    out = capsys.readouterr().out
    assert isinstance(proba, np.ndarray) and proba.shape == (len(x_test), 1)
    assert "Epoch 3/3" in out and "Total params: 641" in out
    assert len(history.history["val_loss"]) == 3 and 0 <= acc <= 1 and loss > 0


def test_fit_accepts_arrays_of_the_models_backend(backend):
    x_train, _, y_train, _ = _moons(100)
    model = _mlp(backend)
    model.compile("sgd", "binary_crossentropy")
    hist = model.fit(backend.asarray(x_train), backend.asarray(y_train), epochs=2, verbose=0)
    assert len(hist.history["loss"]) == 2


def test_progress_bar_verbose_1(backend, capsys):
    x_train, _, y_train, _ = _moons(100)
    model = _mlp(backend)
    model.compile("adam", "binary_crossentropy", metrics=["accuracy"])
    model.fit(x_train, y_train, epochs=1, verbose=1)
    captured = capsys.readouterr()
    assert "Epoch 1/1" in captured.out + captured.err
    assert "accuracy" in captured.out + captured.err


def test_validation_split_and_evaluate_forms(backend):
    x_train, _, y_train, _ = _moons(200)
    model = _mlp(backend)
    model.compile("adam", "binary_crossentropy", metrics=["accuracy", "mse"])
    hist = model.fit(x_train, y_train, epochs=2, validation_split=0.2, verbose=0)
    assert "val_accuracy" in hist.history and "val_mse" in hist.history
    values = model.evaluate(x_train, y_train)
    as_dict = model.evaluate(x_train, y_train, return_dict=True)
    assert list(as_dict) == ["loss", "accuracy", "mse"]
    assert values == pytest.approx(list(as_dict.values()), rel=1e-6)


def test_early_stopping_restores_best_weights(backend):
    x_train, x_test, y_train, y_test = _moons(200)
    model = _mlp(backend)
    model.compile(nnx.optimizers.SGD(learning_rate=5.0), "binary_crossentropy")
    stopper = nnx.callbacks.EarlyStopping(monitor="val_loss", patience=1, restore_best_weights=True)
    hist = model.fit(
        x_train,
        y_train,
        epochs=40,
        verbose=0,
        validation_data=(x_test, y_test),
        callbacks=[stopper],
    )
    assert len(hist.history["loss"]) < 40
    best = min(hist.history["val_loss"])
    assert model.evaluate(x_test, y_test) == pytest.approx(best, rel=1e-5)


def test_lambda_and_custom_callbacks_see_the_hooks(backend):
    x_train, _, y_train, _ = _moons(64)
    seen = []
    cb = nnx.callbacks.LambdaCallback(
        on_epoch_end=lambda e, logs: seen.append((e, logs["loss"])),
        on_train_batch_end=lambda b, logs: seen.append(b),
    )
    model = _mlp(backend)
    model.compile("adam", "binary_crossentropy")
    model.fit(x_train, y_train, epochs=2, batch_size=16, verbose=0, callbacks=[cb], initial_epoch=1)
    assert seen[:3] == [0, 1, 2] and seen[-1][0] == 1 and isinstance(seen[-1][1], float)


@pytest.mark.filterwarnings("ignore:overflow:RuntimeWarning", "ignore:invalid:RuntimeWarning")
def test_terminate_on_nan(backend):
    x = np.ones((64, 2), "float32") * 1e3
    model = nnx.Sequential([Dense(1, input_shape=(2,))], backend=backend, seed=0)
    model.compile(nnx.optimizers.SGD(learning_rate=1e6), "mse")
    model.stop_on_nonfinite = False  # the Keras callback alone (the default guard: test_nonfinite)
    hist = model.fit(
        x,
        np.ones((64, 1), "float32"),
        epochs=50,
        batch_size=8,
        verbose=0,
        callbacks=[nnx.callbacks.TerminateOnNaN()],
    )
    assert len(hist.history["loss"]) < 50


def test_train_step_for_custom_loops(backend):
    x_train, _, y_train, _ = _moons(64)
    model = _mlp(backend)
    model.compile("adam", "binary_crossentropy")
    xb, yb = backend.asarray(x_train[:32]), backend.asarray(y_train[:32])
    first = float(model.train_step(xb, yb))
    for _ in range(30):
        last = float(model.train_step(xb, yb))
    assert last < first
    assert float(model.test_step(xb, yb)) > 0


def test_softmax_with_sparse_and_one_hot_labels(backend):
    x, y = datasets.make_spirals(n_samples=300, n_classes=3, noise=0.1, seed=0)
    for loss, targets in (
        ("sparse_categorical_crossentropy", y),
        ("categorical_crossentropy", np.eye(3, dtype="float32")[y]),
    ):
        model = nnx.Sequential(
            [Dense(32, activation="relu", input_shape=(2,)), Dense(3, activation="softmax")],
            backend=backend,
            seed=0,
        )
        model.compile(nnx.optimizers.Adam(0.02), loss, metrics=["accuracy"])
        hist = model.fit(x, targets, epochs=15, verbose=0)
        assert hist.history["loss"][-1] < hist.history["loss"][0]
        assert model.predict(x[:5]).sum(axis=1) == pytest.approx(np.ones(5), rel=1e-5)


def test_fused_training_matches_the_unfused_gradient(backend):
    x_train, _, y_train, _ = _moons(64)
    models = []
    for fused in (True, False):
        model = _mlp(backend, seed=3)
        model.compile(nnx.optimizers.SGD(0.1), "binary_crossentropy")
        if not fused:
            model._fused_loss = None
        model.fit(x_train, y_train, epochs=2, batch_size=16, shuffle=False, verbose=0)
        models.append(model.get_weights())
    for a, b in zip(*models, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)


def test_regularization_is_in_loss_and_gradient(backend):
    model = nnx.Sequential(
        [Dense(1, input_shape=(2,), use_bias=False, kernel_regularizer=nnx.regularizers.l2(0.5))],
        backend=backend,
        seed=0,
    )
    model.compile(nnx.optimizers.SGD(0.1), "mse")
    x, y = np.zeros((4, 2), "float32"), np.zeros((4, 1), "float32")
    w0 = model.get_weights()[0]
    loss = model.evaluate(x, y)
    assert loss == pytest.approx(0.5 * (w0**2).sum(), rel=1e-5)
    model.fit(x, y, epochs=1, batch_size=4, verbose=0)
    np.testing.assert_allclose(model.get_weights()[0], w0 - 0.1 * 2 * 0.5 * w0, rtol=1e-5)


def test_summary_and_weights(backend, capsys):
    model = nnx.Sequential(
        [Input((30,)), Dense(16, activation="relu"), Dense(1)], backend=backend, seed=0
    )
    model.summary()
    out = capsys.readouterr().out
    assert "dense" in out and "(None, 16)" in out and "Total params: 513" in out
    weights = model.get_weights()
    assert [w.shape for w in weights] == [(30, 16), (16,), (16, 1), (1,)]
    model.set_weights([w * 0 for w in weights])
    assert all((w == 0).all() for w in model.get_weights())
    with pytest.raises(ValueError, match=r"dense.*/kernel has shape \(30, 16\), received"):
        model.set_weights([np.zeros((3, 3)), *weights[1:]])


def test_determinism_same_seed_same_weights(backend):
    x_train, _, y_train, _ = _moons(128)
    runs = []
    for _ in range(2):
        model = _mlp(backend, seed=7, dropout=0.2)
        model.compile("adam", "binary_crossentropy")
        model.fit(x_train, y_train, epochs=3, verbose=0)
        runs.append(model.get_weights())
    for a, b in zip(*runs, strict=True):
        np.testing.assert_array_equal(a, b)


def test_initial_weights_identical_across_backends():
    names = nnx.available()
    weights = [_mlp(name, seed=5).get_weights() for name in names]
    for other in weights[1:]:
        for a, b in zip(weights[0], other, strict=True):
            np.testing.assert_array_equal(a, b)


def test_model_keeps_its_backend_when_the_default_changes():
    with nnx.use_backend("array_api_strict"):
        model = nnx.Sequential([Dense(1, input_shape=(2,))])
    assert model.backend.name == "array_api_strict"
    assert nnx.get_backend().name == "numpy"
    assert model.predict(np.zeros((3, 2))).shape == (3, 1)


# --- refusals ------------------------------------------------------------------------------
def _compiled(backend):
    model = _mlp(backend)
    model.compile("adam", "binary_crossentropy")
    return model


def test_x_y_length_mismatch(backend):
    with pytest.raises(ValueError, match="x has 10, y has 9"):
        _compiled(backend).fit(np.zeros((10, 2)), np.zeros((9, 1)), verbose=0)


def test_nan_in_inputs(backend):
    x = np.zeros((10, 2))
    x[3, 1] = np.nan
    with pytest.raises(ValueError, match="x contains 1 NaN or infinite"):
        _compiled(backend).fit(x, np.zeros((10, 1)), verbose=0)


def test_bce_labels_outside_unit_interval(backend):
    with pytest.raises(
        ValueError,
        match=r"labels must lie in \[0, 1\], received labels in "
        r"\[0, 2\]",
    ):
        _compiled(backend).fit(np.zeros((4, 2)), np.array([[0], [1], [2], [1]]), verbose=0)


def test_sparse_labels_out_of_range(backend):
    model = nnx.Sequential([Dense(3, activation="softmax", input_shape=(2,))], backend=backend)
    model.compile("adam", "sparse_categorical_crossentropy")
    with pytest.raises(ValueError, match=r"integers in \[0, 3\).*received labels in \[0, 3\]"):
        model.fit(np.zeros((4, 2)), np.array([0, 1, 2, 3]), verbose=0)


def test_wrong_feature_count_at_fit(backend):
    with pytest.raises(ValueError, match=r"expected input shape \(batch, 2\), received \(4, 3\)"):
        _compiled(backend).fit(np.zeros((4, 3)), np.zeros((4, 1)), verbose=0)


def test_target_shape_mismatch_is_not_broadcast(backend):
    with pytest.raises(ValueError, match=r"y has shape \(4,\).*y.reshape\(-1, 1\)"):
        _compiled(backend).fit(np.zeros((4, 2)), np.zeros(4), verbose=0)


def test_string_inputs_are_refused(backend):
    with pytest.raises(TypeError, match="x must hold numbers"):
        _compiled(backend).fit(np.array([["a", "b"]] * 4), np.zeros((4, 1)), verbose=0)


def test_predict_before_build():
    model = nnx.Sequential([Dense(2), Dense(1)])
    with pytest.raises(RuntimeError, match="is not built"):
        model.predict(np.zeros((2, 3)))


def test_fit_before_compile():
    with pytest.raises(RuntimeError, match=r"compile\(\) before fit"):
        _mlp("numpy").fit(np.zeros((2, 2)), np.zeros((2, 1)))


def test_unknown_names_list_valid_ones():
    model = _mlp("numpy")
    with pytest.raises(ValueError, match="Unknown loss 'bce2'.*binary_crossentropy"):
        model.compile("adam", "bce2")
    with pytest.raises(ValueError, match="Unknown optimizer 'adamm'.*adam"):
        model.compile("adamm", "mse")
    with pytest.raises(ValueError, match="Unknown metric 'acuracy'.*accuracy"):
        model.compile("adam", "mse", metrics=["acuracy"])
    with pytest.raises(ValueError, match="Unknown backend 'jax'. Valid backends: numpy"):
        nnx.Sequential([], backend="jax")


def test_all_zero_batches_and_huge_inputs_stay_finite(backend):
    model = nnx.Sequential(
        [Dense(8, activation="relu", input_shape=(4,)), Dense(3, activation="softmax")],
        backend=backend,
        seed=0,
    )
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    hist = model.fit(np.zeros((32, 4)), np.zeros(32, dtype=int), epochs=2, verbose=0)
    assert np.all(np.isfinite(hist.history["loss"]))
    huge = np.full((2, 4), 1e4, dtype="float32")
    proba = model.predict(huge)
    assert np.all(np.isfinite(proba)) and proba.sum(axis=1) == pytest.approx([1.0, 1.0])
    assert np.all(np.isfinite(model.evaluate(huge, np.array([0, 2]))))


def test_plain_progress_bar_without_tqdm(backend, capsys, monkeypatch):
    monkeypatch.setitem(__import__("sys").modules, "tqdm.auto", None)  # import now fails
    x_train, _, y_train, _ = _moons(100)
    model = _mlp(backend)
    model.compile("adam", "binary_crossentropy", metrics=["accuracy"])
    model.fit(x_train, y_train, epochs=2, verbose=1)
    out = capsys.readouterr().out
    assert "Epoch 2/2 [====================] 3/3" in out and "accuracy:" in out


def test_non_scalar_metric_in_compile_is_a_clear_error():
    model = nnx.Sequential([Dense(2, activation="softmax", input_shape=(2,))])
    with pytest.raises(ValueError, match="'confusion_matrix'.*non-scalar result"):
        model.compile(
            "adam",
            "sparse_categorical_crossentropy",
            metrics=[nnx.metrics.ConfusionMatrix(num_classes=2)],
        )
