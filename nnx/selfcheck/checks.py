"""The checks of ``selfcheck`` beyond the kernels: gradients of every layer, seeds, resume, the
test suite and the benchmark, each returning ``{"status": "pass" | "fail" | "skip", ...}``."""

from __future__ import annotations

import math
import os
import subprocess
import sys
from typing import Any

import nnx.backends as nb

__all__ = [
    "LAYER_CASES",
    "check_bench",
    "check_gradients",
    "check_resume",
    "check_seeds",
    "check_tests",
]

Result = dict[str, Any]


def _cell(name: str, units: int) -> dict[str, Any]:
    return {"class_name": name, "config": {"units": units}}


#: layers that are one step of a recurrent layer: checked inside ``RNN(cell)``
CELLS = ("SimpleRNNCell", "LSTMCell", "GRUCell", "StackedRNNCells")
#: the graph config of a small functional model (x -> Dense(3, tanh)), for NestedModel's case
NESTED_GRAPH: dict[str, Any] = {
    "class_name": "Functional",
    "name": "nested",
    "layers": [
        {"class_name": "Input", "config": {"name": "nested_x", "shape": [4]}},
        {
            "class_name": "Dense",
            "config": {"name": "nested_dense", "units": 3, "activation": "tanh"},
        },
    ],
    "nodes": [{"layer": "nested_dense", "inputs": [["nested_x", 0]], "multiple": False}],
    "inputs": [["nested_x", 0]],
    "outputs": [["nested_dense", 0]],
    "input_form": "single",
    "output_form": "single",
}

#: one case per registered layer: (class name, constructor arguments, input shape, training)
#: (``TextVectorization`` and ``StringLookup`` map strings, ``IntegerLookup`` ids to indices,
#: ``Discretization`` and ``CategoryEncoding`` values to bins and ids: nothing to differentiate)
#: (a list of shapes: a merge layer, checked in a graph of that many inputs)
LAYER_CASES: list[tuple[str, dict[str, Any], Any, bool]] = [
    ("Dense", {"units": 3, "activation": "tanh"}, (4,), False),
    ("Activation", {"activation": "sigmoid"}, (5,), False),
    ("ReLU", {"max_value": 1.0, "negative_slope": 0.1, "threshold": 0.2}, (6,), False),
    ("LeakyReLU", {"negative_slope": 0.2}, (5,), False),
    ("ELU", {"alpha": 0.5}, (5,), False),
    ("Softmax", {"axis": (1, 2)}, (3, 2), False),
    ("PReLU", {"alpha_initializer": "glorot_uniform", "shared_axes": 1}, (3, 2), False),
    ("Identity", {}, (4,), False),
    ("Rescaling", {"scale": [0.5, 2.0], "offset": 1.0}, (3, 2), False),
    ("Normalization", {"mean": [1.0, -2.0], "variance": [4.0, 0.5]}, (3, 2), False),
    ("Dropout", {"rate": 0.3}, (6,), True),
    ("GaussianNoise", {"stddev": 0.3}, (3,), True),
    ("BatchNormalization", {}, (4,), True),
    ("LayerNormalization", {}, (5,), False),
    ("Conv1D", {"filters": 2, "kernel_size": 3, "padding": "same"}, (6, 2), False),
    ("Conv2D", {"filters": 2, "kernel_size": 2, "strides": 2}, (5, 5, 2), False),
    ("Conv1DTranspose", {"filters": 2, "kernel_size": 3, "strides": 2}, (4, 2), False),
    (
        "Conv2DTranspose",
        {"filters": 2, "kernel_size": 3, "strides": 2, "padding": "same"},
        (3, 3, 2),
        False,
    ),
    ("MaxPooling1D", {"pool_size": 2}, (6, 2), False),
    ("MaxPooling2D", {"pool_size": 2}, (4, 4, 2), False),
    ("AveragePooling1D", {"pool_size": 3, "padding": "same"}, (5, 2), False),
    ("AveragePooling2D", {"pool_size": 2, "strides": 1}, (3, 4, 2), False),
    ("GlobalMaxPooling1D", {}, (4, 2), False),
    ("GlobalMaxPooling2D", {}, (3, 3, 2), False),
    ("GlobalAveragePooling1D", {}, (4, 2), False),
    ("GlobalAveragePooling2D", {}, (3, 3, 2), False),
    ("Flatten", {}, (2, 3), False),
    ("Reshape", {"target_shape": (3, 2)}, (6,), False),
    ("RepeatVector", {"n": 3}, (4,), False),
    # mask_value far from the normal draws: a central difference never crosses it
    ("Masking", {"mask_value": 9.0}, (3, 2), False),
    ("ZeroPadding2D", {"padding": 1}, (3, 3, 1), False),
    ("Cropping2D", {"cropping": ((1, 0), (0, 2))}, (3, 4, 1), False),
    ("DepthwiseConv2D", {"kernel_size": 2, "depth_multiplier": 2}, (4, 3, 2), False),
    ("DepthwiseConv1D", {"kernel_size": 3, "padding": "same"}, (5, 2), False),
    ("SeparableConv2D", {"filters": 3, "kernel_size": 2, "strides": 2}, (5, 4, 2), False),
    ("SeparableConv1D", {"filters": 2, "kernel_size": 2, "depth_multiplier": 2}, (5, 2), False),
    ("UpSampling2D", {"size": 2}, (2, 3, 1), False),
    ("SpatialDropout2D", {"rate": 0.5}, (3, 3, 4), True),
    ("SpatialDropout1D", {"rate": 0.5}, (3, 4), True),
    ("ZeroPadding1D", {"padding": (1, 2)}, (3, 2), False),
    ("Cropping1D", {"cropping": (1, 0)}, (4, 2), False),
    ("UpSampling1D", {"size": 2}, (3, 2), False),
    ("Permute", {"dims": (2, 1)}, (3, 2), False),
    ("RandomFlip", {}, (3, 4, 2), True),
    ("RandomRotation", {"factor": 0.1}, (5, 4, 2), True),
    ("RandomTranslation", {"height_factor": 0.2, "width_factor": 0.2}, (4, 5, 1), True),
    ("Embedding", {"input_dim": 5, "output_dim": 3}, (4,), False),
    ("PositionalEmbedding", {"sequence_length": 6}, (4, 3), False),
    ("SinusoidalPositionalEncoding", {}, (5, 6), False),
    ("SimpleRNN", {"units": 3}, (4, 2), False),
    ("LSTM", {"units": 2}, (3, 2), False),
    ("GRU", {"units": 2}, (3, 2), False),
    ("Bidirectional", {"layer": {"class_name": "LSTM", "config": {"units": 1}}}, (3, 2), False),
    (
        "RNN",
        {"cell": [_cell("LSTMCell", 2), _cell("SimpleRNNCell", 2)], "go_backwards": True},
        (3, 2),
        False,
    ),
    ("SimpleRNNCell", {"units": 2}, (3, 2), False),  # cells: checked inside RNN(cell)
    ("LSTMCell", {"units": 2}, (3, 2), False),
    ("GRUCell", {"units": 2, "reset_after": False}, (3, 2), False),
    ("StackedRNNCells", {"cells": [_cell("GRUCell", 2), _cell("LSTMCell", 1)]}, (3, 2), False),
    ("TimeDistributed", {"layer": {"class_name": "Dense", "config": {"units": 2}}}, (3, 4), False),
    ("MultiHeadAttention", {"num_heads": 2, "key_dim": 3}, (4, 5), False),
    ("TransformerEncoder", {"intermediate_dim": 5, "num_heads": 3}, (4, 6), False),
    ("Attention", {"use_scale": True, "score_mode": "concat"}, [(3, 4), (5, 4)], False),
    ("AdditiveAttention", {}, [(3, 4), (5, 2), (5, 4)], False),
    ("Add", {}, [(4,), (4,)], False),
    ("Subtract", {}, [(4,), (4,)], False),
    ("Multiply", {}, [(4,), (4,)], False),
    ("Average", {}, [(4,), (4,)], False),
    ("Concatenate", {}, [(3,), (2,)], False),
    ("Maximum", {}, [(4,), (4,)], False),
    ("Minimum", {}, [(4,), (4,)], False),
    ("Dot", {"axes": 2, "normalize": True}, [(3, 2), (4, 2)], False),
    # arithmetic on symbolic tensors (x * y, broadcast); a Constant node has no gradient
    ("TensorOp", {"op": "multiply", "leading": [None, None]}, [(3, 4), (1, 4)], False),
    # a functional model used as a layer, given as its graph config
    ("NestedModel", {"model": NESTED_GRAPH}, (4,), False),
]

#: layers whose input is token ids in ``[0, n)`` (checked for their weights' gradient)
TOKEN_INPUTS = {"Embedding": 5}


def check_gradients(backend: nb.Backend) -> Result:
    """Every case of :data:`LAYER_CASES` through :func:`nnx.gradcheck`, float64."""
    from nnx.gradcheck import gradcheck
    from nnx.layers import Input, layer_class
    from nnx.models.functional import Functional

    rng = nb.get_backend("numpy").rng(0)
    errors = {}
    for name, kwargs, shape, training in LAYER_CASES:
        layer = layer_class(name)(**kwargs)
        target: Any = layer
        if name in CELLS:
            rnn: Any = layer_class("RNN")
            target = rnn(layer, return_sequences=True)
        if isinstance(shape, list):  # a merge layer, in a graph of its inputs
            inputs = [Input(s) for s in shape]
            target = Functional(inputs, layer(inputs), backend=backend, seed=0)
            x: Any = [rng.normal((3, *s), dtype="float64") for s in shape]
        elif name in TOKEN_INPUTS:
            x = rng.integers(0, TOKEN_INPUTS[name], (3, *shape))
        else:
            x = rng.normal((3, *shape), dtype="float64")
        found = gradcheck(target, x, backend=backend, training=training, tolerance=math.inf)
        # NOTE: attention's key bias shifts a whole row of scores, which softmax ignores: its
        # exact gradient is 0, so its relative error means nothing (tests check its size).
        errors[name] = max(v for k, v in found.items() if not k.endswith("key_bias"))
    bad = {k: v for k, v in errors.items() if not v < 1e-6}
    return {"status": "fail" if bad else "pass", "max_relative_error": errors, "failed": bad}


def _model(backend: nb.Backend | str, dropout: bool, seed: int = 0) -> Any:
    from nnx.layers import Conv2D, Dense, Dropout, Flatten, MaxPooling2D
    from nnx.models import Sequential

    layers = [
        Conv2D(4, 3, activation="relu", input_shape=(8, 8, 1)),
        MaxPooling2D(2),
        Flatten(),
        Dense(16, activation="tanh"),
        *([Dropout(0.3)] if dropout else []),
        Dense(3, activation="softmax"),
    ]
    return Sequential(layers, backend=backend, seed=seed)


def _data() -> tuple[Any, Any]:
    host = nb.get_backend("numpy")
    rng = host.rng(3)
    x = host.to_numpy(rng.normal((96, 8, 8, 1), dtype="float32"))
    y = host.to_numpy(rng.integers(0, 3, (96,)))
    return x, y


def check_seeds(backend: nb.Backend) -> Result:
    """Initial weights and host draws equal NumPy's, bit for bit."""
    host = nb.get_backend("numpy")
    ours, theirs = _model(backend, True), _model(host, True)
    differing = [
        p.name
        for p, q in zip(ours.parameters(), theirs.parameters(), strict=True)
        if not (backend.to_numpy(p.value) == q.value).all()
    ]
    a, b = backend.rng(11), host.rng(11)
    draws_equal = bool((backend.to_numpy(a.normal((50,))) == b.normal((50,))).all())
    ok = not differing and draws_equal
    return {"status": "pass" if ok else "fail", "differing": differing, "draws_equal": draws_equal}


def check_resume(backend: nb.Backend) -> Result:
    """Stop, save, restore, go on: bit-identical to a straight run; close to NumPy's run."""
    import tempfile

    from nnx.models.loading import load

    x, y = _data()

    def fit(model: Any, epochs: int) -> Any:
        if model.optimizer is None:
            model.compile("adam", "sparse_categorical_crossentropy")
        model.fit(x, y, epochs=epochs, batch_size=16, verbose=0)
        return model

    straight = fit(_model(backend, True), 4)
    half = fit(_model(backend, True), 2)
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "half.nnx")
        half.save(path)
        resumed = fit(load(path, backend=backend), 2)
    exact = all(
        (backend.to_numpy(p.value) == backend.to_numpy(q.value)).all()
        for p, q in zip(straight.parameters(), resumed.parameters(), strict=True)
    )
    ours, theirs = fit(_model(backend, False), 2), fit(_model("numpy", False), 2)
    drift = max(
        float(abs(backend.to_numpy(p.value) - q.value).max())
        for p, q in zip(ours.parameters(), theirs.parameters(), strict=True)
    )
    ok = exact and drift < 1e-3
    return {
        "status": "pass" if ok else "fail",
        "bit_exact_resume": exact,
        "max_drift_vs_numpy": drift,
    }


def check_tests(backend: nb.Backend, timeout_s: float = 420.0) -> Result:
    """The test suite on this backend only, in a subprocess."""
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    if not os.path.isdir(os.path.join(root, "tests")):
        return {"status": "skip", "reason": "no tests/ folder beside the nnx package"}
    env = {**os.environ, "NNX_TEST_BACKENDS": backend.name}
    command = [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", "tests"]
    try:
        done = subprocess.run(
            command, cwd=root, env=env, capture_output=True, text=True, timeout=timeout_s
        )
    except subprocess.TimeoutExpired:
        return {"status": "fail", "reason": f"the suite ran past {timeout_s:.0f} s"}
    tail = (done.stdout + done.stderr).strip().splitlines()[-15:]
    return {"status": "pass" if done.returncode == 0 else "fail", "summary": tail}


def check_bench(backend: nb.Backend) -> Result:
    """``nnx bench --quick`` rows (samples/s of nnx, and of torch on the same device)."""
    from nnx.benchmarks.runner import run as bench

    rows = bench(backend.name, quick=True, print_fn=lambda line: None)
    return {"status": "pass", "rows": rows}
