"""Generation and avatar rows read: one by id, a user's, a project's, the newest avatars, the files in use.

Each function runs inside the caller's transaction; ownership is part of every query that takes a user.
"""

from __future__ import annotations

from sqlalchemy import func
from sqlalchemy import select as select_columns
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import Select

from photomaker.store.models import Avatar, Generation, Project


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


def _with_project_name() -> Select[Generation, str]:
    """Generations with the name of the project each is filed in (None without one)."""
    return select(Generation, Project.name).outerjoin(Project, col(Generation.project_id) == col(Project.id))


def of_user(session: Session, *, user_id: int) -> list[tuple[Generation, str | None]]:
    """Every generation of the user, oldest first, with its project's name (None without one)."""
    rows = session.exec(_with_project_name().where(Generation.user_id == user_id).order_by(col(Generation.id))).all()
    return [(generation, name) for generation, name in rows]


def avatars_of_user(session: Session, *, user_id: int, project_id: int | None = None) -> list[Avatar]:
    """Every avatar row of the user (only those filed in `project_id` when given), by generation and then in the
    order they were made."""
    theirs = [Generation.user_id == user_id]
    if project_id is not None:
        theirs.append(Generation.project_id == project_id)
    return list(
        session.exec(
            select(Avatar)
            .join(Generation, col(Avatar.generation_id) == col(Generation.id))
            .where(*theirs)
            .order_by(col(Avatar.generation_id), col(Avatar.id))
        ).all()
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
