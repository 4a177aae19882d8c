"""Shared bits of the examples: the command line (--quick, --out) and a Markdown table."""

from __future__ import annotations

import argparse
import pathlib
from collections.abc import Callable, Sequence
from typing import Any

OUT = pathlib.Path(__file__).parent / "output"


def table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A Markdown table; floats printed with 4 significant digits."""

    def cell(v: Any) -> str:
        return f"{v:.4g}" if isinstance(v, float) else str(v)

    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def run(main: Callable[..., dict[str, Any]], doc: str | None) -> None:
    """Parse ``--quick`` / ``--out`` and print the example's results."""
    parser = argparse.ArgumentParser(description=(doc or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer epochs (what the tests run)")
    parser.add_argument("--out", type=pathlib.Path, default=OUT, help="folder for plots")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    results = main(quick=args.quick, out=args.out)
    for key, value in results.items():
        if key != "table":
            print(f"{key}: {value:.4f}" if isinstance(value, float) else f"{key}: {value}")
    if "table" in results:
        print(results["table"])


def lesson_table(rows: Sequence[Sequence[Any]]) -> str:
    """``quantity | lesson prints | nnx gives`` rows as a Markdown table."""
    return table(["quantity", "lesson prints", "nnx gives"], rows)
