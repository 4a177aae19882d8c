"""nnx figures show inline in Jupyter (``_repr_png_``), once, without pyplot state."""

from __future__ import annotations

from IPython.core.formatters import DisplayFormatter

from nnx.plot import plot_history, plot_optimizer_trajectories

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _figure():
    return plot_history({"loss": [1.0, 0.5, 0.25], "val_loss": [1.1, 0.6, 0.4]})


def test_repr_png_returns_png_bytes():
    png = _figure()._repr_png_()
    assert png.startswith(PNG_SIGNATURE) and len(png) > 1000


def test_every_plot_figure_is_inline():
    fig = plot_optimizer_trajectories(["sgd", "adam"], steps=5)
    assert fig._repr_png_().startswith(PNG_SIGNATURE)


def test_no_pyplot_figure_is_created():
    from matplotlib._pylab_helpers import Gcf

    before = Gcf.get_num_fig_managers()
    _figure()
    assert Gcf.get_num_fig_managers() == before


def test_still_saves_to_file(tmp_path):
    path = tmp_path / "history.png"
    plot_history({"loss": [1.0, 0.5]}, path=path)
    assert path.read_bytes().startswith(PNG_SIGNATURE)


def test_ipython_display_formatter_gives_one_png():

    data, _ = DisplayFormatter().format(_figure())
    assert data["image/png"].startswith(PNG_SIGNATURE)
    assert "Figure size" in data["text/plain"]


def test_matplotlib_inline_printer_wins_without_double_image():
    """With matplotlib-inline's formatter registered for Figure (``%matplotlib inline``), the
    subclass matches it: still exactly one PNG per display."""
    from matplotlib.figure import Figure

    formatter = DisplayFormatter()
    calls = []

    def printer(fig):
        calls.append(fig)
        return PNG_SIGNATURE + b"inline"

    formatter.formatters["image/png"].for_type(Figure, printer)
    data, _ = formatter.format(_figure())
    assert data["image/png"] == PNG_SIGNATURE + b"inline" and len(calls) == 1
