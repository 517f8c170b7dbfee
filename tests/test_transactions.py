"""The transaction budget of a generation: each transaction is a round trip and, on SQLite, a writing one takes the
only write lock, so a generation reads once and writes twice, and looking at one's account writes nothing."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, func
from sqlmodel import select

from photomaker.core.errors import RefusedError
from photomaker.images.uploaded_photos import PhotoUpload
from photomaker.startup.runtime import Runtime
from photomaker.store import Database, User
from photomaker.ui import build_app
from photomaker.ui.uploads import REGISTRY
from tests.ui.page_events import PageEvents

pytestmark = pytest.mark.both_databases  # the store's own behaviour: on SQLite and PostgreSQL

WRITES = ("INSERT", "UPDATE", "DELETE")

CLICK_BUDGET = 5
"""Transactions of one Generate click: the model read, the start and the save, then the history and the projects
shown after it (the old code took 11)."""


@dataclass
class Transactions:
    """What the database saw: transactions begun, read-only or writing, and the statements that wrote."""

    reading: int = 0
    writing: int = 0
    writes: list[str] = field(default_factory=list)


@contextmanager
def counted(database: Database) -> Iterator[Transactions]:
    """Count the transactions begun on `database` inside the block."""
    seen = Transactions()

    def began(connection: Any) -> None:
        if connection.get_execution_options().get("postgresql_readonly", False):
            seen.reading += 1
        else:
            seen.writing += 1

    def executing(connection: Any, cursor: Any, statement: str, *rest: Any) -> None:
        if statement.lstrip().upper().startswith(WRITES):
            seen.writes.append(statement)

    event.listen(database.engine, "begin", began)
    event.listen(database.engine, "before_cursor_execute", executing)
    try:
        yield seen
    finally:
        event.remove(database.engine, "begin", began)
        event.remove(database.engine, "before_cursor_execute", executing)


def _users(app: Runtime) -> int:
    with app.database.reading() as session:
        return session.exec(select(func.count()).select_from(User)).one()


def test_a_generation_reads_once_and_writes_twice(app: Runtime, face_photo: Path) -> None:
    with counted(app.database) as seen:
        outcome = app.service.generate_avatar(
            "ada", [PhotoUpload.from_path(face_photo)], {"prompt": "a headshot", "tier": "basic"}
        )
    assert outcome.details.status == "completed"
    assert seen.reading + seen.writing <= 3 and seen.writing <= 2, seen


@pytest.mark.parametrize(
    ("photo", "values", "code"),
    [
        ("astronaut.png", {"steps": 5}, "INVALID_PARAMS"),
        ("astronaut.png", {"tier": "platinum"}, "INVALID_PARAMS"),
        ("chelsea.png", {}, "NO_FACE"),
    ],
)
def test_a_refusal_reads_once_and_writes_its_row_once(
    app: Runtime, face_photo: Path, photo: str, values: dict[str, Any], code: str
) -> None:
    upload = PhotoUpload.from_path(face_photo.parent / photo)
    with counted(app.database) as seen, pytest.raises(RefusedError) as caught:
        app.service.generate_avatar("ada", [upload], {"prompt": "a headshot", "tier": "basic", **values})
    assert caught.value.code == code
    assert (seen.reading, seen.writing) == (1, 1)


@pytest.mark.parametrize("known", [False, True], ids=["stranger", "known user"])
@pytest.mark.parametrize(
    "look", ["account", "history", "projects", "credit_history"], ids=lambda look: f"reading {look}"
)
def test_looking_writes_nothing_and_creates_no_user(app: Runtime, look: str, known: bool) -> None:
    if known:
        app.accounts.sign_in("ada")
    before = _users(app)
    reads = {
        "account": app.accounts.account,
        "history": app.gallery.history,
        "projects": app.projects.list,
        "credit_history": app.accounts.credit_history,
    }
    with counted(app.database) as seen:
        reads[look]("ada")
    assert (seen.reading, seen.writing, seen.writes) == (1, 0, [])
    assert _users(app) == before


def test_a_click_on_generate_stays_within_its_budget(app: Runtime, upload_dir: Path) -> None:
    events = PageEvents(build_app(app))
    folder = upload_dir / "transactions"
    folder.mkdir(exist_ok=True)
    source = Path(__file__).parent / "fixtures" / "astronaut.png"
    photo = str(REGISTRY.adopt(Path(shutil.copy(source, folder / source.name)), owner=None))
    with counted(app.database) as seen:
        out = events("ui_generate", photos=[(photo, None)], prompt="a professional headshot", tier="basic")
    assert "Generation #" in out["details"]
    assert seen.reading + seen.writing <= CLICK_BUDGET and seen.writing <= 2, seen
