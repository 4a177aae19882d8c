"""The five lesson notebooks, executed as a student's run: nbclient driving a real ipykernel.

Each must run without an error or anything on stderr (warnings included), show an image for
every cell tagged ``plot``, a summary table for every ``model`` cell, and print, in every cell
tagged ``lesson-figure``, each string of its ``expect`` metadata (the lesson's figure).
"""

from __future__ import annotations

import os
import pathlib

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = pathlib.Path(__file__).parents[2]
NOTEBOOKS = sorted((ROOT / "examples" / "notebooks").glob("*.ipynb"))


def test_the_five_lessons_are_there():
    assert [p.name[:2] for p in NOTEBOOKS] == ["01", "02", "03", "04", "05"]


def _stdout(cell) -> str:
    return "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_clean_and_prints_the_lessons_figures(path, monkeypatch):
    # the kernel imports this checkout's nnx, whatever is installed
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    notebook = nbformat.read(path, as_version=4)
    NotebookClient(
        notebook, timeout=120, kernel_name="python3", resources={"metadata": {"path": path.parent}}
    ).execute()
    code = [c for c in notebook.cells if c.cell_type == "code"]
    for cell in code:
        errors = [o for o in cell.outputs if o.output_type == "error"]
        stderr = [o.text for o in cell.outputs if o.get("name") == "stderr"]
        assert not errors and not stderr, (cell.source, errors, stderr)
    plots = [c for c in code if "plot" in c.metadata.get("tags", [])]
    figures = [c for c in code if "lesson-figure" in c.metadata.get("tags", [])]
    assert plots and figures
    for cell in plots:
        shown = [o for o in cell.outputs if o.output_type in ("execute_result", "display_data")]
        assert any("image/png" in o.data for o in shown), cell.source
    for cell in [c for c in code if "model" in c.metadata.get("tags", [])]:
        html = [o.data["text/html"] for o in cell.outputs if o.output_type == "execute_result"]
        assert html and "<table>" in html[0] and "Total params" in html[0], cell.source
    for cell in figures:
        for expected in cell.metadata["expect"]:
            assert expected in _stdout(cell), (cell.source, expected, _stdout(cell))
