"""How every Monitoring chart looks: the layout, the axes and the empty state (no gradio, no database).

Each figure stays readable on a phone (390 px wide): short titles (`<br>` where one would not fit), the legend
in rows below the plot, whole markers at the ends of every axis (a lone point is never clipped), and bars no
wider than a quarter of their axis.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import plotly.graph_objects as go

TARGET_LINE = {"color": "#16a34a", "dash": "dash", "width": 2}
EMPTY_TEXT = "No generations in this window yet"
HEIGHT = 360
LINE_CHARS = 40
"""The most characters a line of a title or message may hold: about what 390 px hold at its size."""
MARKERS = {"size": 7}
BAR_WIDTH = 0.6
"""A bar's width, in category slots."""
MIN_SLOTS = 4
"""Room for at least this many categories on a bar chart's axis, so that a lone bar is a quarter as wide."""
SHARE_STEPS = (0.01, 0.02, 0.05, 0.1, 0.2, 0.25)
"""Tick steps of an axis in percent; each divides 100% exactly, so a tick falls on it."""
LOG_PAD = 0.15
"""Room above and below a time axis's extremes, in decades (a factor of about 1.4)."""


def layout(figure: go.Figure, title: str, **extra: Any) -> go.Figure:
    layout = {
        "title": {"text": title, "x": 0.01, "font": {"size": 15}},
        "height": HEIGHT,
        "margin": {"l": 50, "r": 20, "t": 60, "b": 40},
        "template": "plotly_white",
        # At the foot of the figure, in rows on a phone: the plot gives up the room they take.
        "legend": {"orientation": "h", "yref": "container", "y": 0, "yanchor": "bottom", "x": 0, "xanchor": "left"},
        "hovermode": "x unified",
    }
    figure.update_layout(**{**layout, **extra})
    # Room between the axes' labels, so the first date and the lowest value never touch.
    figure.update_xaxes(ticklabelstandoff=6)
    figure.update_yaxes(ticklabelstandoff=6)
    return figure


def count_axis(largest: int) -> dict[str, Any]:
    """An axis of whole counts: about five ticks at round whole numbers (1, 2, 5, 10, 20, 50...), from zero,
    with room above the largest."""
    rough = max(1.0, largest / 5)
    power = 10 ** math.floor(math.log10(rough))
    step = next(power * factor for factor in (1, 2, 5, 10) if power * factor >= rough)
    return {"tick0": 0, "dtick": int(step), "range": [0, max(largest, 1) * 1.08]}


def category_axis(count: int) -> dict[str, Any]:
    """A bar chart's category axis with room for at least `MIN_SLOTS` categories, the bars centred."""
    spare = max(0, MIN_SLOTS - count) / 2
    return {"range": [-0.5 - spare, count - 0.5 + spare]}


def share_axis(values: Sequence[float]) -> dict[str, Any]:
    """A percent axis over `values` with half a tick step of room either side (whole markers at 0% and 100%)
    and no tick beyond them: the ticks fall on multiples of a step that divides 100%."""
    low, high = min(values), max(values)
    step = next((step for step in SHARE_STEPS if step >= (high - low) / 5), SHARE_STEPS[-1])
    return {"tickformat": ".0%", "tick0": 0, "dtick": step, "range": [low - step / 2, high + step / 2]}


def seconds_axis(values: Sequence[float]) -> dict[str, Any]:
    """A logarithmic axis of seconds over `values`: a tenth of a second and ten minutes on one chart, with
    ticks at 1, 2 and 5 of each power of ten (1 and 3 over more than two decades), written out in full."""
    shown = [value for value in values if value > 0]
    low, high = math.log10(min(shown)) - LOG_PAD, math.log10(max(shown)) + LOG_PAD
    digits = (1, 2, 5) if high - low <= 2 else (1, 3)
    powers = range(math.floor(low), math.ceil(high) + 1)
    ticks = [digit * 10.0**power for power in powers for digit in digits if low <= power + math.log10(digit) <= high]
    labels = [f"{tick:g}" for tick in ticks]
    return {"title": "seconds (log)", "type": "log", "range": [low, high], "tickvals": ticks, "ticktext": labels}


def time_axis(span: tuple[datetime, datetime], period_hours: int, starts: Sequence[datetime]) -> list[datetime]:
    """The span and the points' starts (the first period may start before the window), with half a period
    either side, so that points at the ends (one alone) show whole."""
    half = timedelta(hours=period_hours / 2)
    return [min(span[0], *starts) - half, max(span[1], *starts) + half]


def _wrapped(text: str) -> str:
    """Text broken into lines of at most `LINE_CHARS`, for a figure."""
    return "<br>".join(textwrap.wrap(text, LINE_CHARS))


def empty(title: str, message: str = EMPTY_TEXT) -> go.Figure:
    """A figure with no traces and no axes, only a message."""
    figure = go.Figure()
    figure.add_annotation(text=_wrapped(message), showarrow=False, font={"size": 14, "color": "#6b7280"}, x=0.5, y=0.5)
    figure.update_xaxes(visible=False, range=[0, 1])
    figure.update_yaxes(visible=False, range=[0, 1])
    return layout(figure, title)


def target_trace(x_range: Sequence[datetime], value: float, name: str) -> go.Scatter:
    """A horizontal line across the whole time axis."""
    return go.Scatter(x=list(x_range), y=[value, value], mode="lines", name=name, line=TARGET_LINE, hoverinfo="skip")
