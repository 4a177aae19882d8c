"""The ``selfcheck`` report: a one-line verdict and a Markdown page."""

from __future__ import annotations

import json
from typing import Any

__all__ = ["markdown", "verdict"]


def verdict(report: dict[str, Any]) -> str:
    """``selfcheck PASS on cupy (NVIDIA H200, CuPy 14.2.0, CUDA 12.8, driver 12.8): ...``."""
    env, checks = report["environment"], report["checks"]
    count = {
        s: sorted(k for k, v in checks.items() if v["status"] == s)
        for s in ("pass", "fail", "skip")
    }
    word = "FAIL" if count["fail"] else "PASS"
    where = ", ".join(
        str(env[k]) for k in ("device", "library", "cuda_runtime", "cuda_driver") if k in env
    )
    parts = [f"{len(count['pass'])} passed"]
    if count["fail"]:
        parts.append(f"failed: {', '.join(count['fail'])}")
    if count["skip"]:
        parts.append(f"skipped: {', '.join(count['skip'])}")
    head = f"selfcheck {word} on {env['backend']} ({where}) in {report['seconds']} s"
    return f"{head}: {'; '.join(parts)}"


def markdown(report: dict[str, Any]) -> str:
    """The report as Markdown: environment table, one section per check, the verdict."""
    lines = ["# nnx selfcheck", "", f"**{report['verdict']}**", "", "| | |", "|---|---|"]
    for key, value in report["environment"].items():
        if key != "packages":
            lines.append(f"| {key} | {value} |")
    packages = ", ".join(f"{k} {v}" for k, v in report["environment"]["packages"].items())
    lines += [f"| packages | {packages} |", ""]
    for name, result in report["checks"].items():
        lines += [f"## {name}: {result['status']}", ""]
        if name == "bench" and result.get("rows"):
            from nnx.benchmarks.runner import table

            lines += [table(result["rows"]), ""]
            continue
        for key, value in result.items():
            if key != "status":
                lines.append(f"- {key}: `{json.dumps(value, default=str)[:2000]}`")
        lines.append("")
    return "\n".join(lines)
