"""The raw side of the Monitoring tab: the bounded table of newest generations, and the CSV export."""

from __future__ import annotations

import csv
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from photomaker.monitoring import exports, views
from photomaker.store import Database, forgetting, generations, ledger, row_id, users
from tests.helpers import add_finished, held
from tests.known_history import NOW, PRO, make_known_history

pytestmark = pytest.mark.both_databases  # the store's own behaviour: on SQLite and PostgreSQL


@pytest.fixture
def history(database: Database) -> Database:
    make_known_history(database)
    return database


def test_recent_is_newest_first_and_filtered(history: Database) -> None:
    table = exports.recent(history, views.View(window="all"), limit=3, now=NOW)
    assert list(table.columns) == list(exports.RECENT_COLUMNS)
    assert len(table) == 3
    assert table["status"].tolist() == ["refused", "completed", "completed"]
    assert table["tier"].tolist() == ["basic", "pro", "pro"]
    hidden = exports.recent(history, views.View(window="7d", include_synthetic=False), limit=50, now=NOW)
    assert "synthetic" not in hidden["engine"].tolist() and len(hidden) == 6
    basic = exports.recent(history, views.View(window="all", tier="basic"), limit=3, now=NOW)
    assert basic["status"].tolist() == ["refused", "completed", "failed"]  # the last one 40 days old
    enterprise = exports.recent(history, views.View(window="all", tier="enterprise"), limit=3, now=NOW)
    assert enterprise["engine"].tolist() == ["synthetic"]
    assert exports.recent(history, views.View(window="all", tier="enterprise", include_synthetic=False), now=NOW).empty


def test_recent_shows_work_in_progress(database: Database) -> None:
    user_id = make_known_history(database)
    with database.session() as session:
        ledger.grant(session, user_id=user_id, amount=10)
        draft = generations.Draft(user_id=user_id, model_key=PRO, mode="photo", engine="preview")
        generations.start(session, draft, cost=1, rate_limit_per_min=9, **held())
    table = exports.recent(database, views.View(window="24h", tier="pro"), limit=2)
    assert table["status"].tolist() == ["processing"]  # the known history is older than 24 h


def test_csv_export_has_every_generation_of_the_window(history: Database, tmp_path: Path) -> None:
    path = tmp_path / "out.csv"
    assert exports.export_csv(history, views.View(window="7d"), path, now=NOW) == 7
    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == exports.EXPORT_COLUMNS
    assert len(rows) == 7
    assert [row["tier"] for row in rows][:2] == ["enterprise", "text"]  # oldest first
    assert {row["status"] for row in rows} == {"completed", "failed", "rejected"}
    assert sorted(row["rating"] for row in rows if row["rating"]) == ["3", "4", "5"]
    assert rows[0]["created_at"].startswith("2025-06-12T12:30:00")
    empty = tmp_path / "empty.csv"
    assert exports.export_csv(history, views.View(window="24h", tier="enterprise"), empty, now=NOW) == 0
    assert empty.read_text().strip() == ",".join(exports.EXPORT_COLUMNS)


def test_csv_export_has_each_generation_s_likeness_check_tally(history: Database, tmp_path: Path) -> None:
    """Images asked, kept, made and alike at the first try, as whole numbers; empty where the row has none."""
    path = tmp_path / "tally.csv"
    exports.export_csv(history, views.View(window="7d"), path, now=NOW)
    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    tally = ["images_asked", "images_kept", "candidates", "alike_first_try"]
    assert exports.EXPORT_COLUMNS[-6:] == [*tally, "likeness", "likeness_ok"]
    assert [(row["tier"], row["status"], *(row[name] for name in tally)) for row in rows] == [
        ("enterprise", "completed", "2", "1", "3", "1"),
        ("text", "completed", "1", "1", "1", "0"),
        ("basic", "completed", "1", "1", "1", "1"),
        ("pro", "failed", "1", "0", "0", "0"),
        ("pro", "completed", "", "", "", ""),  # made before packs
        ("pro", "completed", "1", "1", "2", "0"),
        ("basic", "rejected", "", "", "", ""),
    ]


def _likeness_columns(history: Database, path: Path) -> list[tuple[str, str, str, str]]:
    exports.export_csv(history, views.View(window="7d"), path, now=NOW)
    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0])[-2:] == ["likeness", "likeness_ok"]
    return [(row["tier"], row["status"], row["likeness"], row["likeness_ok"]) for row in rows]


def test_csv_export_lists_each_image_s_likeness_from_the_generation_row(history: Database, tmp_path: Path) -> None:
    with history.session() as session:
        user_id = row_id(users.get_or_create_user(session, "ops", starting_credits=0))
    completed_photo: dict[str, Any] = {
        "model_key": PRO,
        "mode": "photo",
        "status": "completed",
        "created_at": NOW,
        "avatars": 3,
    }
    add_finished(history, user_id, likeness=[0.5, None, 0.499], **completed_photo)
    add_finished(history, user_id, likeness=None, **completed_photo)  # made before likeness was measured
    expected = [
        ("enterprise", "completed", "0.9", "True"),
        ("text", "completed", "", ""),  # text to image: never scored
        ("basic", "completed", "-", "-"),  # no face found in its one image
        ("pro", "failed", "", ""),
        ("pro", "completed", "0.74;0.41", "True;False"),  # in the order the images were made
        ("pro", "completed", "0.82", "True"),
        ("basic", "rejected", "", ""),
        ("pro", "completed", "0.5;-;0.499", "True;-;False"),  # 0.5 is the same person, 0.499 is not
        ("pro", "completed", "", ""),
    ]
    assert _likeness_columns(history, tmp_path / "before.csv") == expected

    statements: list[str] = []

    def count(_connection: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    with history.session() as session:
        assert forgetting.forget_avatars(session, before=NOW + timedelta(days=1))  # retention takes every avatar
    event.listen(history.engine, "before_cursor_execute", count)
    try:
        assert _likeness_columns(history, tmp_path / "after.csv") == expected
    finally:
        event.remove(history.engine, "before_cursor_execute", count)
    assert statements and not [statement for statement in statements if "avatars" in statement]
