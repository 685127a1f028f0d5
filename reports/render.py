"""Plots to PNG bytes, each on its own Agg canvas: no pyplot, so no global backend is
touched (a notebook that builds the report keeps its inline backend). Imported only when a
report is built, because it imports matplotlib."""

import io
import sys
import traceback

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from .content import RenderedPlot
from .plots import PLOTS, PlotSpec
from .sweep import Sweep


def render_plots(sweep: Sweep) -> list[RenderedPlot]:
    rendered = []
    for spec in PLOTS:
        if not spec.shown(sweep):
            continue
        try:
            png, notes = _draw(spec, sweep)
        except Exception as error:  # one broken plot must not hide the rest of the report
            traceback.print_exc(file=sys.stderr)
            message = f"This plot could not be drawn: {type(error).__name__}: {error}"
            png, notes = _message(message), [message]
        rendered.append(RenderedPlot(spec.name, spec.title, png, notes))
    return rendered


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110)
    return buffer.getvalue()


def _draw(spec: PlotSpec, sweep: Sweep) -> tuple[bytes, list[str]]:
    figure = Figure(figsize=spec.size, layout="constrained")
    FigureCanvasAgg(figure)
    notes = spec.draw(figure.add_subplot(), sweep)
    return _png(figure), notes


def _message(message: str) -> bytes:
    figure = Figure(figsize=(8, 2))
    FigureCanvasAgg(figure)
    figure.text(0.5, 0.5, message, ha="center", va="center", wrap=True)
    return _png(figure)
