"""Chart builders: the expected traces for a known history, a clear empty state for none, and figures that
show every point whole, keep bars narrow and stay readable on a phone."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

import pytest
from plotly import graph_objects as go

from photomaker.monitoring import chart_look, charts, dashboard, views
from photomaker.startup.records import seed_models
from photomaker.store import Database
from tests.known_history import NOW, make_known_history

HOUR = NOW.replace(minute=0)
DAY = (HOUR - timedelta(hours=24), NOW)
HALF_HOUR = timedelta(minutes=30)


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """Figures do not depend on the database; SQLite is enough here."""
    return f"sqlite:///{tmp_path / 'charts.db'}"


def _names(figure: go.Figure) -> list[str]:
    return [trace.name for trace in figure.data]


def test_every_chart_of_a_known_history(database: Database) -> None:
    make_known_history(database)
    figures = charts.all_figures(dashboard.read(database, views.View(window="24h"), now=NOW))
    assert list(figures) == ["success", "latency", "likeness", "failures", "volume", "ratings"]

    success = figures["success"]
    assert _names(success) == ["Success rate", "Target 95%"]
    assert list(success.data[0].y) == [1.0, 1.0, 0.0, 1.0, 1.0]
    assert list(success.data[1].y) == [0.95, 0.95]
    # the window, with half a period (an hour here) of room either side
    assert list(success.layout.xaxis.range) == [DAY[0] - HALF_HOUR, NOW + HALF_HOUR]
    assert list(success.data[1].x) == list(success.layout.xaxis.range), "the target line crosses the whole chart"

    latency = figures["latency"]
    assert _names(latency) == ["Basic p95", "Basic p50", "Pro p95", "Pro p50", "Text p95", "Text p50", "Target 120 s"]
    assert list(latency.data[2].y) == [130.0, 100.0]  # one time each hour: p95 is that time
    assert list(latency.data[-1].y) == [120, 120]
    assert [trace.visible for trace in latency.data[:2]] == [True, "legendonly"], "p50 is a legend click away"

    likeness = figures["likeness"]
    assert _names(likeness) == ["Pro · preview", "Same person from 50%"]
    assert list(likeness.data[0].y) == [0.575, 0.82]  # 0.74 and 0.41, then 0.82; the basic avatar had no face
    assert [list(row) for row in likeness.data[0].customdata] == [[0.5, 2], [1.0, 1]]
    assert list(likeness.data[-1].y) == [0.5, 0.5] and list(likeness.data[-1].x) == list(success.layout.xaxis.range)
    assert likeness.data[-1].line.dash == "dash" and likeness.layout.yaxis.tickformat == ".0%"
    # from the threshold to 100%, half a tick step (10%) of room either side
    assert likeness.layout.yaxis.range == pytest.approx((0.45, 1.05))

    failures = figures["failures"]
    assert _names(failures) == ["Failed (refunded)", "Refused"]
    assert set(failures.data[0].y) == {"GENERATION_TIMEOUT", "NO_FACE"}

    volume = figures["volume"]
    assert _names(volume) == ["Photo to avatar", "Text to image"]
    assert list(volume.data[0].x) == ["Basic", "Pro", "Text"] and list(volume.data[0].y) == [1, 2, 0]
    assert list(volume.data[1].y) == [0, 0, 1]

    ratings = figures["ratings"]
    assert list(ratings.data[0].y) == [0, 0, 1, 1, 1]
    assert list(ratings.data[0].x) == ["★", "★★", "★★★", "★★★★", "★★★★★"]
    assert (ratings.layout.yaxis.dtick, failures.layout.xaxis.dtick) == (1, 1), "counts have whole-number ticks"


def test_each_engine_of_a_tier_has_its_own_dash_and_the_axis_reaches_the_lowest_mean(database: Database) -> None:
    make_known_history(database)
    week = charts.all_figures(dashboard.read(database, views.View(window="7d"), now=NOW))["likeness"]
    assert _names(week) == ["Pro · preview", "Enterprise · synthetic", "Same person from 50%"]
    assert [trace.line.dash for trace in week.data[:2]] == ["solid", "dot"]
    assert [trace.line.color for trace in week.data[:2]] == [
        charts.TIER_COLORS["pro"],
        charts.TIER_COLORS["enterprise"],
    ]
    low = dashboard.LikenessPoint(start=NOW, scored=1, mean=0.2, ok_rate=0.0)
    figure = charts.likeness({("basic", "space"): [low]}, (NOW, NOW), period_hours=1)
    assert figure.data[0].line.dash == "dash"  # an engine with no dash of its own
    assert figure.layout.yaxis.range == pytest.approx((0.1, 1.1))  # 20% to 100%, ticks every 20%


def test_an_empty_database_gives_empty_states_not_broken_charts(database: Database) -> None:
    seed_models(database)
    figures = charts.all_figures(dashboard.read(database, views.View(window="all")))
    for figure in figures.values():
        assert len(figure.data) == 0
        assert "No " in figure.layout.annotations[0].text
        assert figure.layout.xaxis.visible is False
    success = figures["success"].layout.annotations[0].text
    assert success == "No completed or failed generations in<br>this window yet", "wrapped for a phone"


def _ticks(axis: go.layout.XAxis | go.layout.YAxis) -> list[float]:
    """The ticks a linear axis with `tick0` and `dtick` shows inside its range."""
    low, high = axis.range
    first = math.ceil((low - axis.tick0) / axis.dtick - 1e-9)
    return [axis.tick0 + n * axis.dtick for n in range(first, first + 1000) if axis.tick0 + n * axis.dtick <= high]


LONE_SPAN = (HOUR, NOW)
"""All time, with one point, in the current hour: the span runs from that point to now."""


def _lone_points() -> dict[str, go.Figure]:
    """Each chart over time with a single point, at the very start of its span (where it was clipped before)."""
    span = LONE_SPAN
    return {
        "success": charts.success_rate(
            [dashboard.SuccessPoint(start=HOUR, completed=99, failed=1)], span, period_hours=1
        ),
        "latency": charts.latency(
            {"pro": [dashboard.LatencyPoint(start=HOUR, completed=100, p50_s=0.35, p95_s=0.368)]}, span, period_hours=1
        ),
        "likeness": charts.likeness(
            {("pro", "preview"): [dashboard.LikenessPoint(start=HOUR, scored=1, mean=0.8, ok_rate=1.0)]},
            span,
            period_hours=1,
        ),
    }


@pytest.mark.parametrize("name", ["success", "latency", "likeness"])
def test_a_lone_point_shows_as_a_marker_with_room_either_side(name: str) -> None:
    figure = _lone_points()[name]
    point = figure.data[0]
    assert "markers" in point.mode and point.marker.size >= 6
    start, end = figure.layout.xaxis.range
    assert (start, end) == (HOUR - HALF_HOUR, NOW + HALF_HOUR)
    assert start + HALF_HOUR <= point.x[0] <= end - HALF_HOUR
    target = figure.data[-1]
    assert list(target.x) == [start, end]


def test_the_time_axis_reaches_a_first_period_that_starts_before_the_window() -> None:
    """A 30-day window starts at an hour; its first point is the day that holds that hour, up to 23 hours before."""
    span = (HOUR - timedelta(days=30), NOW)
    first = span[0].replace(hour=0)
    points = [dashboard.SuccessPoint(start=first + timedelta(days=n), completed=1, failed=0) for n in range(31)]
    figure = charts.success_rate(points, span, period_hours=24)
    assert list(figure.layout.xaxis.range) == [first - timedelta(hours=12), NOW + timedelta(hours=12)]


def test_a_rate_axis_has_room_around_its_points_and_no_tick_past_0_or_100_percent() -> None:
    figure = _lone_points()["success"]
    axis = figure.layout.yaxis
    assert axis.tickformat == ".0%" and axis.dtick in chart_look.SHARE_STEPS and axis.dtick <= 0.02
    low, high = axis.range
    assert low <= 0.95 - axis.dtick / 2 and high >= 1.0 + axis.dtick / 2  # the target line and 100%, whole
    assert _ticks(axis)[-1] == pytest.approx(1.0)
    every_rate = charts.success_rate(
        [dashboard.SuccessPoint(start=HOUR - timedelta(hours=n), completed=n % 2, failed=1 - n % 2) for n in range(4)],
        DAY,
        period_hours=1,
    ).layout.yaxis
    assert every_rate.dtick == 0.2 and every_rate.range[0] < 0 < 1 < every_rate.range[1]
    assert [round(tick, 9) for tick in _ticks(every_rate)] == [0, 0.2, 0.4, 0.6, 0.8, 1.0]


def test_times_are_on_a_log_axis_from_a_preview_s_third_of_a_second_to_the_target() -> None:
    axis = _lone_points()["latency"].layout.yaxis
    assert axis.type == "log" and axis.title.text == "seconds (log)"
    low, high = axis.range
    assert low < math.log10(0.35) - 0.1 and high > math.log10(120) + 0.1  # both whole, with room
    assert list(axis.ticktext) == ["0.3", "1", "3", "10", "30", "100"]
    assert all(low <= math.log10(tick) <= high for tick in axis.tickvals)
    few_seconds = charts.latency(
        {"pro": [dashboard.LatencyPoint(start=HOUR, completed=10, p50_s=3.1, p95_s=5.8)]}, DAY, period_hours=1
    ).layout.yaxis
    assert list(few_seconds.ticktext) == ["5", "10", "20", "50", "100"]  # 1-2-5 over two decades or less


def _bar_share(figure: go.Figure, axis: go.layout.XAxis | go.layout.YAxis) -> float:
    """How much of its category axis one bar takes."""
    low, high = axis.range
    return max(trace.width for trace in figure.data) / (high - low)


def test_a_lone_bar_takes_a_quarter_of_its_axis_at_most() -> None:
    one_code = charts.failures({"GENERATION_TIMEOUT": 3}, {})
    assert one_code.layout.yaxis.range == pytest.approx((-2.0, 2.0))  # room for four codes, the one centred
    assert _bar_share(one_code, one_code.layout.yaxis) == pytest.approx(chart_look.BAR_WIDTH / chart_look.MIN_SLOTS)
    one_tier = charts.volume({"k": {"completed": 5, "mode": "photo", "tier": "pro"}})
    assert _bar_share(one_tier, one_tier.layout.xaxis) <= 0.25
    stars = charts.ratings({"1": 0, "2": 0, "3": 0, "4": 0, "5": 7})
    assert stars.layout.xaxis.range == pytest.approx((-0.5, 4.5))
    assert _bar_share(stars, stars.layout.xaxis) == pytest.approx(chart_look.BAR_WIDTH / 5)
    many = charts.failures({f"CODE_{n}": n + 1 for n in range(8)}, {"NO_FACE": 2})
    assert many.layout.yaxis.range == pytest.approx((-0.5, 8.5))  # every code its slot
    # counts start at 0 with room above the longest bar, ticks on whole numbers
    assert (one_code.layout.xaxis.range[0], one_code.layout.xaxis.dtick) == (0, 1)
    assert one_code.layout.xaxis.range[1] > 3


def _lines(text: str | None) -> list[str]:
    return [re.sub(r"<[^>]+>", "", line) for line in (text or "").split("<br>")]


def _every_figure(database: Database) -> list[go.Figure]:
    make_known_history(database)
    figures: list[go.Figure] = [*_lone_points().values()]
    for window in views.WINDOWS:
        figures += charts.all_figures(dashboard.read(database, views.View(window=window), now=NOW)).values()
    return figures + [chart_look.empty(title) for title in ("Success rate over time", "Ratings")]


def test_every_figure_reads_on_a_phone(database: Database) -> None:
    """390 px wide: titles and messages in short lines, the legend in rows at the foot, room for the plot."""
    figures: Sequence[go.Figure] = _every_figure(database)
    for figure in figures:
        layout = figure.layout
        texts = [layout.title.text, *(annotation.text for annotation in layout.annotations)]
        assert all(len(line) <= chart_look.LINE_CHARS for text in texts for line in _lines(text)), texts
        assert (layout.legend.orientation, layout.legend.yref, layout.legend.y, layout.legend.yanchor) == (
            "h",
            "container",
            0,
            "bottom",
        )
        assert layout.height - layout.margin.t - layout.margin.b >= 250
