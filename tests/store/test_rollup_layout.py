"""The rollups' layout: recorded by every rebuild, checked on start, and rollups counted with another
layout (older latency buckets, no fastest and slowest times) rebuilt then, and only then.

Every test runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from sqlalchemy import delete, inspect, update

from photomaker.monitoring import histogram, metrics, views
from photomaker.startup.runtime import Runtime, start_runtime
from photomaker.store import Database, rollup_rebuild, rollup_schema
from photomaker.store.models import generation_table
from photomaker.store.rollup_schema import meta_table, rollup_table
from tests.helpers import add_finished, snapshot
from tests.known_history import NOW, PRO, ROWS, make_known_history
from tests.migrations import move_to, tables

pytestmark = pytest.mark.both_databases  # the store's own behaviour: on SQLite and PostgreSQL

OLD_BOUNDS_S = (1, 2, 5, 10, 20, 30, 45, 60, 75, 90, 105, 120, 135, 150, 180, 240, 300, 420, 600)
OLD_LATENCY_COLUMNS = (*(f"le_{bound}s" for bound in OLD_BOUNDS_S), "le_inf")
"""The latency buckets before sub-second ones, whole seconds from 1 s."""
VIEW = views.View(window="all")


def _columns(database: Database) -> set[str]:
    return {column["name"] for column in inspect(database.engine).get_columns(rollup_table.name)}


def _recorded(database: Database) -> str | None:
    with database.session() as session:
        return session.execute(meta_table.select().with_only_columns(meta_table.c.value)).scalar()


def _make_old_layout(database: Database) -> None:
    """Turn the database into one of the release before this layout, as start-up made it before Alembic
    (revision 0005, no `alembic_version`): the old latency buckets, no fastest and slowest times, no layout
    recorded, no likeness check's tally, and counts a rebuild must replace (every generation twice, every time in
    `le_inf`)."""
    later = {*histogram.LATENCY.columns, *rollup_schema.GATING_COLUMNS}
    old_sums = [name for name in rollup_schema.SUM_COLUMNS if name not in later]
    with database.session() as session:
        counted = [dict(row) for row in session.execute(rollup_table.select()).mappings()]
    move_to(database, "0005", pre_alembic=True)
    with database.engine.begin() as connection:
        old = tables(connection)[rollup_table.name]
        assert {column.name for column in old.c} == {"id", *rollup_schema.KEY, *old_sums, *OLD_LATENCY_COLUMNS}
        connection.execute(delete(old))
        rows = [
            {
                **{name: row[name] for name in rollup_schema.KEY},
                **{name: 2 * row[name] for name in old_sums},
                **dict.fromkeys(OLD_LATENCY_COLUMNS, 0),
                "le_inf": 2 * row["latency_count"],
            }
            for row in counted
        ]
        connection.execute(old.insert(), rows)


def test_rollups_counted_with_another_layout_are_rebuilt_on_start(app: Runtime) -> None:
    user_id = make_known_history(app.database)
    with app.database.session() as session:  # going back to 0005 drops the likeness check's tally: none to count
        session.execute(update(generation_table).values(dict.fromkeys(rollup_schema.GATING_COLUMNS)))
        rollup_rebuild.rebuild(session)
    counted, figures = snapshot(app.database), metrics.summary(app.database, VIEW, now=NOW)
    _make_old_layout(app.database)
    assert {"le_1s", "le_600s"} <= _columns(app.database) and not inspect(app.database.engine).has_table("rollup_meta")

    restarted = start_runtime(app.settings)
    try:
        database = restarted.database
        assert _columns(database) == set(rollup_table.c.keys()), "the old buckets are dropped, the new ones added"
        assert _recorded(database) == rollup_schema.LAYOUT
        assert snapshot(database) == counted
        assert metrics.summary(database, VIEW, now=NOW) == figures
        assert figures["total"] == len(ROWS) and figures["p95_processing_s"] == 150.0
        # a generation finishing now is counted into the new layout, and a rebuild gives the same
        add_finished(database, user_id, model_key=PRO, mode="photo", status="completed", processing_ms=350)
        assert metrics.summary(database, VIEW)["total"] == len(ROWS) + 1
        incremental = snapshot(database)
        assert rollup_rebuild.rebuild_now(database) == len(ROWS) + 1
        assert snapshot(database) == incremental
    finally:
        restarted.close()


def test_rollups_of_the_release_before_the_tally_gain_it_from_the_rows_on_start(app: Runtime) -> None:
    """A database at revision 0009: the generation rows hold the likeness check's counts, the rollups (of that
    release's layout) no sums of them. The upgrade adds the sums at 0 and the start rebuilds them from the rows."""
    make_known_history(app.database)
    counted, figures = snapshot(app.database), metrics.summary(app.database, VIEW, now=NOW)
    assert (figures["avatars_asked"], figures["avatars_kept"], figures["avatars_made"]) == (9, 3, 10)
    move_to(app.database, "0009")
    with app.database.session() as session:
        session.execute(update(meta_table).values(value="0" * len(rollup_schema.LAYOUT)))  # that release's layout
    assert not {*rollup_schema.GATING_COLUMNS} & _columns(app.database)

    restarted = start_runtime(app.settings)
    try:
        assert _recorded(restarted.database) == rollup_schema.LAYOUT
        assert snapshot(restarted.database) == counted
        assert metrics.summary(restarted.database, VIEW, now=NOW) == figures
    finally:
        restarted.close()


def test_a_start_with_current_rollups_rebuilds_nothing(app: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    make_known_history(app.database)
    assert _recorded(app.database) == rollup_schema.LAYOUT  # the first start recorded it, on an empty database
    rebuilt: list[Any] = []
    monkeypatch.setattr(rollup_rebuild, "rebuild", rebuilt.append)
    start_runtime(app.settings).close()
    assert rebuilt == []
    with app.database.session() as session:
        session.execute(update(meta_table).values(value="0" * len(rollup_schema.LAYOUT)))  # another layout's
    start_runtime(app.settings).close()
    assert len(rebuilt) == 1


def test_checking_current_rollups_waits_for_no_writer(database: Database) -> None:
    """Every start (each CLI command's too) checks the layout: a generation being saved must not hold it up."""
    rollup_rebuild.rebuild_now(database)
    with database.session() as writer:  # on SQLite, the database's write lock until the block ends
        writer.execute(update(meta_table).values(value=rollup_schema.LAYOUT))
        started = time.monotonic()
        rollup_rebuild.rebuild_if_stale(database)
        assert time.monotonic() - started < 5, "the check waited for the writer"


def test_every_rebuild_records_the_layout_and_stale_says_why(database: Database) -> None:
    with database.session() as session:
        assert rollup_rebuild.stale(session) == "no layout recorded"
    assert rollup_rebuild.rebuild_now(database) == 0  # what `python -m photomaker metrics rebuild` runs
    with database.session() as session:
        assert rollup_rebuild.stale(session) is None
        session.execute(update(meta_table).values(value="0123456789abcdef"))
    with database.session() as session:
        assert rollup_rebuild.stale(session) == f"counted with layout 0123456789abcdef, not {rollup_schema.LAYOUT}"
        rollup_rebuild.rebuild(session)
    make_known_history(database)
    with database.session() as session:
        assert rollup_rebuild.stale(session) is None
        session.execute(delete(rollup_table))
    with database.session() as session:
        assert rollup_rebuild.stale(session) == "missing"


def test_a_column_left_by_another_layout_never_refuses_an_insert_and_a_rebuild_drops_it(database: Database) -> None:
    """An old bucket column with a server default of 0 takes 0 from inserts that leave it out."""
    with database.engine.begin() as connection:
        connection.exec_driver_sql(f"ALTER TABLE {rollup_table.name} ADD COLUMN le_1s BIGINT NOT NULL DEFAULT 0")
    user_id = make_known_history(database)
    assert metrics.summary(database, VIEW, now=NOW)["total"] == len(ROWS)
    with database.session() as session:
        rollup_rebuild.rebuild(session)
    assert "le_1s" not in _columns(database)
    add_finished(database, user_id, model_key=PRO, mode="photo", status="completed", processing_ms=350)
    assert metrics.summary(database, VIEW)["total"] == len(ROWS) + 1
