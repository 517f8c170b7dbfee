"""Users' projects: made on first use, listed with their counts, renamed and deleted."""

from __future__ import annotations

from sqlalchemy import delete, func
from sqlalchemy import select as select_columns
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from photomaker.store.models import Avatar, Generation, Project

DEFAULT_PROJECT = "My avatars"
MAX_PROJECT_NAME = 100


def get_or_create_project(session: Session, *, user_id: int, name: str = DEFAULT_PROJECT) -> Project:
    """The user's project called `name` (trimmed), created on first use."""
    name = " ".join(name.split())[:MAX_PROJECT_NAME] or DEFAULT_PROJECT
    named = select(Project).where(Project.user_id == user_id, Project.name == name)
    return session.exec(named).first() or add_project(session, user_id=user_id, name=name) or session.exec(named).one()


def project_summaries(
    session: Session, *, user_id: int, project_id: int | None = None
) -> list[tuple[Project, int, int]]:
    """The user's projects (only `project_id` when given), oldest first, each with how many completed generations
    and how many avatars are filed in it."""
    filed = [col(Generation.user_id) == user_id]
    if project_id is not None:
        filed.append(col(Generation.project_id) == project_id)
    completed = (
        select_columns(col(Generation.project_id).label("project_id"), func.count().label("count"))
        .where(*filed, col(Generation.status) == "completed")
        .group_by(col(Generation.project_id))
        .subquery()
    )
    avatars = (
        select_columns(col(Generation.project_id).label("project_id"), func.count(col(Avatar.id)).label("count"))
        .join(Avatar, col(Avatar.generation_id) == col(Generation.id))
        .where(*filed)
        .group_by(col(Generation.project_id))
        .subquery()
    )
    query = (
        select(Project, func.coalesce(completed.c.count, 0), func.coalesce(avatars.c.count, 0))
        .outerjoin(completed, completed.c.project_id == col(Project.id))
        .outerjoin(avatars, avatars.c.project_id == col(Project.id))
        .where(col(Project.user_id) == user_id)
        .order_by(col(Project.id))
    )
    if project_id is not None:
        query = query.where(col(Project.id) == project_id)
    return [(project, generations, count) for project, generations, count in session.exec(query).all()]


def find_project(session: Session, project_id: int, *, user_id: int) -> Project | None:
    """The user's project with that id; None when there is none of theirs."""
    return session.exec(select(Project).where(Project.id == project_id, Project.user_id == user_id)).first()


def add_project(session: Session, *, user_id: int, name: str) -> Project | None:
    """A new project of the user called `name`; None when they have one so named, a concurrent one included (the
    unique `uq_project_user_name` decides)."""
    try:
        with session.begin_nested():
            project = Project(user_id=user_id, name=name)
            session.add(project)
            session.flush()
    except IntegrityError:
        return None
    return project


def rename_project(session: Session, project: Project, *, name: str) -> bool:
    """Call the project `name`; False, changing nothing, when its user has another project so named."""
    try:
        with session.begin_nested():
            project.name = name
            session.add(project)
            session.flush()
    except IntegrityError:
        return False
    return True


def delete_project(session: Session, project_id: int) -> bool:
    """Delete the project (no generation may point at it); False when it was gone already."""
    return session.exec(delete(Project).where(col(Project.id) == project_id)).rowcount > 0


def delete_projects(session: Session, *, user_id: int) -> int:
    """Delete every project of the user (no generation may point at them); returns how many."""
    return session.exec(delete(Project).where(col(Project.user_id) == user_id)).rowcount
