"""Idempotency keys in the database: claimed once, answered again, refused for other content, expired."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update
from sqlmodel import select

from photomaker.core.errors import RefusedError
from photomaker.store import Database, idempotency
from photomaker.store.idempotency import ABANDONED_AFTER, KEPT_FOR, Answer
from photomaker.store.models import IdempotencyKey, utcnow

pytestmark = pytest.mark.both_databases  # the store's own behaviour: on SQLite and PostgreSQL

ANSWER = Answer(status_code=202, body={"id": 7, "status": "processing"}, location="/api/v1/generations/7")


def claim(database: Database, *, key: str = "k1", fingerprint: str = "f1", username: str = "alice") -> Answer | None:
    with database.session() as session:
        return idempotency.claim(session, username=username, key=key, fingerprint=fingerprint)


def record(database: Database, *, key: str = "k1", username: str = "alice") -> None:
    with database.session() as session:
        idempotency.record(session, username=username, key=key, answer=ANSWER)


def age(database: Database, by: timedelta) -> None:
    with database.session() as session:
        session.execute(update(IdempotencyKey).values(created_at=utcnow() - by))


def test_the_first_claim_answers_and_a_repeat_gets_its_answer(database: Database) -> None:
    assert claim(database) is None
    with pytest.raises(RefusedError) as in_use:
        claim(database)
    assert in_use.value.code == "IDEMPOTENCY_KEY_IN_USE" and in_use.value.retry_after
    record(database)
    assert claim(database) == ANSWER
    assert claim(database) == ANSWER


def test_other_content_under_the_same_key_is_refused(database: Database) -> None:
    claim(database)
    record(database)
    with pytest.raises(RefusedError) as reused:
        claim(database, fingerprint="other")
    assert reused.value.code == "IDEMPOTENCY_KEY_REUSED"


def test_keys_belong_to_their_user(database: Database) -> None:
    claim(database)
    record(database)
    assert claim(database, username="bob") is None, "bob's key of the same name is his own"
    with database.session() as session:
        assert idempotency.forget_user(session, username="alice") == 1
    assert claim(database) is None


def test_a_released_key_can_be_claimed_again_but_an_answered_one_cannot_be_released(database: Database) -> None:
    claim(database)
    with database.session() as session:
        idempotency.release(session, username="alice", key="k1")
    assert claim(database) is None
    record(database)
    with database.session() as session:
        idempotency.release(session, username="alice", key="k1")
    assert claim(database) == ANSWER


def test_an_abandoned_claim_is_taken_over_and_old_keys_expire(database: Database) -> None:
    claim(database)
    age(database, ABANDONED_AFTER + timedelta(seconds=1))
    assert claim(database) is None, "a first request that never answered (its process died) frees its key"
    record(database)
    age(database, KEPT_FOR - timedelta(minutes=1))
    assert claim(database) == ANSWER
    age(database, KEPT_FOR + timedelta(minutes=1))
    assert claim(database, fingerprint="new content") is None, "after a day the key is new again"
    age(database, KEPT_FOR + timedelta(minutes=1))
    claim(database, key="k2")
    with database.session() as session:
        assert idempotency.expire(session) == 1
        assert session.exec(select(IdempotencyKey.key)).all() == ["k2"]
