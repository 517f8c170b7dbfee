"""The Monitoring tab's headline cards, definitions and empty state."""

from __future__ import annotations

import re

from photomaker.monitoring import metrics, targets, views
from photomaker.startup.records import seed_models
from photomaker.store import Database, row_id, users
from photomaker.ui.monitoring_cards import definitions_markdown, empty_note, headline_html
from tests.helpers import add_finished
from tests.known_history import NOW, PRO, make_known_history


def _card(page: str, title: str) -> str:
    """The text of one headline card, tags stripped."""
    found = re.search(rf"<div[^>]*>{re.escape(title)}</div>(.*?)</div></div>", page)
    assert found is not None, title
    return re.sub(r"<[^>]+>", " | ", found[1])


def test_headline_marks_each_target_met_or_missed(database: Database) -> None:
    make_known_history(database)
    page = headline_html(metrics.summary(database, views.View(window="24h"), now=NOW))
    assert page.count("✓ met") == 2  # average time, adoption
    assert page.count("✗ missed") == 4  # success rate, p95 time, satisfaction, looks like the person
    for text in ("80.0%", "75.0 s", "130.0 s", "75.0%", "4.00 / 5", "103", "3 ratings", "1 refused"):
        assert text in page
    assert empty_note(metrics.summary(database, views.View(window="24h"), now=NOW))["visible"] is False


def test_the_likeness_card_says_what_share_of_avatars_look_like_the_person(database: Database) -> None:
    make_known_history(database)
    day = _card(headline_html(metrics.summary(database, views.View(window="24h"), now=NOW)), "Looks like the person")
    assert "66.7%" in day
    assert "of 3 avatars scored · median likeness 75% · target &gt;= 90.0% · 1 with no face found" in day
    assert "✗ missed" in day
    week = metrics.summary(database, views.View(window="7d", tier="enterprise"), now=NOW)
    card = _card(headline_html(week), "Looks like the person")
    assert "100.0%" in card and "of 1 avatar scored" in card and "no face" not in card and "✓ met" in card


def test_the_kept_card_reads_the_likeness_check_before_and_after_it(database: Database) -> None:
    make_known_history(database)
    summary = metrics.summary(database, views.View(window="24h"), now=NOW)
    day = _card(headline_html(summary), "Kept after likeness check")
    assert re.sub(r"[ |]+", " ", day).strip() == "66.7% first try 33.3% · 1.50 tries per kept avatar · 2 of 3 asked"
    for tier in ("text", "enterprise"):  # text to image is never checked; enterprise made nothing that day
        summary = metrics.summary(database, views.View(window="24h", tier=tier), now=NOW)
        card = re.sub(r"[ |]+", " ", _card(headline_html(summary), "Kept after likeness check")).strip()
        assert card == "— no photo to avatar images asked for in this window", tier


def test_a_window_that_kept_nothing_reads_no_tries_per_kept_avatar(database: Database) -> None:
    seed_models(database)
    with database.session() as session:
        user_id = row_id(users.get_or_create_user(session, "ops", starting_credits=0))
    tally = {"images_asked": 2, "images_kept": 0, "candidates": 4, "alike_first_try": 0}
    add_finished(database, user_id, model_key=PRO, mode="photo", status="failed", error_code="NOT_ALIKE", **tally)
    card = _card(headline_html(metrics.summary(database, views.View(window="24h"))), "Kept after likeness check")
    assert re.sub(r"[ |]+", " ", card).strip() == "0.0% first try 0.0% · — tries per kept avatar · 0 of 2 asked"


def test_adoption_within_one_tier_says_why_it_is_n_a_not_that_data_is_missing(database: Database) -> None:
    make_known_history(database)
    page = headline_html(metrics.summary(database, views.View(window="24h", tier="pro"), now=NOW))
    card = _card(page, "Photo-to-avatar adoption")
    shown = re.sub(r"[ |]+", " ", card).strip()
    assert shown.startswith("n/a target &gt; 30.0% · one tier has one mode: choose All tiers Satisfaction"), shown
    assert page.count("no data yet") == 0  # every other target has figures for the pro tier
    every_tier = _card(headline_html(metrics.summary(database, views.View(window="24h"), now=NOW)), "Satisfaction")
    assert "one tier" not in every_tier


def test_the_definitions_name_each_figure_as_its_card_does() -> None:
    text = definitions_markdown()
    assert "- **Looks like the person**: share of scored avatars that look like the person" in text
    assert "- **Median likeness**: median likeness score" in text
    assert "- **Kept after likeness check**: share of the photo to avatar images asked for" in text
    assert "- **First try**: the kept rate before the likeness check" in text
    assert "- **Tries per kept avatar**: images the engine made" in text
    assert "same-person threshold scores 50%" in text and "buckets, exact to within one bucket" in text
    assert text.count("\n") == len(targets.DEFINITIONS) - 1


def test_an_empty_window_says_so(database: Database) -> None:
    summary = metrics.summary(database, views.View(window="24h"))
    page = headline_html(summary)
    assert page.count("no data yet") == len(targets.TARGETS)
    assert "of 0 avatars scored · median likeness n/a" in page
    note = empty_note(summary)
    assert note["visible"] is True and "Nothing to show for the last 24 hours yet" in note["value"]
