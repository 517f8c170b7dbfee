"""Generation rows through their life, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import func
from sqlmodel import select

from photomaker.errors import RefusedError
from photomaker.storage import SavedAvatar
from photomaker.store import Database, Generation, accounts, generations, ledger


def _user(database: Database, credits: int = 100) -> int:
    with database.session() as session:
        return accounts.get_or_create_user(session, "grace", starting_credits=credits).id


def _start(database: Database, user_id: int, *, cost: int = 25, limit: int = 10) -> int:
    with database.session() as session:
        draft = generations.Draft(
            user_id=user_id, model_key="avatar-creator:photomaker-pro", mode="photo", engine="preview"
        )
        return generations.start(session, draft, cost=cost, rate_limit_per_min=limit).id


def _balance(database: Database, user_id: int) -> int:
    with database.session() as session:
        return ledger.balance(session, user_id)


def test_start_charges_in_the_same_transaction(database: Database) -> None:
    user_id = _user(database)
    generation_id = _start(database, user_id)
    with database.session() as session:
        row = generations.get(session, generation_id)
    assert (row.status, row.credits_charged) == ("processing", 25)
    assert _balance(database, user_id) == 75


def test_start_without_credits_writes_nothing(database: Database) -> None:
    user_id = _user(database, 10)
    with pytest.raises(RefusedError) as caught:
        _start(database, user_id)
    assert caught.value.code == "INSUFFICIENT_CREDITS"
    with database.session() as session:
        assert session.exec(select(func.count()).select_from(Generation)).one() == 0
    assert _balance(database, user_id) == 10


def test_complete_adds_avatars(database: Database) -> None:
    user_id = _user(database)
    generation_id = _start(database, user_id)
    saved = [SavedAvatar("u1/g1/avatar-1.png", "u1/g1/avatar-1.thumb.webp", 1024, 1024)]
    with database.session() as session:
        row = generations.complete(
            session,
            generation_id,
            avatars=saved,
            seed=7,
            engine="preview",
            attempts=1,
            processing_ms=1200,
            params={"style": "Cinematic"},
        )
    assert (row.status, row.seed, row.processing_ms) == ("completed", 7, 1200)
    with database.session() as session:
        assert [a.image_path for a in generations.avatars_of(session, generation_id)] == ["u1/g1/avatar-1.png"]
        assert len(generations.recent_avatars(session, user_id=user_id)) == 1


def test_fail_refunds_exactly_once(database: Database) -> None:
    user_id = _user(database)
    generation_id = _start(database, user_id)
    with database.session() as session:
        assert generations.fail(session, generation_id, code="BACKEND_UNAVAILABLE", message="down") == 25
    with database.session() as session:
        assert generations.fail(session, generation_id, code="INTERNAL", message="again") == 0
        row = generations.get(session, generation_id)
    assert (row.status, row.error_code) == ("failed", "BACKEND_UNAVAILABLE")
    assert _balance(database, user_id) == 100


def test_a_failed_row_cannot_be_completed(database: Database) -> None:
    user_id = _user(database)
    generation_id = _start(database, user_id)
    with database.session() as session:
        generations.fail(session, generation_id, code="INTERNAL", message="x")
    with pytest.raises(RuntimeError), database.session() as session:
        generations.complete(
            session, generation_id, avatars=[], seed=1, engine="preview", attempts=1, processing_ms=1, params={}
        )


def test_rate_limit_counts_charged_generations_in_the_last_minute(database: Database) -> None:
    user_id = _user(database, 1000)
    for _ in range(3):
        _start(database, user_id, limit=3)
    with pytest.raises(RefusedError) as caught:
        _start(database, user_id, limit=3)
    assert caught.value.code == "USER_RATE_LIMITED"
    assert "limit is 3" in caught.value.message
    assert _balance(database, user_id) == 1000 - 3 * 25


def test_reject_records_the_code_and_charges_nothing(database: Database) -> None:
    user_id = _user(database)
    with database.session() as session:
        draft = generations.Draft(user_id=user_id, model_key="k", mode="photo", engine="preview", photo_count=1)
        row = generations.reject(session, draft, error=RefusedError("NO_FACE", "no face in cat.jpg"))
    assert (row.status, row.error_code, row.credits_charged) == ("rejected", "NO_FACE", 0)
    assert _balance(database, user_id) == 100


def test_recover_interrupted_fails_and_refunds(database: Database) -> None:
    user_id = _user(database)
    stuck = _start(database, user_id)
    with database.session() as session:
        assert generations.recover_interrupted(session) == [stuck]
    with database.session() as session:
        row = generations.get(session, stuck)
        assert generations.recover_interrupted(session) == []
    assert (row.status, row.error_code) == ("failed", "INTERRUPTED")
    assert _balance(database, user_id) == 100


def test_projects_are_per_user_and_trimmed(database: Database) -> None:
    user_id = _user(database)
    with database.session() as session:
        first = accounts.get_or_create_project(session, user_id=user_id, name="  Work   shots ")
        again = accounts.get_or_create_project(session, user_id=user_id, name="Work shots")
        default = accounts.get_or_create_project(session, user_id=user_id, name="")
        assert first.id == again.id
        assert accounts.list_projects(session, user_id=user_id) == ["Work shots", "My avatars"]
    assert default.name == "My avatars"
