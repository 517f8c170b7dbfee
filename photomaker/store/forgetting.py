"""What retention and a user's deletion take from generation rows, and what they keep for the metrics.

Avatar rows go; generation rows stay, blanked of what their user wrote, so the hourly rollups still agree
with them. Each function runs inside the caller's transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, update
from sqlalchemy import select as select_columns
from sqlmodel import Session, col, select

from photomaker.core.errors import RefusedError
from photomaker.store.models import Avatar, Generation, User, utcnow

KEPT_PARAMS: tuple[str, ...] = ("tier", "width", "height", "num_images", "steps", "guidance_scale")
"""What a user's deletion leaves of a generation's params: the tier and plain numbers, nothing they wrote
or picked to describe themselves (prompt, style, subject, the requested seed, engine details)."""


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
