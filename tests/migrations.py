"""Databases at past revisions, as Alembic makes them or as start-up left them before Alembic, with rows of
that time, and what differs between a database and today's models."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

from photomaker.store import Database
from photomaker.store.migrate import alembic_config

REVISIONS = ("0001", "0002", "0003", "0004", "0005", "0006", "0007", "0008", "0009", "0010")
THEN = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


def move_to(database: Database, revision: str, *, pre_alembic: bool = False) -> None:
    """Upgrade or downgrade with Alembic's own scripts to `revision`; with `pre_alembic`, then drop
    `alembic_version`, as a database that start-up made before Alembic would have none."""
    with database.engine.begin() as connection:
        config = alembic_config(connection)
        if MigrationContext.configure(connection).get_current_revision() is None:
            command.upgrade(config, revision)
        else:
            command.downgrade(config, revision)
            command.upgrade(config, revision)
        if pre_alembic:
            connection.execute(sa.text("DROP TABLE alembic_version"))


def differences(database: Database) -> list[Any]:
    """What autogenerate would write to turn the database into today's models: tables, columns, types,
    nullability, server defaults, indexes, unique and foreign keys. Empty when they match."""
    with database.engine.connect() as connection:
        options = {"compare_type": True, "compare_server_default": True}
        return compare_metadata(MigrationContext.configure(connection, opts=options), SQLModel.metadata)


def add_columns(connection: sa.Connection, table: str, *columns: sa.Column[Any]) -> None:
    """`ALTER TABLE ... ADD COLUMN`, spelled as start-up did before Alembic (its `_add_missing_columns`)."""
    sa.Table(table, sa.MetaData(), *columns)
    ddl = connection.dialect.ddl_compiler(connection.dialect, None)  # type: ignore[arg-type]
    for column in columns:
        connection.exec_driver_sql(f"ALTER TABLE {table} ADD COLUMN {ddl.get_column_specification(column)}")


def tables(connection: sa.Connection) -> dict[str, sa.Table]:
    """The database's tables as they are, whatever revision made them."""
    found = sa.MetaData()
    found.reflect(connection)
    return dict(found.tables)


def first_release_rows(database: Database) -> None:
    """What the first release wrote: alice, 65 credits granted and 25 charged for one completed generation in
    her project, with its avatar and 4 stars."""
    generation: dict[str, Any] = {
        "user_id": 1, "project_id": 1, "model_key": "avatar-creator:photomaker-pro", "mode": "photo",
        "engine": "preview", "status": "completed", "prompt": "a portrait", "negative_prompt": "", "params": {},
        "photo_count": 1, "seed": 7, "credits_charged": 25, "attempts": 1, "preview": True, "rating": 4,
        "created_at": THEN, "started_at": THEN, "completed_at": THEN, "processing_ms": 12_000,
    }  # fmt: skip
    rows: dict[str, list[dict[str, Any]]] = {
        "users": [{"username": "alice", "credits": 40, "is_admin": False, "updated_at": THEN}],
        "projects": [{"user_id": 1, "name": "Trip"}],
        "generations": [generation],
        "avatars": [
            {"generation_id": 1, "image_path": "1/a.png", "thumbnail_path": "1/a.webp", "width": 8, "height": 8}
        ],
        "credit_transactions": [
            {"user_id": 1, "generation_id": None, "kind": "grant", "delta": 65, "balance_after": 65, "note": ""},
            {"user_id": 1, "generation_id": 1, "kind": "charge", "delta": -25, "balance_after": 40, "note": ""},
        ],
    }
    with database.engine.begin() as connection:
        old = tables(connection)
        for name, values in rows.items():
            connection.execute(old[name].insert(), [{"created_at": THEN} | row for row in values])
