"""Schema upgrades: Alembic's revisions in `migrations/versions`, run on every start, in one transaction.

A database is in one of three states. Fresh (none of our tables): created from today's models and stamped at
the newest revision, which is what running every revision gives (tests/store/test_migrations.py compares the
two). Made before Alembic (our tables, no `alembic_version`): `pre_alembic.adopt` says which revision it
matches, it is stamped there and upgraded. Under Alembic: upgraded to the newest revision, or left alone.

`python -m photomaker.store.migrations revision "what changed"` writes the next revision from the models.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, text
from sqlmodel import SQLModel

from photomaker.store import models, pre_alembic, rollups  # noqa: F401  (registers the tables)

MIGRATIONS = Path(__file__).with_name("migrations")
LOCK_ID = 0x70686F746F6D6B  # "photomk": one PostgreSQL advisory lock, so that two starting apps upgrade in turn
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Upgrade:
    """What a start did to the schema."""

    before: str | None
    """The revision the database was at: None for a fresh one, the matched revision for one made before Alembic."""
    after: str
    pre_alembic: bool = False
    """Whether the database was made before Alembic, and stamped at `before` by its tables."""


def alembic_config(connection: Connection | None = None) -> Config:
    """Alembic's configuration without an ini file: the script directory in this package, and the connection
    that `migrations/env.py` runs on."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("file_template", "v%%(rev)s_%%(slug)s")
    config.attributes["connection"] = connection
    return config


def head() -> str:
    """The newest revision, the one today's models match."""
    found = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if found is None:
        raise LookupError(f"no revisions in {MIGRATIONS}")
    return found


def current(connection: Connection) -> str | None:
    """The revision stamped in the database; None where Alembic never ran."""
    return MigrationContext.configure(connection).get_current_revision()


def _lock(connection: Connection) -> None:
    """On PostgreSQL, one upgrade at a time; SQLite's write transaction already holds the database's lock."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": LOCK_ID})


def _pragma(connection: Connection, statement: str) -> None:
    """A SQLite PRAGMA on the driver's connection itself, outside any transaction (where some have no effect)."""
    cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]  # checked out: not None
    try:
        cursor.execute(statement)
    finally:
        cursor.close()


@contextmanager
def transaction(engine: Engine) -> Iterator[Connection]:
    """The upgrade's one transaction: any failure leaves the database as it was.

    On SQLite, foreign keys are off while it runs and checked before it commits: a batch operation alters a
    column by copying its table, and dropping a table that others point to would otherwise be refused.
    """
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            _pragma(connection, "PRAGMA foreign_keys=OFF")
        try:
            with connection.begin():
                yield connection
                if sqlite and connection.exec_driver_sql("PRAGMA foreign_key_check").first() is not None:
                    raise RuntimeError("the upgrade left rows that point to no row")
        finally:
            if sqlite:
                _pragma(connection, "PRAGMA foreign_keys=ON")


def to_head(engine: Engine) -> Upgrade:
    """Bring the database to the newest revision, in one transaction (see `transaction`)."""
    with transaction(engine) as connection:
        _lock(connection)
        config = alembic_config(connection)
        newest, before = head(), current(connection)
        adopted = False
        if before is None:
            before = pre_alembic.adopt(connection)
            adopted = before is not None
        if before is None:
            SQLModel.metadata.create_all(connection)
            command.stamp(config, newest)
            log.info("database created at revision %s", newest)
            return Upgrade(before=None, after=newest)
        if adopted:
            command.stamp(config, before)
            log.info("database made before migrations matches revision %s", before)
        if before != newest:
            command.upgrade(config, newest)
            log.info("database upgraded from revision %s to %s", before, newest)
        return Upgrade(before=before, after=newest, pre_alembic=adopted)


def new_revision(message: str) -> Path:
    """Write the next revision from what today's models have that the newest revision lacks, compared on a
    scratch SQLite database upgraded to it; returns the new file, to read and complete by hand."""
    with tempfile.TemporaryDirectory() as folder:
        engine = create_engine(f"sqlite:///{Path(folder) / 'scratch.db'}")
        with engine.begin() as connection:
            config = alembic_config(connection)
            command.upgrade(config, "head")
            number = f"{int(head()) + 1:04d}"
            script = command.revision(config, message=message, autogenerate=True, rev_id=number)
        engine.dispose()
    if script is None or isinstance(script, list):
        raise RuntimeError("alembic wrote no single revision")
    return Path(script.path)
