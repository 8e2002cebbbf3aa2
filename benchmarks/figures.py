"""Matplotlib for the benchmark plots: the Agg backend (no display) and figures as PNG bytes.

A module of its own so a plotting script does not import the benchmark runners with it.
"""

from __future__ import annotations

import io


def pyplot():
    """``matplotlib.pyplot`` on the Agg backend, imported only when something is plotted."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def figure_png(fig) -> bytes:
    """``fig`` as PNG bytes; the figure is closed (pyplot keeps every open figure alive)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    pyplot().close(fig)
    return buffer.getvalue()
