"""The credits ledger: the only code that changes a balance.

Every change is an atomic `UPDATE ... RETURNING` on the user's row plus a ledger line in the
same transaction, so concurrent generations can neither overdraw nor lose an update, and the
unique (generation, kind) constraint makes a second refund of the same generation impossible.
"""

from __future__ import annotations

from sqlalchemy import update
from sqlmodel import Session, select

from photomaker.errors import RefusedError
from photomaker.store.models import CreditKind, CreditTransaction, User, utcnow


def _apply(
    session: Session,
    *,
    user_id: int,
    delta: int,
    kind: CreditKind,
    generation_id: int | None = None,
    note: str = "",
) -> int | None:
    """Move `delta` credits and write the ledger line; None if a debit would go below zero."""
    statement = update(User).where(User.id == user_id).values(credits=User.credits + delta, updated_at=utcnow())
    if delta < 0:
        statement = statement.where(User.credits >= -delta)
    balance = session.execute(statement.returning(User.credits)).scalar_one_or_none()
    if balance is None:
        return None
    session.add(
        CreditTransaction(
            user_id=user_id, generation_id=generation_id, kind=kind, delta=delta, balance_after=balance, note=note
        )
    )
    session.flush()
    return balance


def balance(session: Session, user_id: int) -> int:
    """The user's current balance."""
    return session.exec(select(User.credits).where(User.id == user_id)).one()


def grant(session: Session, *, user_id: int, amount: int, note: str = "") -> int:
    """Add credits (a new account's allowance, an admin's top-up); returns the new balance."""
    if amount <= 0:
        raise ValueError("a grant must be positive")
    new_balance = _apply(session, user_id=user_id, delta=amount, kind="grant", note=note)
    if new_balance is None:
        raise LookupError(f"no user with id {user_id}")
    return new_balance


def charge(session: Session, *, user_id: int, generation_id: int, amount: int) -> int:
    """Take `amount` credits for a generation; INSUFFICIENT_CREDITS if the balance is short."""
    if amount <= 0:
        raise ValueError("a charge must be positive")
    new_balance = _apply(session, user_id=user_id, delta=-amount, kind="charge", generation_id=generation_id)
    if new_balance is None:
        have = balance(session, user_id)
        raise RefusedError(
            "INSUFFICIENT_CREDITS",
            f"This costs {amount} credits and you have {have}; choose fewer images or a lower tier.",
        )
    return new_balance


def refund(session: Session, *, generation_id: int) -> int:
    """Give back exactly what a generation was charged, once; returns the amount refunded."""
    rows = session.exec(select(CreditTransaction).where(CreditTransaction.generation_id == generation_id)).all()
    charged = next((row for row in rows if row.kind == "charge"), None)
    if charged is None or any(row.kind == "refund" for row in rows):
        return 0
    _apply(session, user_id=charged.user_id, delta=-charged.delta, kind="refund", generation_id=generation_id)
    return -charged.delta
