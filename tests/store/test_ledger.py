"""The credits ledger on SQLite and PostgreSQL: charge, refund once, never below zero."""

from __future__ import annotations

import threading

import pytest
from sqlmodel import select

from photomaker.errors import RefusedError
from photomaker.store import CreditTransaction, Database, accounts, ledger
from tests.helpers import processing_generation


def _user(database: Database, credits: int = 100) -> int:
    with database.session() as session:
        return accounts.get_or_create_user(session, "ada", starting_credits=credits).id


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
        ledger.charge(session, user_id=user_id, generation_id=generation_id, amount=25)
    assert caught.value.code == "INSUFFICIENT_CREDITS"
    assert "costs 25 credits and you have 20" in caught.value.message
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
