"""The best-time heatmap: estimated engagement per weekday x time block, current and proposed slots marked.

Drawn with matplotlib's Agg canvas directly (no pyplot: no global state, safe in the scheduler's threads),
at a fixed size, into a PNG without the "Software" text chunk, so the same analysis gives the same bytes.
``data_uri`` embeds it in the one-file HTML report.
"""

from __future__ import annotations

import base64
import io

from pipeline.core.clock import WEEKDAYS
from pipeline.publish.best_time import Analysis

WIDTH_IN, HEIGHT_IN, DPI = 8.0, 3.6, 100  # 800 x 360 pixels
SIZE = (int(WIDTH_IN * DPI), int(HEIGHT_IN * DPI))
CURRENT_COLOUR = "#1f1f1f"
PROPOSED_COLOUR = "#d81b60"
EMPTY_COLOUR = "#eeeeee"


def heatmap_png(analysis: Analysis) -> bytes:
    """The PNG of ``analysis`` (which must have its bins: enough posts)."""
    import numpy as np
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.patches import Rectangle

    hours = analysis.options.block_hours
    blocks = 24 // hours
    grid = np.full((7, blocks), np.nan)
    for b in analysis.bins:
        if b.posts:
            grid[b.day, b.block] = b.estimate * (100 if analysis.measure == "per_view" else 1)
    figure = Figure(figsize=(WIDTH_IN, HEIGHT_IN), dpi=DPI)
    FigureCanvasAgg(figure)
    axes = figure.add_axes((0.07, 0.2, 0.78, 0.68))
    axes.set_facecolor(EMPTY_COLOUR)
    image = axes.imshow(np.ma.masked_invalid(grid), cmap="viridis", aspect="auto", interpolation="nearest")
    colour_bar = figure.colorbar(image, cax=figure.add_axes((0.87, 0.2, 0.02, 0.68)))
    colour_bar.set_label("% of views" if analysis.measure == "per_view" else "interactions per post", fontsize=8)
    colour_bar.ax.tick_params(labelsize=7)
    for b in analysis.bins:
        if b.posts:  # dark text on the bright end of viridis, light on the dark end
            bright = image.norm(grid[b.day, b.block]) > 0.6
            axes.text(b.block, b.day, str(b.posts), ha="center", va="center", fontsize=7,
                      color="black" if bright else "white")
    _mark(axes, Rectangle, analysis, {_cell(d, t, hours) for d, t in analysis.current}, CURRENT_COLOUR, "--")
    _mark(axes, Rectangle, analysis, {_cell(s.day, s.time, hours) for s in analysis.new_slots}, PROPOSED_COLOUR, "-")
    axes.set_yticks(range(7), [day.title() for day in WEEKDAYS], fontsize=8)
    axes.set_xticks(range(blocks), [f"{k * hours:02d}" for k in range(blocks)], fontsize=8)
    axes.set_xlabel(f"local hour ({analysis.timezone}); number in a cell: posts", fontsize=8)
    axes.set_title(f"{analysis.platform}: estimated engagement by time of week "
                   f"(dashed: current slots, pink: proposed)", fontsize=9)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    return buffer.getvalue()


def _cell(day: str, time: str, hours: int) -> tuple[int, int]:
    return WEEKDAYS.index(day), int(time[:2]) // hours


def _mark(axes, rectangle, analysis: Analysis, cells: set, colour: str, style: str) -> None:
    for day, block in sorted(cells):
        axes.add_patch(rectangle((block - 0.5, day - 0.5), 1, 1, fill=False, edgecolor=colour, linewidth=2.2,
                                 linestyle=style))


def data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")
