"""Chart builders: the expected traces for a known history, and a clear empty state for none."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from plotly import graph_objects as go

from photomaker.monitoring import charts, metrics
from photomaker.runtime import seed_models
from photomaker.store import Database
from tests.known_history import NOW, make_known_history


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """Figures do not depend on the database; SQLite is enough here."""
    return f"sqlite:///{tmp_path / 'charts.db'}"


def _names(figure: go.Figure) -> list[str]:
    return [trace.name for trace in figure.data]


def test_every_chart_of_a_known_history(database: Database) -> None:
    make_known_history(database)
    figures = charts.all_figures(metrics.dashboard(database, metrics.View(window="24h"), now=NOW))
    assert list(figures) == ["success", "latency", "likeness", "failures", "volume", "ratings"]

    success = figures["success"]
    assert _names(success) == ["Success rate", "Target 95%"]
    assert list(success.data[0].y) == [1.0, 1.0, 0.0, 1.0, 1.0]
    assert list(success.data[1].y) == [0.95, 0.95]
    assert list(success.layout.xaxis.range) == [NOW.replace(minute=0) - timedelta(hours=24), NOW]

    latency = figures["latency"]
    assert _names(latency) == ["Basic p95", "Basic p50", "Pro p95", "Pro p50", "Text p95", "Text p50", "Target 120 s"]
    assert list(latency.data[2].y) == [135.0, 105.0]
    assert list(latency.data[-1].y) == [120, 120]
    assert [trace.visible for trace in latency.data[:2]] == [True, "legendonly"], "p50 is a legend click away"

    likeness = figures["likeness"]
    assert _names(likeness) == ["Pro · preview", "Same person from 50%"]
    assert list(likeness.data[0].y) == [0.575, 0.82]  # 0.74 and 0.41, then 0.82; the basic avatar had no face
    assert [list(row) for row in likeness.data[0].customdata] == [[0.5, 2], [1.0, 1]]
    assert list(likeness.data[-1].y) == [0.5, 0.5] and list(likeness.data[-1].x) == list(success.layout.xaxis.range)
    assert likeness.data[-1].line.dash == "dash" and likeness.layout.yaxis.tickformat == ".0%"
    assert list(likeness.layout.yaxis.range) == [0.45, 1.01]  # down to the threshold, with a margin

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
    week = charts.all_figures(metrics.dashboard(database, metrics.View(window="7d"), now=NOW))["likeness"]
    assert _names(week) == ["Pro · preview", "Enterprise · synthetic", "Same person from 50%"]
    assert [trace.line.dash for trace in week.data[:2]] == ["solid", "dot"]
    assert [trace.line.color for trace in week.data[:2]] == [
        charts.TIER_COLORS["pro"],
        charts.TIER_COLORS["enterprise"],
    ]
    low = metrics.LikenessPoint(start=NOW, scored=1, mean=0.2, ok_rate=0.0)
    figure = charts.likeness({("basic", "space"): [low]}, (NOW, NOW))
    assert figure.data[0].line.dash == "dash"  # an engine with no dash of its own
    assert figure.layout.yaxis.range[0] == pytest.approx(0.15)


def test_an_empty_database_gives_empty_states_not_broken_charts(database: Database) -> None:
    seed_models(database)
    figures = charts.all_figures(metrics.dashboard(database, metrics.View(window="all")))
    for figure in figures.values():
        assert len(figure.data) == 0
        assert "No " in figure.layout.annotations[0].text
        assert figure.layout.xaxis.visible is False
    assert figures["success"].layout.annotations[0].text == "No completed or failed generations in this window yet"
