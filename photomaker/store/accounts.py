"""Users and their projects."""

from __future__ import annotations

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from photomaker.store import ledger
from photomaker.store.models import Project, User, row_id

DEFAULT_PROJECT = "My avatars"
MAX_PROJECT_NAME = 100


def get_or_create_user(session: Session, username: str, *, starting_credits: int, is_admin: bool = False) -> User:
    """The user called `username`; a new one gets `starting_credits` through the ledger.

    Two first requests of the same new user may race; the unique username decides and the
    loser reads the winner's row.
    """
    user = session.exec(select(User).where(User.username == username)).first()
    if user is not None:
        if user.is_admin != is_admin:
            user.is_admin = is_admin
            session.add(user)
            session.flush()
        return user
    try:
        with session.begin_nested():
            user = User(username=username, credits=0, is_admin=is_admin)
            session.add(user)
            session.flush()
            if starting_credits > 0:
                ledger.grant(session, user_id=row_id(user), amount=starting_credits, note="starting credits")
    except IntegrityError:
        return session.exec(select(User).where(User.username == username)).one()
    session.refresh(user)
    return user


def find_user(session: Session, username: str) -> User | None:
    """The user called `username`, or None: for what must not create an account."""
    return session.exec(select(User).where(User.username == username)).first()


def get_or_create_project(session: Session, *, user_id: int, name: str = DEFAULT_PROJECT) -> Project:
    """The user's project called `name` (trimmed), created on first use."""
    name = " ".join(name.split())[:MAX_PROJECT_NAME] or DEFAULT_PROJECT
    project = session.exec(select(Project).where(Project.user_id == user_id, Project.name == name)).first()
    if project is not None:
        return project
    try:
        with session.begin_nested():
            project = Project(user_id=user_id, name=name)
            session.add(project)
            session.flush()
    except IntegrityError:
        return session.exec(select(Project).where(Project.user_id == user_id, Project.name == name)).one()
    return project


def list_projects(session: Session, *, user_id: int) -> list[str]:
    """The names of the user's projects, oldest first."""
    return list(session.exec(select(Project.name).where(Project.user_id == user_id).order_by(col(Project.id))).all())


def delete_projects(session: Session, *, user_id: int) -> int:
    """Delete every project of the user (no generation may point at them); returns how many."""
    return session.exec(delete(Project).where(col(Project.user_id) == user_id)).rowcount
