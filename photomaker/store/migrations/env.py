"""Alembic's environment: today's tables as the target, on the connection `photomaker.store.migrate` opened.

No alembic.ini and no URL here: every command runs inside the caller's transaction, so that the check of
which revision a database is at and the upgrade after it happen under one lock.
"""

from __future__ import annotations

from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlmodel import SQLModel
from sqlmodel.sql.sqltypes import AutoString, UTCDateTime

import photomaker.store.db  # noqa: F401  (registers every table)


def render_item(kind: str, item: Any, _context: AutogenContext) -> str | Literal[False]:
    """SQLModel's column types written as the SQLAlchemy types they stand for, so revisions import no sqlmodel."""
    if kind == "type" and isinstance(item, AutoString):
        return f"sa.String(length={item.length})" if item.length else "sa.String()"
    if kind == "type" and isinstance(item, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


context.configure(
    connection=context.config.attributes["connection"],
    target_metadata=SQLModel.metadata,
    compare_type=True,
    compare_server_default=True,
    render_as_batch=True,  # SQLite alters a column by copying its table: autogenerate writes batch operations
    render_item=render_item,
)
with context.begin_transaction():
    context.run_migrations()
