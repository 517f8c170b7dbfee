"""Read-only transactions, on SQLite and PostgreSQL: they never wait for a writer, and they cannot write."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.exc import DBAPIError
from sqlmodel import select

from photomaker.store import Database, User, users

pytestmark = pytest.mark.both_databases  # the store's own behaviour: on SQLite and PostgreSQL

WAIT_S = 5
"""How long the reader may take; a reader stuck behind the writer fails the test after this."""


def _short_busy_timeout(database: Database) -> None:
    """New SQLite connections give up on a lock after 0.5 s, so a reader that queues fails fast instead of in 30 s."""

    def connected(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.execute("PRAGMA busy_timeout = 500")

    database.engine.dispose()
    event.listen(database.engine, "connect", connected)


def _usernames(database: Database) -> list[str]:
    with database.reading() as session:
        return list(session.exec(select(User.username).order_by(User.username)).all())


def test_a_reader_proceeds_while_a_writer_holds_its_transaction_open(database: Database) -> None:
    if database.engine.dialect.name == "sqlite":
        _short_busy_timeout(database)
    with database.session() as session:
        users.get_or_create_user(session, "ada", starting_credits=100)
    read: list[list[str]] = []
    failed: list[BaseException] = []

    def reader() -> None:
        try:
            read.append(_usernames(database))
        except BaseException as error:
            failed.append(error)

    with database.session() as session:
        users.get_or_create_user(session, "grace", starting_credits=100)
        thread = threading.Thread(target=reader, daemon=True)
        thread.start()
        thread.join(timeout=WAIT_S)
        assert not thread.is_alive(), f"the reader waited more than {WAIT_S} s for the writer"
        assert failed == [], "the reader was refused while a writer worked"
        assert read == [["ada"]], "the reader sees what was committed, not the writer's unfinished work"
    assert _usernames(database) == ["ada", "grace"]


def test_reading_refuses_a_write_on_postgresql(database: Database) -> None:
    if database.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has no read-only transactions: reading() only spares it the write lock")
    with pytest.raises(DBAPIError, match="read-only"), database.reading() as session:
        session.add(User(username="ada", credits=0))
        session.flush()
    assert _usernames(database) == []
