"""Number-by-number agreement with PyTorch: same data, same initial weights, same updates.

A float64 nnx model and the equivalent ``torch.nn.Sequential`` are trained side by side for a
few epochs without shuffling; their losses and final weights must agree to ~1e-10. This checks
every forward and backward pass, the loss reductions, the fused output gradients and the
optimizers together, against an independent implementation.
"""

from __future__ import annotations

import numpy as np
import pytest

import nnx
from nnx.layers import Dense

torch = pytest.importorskip("torch")

RNG = np.random.default_rng(0)


def _torch_twin(model: nnx.Sequential, activations: list[str]):
    layers = []
    acts = {
        "relu": torch.nn.ReLU,
        "tanh": torch.nn.Tanh,
        "sigmoid": torch.nn.Sigmoid,
        "elu": torch.nn.ELU,
        "linear": torch.nn.Identity,
    }
    weights = model.get_weights()
    for i, act in enumerate(activations):
        kernel, bias = weights[2 * i], weights[2 * i + 1]
        linear = torch.nn.Linear(*kernel.shape, dtype=torch.float64)
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(kernel.T.copy()))
            linear.bias.copy_(torch.from_numpy(bias))
        layers += [linear, acts[act]()]
    return torch.nn.Sequential(*layers)


CASES = {
    "bce_sigmoid_sgd_momentum": (
        ["relu", "sigmoid"],
        "binary_crossentropy",
        lambda: nnx.optimizers.SGD(0.1, momentum=0.9),
        lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9),
    ),
    "ce_softmax_adam": (
        ["tanh", "linear"],
        "categorical_crossentropy",
        lambda: nnx.optimizers.Adam(0.01, epsilon=1e-8),
        lambda p: torch.optim.Adam(p, lr=0.01, eps=1e-8),
    ),
    "mse_elu_nesterov": (
        ["elu", "linear"],
        "mse",
        lambda: nnx.optimizers.SGD(0.05, momentum=0.8, nesterov=True),
        lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.8, nesterov=True),
    ),
    "mse_sigmoid_adamw": (
        ["sigmoid", "linear"],
        "mse",
        lambda: nnx.optimizers.AdamW(0.01, weight_decay=0.1, epsilon=1e-8),
        lambda p: torch.optim.AdamW(p, lr=0.01, weight_decay=0.1, eps=1e-8),
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_training_matches_torch(backend, case):
    activations, loss_name, make_ours, make_theirs = CASES[case]
    x = RNG.normal(size=(96, 5))
    outputs = 3 if loss_name == "categorical_crossentropy" else 1
    if loss_name == "binary_crossentropy":
        y = (x[:, :1] * x[:, 1:2] > 0).astype(float)
    elif loss_name == "categorical_crossentropy":
        y = np.eye(3)[np.argmax(x[:, :3], axis=1)]
    else:
        y = np.sin(x[:, :1]) + x[:, 1:2] ** 2
    last = "softmax" if loss_name == "categorical_crossentropy" else activations[1]
    model = nnx.Sequential(
        [Dense(8, activation=activations[0], input_shape=(5,)), Dense(outputs, activation=last)],
        backend=backend,
        seed=3,
        dtype="float64",
    )
    model.compile(make_ours(), loss_name)
    twin = _torch_twin(model, activations)
    optimizer = make_theirs(twin.parameters())
    torch_loss = {
        "binary_crossentropy": torch.nn.BCELoss(),
        "mse": torch.nn.MSELoss(),
        "categorical_crossentropy": torch.nn.CrossEntropyLoss(),
    }[loss_name]
    history = model.fit(x, y, epochs=3, batch_size=16, shuffle=False, verbose=0)
    tx, ty = torch.from_numpy(x), torch.from_numpy(y)
    for _epoch in range(3):
        total = 0.0
        for i in range(0, 96, 16):
            optimizer.zero_grad()
            loss = torch_loss(twin(tx[i : i + 16]), ty[i : i + 16])
            loss.backward()
            optimizer.step()
            total += loss.item() * 16
    assert history.history["loss"][-1] == pytest.approx(total / 96, rel=1e-9)
    ours = model.get_weights()
    theirs = [p.detach().numpy() for p in twin.parameters()]
    for i, (a, b) in enumerate(zip(ours, theirs, strict=True)):
        np.testing.assert_allclose(a, b.T if i % 2 == 0 else b, rtol=1e-9, atol=1e-12)
