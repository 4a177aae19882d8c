"""Quick version of examples/functional_api.py (the residual MLP and the two-input model)."""

from __future__ import annotations

import importlib.util
import pathlib
import sys

EXAMPLES = pathlib.Path(__file__).parents[2] / "examples"


def test_functional_api_example(tmp_path):
    if str(EXAMPLES) not in sys.path:
        sys.path.insert(0, str(EXAMPLES))
    spec = importlib.util.spec_from_file_location(
        "example_functional_api", EXAMPLES / "functional_api.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    r = module.main(quick=True, out=tmp_path)
    assert r["residual_accuracy"] > r["plain_accuracy"] + 0.15
    assert r["history_keys"][:5] == [
        "loss",
        "price_loss",
        "sells_loss",
        "price_mae",
        "sells_accuracy",
    ]
    assert r["test_price_mae"] < 0.4 and r["test_sells_accuracy"] > 0.85
    assert "Connected to" in r["table"]
