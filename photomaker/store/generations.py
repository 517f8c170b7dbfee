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

from sqlalchemy import delete, func, not_, update
from sqlalchemy import select as select_columns
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import Select

from photomaker.core.errors import ErrorCode, PhotoMakerError, RefusedError
from photomaker.core.safe_text import storable
from photomaker.faces.likeness import verdict
from photomaker.images.avatar_files import SavedAvatar
from photomaker.store import ledger, rollup_schema, rollups
from photomaker.store.models import Avatar, Generation, Project, User, utc, utcnow

RATE_WINDOW = timedelta(minutes=1)
KEPT_PARAMS: tuple[str, ...] = ("tier", "width", "height", "num_images", "steps", "guidance_scale")
"""What a user's deletion leaves of a generation's params: the tier and plain numbers, nothing they wrote
or picked to describe themselves (prompt, style, subject, the requested seed, engine details)."""


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


def get(session: Session, generation_id: int) -> Generation | None:
    return session.get(Generation, generation_id)


def avatars_of(session: Session, generation_id: int) -> list[Avatar]:
    return list(
        session.exec(select(Avatar).where(Avatar.generation_id == generation_id).order_by(col(Avatar.id))).all()
    )


def files_in_use(session: Session) -> tuple[set[int], dict[int, set[str]]]:
    """What the generation folders must keep: the ids of `processing` rows (still writing theirs), and the
    avatar files of each generation that has avatar rows."""
    live = {
        generation_id
        for generation_id in session.exec(select(Generation.id).where(Generation.status == "processing"))
        if generation_id is not None
    }
    kept: dict[int, set[str]] = {}
    for generation_id, image, thumbnail in session.exec(
        select(Avatar.generation_id, Avatar.image_path, Avatar.thumbnail_path)
    ):
        kept.setdefault(generation_id, set()).update((image, thumbnail))
    return live, kept


def recent_avatars(
    session: Session, *, user_id: int, project_id: int | None = None, limit: int = 24
) -> list[tuple[Avatar, Generation, int]]:
    """The user's latest avatars (of one project when given) with their generations and their number in it (from 1),
    newest first."""
    # Numbered among all of the user's avatars, then the page taken: the join keeps only those avatars.
    numbered = (
        select_columns(
            col(Avatar.id).label("avatar_id"),
            func.row_number().over(partition_by=col(Avatar.generation_id), order_by=col(Avatar.id)).label("number"),
        )
        .join(Generation, col(Avatar.generation_id) == col(Generation.id))
        .where(col(Generation.user_id) == user_id, col(Generation.status) == "completed")
        .subquery()
    )
    query = (
        select(Avatar, Generation, numbered.c.number)
        .join(Generation, col(Avatar.generation_id) == col(Generation.id))
        .join(numbered, numbered.c.avatar_id == col(Avatar.id))
    )
    if project_id is not None:
        query = query.where(col(Generation.project_id) == project_id)
    rows = session.exec(query.order_by(col(Avatar.id).desc()).limit(limit)).all()
    return [(avatar, generation, number) for avatar, generation, number in rows]


def forget_avatars(session: Session, *, before: datetime) -> list[tuple[int, int]]:
    """Delete the avatar rows of generations completed before `before` (retention).

    The generation rows stay, so the metrics keep their history; returns (user id, generation id)
    of every generation whose avatars went, so their files can be deleted too.
    """
    rows = session.exec(
        select(Generation.user_id, Generation.id)
        .join(Avatar, col(Avatar.generation_id) == col(Generation.id))
        .where(col(Generation.completed_at) < before)
        .distinct()
    ).all()
    expired = [(user_id, generation_id) for user_id, generation_id in rows if generation_id is not None]
    ids = [generation_id for _, generation_id in expired]
    if ids:
        session.execute(delete(Avatar).where(col(Avatar.generation_id).in_(ids)))
    return expired


def _with_project_name() -> Select[Generation, str]:
    """Generations with the name of the project each is filed in (None without one)."""
    return select(Generation, Project.name).outerjoin(Project, col(Generation.project_id) == col(Project.id))


def of_user(session: Session, *, user_id: int) -> list[tuple[Generation, str | None]]:
    """Every generation of the user, oldest first, with its project's name (None without one)."""
    rows = session.exec(_with_project_name().where(Generation.user_id == user_id).order_by(col(Generation.id))).all()
    return [(generation, name) for generation, name in rows]


def avatars_of_user(session: Session, *, user_id: int) -> list[Avatar]:
    """Every avatar row of the user, by generation and then in the order they were made."""
    return list(
        session.exec(
            select(Avatar)
            .join(Generation, col(Avatar.generation_id) == col(Generation.id))
            .where(Generation.user_id == user_id)
            .order_by(col(Avatar.generation_id), col(Avatar.id))
        ).all()
    )


@dataclass(frozen=True)
class Forgotten:
    """What `forget_user` did (for the user, or one of their projects): the generations whose folders go next, and
    the counts."""

    generation_ids: list[int]
    avatars_deleted: int
    generations_anonymised: int


def _anonymous(row: Any) -> dict[str, Any] | None:
    """The values that blank a generation of what its user wrote; None when it is blank already."""
    values = {
        "prompt": "",
        "negative_prompt": "",
        "error_message": None,
        "notes": None,
        "project_id": None,
        "params": {key: value for key, value in row.params.items() if key in KEPT_PARAMS},
    }
    if all(getattr(row, name) == value for name, value in values.items()):
        return None
    return {"id": row.id, **values}


def forget_user(session: Session, *, user_id: int, project_id: int | None = None) -> Forgotten:
    """Delete the user's avatar rows and blank their generations (only those filed in `project_id` when given),
    keeping what the metrics count; blanking detaches them from their project.

    Status, model, engine, times, credits, error code, seed and rating stay, so the rows still
    agree with the hourly rollups (which are not touched). Refused while one of those generations
    is `processing`: it would complete into a blanked row with fresh avatars. Touching the
    user's row first queues this behind a concurrent `start` of the same user.
    """
    session.execute(update(User).where(col(User.id) == user_id).values(updated_at=utcnow()))
    theirs = [col(Generation.user_id) == user_id]
    if project_id is not None:
        theirs.append(col(Generation.project_id) == project_id)
    busy = session.exec(select(Generation.id).where(*theirs, Generation.status == "processing")).first()
    if busy is not None:
        then = "delete your data" if project_id is None else "delete the project"
        raise RefusedError(
            "INVALID_PARAMS",
            f"Generation #{busy} is still being made; wait for your generation to finish, then {then}.",
        )
    rows = session.execute(
        # SQLAlchemy's own select: SQLModel's is typed for at most four columns.
        select_columns(
            col(Generation.id),
            col(Generation.prompt),
            col(Generation.negative_prompt),
            col(Generation.error_message),
            col(Generation.notes),
            col(Generation.project_id),
            col(Generation.params),
        ).where(*theirs)
    ).all()
    ids = select(Generation.id).where(*theirs)
    avatars = session.exec(delete(Avatar).where(col(Avatar.generation_id).in_(ids))).rowcount
    changes = [change for row in rows if (change := _anonymous(row)) is not None]
    if changes:
        session.execute(update(Generation), changes)
    return Forgotten(
        generation_ids=sorted(row.id for row in rows), avatars_deleted=avatars, generations_anonymised=len(changes)
    )


def of_owner(session: Session, generation_id: int, *, user_id: int) -> tuple[Generation, str | None] | None:
    """The user's generation with its project's name; None when there is none of theirs with that id."""
    row = session.exec(
        _with_project_name().where(Generation.id == generation_id, Generation.user_id == user_id)
    ).first()
    return None if row is None else (row[0], row[1])


def of_project(session: Session, project_id: int, *, user_id: int, limit: int) -> list[tuple[Generation, str | None]]:
    """The user's latest generations filed in the project, newest first, with the project's name."""
    rows = session.exec(
        _with_project_name()
        .where(Generation.project_id == project_id, Generation.user_id == user_id)
        .order_by(col(Generation.id).desc())
        .limit(limit)
    ).all()
    return [(generation, name) for generation, name in rows]


def avatar_of_owner(session: Session, avatar_id: int, *, user_id: int) -> Avatar | None:
    """The avatar if it belongs to one of the user's generations; None otherwise."""
    return session.exec(
        select(Avatar)
        .join(Generation, col(Avatar.generation_id) == col(Generation.id))
        .where(Avatar.id == avatar_id, Generation.user_id == user_id)
    ).first()
