"""The Monitoring tab's headline cards and empty state."""

from __future__ import annotations

from photomaker.monitoring import metrics
from photomaker.store import Database
from photomaker.ui.monitoring_tab import empty_note, headline_html
from tests.known_history import NOW, make_known_history


def test_headline_marks_each_target_met_or_missed(database: Database) -> None:
    make_known_history(database)
    page = headline_html(metrics.summary(database, metrics.View(window="24h"), now=NOW))
    assert page.count("✓ met") == 2  # average time, adoption
    assert page.count("✗ missed") == 3  # success rate, p95 time, satisfaction
    for text in ("80.0%", "75.0 s", "135.0 s", "75.0%", "4.00 / 5", "103", "3 ratings", "1 refused"):
        assert text in page
    assert empty_note(metrics.summary(database, metrics.View(window="24h"), now=NOW))["visible"] is False


def test_an_empty_window_says_so(database: Database) -> None:
    summary = metrics.summary(database, metrics.View(window="24h"))
    page = headline_html(summary)
    assert page.count("no data yet") == len(metrics.TARGETS)
    note = empty_note(summary)
    assert note["visible"] is True and "Nothing to show for the last 24 hours yet" in note["value"]
