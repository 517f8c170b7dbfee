"""Fresh databases for tests: a SQLite file, or a private schema on the local PostgreSQL."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

KINDS = ("sqlite", "postgres")
POSTGRES_URL = os.environ.get("PHOTOMAKER_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def postgres_answers() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=1):
            return True
    except OSError:
        return False


@contextmanager
def fresh_database_url(kind: str, folder: Path) -> Iterator[str]:
    """The URL of an empty database of `kind`; skips the test when no PostgreSQL server answers."""
    if kind == "sqlite":
        yield f"sqlite:///{folder / 'test.db'}"
        return
    if not postgres_answers():
        pytest.skip("no PostgreSQL server answers on 127.0.0.1:5432; this test ran on SQLite only")
    import psycopg

    schema = f"t_{uuid.uuid4().hex[:12]}"
    plain = POSTGRES_URL.replace("+psycopg", "")
    with psycopg.connect(plain, autocommit=True) as connection:
        connection.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(plain, autocommit=True) as connection:
            connection.execute(f'DROP SCHEMA "{schema}" CASCADE')
