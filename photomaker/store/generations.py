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
from photomaker.core.plurals import counted
from photomaker.core.safe_text import storable
from photomaker.faces.likeness import verdict
from photomaker.images.avatar_files import SavedAvatar
from photomaker.store import ledger, rollup_schema, rollups
from photomaker.store.models import Avatar, Generation, User, utcnow

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
            f"You started {counted(len(recent), 'generation')} in the last minute (the limit is {limit_per_min}); "
            f"try again in {counted(wait, 'second')}.",
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
    images_asked: int | None = None


@dataclass(frozen=True)
class Counts:
    """What became of a generation's images, kept on its row for the metrics: kept, made (second tries
    included), and alike at their first try."""

    images_kept: int
    candidates: int
    alike_first_try: int


def start(
    session: Session,
    draft: Draft,
    *,
    cost: int,
    rate_limit_per_min: int,
    owner: str,
    lease_until: datetime,
    short: Callable[[int], str] | None = None,
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
    ledger.charge(session, user_id=draft.user_id, generation_id=generation.id, amount=cost, short=short)
    return generation


def reject(session: Session, draft: Draft, *, error: RefusedError) -> Generation:
    """Record a refusal: a `rejected` row with its code; no credit moves."""
    now = utcnow()
    generation = Generation(
        **{**asdict(draft), "images_asked": None},
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


def finish_processing(session: Session, generation_id: int, *, unless: Any = None, **values: Any) -> bool:
    """Move a `processing` row to its final state (and out of any lease); False if it had already left
    `processing`, or if `unless` (a condition on the row) now holds."""
    conditions = [col(Generation.id) == generation_id, col(Generation.status) == "processing"]
    if unless is not None:
        conditions.append(not_(unless))
    result = session.exec(
        update(Generation).where(*conditions).values(completed_at=utcnow(), lease_until=None, **values)
    )
    return result.rowcount == 1


def status_of(session: Session, generation_id: int) -> str | None:
    """The row's status now; None when there is no such row."""
    return session.exec(select(Generation.status).where(Generation.id == generation_id)).first()


def reread(session: Session, generation_id: int) -> Generation:
    """The row as the database now holds it, after a Core `UPDATE` the session did not see."""
    generation = session.get(Generation, generation_id, populate_existing=True)
    if generation is None:
        raise LookupError(f"generation {generation_id} is gone")
    return generation


def add_avatars(
    session: Session,
    generation_id: int,
    avatars: Sequence[SavedAvatar],
    *,
    likeness: Sequence[float | None],
    style: str | None,
) -> None:
    """Add avatars to a `processing` row as they are made (a pack keeps each group as it ends); INTERRUPTED when
    the row has left `processing` (recovery found its lease run out)."""
    status = session.exec(select(Generation.status).where(Generation.id == generation_id).with_for_update()).first()
    if status != "processing":
        raise PhotoMakerError("INTERRUPTED")
    session.add_all(
        Avatar(
            generation_id=generation_id,
            image_path=avatar.image_path,
            thumbnail_path=avatar.thumbnail_path,
            width=avatar.width,
            height=avatar.height,
            likeness=score,
            likeness_ok=verdict(score),
            style=style,
        )
        for avatar, score in zip(avatars, likeness, strict=True)
    )
    session.flush()


def complete(
    session: Session,
    generation_id: int,
    *,
    avatars: Sequence[SavedAvatar] = (),
    avatar_likeness: Sequence[float | None] | None = None,
    style: str | None = None,
    counts: Counts | None = None,
    seed: int,
    engine: str,
    attempts: int,
    processing_ms: int,
    params: dict[str, Any],
    likeness: Sequence[float | None] | None = None,
    notes: Sequence[str] = (),
    refund: int = 0,
    refund_note: str = "",
) -> Generation:
    """Mark the row `completed` with its timings, outputs, counts and notes for the user, add `avatars` in `style`
    (a pack's earlier styles were added as they were made, `add_avatars`), and refund `refund` credits for the
    images it did not keep.

    `likeness` has each kept avatar's likeness score when it was measured (Photo to Avatar), None when not;
    `avatar_likeness` those of `avatars` alone, when they are not all of them.
    """
    if avatars:
        scores = avatar_likeness if avatar_likeness is not None else likeness
        add_avatars(session, generation_id, avatars, likeness=scores or [None] * len(avatars), style=style)
    if not finish_processing(
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
        credits_refunded=refund,
        **(asdict(counts) if counts else {}),
    ):
        # Recovery found its lease run out (this process stalled or lost the database) and refunded it.
        raise PhotoMakerError("INTERRUPTED")
    if refund:
        ledger.refund(session, generation_id=generation_id, amount=refund, note=refund_note)
    generation = reread(session, generation_id)
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
    counts: Counts | None = None,
) -> int:
    """Mark the row `failed` and refund its charge, once; returns the credits refunded."""
    measured = {"attempts": attempts, "processing_ms": processing_ms, **(asdict(counts) if counts else {})}
    values = {name: value for name, value in measured.items() if value is not None}
    return fail_processing(session, generation_id, code=code, message=message, **values) or 0


def fail_processing(
    session: Session, generation_id: int, *, code: ErrorCode, message: str, unless: Any = None, **values: Any
) -> int | None:
    """`fail`, not at all while `unless` holds; None when the row was not failed here."""
    if not finish_processing(
        session,
        generation_id,
        unless=unless,
        status="failed",
        error_code=code,
        error_message=storable(message),
        **values,
    ):
        return None
    rollups.add(session, reread(session, generation_id))
    return ledger.refund(session, generation_id=generation_id)


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
