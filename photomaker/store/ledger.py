"""The credits ledger: the only code that changes a balance.

Every change is an atomic `UPDATE ... RETURNING` on the user's row plus a ledger line in the
same transaction, so concurrent generations can neither overdraw nor lose an update, and the
unique (generation, kind) constraint makes a second refund of the same generation impossible.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import update
from sqlmodel import Session, col, select

from photomaker.core.errors import RefusedError
from photomaker.store.models import CreditKind, CreditTransaction, User, utcnow

MAX_NOTE = 200
"""The length of `CreditTransaction.note`."""
MAX_BY = 100
"""The longest operator name kept in a note (a username is at most 100 characters)."""
MAX_ADJUSTMENT = 1_000_000
"""The most one operator's adjustment may move, well inside the integer column."""


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
    credits = col(User.credits)
    statement = update(User).where(col(User.id) == user_id).values(credits=credits + delta, updated_at=utcnow())
    if delta < 0:
        statement = statement.where(credits >= -delta)
    balance = session.execute(statement.returning(credits)).scalar_one_or_none()
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


def _short(amount: int, have: int) -> str:
    return f"This costs {amount} credits and you have {have}; choose fewer images or a lower tier."


def charge(
    session: Session, *, user_id: int, generation_id: int, amount: int, short: Callable[[int], str] | None = None
) -> int:
    """Take `amount` credits for a generation; INSUFFICIENT_CREDITS if the balance is short, in the words `short`
    gives for the balance (by default, what it costs and what the user has)."""
    if amount <= 0:
        raise ValueError("a charge must be positive")
    new_balance = _apply(session, user_id=user_id, delta=-amount, kind="charge", generation_id=generation_id)
    if new_balance is None:
        have = balance(session, user_id)
        raise RefusedError("INSUFFICIENT_CREDITS", short(have) if short else _short(amount, have))
    return new_balance


def refund(session: Session, *, generation_id: int, amount: int | None = None, note: str = "") -> int:
    """Give back what a generation was charged, or `amount` of it (the images it did not keep), once; returns the
    amount refunded."""
    rows = session.exec(select(CreditTransaction).where(CreditTransaction.generation_id == generation_id)).all()
    charged = next((row for row in rows if row.kind == "charge"), None)
    if charged is None or any(row.kind == "refund" for row in rows):
        return 0
    back = -charged.delta if amount is None else min(amount, -charged.delta)
    if back <= 0:
        return 0
    _apply(
        session,
        user_id=charged.user_id,
        delta=back,
        kind="refund",
        generation_id=generation_id,
        note=note[:MAX_NOTE],
    )
    return back


def adjustment_note(reason: str, *, by: str) -> str:
    """`reason (by who)` within the note column: the reason is cut, never who did it."""
    suffix = f" (by {by[:MAX_BY]})"
    return reason[: MAX_NOTE - len(suffix)] + suffix


def adjust(session: Session, *, user_id: int, amount: int, reason: str, by: str) -> int:
    """An operator's change of a balance: positive grants, negative takes back; returns the new balance.

    A take-back never leaves a balance below zero: the same guarded `UPDATE` as a charge refuses
    it, so nothing is written. The reason and the operator go into the ledger line's note.
    """
    if amount == 0:
        raise RefusedError(
            "INVALID_PARAMS", "An adjustment of 0 credits changes nothing; give a positive or negative amount."
        )
    if abs(amount) > MAX_ADJUSTMENT:
        raise RefusedError(
            "INVALID_PARAMS", f"One adjustment moves at most {MAX_ADJUSTMENT:,} credits; you gave {amount:,}."
        )
    if not reason.strip():
        raise RefusedError("INVALID_PARAMS", "Say why the balance changes: give a reason.")
    kind: CreditKind = "grant" if amount > 0 else "revoke"
    new_balance = _apply(session, user_id=user_id, delta=amount, kind=kind, note=adjustment_note(reason, by=by))
    if new_balance is not None:
        return new_balance
    have = session.exec(select(User.credits).where(User.id == user_id)).first()
    if have is None:
        raise LookupError(f"no user with id {user_id}")
    raise RefusedError(
        "INVALID_PARAMS",
        f"Cannot take back {-amount} credits: the balance is {have}, and it never goes below zero; "
        f"take back at most {have}.",
    )


def history(session: Session, *, user_id: int, limit: int | None = None) -> list[CreditTransaction]:
    """The user's ledger lines, newest first (all of them when `limit` is None)."""
    statement = (
        select(CreditTransaction)
        .where(CreditTransaction.user_id == user_id)
        .order_by(col(CreditTransaction.created_at).desc(), col(CreditTransaction.id).desc())
    )
    if limit is not None:
        statement = statement.limit(limit)
    return list(session.exec(statement).all())
