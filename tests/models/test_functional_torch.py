"""Graph models against the same torch graph, number by number: a residual MLP and a model with
two inputs (a shared tower) and two outputs (sigmoid + binary cross-entropy, linear + MSE, with
loss weights), float64, same weights and data, three optimizer steps of SGD and of Adam."""

from __future__ import annotations

import numpy as np
import pytest

import nnx
from nnx.layers import Add, Concatenate, Dense

torch = pytest.importorskip("torch")
F = torch.nn.functional

RNG = np.random.default_rng(5)
N, BATCH = 48, 16  # one epoch = three optimizer steps


def _residual():
    x = nnx.Input((5,), name="x")
    h = Dense(6, activation="relu", name="h1")(x)
    r = Add(name="skip")([h, Dense(6, activation="tanh", name="h2")(h)])
    out = Dense(2, name="out")(r)

    def twin(w, xs):
        h = F.relu(xs[0] @ w["h1/kernel"] + w["h1/bias"])
        r = h + torch.tanh(h @ w["h2/kernel"] + w["h2/bias"])
        return [r @ w["out/kernel"] + w["out/bias"]]

    data = [RNG.normal(size=(N, 5))]
    targets = [np.sin(data[0][:, :2])]
    return (x, out), twin, data, targets, "mse", None, [F.mse_loss], [1.0]


def _two_inputs_two_outputs():
    a, b = nnx.Input((4,), name="a"), nnx.Input((4,), name="b")
    tower = Dense(5, activation="tanh", name="tower")
    h = Concatenate(name="join")([tower(a), tower(b), Dense(3, name="side")(a)])
    same = Dense(1, activation="sigmoid", name="same")(h)
    gap = Dense(2, name="gap")(h)

    def twin(w, xs):
        ta = torch.tanh(xs[0] @ w["tower/kernel"] + w["tower/bias"])
        tb = torch.tanh(xs[1] @ w["tower/kernel"] + w["tower/bias"])
        h = torch.cat([ta, tb, xs[0] @ w["side/kernel"] + w["side/bias"]], dim=1)
        return [h @ w["same/kernel"] + w["same/bias"], h @ w["gap/kernel"] + w["gap/bias"]]

    xa, xb = RNG.normal(size=(N, 4)), RNG.normal(size=(N, 4))
    targets = [(np.sum(xa * xb, axis=1, keepdims=True) > 0).astype(float), xa[:, :2] - xb[:, :2]]
    losses = [F.binary_cross_entropy_with_logits, F.mse_loss]
    return (
        ([a, b], [same, gap]),
        twin,
        [xa, xb],
        targets,
        ["binary_crossentropy", "mse"],
        [1.0, 0.3],
        losses,
        [1.0, 0.3],
    )


OPTIMIZERS = {
    "sgd": (
        lambda: nnx.optimizers.SGD(0.1, momentum=0.9),
        lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9),
    ),
    "adam": (
        lambda: nnx.optimizers.Adam(0.01, epsilon=1e-8),
        lambda p: torch.optim.Adam(p, lr=0.01, eps=1e-8),
    ),
}


@pytest.mark.parametrize("optimizer", list(OPTIMIZERS))
@pytest.mark.parametrize("graph", [_residual, _two_inputs_two_outputs], ids=["residual", "two_io"])
def test_three_steps_match_torch(backend, graph, optimizer):
    (inputs, outputs), twin, data, targets, loss, loss_weights, torch_losses, weights = graph()
    model = nnx.Model(inputs, outputs, backend=backend, seed=0, dtype="float64")
    make_ours, make_theirs = OPTIMIZERS[optimizer]
    model.compile(make_ours(), loss, loss_weights=loss_weights)
    params = {
        p.name: torch.tensor(w, requires_grad=True)
        for p, w in zip(model.parameters(), model.get_weights(), strict=True)
    }
    opt = make_theirs(list(params.values()))
    xs = data if len(data) > 1 else data[0]
    ys = targets if len(targets) > 1 else targets[0]
    history = model.fit(xs, ys, batch_size=BATCH, epochs=1, shuffle=False, verbose=0)
    totals = []
    for i in range(0, N, BATCH):
        opt.zero_grad()
        outs = twin(params, [torch.from_numpy(d[i : i + BATCH]) for d in data])
        parts = [
            fn(o, torch.from_numpy(t[i : i + BATCH]))
            for fn, o, t in zip(torch_losses, outs, targets, strict=True)
        ]
        total = sum(w * p for w, p in zip(weights, parts, strict=True))
        total.backward()
        opt.step()
        totals.append(total.item())
    assert history.history["loss"][0] == pytest.approx(np.mean(totals), rel=1e-10)
    for p, ours in zip(model.parameters(), model.get_weights(), strict=True):
        np.testing.assert_allclose(ours, params[p.name].detach().numpy(), rtol=1e-10, atol=1e-12)
