"""Character-level language models of Python's own reference text: an LSTM and a small causal
Transformer, each generating samples at temperatures 0.5 and 1.0.

    OMP_NUM_THREADS=1 python examples/sequence_char_lm.py           # under 3 CPU-minutes a model
    OMP_NUM_THREADS=1 python examples/sequence_char_lm_torch.py     # the same in PyTorch
    python examples/sequence_char_lm.py --quick                     # a smoke run (the tests)

The text ships with Python: ``pydoc_data.topics``, the language reference's help topics that
``help("FORMATTING")`` prints (about 460,000 characters of English prose with some code),
lowercased, whitespace runs collapsed to one space, printable ASCII only (where a distribution
strips ``pydoc_data``, the standard library's docstrings stand in). The last 5 % of the text is
held out: the bits per character reported are measured there, on text the models never saw.

Training windows of ``steps + 1`` characters start every ``stride`` characters (stateless:
every window starts from a zero state); the input is the first ``steps`` characters, the target
the same shifted by one, so the loss is the cross-entropy of every next character. Batches are
drawn in a seeded order fixed up front (:func:`batch_order`) so that the PyTorch twin
(``sequence_char_lm_torch.py``) sees the very same batches. Adam with a warm-up and cosine
decay, each gradient clipped to norm 1 (``clipnorm``). Sampling feeds the last ``steps``
characters back and draws the next one from ``softmax(logits / temperature)``.

Full run (seed 0; 432,678 characters, 67 symbols; 1,600 updates of 32 windows each; AMD EPYC,
one thread): held-out bits per character LSTM 6.07 -> 1.74 (160 CPU-seconds), Transformer
7.00 -> 1.65 (152 CPU-seconds); the PyTorch twin reaches 1.73 and 1.75. The samples read as
English in the manual's voice at temperature 0.5 (the README shows them).
"""

from __future__ import annotations

import math
import pathlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from _util import run, table

import nnx
from nnx.layers import LSTM, Dense, Embedding, PositionalEmbedding, TransformerEncoder
from nnx.schedules import CosineDecay

DOC_MODULES = ("json", "collections", "functools", "itertools", "textwrap", "string", "argparse")


@dataclass(frozen=True)
class Settings:
    """What one run trains: text size, window, widths, batches, steps and learning rates."""

    limit: int = 10**6
    steps: int = 64
    stride: int = 8
    batch_size: int = 32
    lstm_units: int = 256
    lstm_steps: int = 1600
    lstm_lr: float = 0.004
    width: int = 128
    transformer_steps: int = 1600
    transformer_lr: float = 0.002
    sample_length: int = 300


FULL = Settings()
QUICK = Settings(limit=12_000, steps=24, lstm_units=32, lstm_steps=40, width=32,
                 transformer_steps=40, sample_length=20)  # fmt: skip


def corpus(limit: int) -> str:
    """Up to ``limit`` characters of text shipped with Python, tidied (see the module doc)."""
    try:
        from pydoc_data.topics import topics

        text = "\n".join(topics[key] for key in sorted(topics))
    except ImportError:  # some distributions strip pydoc_data
        text = docstrings()
    text = " ".join(text.lower().split())
    return "".join(c for c in text if 32 <= ord(c) < 127)[:limit]


def docstrings() -> str:
    """The docstrings of a few standard-library modules and of their public objects."""
    import importlib
    import inspect

    parts: list[str] = []
    for name in DOC_MODULES:
        module = importlib.import_module(name)
        for obj in [module] + [getattr(module, a) for a in sorted(dir(module)) if a[0] != "_"]:
            doc = inspect.getdoc(obj)
            if doc and getattr(obj, "__module__", name) in (name, None):
                parts.append(doc)
    return "\n\n".join(dict.fromkeys(parts))


def encode(text: str) -> tuple[list[str], np.ndarray]:
    """The sorted vocabulary and the text as indices into it."""
    chars = sorted(set(text))
    index = {c: i for i, c in enumerate(chars)}
    return chars, np.array([index[c] for c in text], dtype=np.int64)


def windows(codes: np.ndarray, steps: int, stride: int) -> tuple[np.ndarray, np.ndarray]:
    """Inputs ``(n, steps)`` starting every ``stride`` characters, and their next characters."""
    starts = np.arange(0, len(codes) - steps, stride)
    x = codes[starts[:, None] + np.arange(steps)]
    return x, codes[starts[:, None] + np.arange(1, steps + 1)]


def batch_order(n: int, batch_size: int, updates: int, seed: int) -> np.ndarray:
    """Window indices for ``updates`` batches: seeded permutations of all ``n`` windows, one
    after the other (a new one each pass), cut to ``updates * batch_size``."""
    rng = np.random.default_rng(seed)
    passes = -(-updates * batch_size // n)
    return np.concatenate([rng.permutation(n) for _ in range(passes)])[: updates * batch_size]


def lstm_model(vocab: int, s: Settings, seed: int) -> nnx.Sequential:
    """Embedding -> LSTM (every step) -> next-character logits."""
    return nnx.Sequential(
        [
            Embedding(vocab, 64, input_shape=(None,)),
            LSTM(s.lstm_units, return_sequences=True),
            Dense(vocab),
        ],
        seed=seed,
    )


def transformer_model(vocab: int, s: Settings, seed: int) -> nnx.Sequential:
    """Embedding + learned positions -> two causal pre-norm encoder blocks (4 heads) -> logits."""
    return nnx.Sequential(
        [
            Embedding(vocab, s.width, input_shape=(None,)),
            PositionalEmbedding(s.steps),
            TransformerEncoder(4 * s.width, 4, normalize_first=True, use_causal_mask=True),
            TransformerEncoder(4 * s.width, 4, normalize_first=True, use_causal_mask=True),
            Dense(vocab),
        ],
        seed=seed,
    )


def schedule(peak: float, updates: int) -> CosineDecay:
    """Linear warm-up over 5 % of the updates, then cosine decay to a tenth of the peak."""
    warmup = max(1, updates // 20)
    return CosineDecay(peak, decay_steps=updates - warmup, alpha=0.1, warmup_steps=warmup)


def sample(
    predict: Callable[[np.ndarray], np.ndarray],
    prompt: np.ndarray,
    length: int,
    steps: int,
    temperature: float,
    seed: int,
) -> list[int]:
    """``length`` indices drawn one at a time after ``prompt``: the next character's
    distribution is ``softmax(logits / temperature)`` of the last ``steps`` characters."""
    rng = np.random.default_rng(seed)
    codes = [int(c) for c in prompt]
    for _ in range(length):
        logits = predict(np.array(codes[-steps:])[None, :])[0, -1].astype("float64")
        p = np.exp((logits - logits.max()) / temperature)
        codes.append(int(rng.choice(len(p), p=p / p.sum())))
    return codes[len(prompt) :]


def prepare(s: Settings) -> dict[str, Any]:
    """The text, vocabulary, training windows and held-out windows of one run."""
    text = corpus(s.limit)
    chars, codes = encode(text)
    cut = int(len(codes) * 0.95)
    x, y = windows(codes[:cut], s.steps, s.stride)
    x_held, y_held = windows(codes[cut:], s.steps, s.steps)
    return {"text": text, "chars": chars, "x": x, "y": y, "x_held": x_held, "y_held": y_held,
            "held_codes": codes[cut:]}  # fmt: skip


def train(name: str, s: Settings, data: dict[str, Any], seed: int = 0) -> dict[str, Any]:
    """Train one model for its number of updates; bits/char before and after, time, samples."""
    chars, vocab = data["chars"], len(data["chars"])
    make, updates, peak = (
        (lstm_model, s.lstm_steps, s.lstm_lr)
        if name == "lstm"
        else (transformer_model, s.transformer_steps, s.transformer_lr)
    )
    model = make(vocab, s, seed)
    loss = nnx.losses.SparseCategoricalCrossentropy(from_logits=True)
    model.compile(nnx.optimizers.Adam(schedule(peak, updates), clipnorm=1.0), loss)
    held = (data["x_held"], data["y_held"])
    before = float(model.evaluate(*held, batch_size=256)) / math.log(2)
    order = batch_order(len(data["x"]), s.batch_size, updates, seed)
    start, cpu = time.perf_counter(), time.process_time()
    model.fit(data["x"][order], data["y"][order], batch_size=s.batch_size, epochs=1,
              shuffle=False, verbose=0)  # fmt: skip
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    after = float(model.evaluate(*held, batch_size=256)) / math.log(2)
    prompt = data["held_codes"][:40]
    out = {f"{name}_bits_before": before, f"{name}_bits_after": after,
           f"{name}_train_seconds": seconds, f"{name}_cpu_seconds": cpu,
           f"{name}_updates": updates, f"{name}_parameters": model.count_params()}  # fmt: skip
    for temperature in (0.5, 1.0):
        codes = sample(model.predict, prompt, s.sample_length, s.steps, temperature, seed)
        out[f"{name}_sample_t{temperature}"] = "".join(chars[c] for c in [*prompt, *codes])
    return out


def main(quick: bool = False, out: pathlib.Path | None = None) -> dict[str, Any]:
    s = QUICK if quick else FULL
    data = prepare(s)
    results: dict[str, Any] = {"characters": len(data["text"]), "vocabulary": len(data["chars"]),
                               "train_windows": len(data["x"])}  # fmt: skip
    rows = []
    for name in ("lstm", "transformer"):
        r = train(name, s, data)
        results.update(r)
        rows.append([name, r[f"{name}_parameters"], r[f"{name}_updates"],
                     r[f"{name}_bits_before"], r[f"{name}_bits_after"],
                     r[f"{name}_train_seconds"], r[f"{name}_cpu_seconds"]])  # fmt: skip
    header = ["model", "weights", "updates", "bits/char before", "held-out bits/char",
              "seconds", "CPU seconds"]  # fmt: skip
    results["table"] = table(header, rows)
    return results


if __name__ == "__main__":
    run(main, __doc__)
