"""Database connection: one factory for the engine, one context manager per transaction."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, create_engine

from photomaker.store import models, rollup_schema  # noqa: F401  (registers the tables)
from photomaker.store.migrate import Upgrade, to_head


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    """WAL lets readers work while a generation writes; SQLite leaves foreign keys off unless asked.

    The driver's own transaction handling is switched off so that `_sqlite_begin` decides.
    """
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


READ_ONLY = {"postgresql_readonly": True}
"""Execution options of a read-only transaction: PostgreSQL enforces them; `_sqlite_begin` reads them."""


def _sqlite_begin(connection) -> None:
    """Take the write lock when a writing transaction starts, not at its first write.

    A transaction that read first and then writes after another writer committed would fail
    at once in WAL mode; starting with the lock makes writers queue (up to the busy timeout)
    instead, which is what a ledger needs. A read-only transaction takes no lock: in WAL mode it
    reads a snapshot while a writer works.
    """
    read_only = connection.get_execution_options().get("postgresql_readonly", False)
    connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


def _private_file(path: Path) -> None:
    """Create the database file readable by the app's user alone; SQLite gives its -wal and -shm the same mode.

    An existing file is never opened here: closing any descriptor of a SQLite file drops every lock this
    process holds on it (POSIX locks are per process), which corrupts the work of connections already open.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
    path.chmod(0o600)


CONNECT_TIMEOUT_S = 5
"""How long a connection to a PostgreSQL server may take: one that does not answer fails in seconds, not minutes."""


def make_engine(url: str) -> Engine:
    """An engine for `url`; for SQLite, creates the folder and turns on WAL and foreign keys."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "postgresql":
        connect_args = {"connect_timeout": CONNECT_TIMEOUT_S}
        return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20, connect_args=connect_args)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)
    if parsed.database and parsed.database != ":memory:":
        _private_file(Path(parsed.database))
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
    event.listen(engine, "connect", _sqlite_pragmas)
    event.listen(engine, "begin", _sqlite_begin)
    return engine


@dataclass(frozen=True)
class NoAnswer:
    """Why a database did not answer: its URL without the password, where it was asked, and the driver's reason."""

    url: str
    where: str
    reason: str


class Database:
    """The app's database: a SQLAlchemy engine and transactions on it."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._reader = engine.execution_options(**READ_ONLY)

    @classmethod
    def connect(cls, url: str) -> Database:
        return cls(make_engine(url))

    def migrate(self) -> Upgrade:
        """Bring the schema to today's models (Alembic's revisions, see `photomaker.store.migrate`): run on every
        start, it does nothing when the database is current."""
        return to_head(self.engine)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """One transaction: committed when the block ends, rolled back if it raises."""
        with Session(self.engine, expire_on_commit=False) as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """One read-only transaction: no write lock on SQLite, refused writes on PostgreSQL.

        Closing the session ends the transaction (the pool rolls the connection back) and keeps
        what was read usable, where a rollback would expire it.
        """
        with Session(self._reader) as session:
            yield session

    def no_answer(self) -> NoAnswer | None:
        """Connect once, within the connect timeout: None when the database answers, else why not."""
        try:
            with self.engine.connect():
                return None
        except DBAPIError as error:
            self.dispose()
            url = self.engine.url
            where = f"{url.host}" + (f":{url.port}" if url.port else "") if url.host else ""
            reason = " ".join(str(error.orig).split())
            return NoAnswer(url=url.render_as_string(hide_password=True), where=where, reason=reason)

    def dispose(self) -> None:
        self.engine.dispose()
