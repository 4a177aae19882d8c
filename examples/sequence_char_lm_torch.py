"""The PyTorch twin of ``sequence_char_lm.py``: the same two architectures trained on the same
windows, in the same batch order, for the same number of updates, with the same optimizer
(Adam, epsilon 1e-7 as Keras, warm-up + cosine decay, each gradient clipped to norm 1).

    OMP_NUM_THREADS=1 python examples/sequence_char_lm_torch.py
    python examples/sequence_char_lm_torch.py --quick

The LSTM starts from the nnx model's initial weights (Keras's and torch's LSTM gates are both
``i, f, c|g, o``; torch's kernels are transposed and its second bias stays 0), so the two runs
differ only by their arithmetic. The Transformer (``nn.TransformerEncoderLayer(norm_first=True,
dropout=0)``, the same pre-norm block) starts from torch's own initialisation.
"""

from __future__ import annotations

import math
import pathlib
import time
from typing import Any

import numpy as np
import sequence_char_lm as lm
from _util import run, table

try:
    import torch
    from torch import nn
except ImportError as error:  # pragma: no cover - torch is an optional peer
    raise SystemExit('This example needs PyTorch: pip install "nnx-array[bench]"') from error


class LSTMTwin(nn.Module):
    """Embedding -> LSTM -> Linear, weights copied from the nnx model."""

    def __init__(self, weights: list[np.ndarray]) -> None:
        super().__init__()
        embeddings, kernel, recurrent, bias, dense, dense_bias = weights
        self.embed = nn.Embedding(*embeddings.shape)
        self.lstm = nn.LSTM(kernel.shape[0], recurrent.shape[0], batch_first=True)
        self.out = nn.Linear(*dense.shape)
        with torch.no_grad():
            for param, value in (
                (self.embed.weight, embeddings),
                (self.lstm.weight_ih_l0, kernel.T),
                (self.lstm.weight_hh_l0, recurrent.T),
                (self.lstm.bias_ih_l0, bias),
                (self.out.weight, dense.T),
                (self.out.bias, dense_bias),
            ):
                param.copy_(torch.from_numpy(np.ascontiguousarray(value)))
            self.lstm.bias_hh_l0.zero_()
        self.lstm.bias_hh_l0.requires_grad_(False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(self.lstm(self.embed(x))[0])


class TransformerTwin(nn.Module):
    """Embedding + learned positions -> two causal pre-norm encoder blocks -> Linear."""

    def __init__(self, vocab: int, steps: int, width: int) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab, width)
        self.positions = nn.Parameter(torch.randn(steps, width) * 0.02)
        self.blocks = nn.ModuleList(
            nn.TransformerEncoderLayer(
                width,
                4,
                4 * width,
                dropout=0.0,
                batch_first=True,
                norm_first=True,
                layer_norm_eps=1e-5,
            )
            for _ in range(2)
        )
        self.out = nn.Linear(width, vocab)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        steps = x.shape[1]
        h = self.embed(x) + self.positions[:steps]
        mask = nn.Transformer.generate_square_subsequent_mask(steps)
        for block in self.blocks:
            h = block(h, src_mask=mask, is_causal=True)
        return self.out(h)


def bits(model: nn.Module, x: np.ndarray, y: np.ndarray) -> float:
    """Mean cross-entropy of every next character, in bits."""
    with torch.no_grad():
        logits = model(torch.from_numpy(x))
        loss = nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]),
                                           torch.from_numpy(y).reshape(-1))  # fmt: skip
    return float(loss) / math.log(2)


def train(name: str, s: lm.Settings, data: dict[str, Any], seed: int = 0) -> dict[str, Any]:
    """The twin of :func:`sequence_char_lm.train`."""
    torch.manual_seed(seed)
    vocab = len(data["chars"])
    if name == "lstm":
        model: nn.Module = LSTMTwin(lm.lstm_model(vocab, s, seed).get_weights())
        updates, peak = s.lstm_steps, s.lstm_lr
    else:
        model = TransformerTwin(vocab, s.steps, s.width)
        updates, peak = s.transformer_steps, s.transformer_lr
    schedule = lm.schedule(peak, updates)
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.Adam(params, lr=peak, eps=1e-7)
    lr_of = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda k: schedule(k) / peak)
    before = bits(model, data["x_held"], data["y_held"])
    order = lm.batch_order(len(data["x"]), s.batch_size, updates, seed)
    start, cpu = time.perf_counter(), time.process_time()
    for i in range(updates):
        batch = order[i * s.batch_size : (i + 1) * s.batch_size]
        x, y = torch.from_numpy(data["x"][batch]), torch.from_numpy(data["y"][batch])
        logits = model(x)
        loss = nn.functional.cross_entropy(logits.reshape(-1, vocab), y.reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        for p in params:  # Keras's clipnorm: each gradient on its own
            nn.utils.clip_grad_norm_([p], 1.0)
        optimizer.step()
        lr_of.step()
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    after = bits(model, data["x_held"], data["y_held"])

    def predict(x: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return model(torch.from_numpy(x)).numpy()

    prompt = data["held_codes"][:40]
    out = {f"torch_{name}_bits_before": before, f"torch_{name}_bits_after": after,
           f"torch_{name}_train_seconds": seconds, f"torch_{name}_cpu_seconds": cpu}  # fmt: skip
    for temperature in (0.5, 1.0):
        codes = lm.sample(predict, prompt, s.sample_length, s.steps, temperature, seed)
        out[f"torch_{name}_sample_t{temperature}"] = "".join(
            data["chars"][c] for c in [*prompt, *codes]
        )
    return out


def main(quick: bool = False, out: pathlib.Path | None = None) -> dict[str, Any]:
    s = lm.QUICK if quick else lm.FULL
    data = lm.prepare(s)
    results: dict[str, Any] = {"torch_version": torch.__version__,
                               "torch_threads": torch.get_num_threads()}  # fmt: skip
    rows = []
    for name in ("lstm", "transformer"):
        r = train(name, s, data)
        results.update(r)
        keys = ("bits_before", "bits_after", "train_seconds", "cpu_seconds")
        rows.append([f"torch {name}", *(r[f"torch_{name}_{key}"] for key in keys)])
    results["table"] = table(
        ["model", "bits/char before", "held-out bits/char", "seconds", "CPU seconds"], rows
    )
    return results


if __name__ == "__main__":
    run(main, __doc__)
