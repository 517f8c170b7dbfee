"""Operators' credit adjustments and the credit history, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from photomaker.core.errors import RefusedError
from photomaker.store import CreditTransaction, Database, ledger, users
from tests.helpers import processing_generation

pytestmark = pytest.mark.both_databases  # the store's own behaviour: on SQLite and PostgreSQL


def _user(database: Database, name: str = "ada", credits: int = 100) -> int:
    with database.session() as session:
        return users.get_or_create_user(session, name, starting_credits=credits).id


def _adjust(database: Database, user_id: int, amount: int, reason: str = "support ticket 12", by: str = "ops") -> int:
    with database.session() as session:
        return ledger.adjust(session, user_id=user_id, amount=amount, reason=reason, by=by)


def _balance(database: Database, user_id: int) -> int:
    with database.session() as session:
        return ledger.balance(session, user_id)


def _lines(database: Database) -> list[tuple[str, int, int, str]]:
    with database.session() as session:
        rows = session.exec(select(CreditTransaction).order_by(CreditTransaction.id)).all()
        return [(row.kind, row.delta, row.balance_after, row.note) for row in rows]


def test_grant_then_take_back_exactly_to_zero(database: Database) -> None:
    user_id = _user(database)
    assert _adjust(database, user_id, 40, reason="beta tester") == 140
    assert _adjust(database, user_id, -140, reason="closing the account") == 0
    assert _balance(database, user_id) == 0
    assert _lines(database) == [
        ("grant", 100, 100, "starting credits"),
        ("grant", 40, 140, "beta tester (by ops)"),
        ("revoke", -140, 0, "closing the account (by ops)"),
    ]


def test_taking_back_one_more_than_the_balance_changes_nothing(database: Database) -> None:
    user_id = _user(database, credits=30)
    with pytest.raises(RefusedError) as caught:
        _adjust(database, user_id, -31)
    assert caught.value.code == "INVALID_PARAMS"
    assert caught.value.message == (
        "Cannot take back 31 credits: the balance is 30, and it never goes below zero; take back at most 30."
    )
    assert _balance(database, user_id) == 30
    assert _lines(database) == [("grant", 30, 30, "starting credits")]


def test_an_unknown_user_id_is_a_lookup_error(database: Database) -> None:
    _user(database)
    with pytest.raises(LookupError, match=r"^no user with id 999$"):
        _adjust(database, 999, 5)
    with pytest.raises(LookupError, match=r"^no user with id 999$"):
        _adjust(database, 999, -5)
    assert len(_lines(database)) == 1


def test_the_note_fits_its_column_and_keeps_who_did_it(database: Database) -> None:
    user_id = _user(database)
    _adjust(database, user_id, 5, reason="x" * 500, by="o" * 300)
    note = _lines(database)[-1][3]
    assert len(note) == ledger.MAX_NOTE
    assert note.endswith(f" (by {'o' * ledger.MAX_BY})") and note.startswith("xxx")


def test_history_is_newest_first_with_the_generation_of_each_line(database: Database) -> None:
    user_id = _user(database)
    other = _user(database, "bea", credits=7)
    generation_id = processing_generation(database, user_id)
    with database.session() as session:
        ledger.charge(session, user_id=user_id, generation_id=generation_id, amount=25)
    with database.session() as session:
        ledger.refund(session, generation_id=generation_id)
    _adjust(database, user_id, -10, reason="duplicate top-up")
    with database.session() as session:
        lines = ledger.history(session, user_id=user_id)
        newest = ledger.history(session, user_id=user_id, limit=2)
        theirs = ledger.history(session, user_id=other)
    assert [(line.kind, line.delta, line.balance_after, line.generation_id) for line in lines] == [
        ("revoke", -10, 90, None),
        ("refund", 25, 100, generation_id),
        ("charge", -25, 75, generation_id),
        ("grant", 100, 100, None),
    ]
    assert [line.created_at for line in lines] == sorted((line.created_at for line in lines), reverse=True)
    assert lines[0].note == "duplicate top-up (by ops)"
    assert [line.id for line in newest] == [line.id for line in lines[:2]]
    assert [(line.kind, line.delta) for line in theirs] == [("grant", 7)]


def test_the_largest_adjustment_either_way_is_allowed(database: Database) -> None:
    user_id = _user(database, credits=0)
    assert _adjust(database, user_id, ledger.MAX_ADJUSTMENT) == ledger.MAX_ADJUSTMENT
    assert _adjust(database, user_id, -ledger.MAX_ADJUSTMENT) == 0


@pytest.mark.parametrize(("amount", "kind"), [(1, "grant"), (-1, "revoke")])
def test_the_smallest_adjustment_is_a_grant_or_a_take_back(database: Database, amount: int, kind: str) -> None:
    user_id = _user(database)
    assert _adjust(database, user_id, amount) == 100 + amount
    assert _lines(database)[-1][:3] == (kind, amount, 100 + amount)


@pytest.mark.parametrize(
    ("amount", "reason", "message"),
    [
        (0, "nothing", "An adjustment of 0 credits changes nothing; give a positive or negative amount."),
        (5, " ", "Say why the balance changes: give a reason."),
        *(
            (amount, "typo", f"One adjustment moves at most {ledger.MAX_ADJUSTMENT:,} credits; you gave {amount:,}.")
            for amount in (ledger.MAX_ADJUSTMENT + 1, -ledger.MAX_ADJUSTMENT - 1)
        ),
    ],
)
def test_each_refused_adjustment_says_what_to_do_and_changes_nothing(
    database: Database, amount: int, reason: str, message: str
) -> None:
    user_id = _user(database)
    with pytest.raises(RefusedError) as caught:
        _adjust(database, user_id, amount, reason=reason)
    assert (caught.value.code, caught.value.message) == ("INVALID_PARAMS", message)
    assert _balance(database, user_id) == 100
    assert len(_lines(database)) == 1


def test_history_orders_by_time_and_then_by_line(database: Database) -> None:
    user_id = _user(database)
    for amount in (1, 2, 3):
        _adjust(database, user_id, amount)
    with database.session() as session:
        lines = session.exec(select(CreditTransaction).order_by(CreditTransaction.id)).all()
        start, one, two, three = lines
        one.created_at = three.created_at = start.created_at + timedelta(hours=2)
        two.created_at = start.created_at + timedelta(hours=1)
        session.add_all([one, two, three])
    with database.session() as session:
        found = [line.delta for line in ledger.history(session, user_id=user_id)]
    assert found == [3, 1, 2, 100], "newest first; lines of the same moment by id, newest first"
