"""Databases made before Alembic: which revision their tables match, and what their upgrades left different.

Until Alembic, every start ran `create_all` (missing tables, with their indexes, and indexes added to existing
tables) and, from revision 0004 on, `ALTER TABLE ... ADD COLUMN` for each column a table had gained. Such a
database therefore holds everything up to the release that last started on it, and one mark per revision says
which release that was. Two things can still differ from what that revision's own scripts make, both in
`generation_rollups`: sums made before 0004 have no server default (adding a column never changed the ones
there), and the whole-second buckets that 0006 retired stay until the rollups are rebuilt (every app start
rebuilt them; `python -m seeds` alone did not). `adopt` mends both before the database is stamped.
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from alembic.migration import MigrationContext
from alembic.operations import Operations
from sqlalchemy import Connection
from sqlalchemy.engine import Inspector

ROLLUPS = "generation_rollups"
ROLLUP_KEY = frozenset({"id", "epoch_hour", "model_key", "mode", "status", "engine", "error_code"})
RETIRED = frozenset(
    f"le_{bound}s" for bound in (1, 2, 5, 10, 20, 30, 45, 60, 75, 90, 105, 120, 135, 150, 180, 240, 300, 420, 600)
)
"""The whole-second latency buckets revision 0006 dropped."""


def _has_column(table: str, column: str) -> Callable[[Inspector], bool]:
    return lambda found: found.has_table(table) and column in {c["name"] for c in found.get_columns(table)}


def _has_index(table: str, index: str) -> Callable[[Inspector], bool]:
    return lambda found: found.has_table(table) and index in {i["name"] for i in found.get_indexes(table)}


MARKS: tuple[tuple[str, Callable[[Inspector], bool]], ...] = (
    ("0010", _has_column(ROLLUPS, "alike_first_try")),
    ("0009", _has_column("avatars", "style")),
    ("0008", lambda found: found.has_table("turned_away")),
    ("0007", lambda found: found.has_table("idempotency_keys")),
    ("0006", lambda found: found.has_table("rollup_meta")),
    ("0005", _has_column("generations", "owner")),
    ("0004", _has_column("avatars", "likeness")),
    ("0003", _has_index(ROLLUPS, "ix_generation_rollups_counts")),
    ("0002", lambda found: found.has_table(ROLLUPS)),
    ("0001", lambda found: found.has_table("users")),
)
"""Newest first: what each revision added that no earlier one had. A revision made after Alembic needs no mark."""


def revision_of(connection: Connection) -> str | None:
    """The newest revision whose mark the database bears; None for a database without our tables."""
    found = sa.inspect(connection)
    return next((revision for revision, bears in MARKS if bears(found)), None)


def _mend(connection: Connection, revision: str) -> None:
    """Drop the retired buckets left in a database at 0006 or later, and give rollup sums made before 0004 the
    server default of 0 that 0004 gives them (SQLite copies the table to change a default)."""
    if revision < "0004":
        return
    columns = sa.inspect(connection).get_columns(ROLLUPS)
    retired = sorted(c["name"] for c in columns if c["name"] in RETIRED) if revision >= "0006" else []
    bare = [
        c["name"]
        for c in columns
        if c["name"] not in ROLLUP_KEY and c["name"] not in retired and not c["nullable"] and c["default"] is None
    ]
    if not retired and not bare:
        return
    with Operations(MigrationContext.configure(connection)).batch_alter_table(ROLLUPS) as batch:
        for name in retired:
            batch.drop_column(name)
        for name in bare:
            batch.alter_column(name, existing_type=sa.BigInteger(), existing_nullable=False, server_default="0")


def adopt(connection: Connection) -> str | None:
    """The revision a database made before Alembic is at, after mending it to match; None if it has no tables."""
    revision = revision_of(connection)
    if revision is not None:
        _mend(connection, revision)
    return revision
