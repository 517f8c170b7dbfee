"""Alembic's revisions against today's models, and databases of every past release upgraded on start: made by
Alembic, made before it by start-up at one release, or grown by start-up over several; each on SQLite and on
PostgreSQL, in a private database or schema per test."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.migration import MigrationContext
from alembic.operations import Operations
from sqlmodel import select

from photomaker.core.settings import Settings
from photomaker.images.avatar_files import SavedAvatar
from photomaker.startup.runtime import start_runtime
from photomaker.store import Avatar, Database, Generation, generation_queries, generations, ledger, pre_alembic, users
from photomaker.store.migrate import Upgrade, current, head, transaction
from photomaker.store.migrations.versions import v0003_rollup_counts_index, v0004_likeness, v0006_latency_layout
from photomaker.store.rollups import COLUMNS, rollup_table
from tests.helpers import held
from tests.migrations import REVISIONS, THEN, add_columns, differences, first_release_rows, move_to, tables

HEAD = REVISIONS[-1]
PRO = "avatar-creator:photomaker-pro"


def _sums(database: Database) -> dict[str, int]:
    """Each figure of the rollups over every row."""
    with database.reading() as session:
        row = session.execute(sa.select(*(sa.func.sum(rollup_table.c[name]) for name in COLUMNS))).one()
    return dict(zip(COLUMNS, row, strict=True))


def test_the_revisions_end_at_todays_models(database_url: str) -> None:
    """Every revision in turn, from an empty database, gives exactly what the models declare."""
    database = Database.connect(database_url)
    move_to(database, HEAD)
    assert head() == HEAD
    assert differences(database) == []
    database.dispose()


def test_a_fresh_database_goes_straight_to_the_newest_revision_and_a_second_start_changes_nothing(
    database_url: str,
) -> None:
    database = Database.connect(database_url)
    assert database.migrate() == Upgrade(before=None, after=HEAD)
    assert differences(database) == []
    first_release_rows(database)
    assert database.migrate() == Upgrade(before=HEAD, after=HEAD)
    with database.engine.connect() as connection:
        assert current(connection) == HEAD
        assert connection.execute(sa.text("SELECT count(*) FROM credit_transactions")).scalar() == 2
    assert differences(database) == []
    database.dispose()


def test_each_release_before_alembic_is_recognised_by_its_tables_and_upgraded(database_url: str) -> None:
    """A database that start-up made at any release: the revision it matches is found, stamped, upgraded from.
    Going back between them runs every downgrade."""
    database = Database.connect(database_url)
    for revision in REVISIONS:
        move_to(database, revision, pre_alembic=True)
        with database.engine.connect() as connection:
            assert pre_alembic.revision_of(connection) == revision
        assert database.migrate() == Upgrade(before=revision, after=HEAD, pre_alembic=True)
        assert differences(database) == [], revision
    move_to(database, "base")
    with database.engine.connect() as connection:
        assert set(sa.inspect(connection).get_table_names()) == {"alembic_version"}
    database.dispose()


def _write_a_generation(database: Database) -> int:
    """Today's lifecycle: started and charged, then completed with its avatar and likeness; returns its id."""
    draft = generations.Draft(user_id=1, model_key=PRO, mode="photo", engine="preview", project_id=1, photo_count=1)
    with database.session() as session:
        generation_id = generations.start(session, draft, cost=25, rate_limit_per_min=10, **held()).id
    assert generation_id is not None
    avatar = SavedAvatar(image_path="2/a.png", thumbnail_path="2/a.webp", width=8, height=8)
    with database.session() as session:
        generations.complete(
            session, generation_id, avatars=[avatar], seed=3, engine="preview", attempts=1, processing_ms=900,
            params={}, likeness=[0.8], notes=["a note"],
        )  # fmt: skip
    return generation_id


def test_the_oldest_database_keeps_its_rows_and_the_app_works_on_it(database_url: str, tmp_path: Path) -> None:
    """The first release's schema (made before Alembic) with its rows: the app starts on it, reads them, writes."""
    old = Database.connect(database_url)
    move_to(old, "0001", pre_alembic=True)
    first_release_rows(old)
    old.dispose()

    app = start_runtime(Settings(data_dir=tmp_path / "data", database_url=database_url, hf_token=None))
    try:
        database = app.database
        assert differences(database) == []
        with database.reading() as session:
            alice = users.find_user(session, "alice")
            assert alice is not None and alice.credits == 40 and ledger.balance(session, 1) == 40
            generation = generation_queries.get(session, 1)
            assert generation is not None and (generation.rating, generation.project_id) == (4, 1)
            assert (generation.likeness, generation.notes, generation.owner) == (None, None, None)
            assert [avatar.likeness for avatar in generation_queries.avatars_of(session, 1)] == [None]
        assert _sums(database)["generations"] == 1, "the rollups were counted from the old rows on start"

        made = _write_a_generation(database)
        with database.reading() as session:
            assert ledger.balance(session, 1) == 15
            assert session.exec(select(Generation.notes).where(Generation.id == made)).one() == ["a note"]
            assert session.exec(select(Avatar.likeness_ok).where(Avatar.generation_id == made)).one() is True
        sums = _sums(database)
        assert (sums["generations"], sums["rating_4"], sums["likeness_scored"], sums["le_15000ms"]) == (2, 1, 1, 1)
        assert database.migrate() == Upgrade(before=HEAD, after=HEAD)
    finally:
        app.close()


def _grow_by_hand_to_0006(database: Database) -> None:
    """Start-up's own upgrades from 0002 to 0006 before Alembic, as `python -m seeds` ran them (it never rebuilt
    the rollups): new columns added to the tables there, the old buckets left in place, new tables and indexes
    created from the models."""
    big = sa.BigInteger()
    with database.engine.begin() as connection:
        rollups = tables(connection)["generation_rollups"]
        counted = (rollups.c[name] for name in v0003_rollup_counts_index.COUNTS)
        sa.Index("ix_generation_rollups_counts", *counted).create(connection)
        add_columns(connection, "avatars", sa.Column("likeness", sa.Float()), sa.Column("likeness_ok", sa.Boolean()))
        add_columns(connection, "generations", sa.Column("likeness", sa.JSON()))
        add_columns(connection, "generations", sa.Column("owner", sa.String(120)))
        add_columns(connection, "generations", sa.Column("lease_until", sa.DateTime(timezone=True)))
        sums = (*v0004_likeness.LIKENESS_SUMS, *v0006_latency_layout.BUCKETS)
        add_columns(
            connection, "generation_rollups", *(sa.Column(n, big, nullable=False, server_default="0") for n in sums)
        )
        add_columns(connection, "generation_rollups", *(sa.Column(n, big) for n in v0006_latency_layout.EXTREMES))
        sa.Table("rollup_meta", sa.MetaData(), sa.Column("key", sa.String(40), primary_key=True),
                 sa.Column("value", sa.String(200), nullable=False)).create(connection)  # fmt: skip


def test_a_database_grown_by_hand_is_mended_then_upgraded(database_url: str, tmp_path: Path) -> None:
    """Made at 0002 and grown by start-up to 0006: sums without a server default, retired buckets still there,
    and a row counted in them. The rows survive; the rollups are recounted in today's layout."""
    database = Database.connect(database_url)
    move_to(database, "0002", pre_alembic=True)
    first_release_rows(database)
    with database.engine.begin() as connection:
        rollups = tables(connection)["generation_rollups"]
        counts = {column.name: 1 for column in rollups.c if column.name not in ("id", "epoch_hour", "model_key")}
        key = {"epoch_hour": int(THEN.timestamp() // 3600), "model_key": PRO, "mode": "photo", "status": "completed"}
        connection.execute(rollups.insert(), [counts | key | {"engine": "preview", "error_code": ""}])
    _grow_by_hand_to_0006(database)
    with database.engine.connect() as connection:
        assert "le_1s" in {column["name"] for column in sa.inspect(connection).get_columns("generation_rollups")}

    assert database.migrate() == Upgrade(before="0006", after=HEAD, pre_alembic=True)
    assert differences(database) == []
    database.dispose()
    app = start_runtime(Settings(data_dir=tmp_path / "data", database_url=database_url, hf_token=None))
    try:
        sums = _sums(app.database)
        assert (sums["generations"], sums["credits"], sums["rating_4"], sums["le_15000ms"]) == (1, 25, 1, 1)
        assert sums["likeness_scored"] == 0, "recounted from the generation rows, not kept from the old row"
        with app.database.reading() as session:
            assert ledger.balance(session, 1) == 40
        _write_a_generation(app.database)
        assert _sums(app.database)["generations"] == 2
    finally:
        app.close()


def test_two_starts_at_once_upgrade_one_after_the_other(database_url: str) -> None:
    first, second = Database.connect(database_url), Database.connect(database_url)
    move_to(first, "0001", pre_alembic=True)
    results: list[Upgrade] = []
    threads = [threading.Thread(target=lambda db=db: results.append(db.migrate())) for db in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results, key=lambda upgrade: upgrade.before or "") == [
        Upgrade(before="0001", after=HEAD, pre_alembic=True),
        Upgrade(before=HEAD, after=HEAD),
    ]
    assert differences(first) == []
    first.dispose()
    second.dispose()


def test_on_sqlite_an_upgrade_may_copy_a_table_others_point_to_but_must_leave_no_row_pointing_nowhere(
    tmp_path: Path,
) -> None:
    """SQLite alters a column by copying the table (Alembic's batch operations); with foreign keys on, dropping
    the old `generations` would be refused, since avatars and ledger lines point to it."""
    database = Database.connect(f"sqlite:///{tmp_path / 'copy.db'}")
    database.migrate()
    first_release_rows(database)
    with transaction(database.engine) as connection:
        copy = Operations(MigrationContext.configure(connection)).batch_alter_table("generations", recreate="always")
        with copy:
            pass  # nothing changes, but the table is copied, dropped and renamed all the same
    with pytest.raises(RuntimeError, match="point to no row"), transaction(database.engine) as connection:
        connection.execute(sa.text("DELETE FROM generations"))
    with database.engine.connect() as connection:
        assert connection.execute(sa.text("PRAGMA foreign_keys")).scalar() == 1, "back on for the app"
        joined = "SELECT count(*) FROM avatars JOIN generations ON avatars.generation_id = generations.id"
        assert connection.execute(sa.text(joined)).scalar() == 1
    database.dispose()
