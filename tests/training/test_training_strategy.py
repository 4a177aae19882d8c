"""The strategy hooks: where fit/evaluate/predict and the steps let a strategy in."""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np

import nnx
from nnx.layers import Dense
from nnx.training import Strategy, current_strategy


class Recording(Strategy):
    """Counts each hook call; otherwise one process."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.shards: list[slice] = []

    def begin(self, model: Any, what: str, samples: int) -> None:
        self.calls[f"begin {what} {samples}"] += 1

    def end(self, model: Any, what: str) -> None:
        self.calls[f"end {what}"] += 1

    def epoch_end(self, model: Any) -> None:
        self.calls["epoch_end"] += 1

    def shard(self, rows: slice) -> slice:
        self.shards.append(rows)
        return rows

    def reduce_gradients(self, parameters: Any, loss: Any, rows: int) -> Any:
        self.calls["reduce_gradients"] += 1
        return loss

    def reduce_loss(self, loss: Any, rows: int) -> Any:
        self.calls["reduce_loss"] += 1
        return loss

    def gather(self, *arrays: Any) -> tuple[Any, ...]:
        self.calls["gather"] += 1
        return arrays


def test_outside_any_block_one_process_is_the_identity() -> None:
    strategy = current_strategy()
    assert type(strategy) is Strategy and strategy.is_main and strategy.world_size == 1
    assert strategy.gather(1, None) == (1, None)


def test_blocks_nest_and_restore() -> None:
    outer, inner = Recording(), Recording()
    with outer:
        with inner:
            assert current_strategy() is inner
        assert current_strategy() is outer
    assert type(current_strategy()) is Strategy


def test_the_loops_call_each_hook_where_documented() -> None:
    model = nnx.Sequential([Dense(2, activation="softmax", input_shape=(3,))], seed=0)
    model.compile("sgd", "sparse_categorical_crossentropy", metrics=["accuracy"])
    x, y = np.ones((10, 3)), np.arange(10) % 2
    strategy = Recording()
    with strategy:
        model.fit(x, y, batch_size=4, epochs=2, verbose=0, validation_data=(x[:5], y[:5]))
        model.evaluate(x, y, batch_size=5)
        model.predict(x, batch_size=10)
    steps, val_steps = 2 * 3, 2 * 2  # 3 batches per epoch; 2 validation batches per epoch
    assert strategy.calls == {
        "begin fit 10": 1,
        "end fit": 1,
        "epoch_end": 2,
        "reduce_gradients": steps,
        "reduce_loss": val_steps + 2,
        "begin evaluate 10": 1,
        "end evaluate": 1,
        "gather": steps + val_steps + 2 + 1,
    }
    assert strategy.shards[:3] == [slice(0, 4), slice(4, 8), slice(8, 10)]
