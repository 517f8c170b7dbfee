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
    assert list(figures) == ["success", "latency", "failures", "volume", "ratings"]

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


def test_an_empty_database_gives_empty_states_not_broken_charts(database: Database) -> None:
    seed_models(database)
    figures = charts.all_figures(metrics.dashboard(database, metrics.View(window="all")))
    for figure in figures.values():
        assert len(figure.data) == 0
        assert "No " in figure.layout.annotations[0].text
        assert figure.layout.xaxis.visible is False
    assert figures["success"].layout.annotations[0].text == "No completed or failed generations in this window yet"
