"""The CuPy backend's own Python code, run on the CPU with ``cupy`` stood in by NumPy.

``fake_cupy`` runs each fused kernel as its NumPy reference and refuses what CuPy would get
wrong (arrays on another device than the current one, kernel scalars of the wrong dtype), so
seeding, the saved device stream, the device context and fast-path dispatch are covered here.
"""

from __future__ import annotations

import json

import fake_cupy
import numpy as np
import pytest

import nnx
import nnx.backends as nb
from nnx.backends.coefficients import AdamCoefficients, SGDCoefficients
from nnx.backends.cupy_backend import CupyBackend
from nnx.functional import activations as F
from nnx.layers import Dense, Dropout
from nnx.saving.state import capture_state, restore_state


@pytest.fixture
def fake(monkeypatch):
    """A stand-in ``cupy`` and a backend on device 1 while device 0 is current, known to
    ``nnx.backends.backend_of`` as ``get_backend("cupy:1")`` would make it."""
    cupy, namespace = fake_cupy.make()
    backend = CupyBackend(1, cupy=cupy, namespace=namespace)
    monkeypatch.setitem(nb._instances, "cupy-standin", backend)
    yield cupy, backend
    fake_cupy._CURRENT.remove(cupy)


def _mlp(backend, seed=0):
    return nnx.Sequential(
        [Dense(8, "relu", input_shape=(4,)), Dropout(0.5), Dense(1, "sigmoid")],
        backend=backend,
        seed=seed,
    )


def _data():
    X = np.random.default_rng(0).normal(size=(48, 4)).astype("float32")
    return X, (X[:, :1] > 0).astype("float32")


def test_seed_gives_numpy_initial_weights_and_host_draws(fake):
    _, backend = fake
    model = _mlp(backend)  # built on device 1 while device 0 is current
    for p, q in zip(model.parameters(), _mlp("numpy").parameters(), strict=True):
        np.testing.assert_array_equal(backend.to_numpy(p.value), q.value)
    rng, reference = backend.rng(7), nnx.backends.get_backend("numpy").rng(7)
    rng.bernoulli((100,), 0.5)  # device draws do not move the host stream
    np.testing.assert_array_equal(backend.to_numpy(rng.normal((5,))), reference.normal((5,)))


def test_device_stream_is_counter_based_and_saved(fake):
    _, backend = fake
    rng = backend.rng(3)
    state = json.loads(json.dumps(rng.get_state()))  # checkpoints store it as JSON
    first = backend.to_numpy(rng.bernoulli((6, 5), 0.4))
    second = backend.to_numpy(rng.bernoulli((7,), 0.4))
    whole = backend.to_numpy(backend.rng(3).bernoulli((37,), 0.4))
    np.testing.assert_array_equal(np.concatenate([first.ravel(), second]), whole)
    rng.set_state(state)
    np.testing.assert_array_equal(backend.to_numpy(rng.bernoulli((6, 5), 0.4)), first)
    mask = backend.to_numpy(backend.rng(0).bernoulli((20000,), 0.3, dtype="float64"))
    assert mask.dtype == np.float64 and set(np.unique(mask)) == {0.0, 1.0}
    assert 0.28 < mask.mean() < 0.32
    assert backend.to_numpy(rng.bernoulli((50,), 1.0)).min() == 1.0
    assert backend.to_numpy(rng.bernoulli((50,), 0.0)).max() == 0.0


def test_spawned_generators_have_their_own_device_stream(fake):
    _, backend = fake
    parent = backend.rng(5)
    a, b = parent.spawn(), parent.spawn()
    keys = {parent.device_key, a.device_key, b.device_key}
    assert len(keys) == 3
    before = parent.get_state()
    a.bernoulli((10,), 0.5)
    assert parent.get_state() == before
    masks = [backend.to_numpy(g.bernoulli((64,), 0.5)) for g in (a, b)]
    assert not np.array_equal(*masks)


def test_arrays_and_kernels_stay_on_the_backend_device(fake):
    cupy, backend = fake
    assert cupy.current == 0
    made = [
        backend.asarray([1.0, 2.0]),
        backend.xp.zeros((2,), dtype=backend.xp.float32, device=backend.device),
        backend.xp.ones_like(backend.asarray([1.0])),
        backend.rng(0).normal((3,)),
        backend.rng(0).bernoulli((3,), 0.5),
        backend.flat_views([(2, 2), (3,)], "float32")[0],  # type: ignore[index]
    ]
    assert all(backend.owns(x) and x.device.id == 1 for x in made)
    assert cupy.current == 0  # every context was left
    on_zero = cupy.zeros((3,), dtype="float32")
    assert not backend.owns(on_zero)
    assert backend.owns(backend.asarray(on_zero))  # moved through the host, by design
    with pytest.raises(ValueError, match="current device is 0"):
        backend.kernel("nnx_relu_bwd")(backend.asarray([1.0]), backend.asarray([1.0]))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_fused_kernels_match_the_portable_code(fake, dtype):
    cupy, backend = fake
    numpy = nnx.backends.get_backend("numpy")
    rng = np.random.default_rng(1)
    dy, x = (rng.normal(size=(4, 5)).astype(dtype) for _ in range(2))
    y = np.tanh(x)
    for fast, reference in [
        (backend.relu_backward, F.relu_backward),
        (backend.sigmoid_backward, F.sigmoid_backward),
        (backend.tanh_backward, F.tanh_backward),
    ]:
        got = fast(backend.asarray(dy), backend.asarray(x), backend.asarray(y))
        assert got.dtype == np.dtype(dtype)
        np.testing.assert_allclose(backend.to_numpy(got), reference(dy, x, y), rtol=1e-6)
    w, g, m, v = (rng.normal(size=(6,)).astype(dtype) for _ in range(4))
    v = np.abs(v)
    dev = [backend.asarray(a) for a in (w, g, m, v)]
    c = AdamCoefficients(0.9, 0.999, 0.01, 1e-7)
    assert backend.adam_update(dev[0], dev[1], dev[2], dev[3], c)
    host = [a.copy() for a in (w, g, m, v)]
    assert numpy.adam_update(host[0], host[1], host[2], host[3], c)
    for a, b in zip(dev, host, strict=True):
        np.testing.assert_allclose(backend.to_numpy(a), b, rtol=1e-5)
    vel = backend.asarray(np.zeros(6, dtype))
    assert backend.sgd_momentum_update(dev[0], dev[1], vel, SGDCoefficients(0.1, 0.9))
    np.testing.assert_allclose(backend.to_numpy(vel), -0.1 * g, rtol=1e-6)
    assert {"nnx_relu_bwd", "nnx_adam", "nnx_sgd_momentum"} <= set(cupy.kernel_calls)


def test_kernel_scalars_must_have_the_arrays_dtype(fake):
    _, backend = fake
    w = backend.asarray(np.zeros(3, "float32"))
    kernel = backend.kernel("nnx_sgd_momentum")
    with backend.cupy_device:
        with pytest.raises(TypeError, match="'lr' has dtype float64, expected float32"):
            kernel(w, np.float64(0.1), np.float32(0.9), w, w)
        with pytest.raises(TypeError, match="Python float"):
            kernel(w, 0.1, np.float32(0.9), w, w)


def test_matmul_writes_into_out(fake):
    cupy, backend = fake
    a, b = backend.asarray(np.ones((3, 4), "float32")), backend.asarray(np.ones((4, 2), "float32"))
    out = backend.xp.zeros((3, 2), dtype=backend.xp.float32, device=backend.device)
    assert backend.matmul(a, b, out=out) is out
    np.testing.assert_array_equal(backend.to_numpy(out), np.full((3, 2), 4.0))
    batched = backend.asarray(np.ones((2, 3, 4), "float32"))
    out3 = backend.xp.zeros((2, 3, 2), dtype=backend.xp.float32, device=backend.device)
    assert backend.matmul(batched, b, out=out3) is out3
    strided = backend.xp.zeros((3, 4), dtype=backend.xp.float32, device=backend.device)[:, ::2]
    assert backend.matmul(a, b, out=strided) is strided  # not contiguous: product, then copy
    np.testing.assert_array_equal(backend.to_numpy(strided), np.full((3, 2), 4.0))
    assert cupy.kernel_calls[:3] == ["dot", "matmul", "matmul"]


def test_training_with_dropout_resumes_bit_exactly(fake):
    _, backend = fake
    X, y = _data()

    def trained(epochs, model=None):
        model = model or _mlp(backend)
        if model.optimizer is None:
            model.compile("adam", "binary_crossentropy", metrics=["accuracy", "mse"])
        model.fit(X, y, epochs=epochs, batch_size=16, verbose=0, shuffle=True)
        return model

    straight = trained(4)
    half = trained(2)
    arrays, info = capture_state(half)
    info = json.loads(json.dumps(info))
    resumed = _mlp(backend, seed=99)
    resumed.compile("adam", "binary_crossentropy", metrics=["accuracy", "mse"])
    resumed.fit(X[:1], y[:1], epochs=1, verbose=0)  # builds the optimizer's slots
    restore_state(resumed, {k: backend.to_numpy(v) for k, v in arrays.items()}, info)
    trained(2, resumed)
    for p, q in zip(straight.parameters(), resumed.parameters(), strict=True):
        np.testing.assert_array_equal(backend.to_numpy(p.value), backend.to_numpy(q.value))


def test_info_and_synchronize(fake):
    cupy, backend = fake
    backend.synchronize()
    assert cupy.synchronizations == 1
    assert backend.device_name() == "cuda:1 (nnx fake GPU)"
    assert backend.library_version() == cupy.__version__


def test_selfcheck_passes_on_the_stand_in(fake):
    from nnx import selfcheck

    _, backend = fake
    report = selfcheck.run(backend, skip=("tests", "bench"), out=None, echo=lambda s: None)
    assert report["verdict"].startswith("selfcheck PASS on cupy (cuda:1 (nnx fake GPU), ")
    env = report["environment"]
    assert (env["cuda_driver"], env["compute_capability"], env["memory_gib"]) == (
        "12.8",
        "9.0",
        "141.0",
    )
    kernels = report["checks"]["kernels"]
    assert kernels["max_relative_error"]["bernoulli_mask/float32"] == 0.0
    assert kernels["declined (portable code runs)"] == []


def _on_device_one(backend, model):
    assert all(backend.owns(p.value) and p.value.device.id == 1 for p in model.parameters())


def test_model_computes_on_its_device_while_another_is_current(fake, tmp_path):
    cupy, backend = fake
    X, y = _data()
    model = _mlp(backend)
    model.compile("adam", "binary_crossentropy", metrics=["accuracy"])
    callbacks = [
        nnx.callbacks.ModelCheckpoint(str(tmp_path / "m-{epoch}.nnx")),
        nnx.callbacks.BackupAndRestore(tmp_path / "backup"),
    ]
    history = model.fit(
        X, y, epochs=2, batch_size=16, validation_split=0.25, verbose=0, callbacks=callbacks
    )
    assert len(history.history["val_loss"]) == 2
    assert isinstance(model.evaluate(X, y, verbose=0), list)
    assert model.predict(X).shape == (48, 1)
    xb, yb = backend.asarray(X[:8]), backend.asarray(y[:8])
    assert np.isfinite(backend.to_numpy(model.train_step(xb, yb)))
    assert np.isfinite(backend.to_numpy(model.test_step(xb, yb)))
    assert model(xb).device.id == 1
    model.set_weights(model.get_weights())
    _on_device_one(backend, model)
    loaded = nnx.load(tmp_path / "m-2.nnx", backend=backend)
    _on_device_one(backend, loaded)
    loaded.fit(X, y, epochs=1, verbose=0)
    inputs = nnx.layers.Input((4,))
    graph = nnx.Model(inputs, Dense(1)(Dense(3, "tanh")(inputs)), backend=backend, seed=0)
    graph.compile("sgd", "mse")
    graph.fit(X, y, epochs=1, verbose=0)
    assert graph.predict(X).shape == (48, 1)
    _on_device_one(backend, graph)
    assert cupy.current == 0 and cupy.stack == [0] and cupy.device_errors == 0


def test_the_stand_in_refuses_work_outside_the_device_scope(fake, monkeypatch):
    cupy, backend = fake
    assert cupy.device_errors == 0
    x = backend.asarray([1.0, 2.0])
    with pytest.raises(ValueError, match="array device = 1 while current = 0"):
        x + 1.0
    with backend.device_scope():
        assert (x + 1.0).device.id == 1
    model = _mlp(backend)
    model.compile("sgd", "binary_crossentropy")
    monkeypatch.setattr(type(backend), "scoped", False)  # fit would no longer enter device 1
    monkeypatch.setattr(type(backend), "device_scope", nnx.backends.Backend.device_scope)
    with pytest.raises(ValueError, match="current device"):
        model.fit(*_data(), epochs=1, verbose=0)
    assert cupy.device_errors == 2


def test_get_backend_names_a_cuda_device(fake, monkeypatch):
    cupy, _ = fake
    import sys

    monkeypatch.setitem(sys.modules, "cupy", cupy)
    monkeypatch.setitem(sys.modules, "array_api_compat.cupy", fake_cupy.FakeNamespace(cupy))
    monkeypatch.setattr(nb, "_instances", {})
    one = nb.get_backend("cupy:1")
    assert one.cupy_device.id == 1 and nb.get_backend("GPU:1") is one
    assert nb.get_backend("cupy:0") is nb.get_backend("cupy") is not one
    assert nb.get_backend("cupy").cupy_device.id == 0
    model = _mlp("cupy:1")
    assert model.backend is one
    _on_device_one(one, model)
    with pytest.raises(ValueError, match="Unknown backend 'cupy:x'"):
        nb.get_backend("cupy:x")


def test_gradcheck_and_diagnostics_enter_the_device(fake):
    cupy, backend = fake
    X, y = _data()
    errors = nnx.gradcheck(Dense(3, "tanh"), X[:4], backend=backend)
    assert max(errors.values()) < 1e-6
    model = nnx.Sequential([Dense(3, "tanh", input_shape=(4,)), Dense(1)], backend=backend)
    model.compile("sgd", "mse")
    assert len(nnx.diagnostics.gradient_norms(model, X, y)) == 4
    assert [r["activation"] for r in nnx.diagnostics.activation_stats(model, X)] == [
        "tanh",
        "linear",
    ]
    assert cupy.current == 0 and cupy.device_errors == 0
