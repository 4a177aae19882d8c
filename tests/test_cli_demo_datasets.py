"""``python -m nnx demo --dataset ... --plot out.png``."""

from __future__ import annotations

import pytest

from nnx.cli import build_parser, main


@pytest.mark.parametrize("dataset", ["circles", "xor", "breast_cancer", "digits"])
def test_demo_datasets_pass_their_bar(dataset, capsys):
    assert (
        main(
            [
                "demo",
                "--dataset",
                dataset,
                "--verbose",
                "0",
                "--epochs",
                "40" if dataset != "xor" else "300",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert f"nnx demo: {dataset}" in out and "test accuracy" in out


def test_demo_plot_writes_a_png(tmp_path, capsys):
    target = tmp_path / "demo.png"
    assert (
        main(["demo", "--epochs", "5", "--verbose", "0", "--plot", str(target)]) == 1
        or target.exists()
    )
    assert target.read_bytes().startswith(b"\x89PNG") and target.stat().st_size > 10_000
    assert "plot saved" in capsys.readouterr().out


def test_unknown_dataset_is_refused(capsys):
    with pytest.raises(SystemExit):
        build_parser().parse_args(["demo", "--dataset", "mnist"])
    assert "invalid choice" in capsys.readouterr().err
