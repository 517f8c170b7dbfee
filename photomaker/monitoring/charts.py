"""Plotly figures for the Monitoring tab, built from `metrics` results (no gradio, no database).

Every builder returns a figure; with nothing to draw it returns an empty-state figure that
says so, never empty axes.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import plotly.graph_objects as go

from photomaker.likeness import ALIKE_SCORE
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
HEIGHT = 320


def _layout(figure: go.Figure, title: str, **extra: Any) -> go.Figure:
    layout = {
        "title": {"text": title, "x": 0.01, "font": {"size": 15}},
        "height": HEIGHT,
        "margin": {"l": 50, "r": 20, "t": 50, "b": 40},
        "template": "plotly_white",
        "legend": {"orientation": "h", "y": -0.18},
        "hovermode": "x unified",
    }
    figure.update_layout(**{**layout, **extra})
    # Room between the axes' labels, so the first date and the lowest value never touch.
    figure.update_xaxes(ticklabelstandoff=6)
    figure.update_yaxes(ticklabelstandoff=6)
    return figure


def _count_axis(largest: int) -> dict[str, Any]:
    """An axis of whole counts: about five ticks at round whole numbers (1, 2, 5, 10, 20, 50...), from zero."""
    rough = max(1.0, largest / 5)
    power = 10 ** math.floor(math.log10(rough))
    step = next(power * factor for factor in (1, 2, 5, 10) if power * factor >= rough)
    return {"tick0": 0, "dtick": int(step), "rangemode": "tozero"}


def empty(title: str, message: str = EMPTY_TEXT) -> go.Figure:
    """A figure with no traces and no axes, only a message."""
    figure = go.Figure()
    figure.add_annotation(text=message, showarrow=False, font={"size": 14, "color": "#6b7280"}, x=0.5, y=0.5)
    figure.update_xaxes(visible=False, range=[0, 1])
    figure.update_yaxes(visible=False, range=[0, 1])
    return _layout(figure, title)


def _target_trace(span: tuple[datetime, datetime], value: float, name: str) -> go.Scatter:
    return go.Scatter(x=list(span), y=[value, value], mode="lines", name=name, line=TARGET_LINE, hoverinfo="skip")


def success_rate(points: Sequence[SuccessPoint], span: tuple[datetime, datetime]) -> go.Figure:
    """Success rate per period across `span`, with the 95% target line."""
    title = "Success rate over time"
    rated = [point for point in points if point.rate is not None]
    if not rated:
        return empty(title, "No completed or failed generations in this window yet")
    x = [point.start for point in rated]
    rates = [rate for point in rated if (rate := point.rate) is not None]
    figure = go.Figure(
        [
            go.Scatter(
                x=x,
                y=rates,
                mode="lines+markers",
                name="Success rate",
                line={"color": "#6366f1", "width": 2},
                marker={"size": 7},
                customdata=[[point.completed, point.failed] for point in rated],
                hovertemplate="%{y:.1%} (%{customdata[0]} completed, %{customdata[1]} failed)<extra></extra>",
            ),
            _target_trace(span, SUCCESS_TARGET, f"Target {SUCCESS_TARGET:.0%}"),
        ]
    )
    low = min(min(rates), SUCCESS_TARGET)
    yaxis = {"tickformat": ".0%", "range": [max(0.0, low - 0.05), 1.01]}
    return _layout(figure, title, xaxis={"range": list(span)}, yaxis=yaxis)


def latency(series: Mapping[str, Sequence[LatencyPoint]], span: tuple[datetime, datetime]) -> go.Figure:
    """p95 (solid) and p50 (dotted, shown from the legend) processing time per tier, with the 120 s line.

    With four tiers, eight lines at once are unreadable: p50 starts hidden, a click away.
    """
    title = "Generation time per tier: p95 (click the legend for p50)"
    if not any(series.values()):
        return empty(title, "No completed generations in this window yet")
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
                    marker={"size": 7},
                    visible=shown,
                    hovertemplate=f"{tier} {quantile}: %{{y:.0f}} s<extra></extra>",
                )
            )
    traces.append(_target_trace(span, TIME_TARGET_S, f"Target {TIME_TARGET_S:.0f} s"))
    yaxis = {"title": "seconds", "rangemode": "tozero"}
    return _layout(go.Figure(traces), title, xaxis={"range": list(span)}, yaxis=yaxis)


def likeness(series: Mapping[tuple[str, str], Sequence[LikenessPoint]], span: tuple[datetime, datetime]) -> go.Figure:
    """Mean likeness per tier and engine per period, with the same-person threshold's line."""
    title = "Likeness per tier and engine (mean score)"
    if not any(series.values()):
        return empty(title, "No scored avatars in this window yet")
    traces = []
    for (tier, engine), points in series.items():
        traces.append(
            go.Scatter(
                x=[point.start for point in points],
                y=[point.mean for point in points],
                mode="lines+markers",
                name=f"{tier.capitalize()} · {engine}",
                line={"color": TIER_COLORS.get(tier, "#64748b"), "dash": ENGINE_DASHES.get(engine, "dash"), "width": 2},
                marker={"size": 7},
                customdata=[[point.ok_rate, point.scored] for point in points],
                hovertemplate=f"{tier} · {engine}: %{{y:.0%}} (%{{customdata[0]:.0%}} of %{{customdata[1]}} avatars "
                "look like the person)<extra></extra>",
            )
        )
    traces.append(_target_trace(span, ALIKE_SCORE, f"Same person from {ALIKE_SCORE:.0%}"))
    low = min(ALIKE_SCORE, *(point.mean for points in series.values() for point in points))
    yaxis = {"tickformat": ".0%", "range": [max(0.0, low - 0.05), 1.01]}
    return _layout(go.Figure(traces), title, xaxis={"range": list(span)}, yaxis=yaxis)


def failures(failed: Mapping[str, int], rejected: Mapping[str, int]) -> go.Figure:
    """Failures (after the charge, refunded) and refusals (before it) per error code."""
    title = "Failures and refusals by error code"
    if not failed and not rejected:
        return empty(title, "No failures or refusals in this window")
    codes = sorted(set(failed) | set(rejected), key=lambda code: failed.get(code, 0) + rejected.get(code, 0))
    traces = [
        go.Bar(
            y=codes,
            x=[counts.get(code, 0) for code in codes],
            name=name,
            orientation="h",
            marker_color=STATUS_COLORS[status],
        )
        for status, name, counts in (("failed", "Failed (refunded)", failed), ("rejected", "Refused", rejected))
        if counts
    ]
    largest = max((failed.get(code, 0) + rejected.get(code, 0) for code in codes), default=0)
    return _layout(go.Figure(traces), title, barmode="stack", hovermode="y unified", xaxis=_count_axis(largest))


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
            marker_color=MODE_COLORS.get(mode, "#64748b"),
        )
        for mode, counts in per_mode.items()
    ]
    largest = max(sum(counts.get(tier, 0) for counts in per_mode.values()) for tier in tiers)
    return _layout(go.Figure(traces), title, barmode="stack", hovermode="x unified", yaxis=_count_axis(largest))


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
            marker_color=[STAR_COLORS[int(star)] for star in stars],
        )
    )
    return _layout(figure, title, showlegend=False, hovermode="x", yaxis=_count_axis(max(distribution.values())))


def all_figures(board: Dashboard) -> dict[str, go.Figure]:
    """Every chart on the tab, by name, in the order they are laid out."""
    summary = board.summary
    return {
        "success": success_rate(board.success, board.span),
        "latency": latency(board.latency, board.span),
        "likeness": likeness(board.likeness, board.span),
        "failures": failures(summary["failures_by_code"], summary["rejections_by_code"]),
        "volume": volume(summary["by_model"]),
        "ratings": ratings(summary["rating_distribution"]),
    }
