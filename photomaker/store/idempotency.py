"""Idempotency keys: the first request with a key is answered, every repeat gets that same answer.

A key belongs to one user and names one request: the same key with other content is refused, and a
repeat that arrives while the first is still being answered is told to wait. A first request that
never stored its answer (its process died) frees its key after `ABANDONED_AFTER`; every key goes
after `KEPT_FOR`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from photomaker.core.errors import RefusedError
from photomaker.store.models import IdempotencyKey, utc, utcnow

KEPT_FOR = timedelta(days=1)
ABANDONED_AFTER = timedelta(minutes=5)
"""Longer than any request takes to be answered (checks, the charge and at most a minute's wait)."""
IN_USE_RETRY_S = 5


@dataclass(frozen=True)
class Answer:
    """What the first request with a key was answered."""

    status_code: int
    body: dict[str, Any]
    location: str | None = None


def claim(session: Session, *, username: str, key: str, fingerprint: str) -> Answer | None:
    """Claim `key` for a request with this `fingerprint`: None when it is this request's to answer, or the first
    request's answer to give again. Refused with IDEMPOTENCY_KEY_REUSED (other content) or
    IDEMPOTENCY_KEY_IN_USE (the first is still being answered)."""
    now = utcnow()
    found = _find(session, username, key)
    if found is not None and (
        utc(found.created_at) < now - KEPT_FOR
        or (found.status_code is None and utc(found.created_at) < now - ABANDONED_AFTER)
    ):
        session.delete(found)
        session.flush()
        found = None
    if found is None:
        try:
            with session.begin_nested():
                session.add(IdempotencyKey(username=username, key=key, fingerprint=fingerprint, created_at=now))
            return None
        except IntegrityError:
            found = _find(session, username, key)
            if found is None:
                raise
    if found.fingerprint != fingerprint:
        raise RefusedError("IDEMPOTENCY_KEY_REUSED")
    if found.status_code is None or found.response is None:
        raise RefusedError("IDEMPOTENCY_KEY_IN_USE", retry_after=IN_USE_RETRY_S)
    return Answer(found.status_code, found.response, found.location)


def _find(session: Session, username: str, key: str) -> IdempotencyKey | None:
    return session.exec(
        select(IdempotencyKey).where(IdempotencyKey.username == username, IdempotencyKey.key == key)
    ).first()


def record(session: Session, *, username: str, key: str, answer: Answer) -> None:
    """Keep the answer the claimed key's request got."""
    session.execute(
        update(IdempotencyKey)
        .where(col(IdempotencyKey.username) == username, col(IdempotencyKey.key) == key)
        .values(status_code=answer.status_code, response=answer.body, location=answer.location)
    )


def release(session: Session, *, username: str, key: str) -> None:
    """Free a claimed key whose request got no answer worth repeating (it may succeed when sent again)."""
    session.execute(
        delete(IdempotencyKey).where(
            col(IdempotencyKey.username) == username,
            col(IdempotencyKey.key) == key,
            col(IdempotencyKey.status_code).is_(None),
        )
    )


def expire(session: Session, *, now: datetime | None = None) -> int:
    """Delete the keys older than `KEPT_FOR`; returns how many."""
    before = (now or utcnow()) - KEPT_FOR
    return session.exec(delete(IdempotencyKey).where(col(IdempotencyKey.created_at) < before)).rowcount


def forget_user(session: Session, *, username: str) -> int:
    """Delete every key of the user (their answers hold what they wrote); returns how many."""
    return session.exec(delete(IdempotencyKey).where(col(IdempotencyKey.username) == username)).rowcount
