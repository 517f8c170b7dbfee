"""Plotly figures for the Monitoring tab, built from `metrics` results (no gradio, no database).

Every builder returns a figure; with nothing to draw it returns an empty-state figure that
says so, never empty axes. Each figure stays readable on a phone (390 px wide): short titles
(`<br>` where one would not fit), the legend in rows below the plot, whole markers at the ends of
every axis (a lone point is never clipped), and bars no wider than a quarter of their axis.
"""

from __future__ import annotations

import math
import textwrap
from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

import plotly.graph_objects as go

from photomaker.faces.likeness import ALIKE_SCORE
from photomaker.monitoring.metrics import TARGETS, Dashboard, LatencyPoint, LikenessPoint, SuccessPoint

TARGET_BY_KEY = {target.key: target for target in TARGETS}
SUCCESS_TARGET = TARGET_BY_KEY["success_rate"].threshold
TIME_TARGET_S = TARGET_BY_KEY["p95_processing_s"].threshold
TIER_COLORS = {"basic": "#0ea5e9", "pro": "#6366f1", "enterprise": "#a855f7", "text": "#f59e0b"}
ENGINE_DASHES = {"preview": "solid", "synthetic": "dot"}
"""Likeness lines: the tier gives the colour, the engine the dash (any other engine: dashed)."""
MODE_NAMES = {"photo": "Photo to avatar", "text": "Text to image"}
MODE_COLORS = {"photo": "#6366f1", "text": "#f59e0b"}
STATUS_COLORS = {"failed": "#ef4444", "rejected": "#f59e0b"}
STAR_COLORS = {1: "#ef4444", 2: "#f97316", 3: "#eab308", 4: "#84cc16", 5: "#16a34a"}
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


def _layout(figure: go.Figure, title: str, **extra: Any) -> go.Figure:
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


def _count_axis(largest: int) -> dict[str, Any]:
    """An axis of whole counts: about five ticks at round whole numbers (1, 2, 5, 10, 20, 50...), from zero,
    with room above the largest."""
    rough = max(1.0, largest / 5)
    power = 10 ** math.floor(math.log10(rough))
    step = next(power * factor for factor in (1, 2, 5, 10) if power * factor >= rough)
    return {"tick0": 0, "dtick": int(step), "range": [0, max(largest, 1) * 1.08]}


def _category_axis(count: int) -> dict[str, Any]:
    """A bar chart's category axis with room for at least `MIN_SLOTS` categories, the bars centred."""
    spare = max(0, MIN_SLOTS - count) / 2
    return {"range": [-0.5 - spare, count - 0.5 + spare]}


def _share_axis(values: Sequence[float]) -> dict[str, Any]:
    """A percent axis over `values` with half a tick step of room either side (whole markers at 0% and 100%)
    and no tick beyond them: the ticks fall on multiples of a step that divides 100%."""
    low, high = min(values), max(values)
    step = next((step for step in SHARE_STEPS if step >= (high - low) / 5), SHARE_STEPS[-1])
    return {"tickformat": ".0%", "tick0": 0, "dtick": step, "range": [low - step / 2, high + step / 2]}


def _seconds_axis(values: Sequence[float]) -> dict[str, Any]:
    """A logarithmic axis of seconds over `values`: a tenth of a second and ten minutes on one chart, with
    ticks at 1, 2 and 5 of each power of ten (1 and 3 over more than two decades), written out in full."""
    shown = [value for value in values if value > 0]
    low, high = math.log10(min(shown)) - LOG_PAD, math.log10(max(shown)) + LOG_PAD
    digits = (1, 2, 5) if high - low <= 2 else (1, 3)
    powers = range(math.floor(low), math.ceil(high) + 1)
    ticks = [digit * 10.0**power for power in powers for digit in digits if low <= power + math.log10(digit) <= high]
    labels = [f"{tick:g}" for tick in ticks]
    return {"title": "seconds (log)", "type": "log", "range": [low, high], "tickvals": ticks, "ticktext": labels}


def _time_axis(span: tuple[datetime, datetime], period_hours: int, starts: Sequence[datetime]) -> list[datetime]:
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
    return _layout(figure, title)


def _target_trace(x_range: Sequence[datetime], value: float, name: str) -> go.Scatter:
    """A horizontal line across the whole time axis."""
    return go.Scatter(x=list(x_range), y=[value, value], mode="lines", name=name, line=TARGET_LINE, hoverinfo="skip")


def success_rate(points: Sequence[SuccessPoint], span: tuple[datetime, datetime], *, period_hours: int) -> go.Figure:
    """Success rate per period across `span`, with the 95% target line."""
    title = "Success rate over time"
    rated = [point for point in points if point.rate is not None]
    if not rated:
        return empty(title, "No completed or failed generations in this window yet")
    x = [point.start for point in rated]
    rates = [rate for point in rated if (rate := point.rate) is not None]
    x_range = _time_axis(span, period_hours, x)
    figure = go.Figure(
        [
            go.Scatter(
                x=x,
                y=rates,
                mode="lines+markers",
                name="Success rate",
                line={"color": "#6366f1", "width": 2},
                marker=MARKERS,
                customdata=[[point.completed, point.failed] for point in rated],
                hovertemplate="%{y:.1%} (%{customdata[0]} completed, %{customdata[1]} failed)<extra></extra>",
            ),
            _target_trace(x_range, SUCCESS_TARGET, f"Target {SUCCESS_TARGET:.0%}"),
        ]
    )
    yaxis = _share_axis([*rates, SUCCESS_TARGET, 1.0])
    return _layout(figure, title, xaxis={"range": x_range}, yaxis=yaxis)


def latency(
    series: Mapping[str, Sequence[LatencyPoint]], span: tuple[datetime, datetime], *, period_hours: int
) -> go.Figure:
    """p95 (solid) and p50 (dotted, shown from the legend) processing time per tier, with the 120 s line,
    on a logarithmic axis: a preview's third of a second, a GPU's few seconds and a slow tier's minutes.

    With four tiers, eight lines at once are unreadable: p50 starts hidden, a click away.
    """
    title = "Generation time per tier: p95<br>(click the legend for p50)"
    if not any(series.values()):
        return empty(title, "No completed generations in this window yet")
    x_range = _time_axis(span, period_hours, [point.start for points in series.values() for point in points])
    traces = []
    for tier, points in series.items():
        color = TIER_COLORS.get(tier, "#64748b")
        x = [point.start for point in points]
        for quantile, values, dash, shown in (
            ("p95", [point.p95_s for point in points], "solid", True),
            ("p50", [point.p50_s for point in points], "dot", "legendonly"),
        ):
            traces.append(
                go.Scatter(
                    x=x,
                    y=values,
                    mode="lines+markers",
                    name=f"{tier.capitalize()} {quantile}",
                    line={"color": color, "dash": dash, "width": 2},
                    marker=MARKERS,
                    visible=shown,
                    hovertemplate=f"{tier} {quantile}: %{{y:.3~g}} s<extra></extra>",
                )
            )
    traces.append(_target_trace(x_range, TIME_TARGET_S, f"Target {TIME_TARGET_S:.0f} s"))
    times = [time for trace in traces for time in trace.y if time is not None]
    return _layout(go.Figure(traces), title, xaxis={"range": x_range}, yaxis=_seconds_axis(times))


def likeness(
    series: Mapping[tuple[str, str], Sequence[LikenessPoint]], span: tuple[datetime, datetime], *, period_hours: int
) -> go.Figure:
    """Mean likeness per tier and engine per period, with the same-person threshold's line."""
    title = "Likeness per tier and engine (mean)"
    if not any(series.values()):
        return empty(title, "No scored avatars in this window yet")
    x_range = _time_axis(span, period_hours, [point.start for points in series.values() for point in points])
    traces = []
    for (tier, engine), points in series.items():
        traces.append(
            go.Scatter(
                x=[point.start for point in points],
                y=[point.mean for point in points],
                mode="lines+markers",
                name=f"{tier.capitalize()} · {engine}",
                line={"color": TIER_COLORS.get(tier, "#64748b"), "dash": ENGINE_DASHES.get(engine, "dash"), "width": 2},
                marker=MARKERS,
                customdata=[[point.ok_rate, point.scored] for point in points],
                hovertemplate=f"{tier} · {engine}: %{{y:.0%}} (%{{customdata[0]:.0%}} of %{{customdata[1]}} avatars "
                "look like the person)<extra></extra>",
            )
        )
    traces.append(_target_trace(x_range, ALIKE_SCORE, f"Same person from {ALIKE_SCORE:.0%}"))
    yaxis = _share_axis([ALIKE_SCORE, 1.0, *(point.mean for points in series.values() for point in points)])
    return _layout(go.Figure(traces), title, xaxis={"range": x_range}, yaxis=yaxis)


def failures(failed: Mapping[str, int], rejected: Mapping[str, int]) -> go.Figure:
    """Failures (after the charge, refunded) and refusals (before it) per error code."""
    title = "Failures and refusals by code"
    if not failed and not rejected:
        return empty(title, "No failures or refusals in this window")
    codes = sorted(set(failed) | set(rejected), key=lambda code: failed.get(code, 0) + rejected.get(code, 0))
    traces = [
        go.Bar(
            y=codes,
            x=[counts.get(code, 0) for code in codes],
            name=name,
            orientation="h",
            width=BAR_WIDTH,
            marker_color=STATUS_COLORS[status],
        )
        for status, name, counts in (("failed", "Failed (refunded)", failed), ("rejected", "Refused", rejected))
        if counts
    ]
    largest = max((failed.get(code, 0) + rejected.get(code, 0) for code in codes), default=0)
    yaxis = {**_category_axis(len(codes)), "automargin": True}
    return _layout(
        go.Figure(traces), title, barmode="stack", hovermode="y unified", xaxis=_count_axis(largest), yaxis=yaxis
    )


def volume(by_model: Mapping[str, Mapping[str, Any]]) -> go.Figure:
    """Completed generations per tier, one bar colour per mode (photo to avatar vs text to image)."""
    title = "Completed generations by tier and mode"
    per_mode: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for figures in by_model.values():
        if figures["completed"]:
            per_mode[figures["mode"]][figures["tier"]] += figures["completed"]
    if not per_mode:
        return empty(title, "No completed generations in this window yet")
    tiers = list(dict.fromkeys(figures["tier"] for figures in by_model.values() if figures["completed"]))
    traces = [
        go.Bar(
            x=[tier.capitalize() for tier in tiers],
            y=[counts.get(tier, 0) for tier in tiers],
            name=MODE_NAMES.get(mode, mode),
            width=BAR_WIDTH,
            marker_color=MODE_COLORS.get(mode, "#64748b"),
        )
        for mode, counts in per_mode.items()
    ]
    largest = max(sum(counts.get(tier, 0) for counts in per_mode.values()) for tier in tiers)
    return _layout(
        go.Figure(traces),
        title,
        barmode="stack",
        hovermode="x unified",
        xaxis=_category_axis(len(tiers)),
        yaxis=_count_axis(largest),
    )


def ratings(distribution: Mapping[str, int]) -> go.Figure:
    """How many generations got each number of stars."""
    title = "Ratings"
    if not any(distribution.values()):
        return empty(title, "No ratings in this window yet")
    stars = sorted(distribution, key=int)
    figure = go.Figure(
        go.Bar(
            x=["★" * int(star) for star in stars],
            y=[distribution[star] for star in stars],
            name="Ratings",
            width=BAR_WIDTH,
            marker_color=[STAR_COLORS[int(star)] for star in stars],
        )
    )
    axes = {"xaxis": _category_axis(len(stars)), "yaxis": _count_axis(max(distribution.values()))}
    return _layout(figure, title, showlegend=False, hovermode="x", **axes)


def all_figures(board: Dashboard) -> dict[str, go.Figure]:
    """Every chart on the tab, by name, in the order they are laid out."""
    summary, period_hours = board.summary, board.period_hours
    return {
        "success": success_rate(board.success, board.span, period_hours=period_hours),
        "latency": latency(board.latency, board.span, period_hours=period_hours),
        "likeness": likeness(board.likeness, board.span, period_hours=period_hours),
        "failures": failures(summary["failures_by_code"], summary["rejections_by_code"]),
        "volume": volume(summary["by_model"]),
        "ratings": ratings(summary["rating_distribution"]),
    }
