"""A user's projects: listed, made, renamed and deleted, on SQLite and PostgreSQL; refusals change nothing (a
bad name is refused before the store, on SQLite)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func
from sqlmodel import select

from photomaker.accounts.projects import ProjectDeletion, ProjectInfo
from photomaker.core.errors import PhotoMakerError, RefusedError
from photomaker.images.uploaded_photos import PhotoUpload
from photomaker.startup.runtime import Runtime
from photomaker.store import (
    Avatar,
    CreditTransaction,
    Generation,
    Project,
    User,
    forgetting,
    generation_queries,
    generations,
    rollup_rebuild,
    row_id,
)
from tests.helpers import held, snapshot

FIXTURES = Path(__file__).parent / "fixtures"
JUNK_IDS = [0, -1, 2**31, 2**63, "abc", "", " ", "1.0", "12abc", 1.5, 3.0, None, True, [1], {"id": 1}]
"""Ids as a program may send them that can name no project."""
BAD_NAMES = [
    ("", "Project name is missing"),
    ("  \t ", "Project name is missing"),
    (None, "Project name is missing"),
    ("x" * 101, "at most 100 characters"),
    ("Hol\x00iday", "we do not accept (U+0000)"),
    ("Holiday\u202egpj.exe", "we do not accept (U+202E RIGHT-TO-LEFT OVERRIDE)"),
    ("Holi\u200dday", "we do not accept (U+200D ZERO WIDTH JOINER)"),
    ("\ufeffHoliday", "we do not accept (U+FEFF ZERO WIDTH NO-BREAK SPACE)"),
    ("Holiday\uffff", "we do not accept (U+FFFF)"),
    (5, "Project name"),
]


def _generate(app: Runtime, username: str, project: str, *, num_images: int = 1) -> int:
    params = {"prompt": "a professional headshot", "negative_prompt": "hat", "tier": "basic", "project": project}
    photos = [PhotoUpload.from_path(FIXTURES / "astronaut.png")]
    return app.service.generate_avatar(username, photos, {**params, "num_images": num_images}).generation_id


def _count(app: Runtime, table: type) -> int:
    with app.database.reading() as session:
        return session.exec(select(func.count()).select_from(table)).one()


def _projects(app: Runtime) -> list[tuple[int, int, str]]:
    """Every project row: (id, user id, name)."""
    with app.database.reading() as session:
        return [(row.id, row.user_id, row.name) for row in session.exec(select(Project).order_by(Project.id))]


def _rows(app: Runtime) -> list[dict[str, Any]]:
    with app.database.reading() as session:
        return [row.model_dump() for row in session.exec(select(Generation).order_by(Generation.id))]


def _files(app: Runtime, generation_id: int) -> list[Path]:
    with app.database.reading() as session:
        saved = generation_queries.avatars_of(session, generation_id)
    return [app.service.storage.path(name) for avatar in saved for name in (avatar.image_path, avatar.thumbnail_path)]


def _user_id(app: Runtime, username: str) -> int:
    with app.database.reading() as session:
        return row_id(session.exec(select(User).where(User.username == username)).one())


def _refused(code: str, call: Any, *args: Any) -> str:
    """The message of the refusal `call(*args)` must raise with `code`."""
    with pytest.raises(RefusedError) as caught:
        call(*args)
    assert caught.value.code == code, caught.value.message
    return caught.value.message


# Listing, making, renaming


@pytest.mark.both_databases
def test_listing_creates_nothing(app: Runtime) -> None:
    assert app.projects.list("stranger") == []
    assert _count(app, User) == 0
    app.accounts.sign_in("alice")
    assert app.projects.list("alice") == []
    assert _projects(app) == []


@pytest.mark.both_databases
def test_a_project_is_made_listed_read_and_renamed(app: Runtime) -> None:
    before = datetime.now(UTC)
    made = app.projects.create("alice", "  Holiday \n  snaps ")
    assert isinstance(made, ProjectInfo)
    assert (made.name, made.generations, made.avatars) == ("Holiday snaps", 0, 0)
    assert made.created_at.tzinfo is not None and made.created_at.utcoffset() == timedelta(0)
    assert before - timedelta(seconds=5) <= made.created_at <= datetime.now(UTC) + timedelta(seconds=5)
    assert _count(app, User) == 1, "making a project opens the account, like a first use"
    assert [(entry.kind, entry.delta) for entry in app.accounts.credit_history("alice")] == [("grant", 250)]
    work = app.projects.create("alice", "Work")
    assert app.projects.list("alice") == [made, work], "oldest first"
    assert app.projects.get("alice", made.id) == made
    assert app.projects.get("alice", str(made.id)) == made, "an id sent as text"

    renamed = app.projects.rename("alice", made.id, " Summer ")
    assert renamed == ProjectInfo(made.id, "Summer", made.created_at, 0, 0)
    assert app.projects.get("alice", made.id).name == "Summer"
    assert app.projects.rename("alice", work.id, "Work") == work, "its own name again changes nothing"
    assert [project.name for project in app.projects.list("alice")] == ["Summer", "Work"]


@pytest.mark.both_databases
def test_a_project_counts_its_completed_generations_and_avatars(app: Runtime) -> None:
    _generate(app, "alice", "Holiday", num_images=2)
    _generate(app, "alice", "Holiday")
    _generate(app, "alice", "Work")
    _generate(app, "bob", "Holiday")
    with pytest.raises(RefusedError):  # no completed generation
        app.service.generate_avatar("alice", [PhotoUpload.from_path(FIXTURES / "coffee.png")], {"prompt": "a cup"})
    holiday, work = app.projects.list("alice")
    assert (holiday.name, holiday.generations, holiday.avatars) == ("Holiday", 2, 3)
    assert (work.name, work.generations, work.avatars) == ("Work", 1, 1)
    assert app.projects.get("alice", holiday.id) == holiday
    (bobs,) = app.projects.list("bob")
    assert (bobs.name, bobs.generations, bobs.avatars) == ("Holiday", 1, 1), "the same name is another user's project"


@pytest.mark.parametrize(("name", "says"), BAD_NAMES)
def test_a_bad_name_is_refused_and_changes_nothing(app: Runtime, name: Any, says: str) -> None:
    assert says in _refused("INVALID_PARAMS", app.projects.create, "alice", name)
    assert _count(app, User) == 0, "a refused name opens no account"
    made = app.projects.create("alice", "Holiday")
    assert says in _refused("INVALID_PARAMS", app.projects.rename, "alice", made.id, name)
    assert app.projects.list("alice") == [made]


@pytest.mark.both_databases
def test_a_taken_name_is_refused_and_changes_nothing(app: Runtime) -> None:
    holiday = app.projects.create("alice", "Holiday")
    work = app.projects.create("alice", "Work")
    said = _refused("NAME_TAKEN", app.projects.create, "alice", " Holiday ")
    assert "'Holiday'" in said and "choose another name" in said
    said = _refused("NAME_TAKEN", app.projects.rename, "alice", work.id, "Holiday")
    assert "'Holiday'" in said
    assert app.projects.list("alice") == [holiday, work]
    assert app.projects.create("alice", "holiday").name == "holiday", "names differ by case"


RACERS = 6


@pytest.mark.both_databases
@pytest.mark.parametrize("how", ["create", "rename"])
def test_a_race_for_one_name_gives_it_to_one_project(app: Runtime, how: str) -> None:
    """Concurrent requests for one name: the unique constraint decides, and every loser is NAME_TAKEN, not a crash."""
    others = [app.projects.create("alice", f"Project {number}") for number in range(RACERS)]
    start = threading.Barrier(RACERS)
    outcomes: list[object] = []

    def claim(number: int) -> None:
        start.wait()
        try:
            if how == "create":
                outcomes.append(app.projects.create("alice", "Holiday"))
            else:
                outcomes.append(app.projects.rename("alice", others[number].id, "Holiday"))
        except PhotoMakerError as error:
            outcomes.append(error.code)

    threads = [threading.Thread(target=claim, args=(number,)) for number in range(RACERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    won = [outcome for outcome in outcomes if isinstance(outcome, ProjectInfo)]
    assert len(won) == 1 and [outcome for outcome in outcomes if outcome not in won] == ["NAME_TAKEN"] * (RACERS - 1)
    names = [project.name for project in app.projects.list("alice")]
    assert names.count("Holiday") == 1 and len(names) == RACERS + (how == "create")


# NOT_FOUND


@pytest.mark.both_databases
@pytest.mark.parametrize("action", ["get", "rename", "delete"])
def test_another_users_project_and_a_missing_one_are_the_same_not_found(app: Runtime, action: str) -> None:
    theirs = app.projects.create("bob", "Bob's")
    app.projects.create("alice", "Mine")
    missing = theirs.id + 1000
    calls = {
        "get": lambda project_id: app.projects.get("alice", project_id),
        "rename": lambda project_id: app.projects.rename("alice", project_id, "Stolen"),
        "delete": lambda project_id: app.projects.delete("alice", project_id),
    }
    said = _refused("NOT_FOUND", calls[action], theirs.id)
    assert (
        said == f"Project #{theirs.id} is not one of yours; list your projects to find its id, or pick one on the page."
    )
    assert _refused("NOT_FOUND", calls[action], missing) == said.replace(f"#{theirs.id}", f"#{missing}")
    assert app.projects.get("bob", theirs.id) == theirs
    assert [name for _, _, name in _projects(app)] == ["Bob's", "Mine"]


@pytest.mark.both_databases
@pytest.mark.parametrize("junk", JUNK_IDS, ids=repr)
def test_junk_ids_are_not_found_never_a_crash(app: Runtime, junk: Any) -> None:
    made = app.projects.create("alice", "Holiday")
    for call, args in (
        (app.projects.get, ("alice", junk)),
        (app.projects.rename, ("alice", junk, "Renamed")),
        (app.projects.delete, ("alice", junk)),
    ):
        said = _refused("NOT_FOUND", call, *args)
        assert said.startswith("Project ") and "is not one of yours" in said
    assert app.projects.list("alice") == [made]


@pytest.mark.both_databases
def test_a_stranger_has_no_projects_to_read_rename_or_delete(app: Runtime) -> None:
    theirs = app.projects.create("bob", "Bob's")
    for call, args in (
        (app.projects.get, ("stranger", theirs.id)),
        (app.projects.rename, ("stranger", theirs.id, "Mine")),
        (app.projects.delete, ("stranger", theirs.id)),
    ):
        _refused("NOT_FOUND", call, *args)
    assert _count(app, User) == 1, "asking creates no account"


# Deleting


@pytest.mark.both_databases
def test_delete_removes_the_avatars_and_blanks_the_generations_of_that_project_only(app: Runtime) -> None:
    first = _generate(app, "alice", "Holiday", num_images=2)
    second = _generate(app, "alice", "Holiday")
    app.gallery.rate("alice", first, 5)
    kept = _generate(app, "alice", "Work")
    bobs = _generate(app, "bob", "Holiday")
    holiday, work = app.projects.list("alice")
    gone = _files(app, first) + _files(app, second)
    stay = _files(app, kept) + _files(app, bobs)
    assert len(gone) == 6 and all(path.exists() for path in gone + stay)
    before = {row["id"]: row for row in _rows(app)}
    rollups, ledger = snapshot(app.database), _count(app, CreditTransaction)

    deleted = app.projects.delete("alice", str(holiday.id))

    assert deleted == ProjectDeletion(project_id=holiday.id, generations_anonymised=2, avatars_deleted=3)
    assert not any(path.exists() for path in gone) and all(path.exists() for path in stay)
    assert not gone[0].parent.exists(), "the generation's folder goes too"
    after = {row["id"]: row for row in _rows(app)}
    for generation_id in (first, second):
        row, was = after[generation_id], before[generation_id]
        assert (row["prompt"], row["negative_prompt"], row["error_message"], row["project_id"]) == ("", "", None, None)
        assert (
            set(row["params"]) <= set(forgetting.KEPT_PARAMS)
            and row["params"]["num_images"] == was["params"]["num_images"]
        )
        counted = ("status", "credits_charged", "seed", "rating", "model_key", "completed_at", "likeness")
        assert {key: row[key] for key in counted} == {key: was[key] for key in counted}
    assert after[kept] == before[kept] and after[bobs] == before[bobs]
    with app.database.reading() as session:
        left = set(session.exec(select(Avatar.generation_id)).all())
    assert left == {kept, bobs}
    assert [name for _, _, name in _projects(app)] == ["Work", "Holiday"], "Alice's Work and Bob's Holiday"
    assert app.projects.list("alice") == [work]
    assert snapshot(app.database) == rollups, "the hourly rollups are untouched"
    rollup_rebuild.rebuild_now(app.database)
    assert snapshot(app.database) == rollups, "the blanked rows still add up to the same rollups"
    assert _count(app, CreditTransaction) == ledger
    assert "not one of yours" in _refused("NOT_FOUND", app.projects.delete, "alice", holiday.id), "a second call"


@pytest.mark.both_databases
def test_delete_of_an_empty_project(app: Runtime) -> None:
    made = app.projects.create("alice", "Empty")
    assert app.projects.delete("alice", made.id) == ProjectDeletion(made.id, 0, 0)
    assert app.projects.list("alice") == []
    assert app.projects.create("alice", "Empty").name == "Empty", "its name is free again"


@pytest.mark.both_databases
def test_delete_is_refused_while_one_of_its_generations_is_being_made(app: Runtime) -> None:
    made = _generate(app, "alice", "Holiday")
    _generate(app, "alice", "Work")
    holiday, work = app.projects.list("alice")
    with app.database.session() as session:
        draft = generations.Draft(
            user_id=_user_id(app, "alice"),
            project_id=holiday.id,
            model_key="avatar-creator:photomaker-basic",
            mode="photo",
            engine="preview",
            prompt="in flight",
        )
        busy = row_id(generations.start(session, draft, cost=18, rate_limit_per_min=100, **held()))
    rows, files, avatars = _rows(app), _files(app, made), _count(app, Avatar)

    said = _refused("INVALID_PARAMS", app.projects.delete, "alice", holiday.id)

    assert (
        said == f"Generation #{busy} is still being made; wait for your generation to finish, then delete the project."
    )
    assert _rows(app) == rows and _count(app, Avatar) == avatars and all(path.exists() for path in files)
    assert app.projects.list("alice") == [holiday, work]
    assert app.projects.delete("alice", work.id).avatars_deleted == 1, "a generation in another project is no bar"


# The history of one project


@pytest.mark.both_databases
def test_the_history_shows_one_project_or_all(app: Runtime) -> None:
    holiday_made = _generate(app, "alice", "Holiday", num_images=2)
    work_made = _generate(app, "alice", "Work")
    _generate(app, "bob", "Bob's")
    holiday, work = app.projects.list("alice")
    (bobs,) = app.projects.list("bob")
    assert [item.generation_id for item in app.gallery.history("alice", project_id=holiday.id)] == [holiday_made] * 2
    assert [item.generation_id for item in app.gallery.history("alice", project_id=work.id)] == [work_made]
    assert [item.generation_id for item in app.gallery.history("alice")] == [work_made, holiday_made, holiday_made]
    assert app.gallery.history("alice", project_id=bobs.id) == [], "another user's project shows nothing"
    captions = [item.caption for item in app.gallery.history("alice", project_id=holiday.id)]
    assert [caption.split(" · ")[1] for caption in captions] == ["Avatar 2", "Avatar 1"], "numbered in their generation"
    assert len(app.gallery.history("alice", project_id=holiday.id, limit=1)) == 1
