"""Owners and leases: which processes count as gone, and renewal while a generation is held."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import replace

import pytest

from photomaker.generation.work_leases import Leases, Owner, Repeating
from photomaker.store import Database, generation_queries, generations, users
from tests.helpers import held

pytestmark = pytest.mark.both_databases  # the store's own behaviour: on SQLite and PostgreSQL


def _ended_pid() -> int:
    finished = subprocess.Popen([sys.executable, "-c", "pass"])
    finished.wait()
    return finished.pid


def test_an_owner_reads_back_from_its_text() -> None:
    me = Owner.of_this_process()
    assert Owner.parse(str(me)) == me
    assert me.pid == os.getpid() and Owner.of_this_process() == me, "one owner per process"
    for text in (None, "", "no-slashes", "host/not-a-pid/token"):
        assert Owner.parse(text) is None


def test_which_owners_have_ended() -> None:
    me = Owner.of_this_process()
    assert not me.has_ended(str(me))
    assert me.has_ended(str(replace(me, pid=_ended_pid()))), "a process of this machine that is gone"
    assert not me.has_ended(str(replace(me, pid=os.getppid()))), "a process that runs"
    assert me.has_ended(str(replace(me, token="restarted")))
    assert not me.has_ended(str(replace(me, machine="another-host-0123456789ab", pid=_ended_pid()))), (
        "another machine's processes cannot be seen: only its lease tells"
    )
    assert not me.has_ended(None) and not me.has_ended("garbage")


def test_a_killed_process_not_yet_reaped_has_ended() -> None:
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        me = Owner.of_this_process()
        assert not me.has_ended(str(replace(me, pid=sleeper.pid)))
        os.kill(sleeper.pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while not me.has_ended(str(replace(me, pid=sleeper.pid))):
            assert time.monotonic() < deadline, "a zombie still looked alive"
            time.sleep(0.02)
    finally:
        sleeper.kill()
        sleeper.wait()


def _processing_row(database: Database) -> int:
    with database.session() as session:
        user = users.get_or_create_user(session, "grace", starting_credits=100)
        draft = generations.Draft(user_id=user.id, model_key="avatar-creator:photomaker-pro", mode="photo", engine="x")
        return generations.start(session, draft, cost=25, rate_limit_per_min=10, **held(minutes=0.01)).id


def _lease(database: Database, generation_id: int) -> float:
    with database.session() as session:
        return generation_queries.get(session, generation_id).lease_until.timestamp()


def test_a_held_row_is_renewed_in_the_background_and_no_longer_once_let_go(database: Database) -> None:
    leases = Leases(database, lease_s=0.3)
    generation_id = _processing_row(database)
    first = _lease(database, generation_id)
    with leases.holding(generation_id):
        deadline = time.monotonic() + 10
        while _lease(database, generation_id) <= first:
            assert time.monotonic() < deadline, "the lease was never renewed"
            time.sleep(0.05)
        assert leases.renew() == 1
    renewed = _lease(database, generation_id)
    time.sleep(0.35)
    assert _lease(database, generation_id) == renewed, "nothing renews a row that is no longer held"
    assert leases.renew() == 0


def test_a_repeating_chore_survives_its_errors_and_stops() -> None:
    calls: list[int] = []

    def chore() -> None:
        calls.append(1)
        raise RuntimeError("a bad moment")

    repeating = Repeating(chore, interval_s=0.01, name="test-chore").start()
    deadline = time.monotonic() + 10
    while len(calls) < 3:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    repeating.stop()
    time.sleep(0.05)
    settled = len(calls)
    time.sleep(0.05)
    assert len(calls) == settled
