"""The credits ledger on SQLite and PostgreSQL: charge, refund once, never below zero."""

from __future__ import annotations

import threading

import pytest
from sqlmodel import select

from photomaker.core.errors import RefusedError
from photomaker.store import CreditTransaction, Database, User, ledger, users
from tests.helpers import processing_generation

pytestmark = pytest.mark.both_databases  # the store's own behaviour: on SQLite and PostgreSQL


def _user(database: Database, credits: int = 100) -> int:
    with database.session() as session:
        return users.get_or_create_user(session, "ada", starting_credits=credits).id


def _lines(database: Database) -> list[tuple[str, int, int]]:
    with database.session() as session:
        rows = session.exec(select(CreditTransaction).order_by(CreditTransaction.id)).all()
        return [(row.kind, row.delta, row.balance_after) for row in rows]


def test_new_user_gets_starting_credits_through_the_ledger(database: Database) -> None:
    user_id = _user(database, 250)
    with database.session() as session:
        assert ledger.balance(session, user_id) == 250
    assert _lines(database) == [("grant", 250, 250)]


def test_get_or_create_is_idempotent(database: Database) -> None:
    first = _user(database)
    assert _user(database) == first
    assert len(_lines(database)) == 1


def test_charge_and_refund_once(database: Database) -> None:
    user_id = _user(database)
    generation_id = processing_generation(database, user_id)
    with database.session() as session:
        assert ledger.charge(session, user_id=user_id, generation_id=generation_id, amount=30) == 70
    with database.session() as session:
        assert ledger.refund(session, generation_id=generation_id) == 30
    with database.session() as session:
        assert ledger.refund(session, generation_id=generation_id) == 0
        assert ledger.balance(session, user_id) == 100
    assert _lines(database) == [("grant", 100, 100), ("charge", -30, 70), ("refund", 30, 100)]


def test_refund_without_a_charge_gives_nothing(database: Database) -> None:
    user_id = _user(database)
    generation_id = processing_generation(database, user_id)
    with database.session() as session:
        assert ledger.refund(session, generation_id=generation_id) == 0
        assert ledger.balance(session, user_id) == 100


def test_insufficient_credits_changes_nothing(database: Database) -> None:
    user_id = _user(database, 20)
    generation_id = processing_generation(database, user_id)
    with pytest.raises(RefusedError) as caught, database.session() as session:
        ledger.charge(session, user_id=user_id, generation_id=generation_id, amount=21)
    assert caught.value.code == "INSUFFICIENT_CREDITS"
    assert caught.value.message == "This costs 21 credits and you have 20; choose fewer images or a lower tier."
    with database.session() as session:
        assert ledger.balance(session, user_id) == 20
    assert _lines(database) == [("grant", 20, 20)]


def test_a_second_charge_for_one_generation_is_impossible(database: Database) -> None:
    user_id = _user(database)
    generation_id = processing_generation(database, user_id)
    with database.session() as session:
        ledger.charge(session, user_id=user_id, generation_id=generation_id, amount=10)
    with pytest.raises(Exception, match=r"(?i)unique|duplicate"), database.session() as session:
        ledger.charge(session, user_id=user_id, generation_id=generation_id, amount=10)
    with database.session() as session:
        assert ledger.balance(session, user_id) == 90


def test_concurrent_charges_never_overdraw(database: Database) -> None:
    user_id = _user(database, 100)
    generation_ids = [processing_generation(database, user_id) for _ in range(8)]
    outcomes: list[str] = []

    def spend(generation_id: int) -> None:
        try:
            with database.session() as session:
                ledger.charge(session, user_id=user_id, generation_id=generation_id, amount=30)
            outcomes.append("charged")
        except RefusedError:
            outcomes.append("refused")

    threads = [threading.Thread(target=spend, args=(gid,)) for gid in generation_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count("charged") == 3
    with database.session() as session:
        assert ledger.balance(session, user_id) == 10
    assert sum(delta for _, delta, _ in _lines(database)) == 10


def test_spending_down_to_exactly_zero_is_allowed_and_one_more_is_not(database: Database) -> None:
    user_id = _user(database, 30)
    first, second = processing_generation(database, user_id), processing_generation(database, user_id)
    with database.session() as session:
        assert ledger.charge(session, user_id=user_id, generation_id=first, amount=30) == 0
    with pytest.raises(RefusedError) as caught, database.session() as session:
        ledger.charge(session, user_id=user_id, generation_id=second, amount=1)
    assert caught.value.message == "This costs 1 credits and you have 0; choose fewer images or a lower tier."
    assert _lines(database) == [("grant", 30, 30), ("charge", -30, 0)]


@pytest.mark.parametrize("amount", [0, -1])
def test_zero_or_negative_amounts_are_programming_errors(database: Database, amount: int) -> None:
    user_id = _user(database)
    generation_id = processing_generation(database, user_id)
    with pytest.raises(ValueError, match=r"^a grant must be positive$"), database.session() as session:
        ledger.grant(session, user_id=user_id, amount=amount)
    with pytest.raises(ValueError, match=r"^a charge must be positive$"), database.session() as session:
        ledger.charge(session, user_id=user_id, generation_id=generation_id, amount=amount)
    assert _lines(database) == [("grant", 100, 100)]


def test_the_smallest_grant_and_charge_move_one_credit(database: Database) -> None:
    user_id = _user(database)
    generation_id = processing_generation(database, user_id)
    with database.session() as session:
        assert ledger.grant(session, user_id=user_id, amount=1) == 101
        assert ledger.charge(session, user_id=user_id, generation_id=generation_id, amount=1) == 100
        notes = session.exec(select(CreditTransaction.note).order_by(CreditTransaction.id)).all()
    assert _lines(database)[1:] == [("grant", 1, 101), ("charge", -1, 100)]
    assert notes[1:] == ["", ""], "a grant without a note writes none"


def test_a_grant_to_no_one_is_a_lookup_error_naming_the_id(database: Database) -> None:
    with pytest.raises(LookupError, match=r"^no user with id 404$"), database.session() as session:
        ledger.grant(session, user_id=404, amount=5)
    assert _lines(database) == []


def test_every_change_of_a_balance_marks_the_user_updated(database: Database) -> None:
    user_id = _user(database)
    generation_id = processing_generation(database, user_id)
    with database.session() as session:
        before = session.get(User, user_id).updated_at
    with database.session() as session:
        ledger.charge(session, user_id=user_id, generation_id=generation_id, amount=5)
    with database.session() as session:
        assert session.get(User, user_id).updated_at > before
