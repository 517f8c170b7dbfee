"""Generation rows through their life: started and charged, completed, failed and refunded, rejected, rated.

Each function is one step of DESIGN.md's flow and runs inside the caller's transaction.
A row leaves `processing` exactly once; the guard on the status makes a second completion or
failure a no-op, so a refund can never happen twice. Where a row reaches its final status
(or its rating changes), the same transaction updates the hourly rollups.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import not_, update
from sqlmodel import Session, col, select

from photomaker.core.errors import ErrorCode, PhotoMakerError, RefusedError
from photomaker.core.safe_text import storable
from photomaker.faces.likeness import verdict
from photomaker.images.avatar_files import SavedAvatar
from photomaker.store import ledger, rollup_schema, rollups
from photomaker.store.models import Avatar, Generation, User, utc, utcnow

RATE_WINDOW = timedelta(minutes=1)


def _check_rate(session: Session, *, user_id: int, limit_per_min: int) -> None:
    since = utcnow() - RATE_WINDOW
    recent = session.exec(
        select(Generation.created_at)
        .where(Generation.user_id == user_id, Generation.created_at >= since, Generation.status != "rejected")
        .order_by(col(Generation.created_at))
    ).all()
    if len(recent) >= limit_per_min:
        wait = max(1, int((recent[0] + RATE_WINDOW - utcnow()).total_seconds()) + 1)
        raise RefusedError(
            "USER_RATE_LIMITED",
            f"You started {len(recent)} generations in the last minute (the limit is {limit_per_min}); "
            f"try again in {wait} seconds.",
            retry_after=wait,
        )


@dataclass(frozen=True)
class Draft:
    """A generation as known before it is charged or refused: what `start` and `reject` both record."""

    user_id: int
    model_key: str
    mode: str
    engine: str
    project_id: int | None = None
    prompt: str = ""
    negative_prompt: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    photo_count: int = 0
    preview: bool = False


def start(
    session: Session, draft: Draft, *, cost: int, rate_limit_per_min: int, owner: str, lease_until: datetime
) -> Generation:
    """Rate-limit check, a `processing` row held by `owner` until `lease_until`, and its charge, in the
    caller's one transaction.

    Touching the user's row first serialises one user's concurrent starts (a row lock on
    PostgreSQL), so two requests cannot both slip under the rate limit.
    """
    session.execute(update(User).where(col(User.id) == draft.user_id).values(updated_at=utcnow()))
    _check_rate(session, user_id=draft.user_id, limit_per_min=rate_limit_per_min)
    now = utcnow()
    generation = Generation(
        **asdict(draft),
        status="processing",
        credits_charged=cost,
        created_at=now,
        started_at=now,
        owner=owner,
        lease_until=lease_until,
    )
    session.add(generation)
    session.flush()
    if generation.id is None:
        raise RuntimeError("the flushed generation has no id")
    ledger.charge(session, user_id=draft.user_id, generation_id=generation.id, amount=cost)
    return generation


def reject(session: Session, draft: Draft, *, error: RefusedError) -> Generation:
    """Record a refusal: a `rejected` row with its code; no credit moves."""
    now = utcnow()
    generation = Generation(
        **asdict(draft),
        status="rejected",
        error_code=error.code,
        error_message=storable(error.message),
        created_at=now,
        completed_at=now,
    )
    session.add(generation)
    session.flush()
    rollups.add(session, generation)
    return generation


def _finish(session: Session, generation_id: int, *, unless: Any = None, **values: Any) -> bool:
    """Move a `processing` row to its final state (and out of any lease); False if it had already left
    `processing`, or if `unless` (a condition on the row) now holds."""
    conditions = [col(Generation.id) == generation_id, col(Generation.status) == "processing"]
    if unless is not None:
        conditions.append(not_(unless))
    result = session.exec(
        update(Generation).where(*conditions).values(completed_at=utcnow(), lease_until=None, **values)
    )
    return result.rowcount == 1


def _reread(session: Session, generation_id: int) -> Generation:
    """The row as the database now holds it, after a Core `UPDATE` the session did not see."""
    generation = session.get(Generation, generation_id, populate_existing=True)
    if generation is None:
        raise LookupError(f"generation {generation_id} is gone")
    return generation


def complete(
    session: Session,
    generation_id: int,
    *,
    avatars: Sequence[SavedAvatar],
    seed: int,
    engine: str,
    attempts: int,
    processing_ms: int,
    params: dict[str, Any],
    likeness: Sequence[float | None] | None = None,
    notes: Sequence[str] = (),
) -> Generation:
    """Mark the row `completed` with its timings, outputs and notes for the user, and add its avatars.

    `likeness` has each avatar's likeness score when it was measured (Photo to Avatar), None when not.
    """
    if not _finish(
        session,
        generation_id,
        status="completed",
        seed=seed,
        engine=engine,
        attempts=attempts,
        processing_ms=processing_ms,
        params=params,
        likeness=None if likeness is None else list(likeness),
        notes=[storable(note) for note in notes],
    ):
        # Recovery found its lease run out (this process stalled or lost the database) and refunded it.
        raise PhotoMakerError("INTERRUPTED")
    scores = [None] * len(avatars) if likeness is None else likeness
    rows = [
        Avatar(
            generation_id=generation_id,
            image_path=avatar.image_path,
            thumbnail_path=avatar.thumbnail_path,
            width=avatar.width,
            height=avatar.height,
            likeness=score,
            likeness_ok=verdict(score),
        )
        for avatar, score in zip(avatars, scores, strict=True)
    ]
    session.add_all(rows)
    session.flush()
    generation = _reread(session, generation_id)
    rollups.add(session, generation)
    return generation


def fail(
    session: Session,
    generation_id: int,
    *,
    code: ErrorCode,
    message: str,
    attempts: int | None = None,
    processing_ms: int | None = None,
) -> int:
    """Mark the row `failed` and refund its charge, once; returns the credits refunded."""
    measured = {"attempts": attempts, "processing_ms": processing_ms}
    values = {name: value for name, value in measured.items() if value is not None}
    return _fail(session, generation_id, code=code, message=message, **values) or 0


def _fail(
    session: Session, generation_id: int, *, code: ErrorCode, message: str, unless: Any = None, **values: Any
) -> int | None:
    """`fail`, not at all while `unless` holds; None when the row was not failed here."""
    if not _finish(
        session,
        generation_id,
        unless=unless,
        status="failed",
        error_code=code,
        error_message=storable(message),
        **values,
    ):
        return None
    rollups.add(session, _reread(session, generation_id))
    return ledger.refund(session, generation_id=generation_id)


def renew(session: Session, generation_ids: Sequence[int], *, owner: str, until: datetime) -> int:
    """Extend `owner`'s lease on these rows while they are `processing`; returns how many it still holds."""
    result = session.exec(
        update(Generation)
        .where(
            col(Generation.id).in_(generation_ids),
            col(Generation.status) == "processing",
            col(Generation.owner) == owner,
        )
        .values(lease_until=until)
    )
    return result.rowcount


def recover_dead(session: Session, *, now: datetime, ended: Callable[[str | None], bool]) -> list[tuple[int, int]]:
    """Fail and refund every `processing` row whose lease ran out before `now`, or whose owner has `ended`
    (rows made before leases count as dead); returns their (user id, generation id).

    A row whose owner renewed its lease since it was read here is left alone: its owner is alive.
    """
    rows = session.exec(
        select(Generation.id, Generation.user_id, Generation.owner, Generation.lease_until).where(
            Generation.status == "processing"
        )
    ).all()
    dead = []
    for generation_id, user_id, owner, lease_until in rows:
        if generation_id is None:
            continue
        expired = lease_until is None or utc(lease_until) < now
        if not (expired or ended(owner)):
            continue
        # An ended owner renews nothing; an expired lease counts only if nobody renewed it since it was read.
        renewed = col(Generation.lease_until) > lease_until if expired and lease_until is not None else None
        message = "The app stopped while this was generating."
        if _fail(session, generation_id, code="INTERRUPTED", message=message, unless=renewed) is not None:
            dead.append((user_id, generation_id))
    return dead


def rate(session: Session, generation_id: int, *, user_id: int | None, stars: int) -> int | None:
    """Record the owner's 1-5 star rating of a completed generation; returns the rating it replaces.

    Only the owner may rate, and only a generation that made avatars; rating again changes
    the rating (the rollups move it from the old star count to the new one).
    """
    if stars not in rollup_schema.STARS:
        raise RefusedError("INVALID_PARAMS", f"A rating is 1 to 5 stars; you gave {stars}.")
    generation = session.exec(select(Generation).where(Generation.id == generation_id).with_for_update()).first()
    if generation is None or generation.user_id != user_id:
        raise RefusedError("NOT_FOUND", f"Generation #{generation_id} is not one of yours; rate your own avatars.")
    if generation.status != "completed":
        raise RefusedError(
            "INVALID_PARAMS", f"Generation #{generation_id} made no avatars ({generation.status}); nothing to rate."
        )
    previous = generation.rating
    generation.rating = stars
    session.add(generation)
    session.flush()
    rollups.change_rating(session, generation, previous=previous)
    return previous
