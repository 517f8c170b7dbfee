"""Users: found by name, or made on first use with their starting credits."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from photomaker.store import ledger
from photomaker.store.models import User, row_id


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
