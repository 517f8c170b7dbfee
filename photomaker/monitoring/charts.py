"""Plotly figures for the Monitoring tab, built from a `dashboard` (no gradio, no database).

Every builder returns a figure; with nothing to draw it returns an empty-state figure that
says so, never empty axes. How they look, on a phone too, is `chart_look`'s.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import plotly.graph_objects as go

from photomaker.faces.likeness import ALIKE_SCORE
from photomaker.monitoring.chart_look import (
    BAR_WIDTH,
    MARKERS,
    category_axis,
    count_axis,
    empty,
    layout,
    seconds_axis,
    share_axis,
    target_trace,
    time_axis,
)
from photomaker.monitoring.dashboard import Dashboard, LatencyPoint, LikenessPoint, SuccessPoint
from photomaker.monitoring.targets import TARGETS

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


def success_rate(points: Sequence[SuccessPoint], span: tuple[datetime, datetime], *, period_hours: int) -> go.Figure:
    """Success rate per period across `span`, with the 95% target line."""
    title = "Success rate over time"
    rated = [point for point in points if point.rate is not None]
    if not rated:
        return empty(title, "No completed or failed generations in this window yet")
    x = [point.start for point in rated]
    rates = [rate for point in rated if (rate := point.rate) is not None]
    x_range = time_axis(span, period_hours, x)
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
            target_trace(x_range, SUCCESS_TARGET, f"Target {SUCCESS_TARGET:.0%}"),
        ]
    )
    yaxis = share_axis([*rates, SUCCESS_TARGET, 1.0])
    return layout(figure, title, xaxis={"range": x_range}, yaxis=yaxis)


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
    x_range = time_axis(span, period_hours, [point.start for points in series.values() for point in points])
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
    traces.append(target_trace(x_range, TIME_TARGET_S, f"Target {TIME_TARGET_S:.0f} s"))
    times = [time for trace in traces for time in trace.y if time is not None]
    return layout(go.Figure(traces), title, xaxis={"range": x_range}, yaxis=seconds_axis(times))


def likeness(
    series: Mapping[tuple[str, str], Sequence[LikenessPoint]], span: tuple[datetime, datetime], *, period_hours: int
) -> go.Figure:
    """Mean likeness per tier and engine per period, with the same-person threshold's line."""
    title = "Likeness per tier and engine (mean)"
    if not any(series.values()):
        return empty(title, "No scored avatars in this window yet")
    x_range = time_axis(span, period_hours, [point.start for points in series.values() for point in points])
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
    traces.append(target_trace(x_range, ALIKE_SCORE, f"Same person from {ALIKE_SCORE:.0%}"))
    yaxis = share_axis([ALIKE_SCORE, 1.0, *(point.mean for points in series.values() for point in points)])
    return layout(go.Figure(traces), title, xaxis={"range": x_range}, yaxis=yaxis)


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
    yaxis = {**category_axis(len(codes)), "automargin": True}
    return layout(
        go.Figure(traces), title, barmode="stack", hovermode="y unified", xaxis=count_axis(largest), yaxis=yaxis
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
    return layout(
        go.Figure(traces),
        title,
        barmode="stack",
        hovermode="x unified",
        xaxis=category_axis(len(tiers)),
        yaxis=count_axis(largest),
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
    axes = {"xaxis": category_axis(len(stars)), "yaxis": count_axis(max(distribution.values()))}
    return layout(figure, title, showlegend=False, hovermode="x", **axes)


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
