"""Turns on an engine: at most its limit at once, the rest in arrival order, each told its place."""

from __future__ import annotations

import threading

from photomaker.core.fair_queue import Turns


def test_waiters_go_in_arrival_order_and_are_told_how_many_are_ahead() -> None:
    turns = Turns(1)
    holding, release = threading.Event(), threading.Event()
    order: list[str] = []
    told: dict[str, list[int]] = {"b": [], "c": []}
    queued = {"b": threading.Event(), "c": threading.Event()}
    c_moved_up = threading.Event()

    def hold() -> None:
        with turns.turn(lambda ahead: None):
            holding.set()
            release.wait(10)
            order.append("a")

    def wait(name: str) -> None:
        def on_wait(ahead: int) -> None:
            told[name].append(ahead)
            queued[name].set()
            if name == "c" and ahead == 1:
                c_moved_up.set()

        with turns.turn(on_wait):
            order.append(name)
            if name == "b":  # keep the turn until c has heard that it moved up
                c_moved_up.wait(10)

    threads = [threading.Thread(target=hold)]
    threads[0].start()
    assert holding.wait(10)
    for name in ("b", "c"):
        threads.append(threading.Thread(target=wait, args=(name,)))
        threads[-1].start()
        assert queued[name].wait(10)
    release.set()
    for thread in threads:
        thread.join(10)

    assert order == ["a", "b", "c"]
    assert told == {"b": [1], "c": [2, 1]}


def test_within_the_limit_nobody_waits() -> None:
    turns = Turns(2)
    told: list[int] = []

    with turns.turn(told.append), turns.turn(told.append):
        pass

    assert told == []


def test_a_waiter_whose_progress_fails_leaves_the_line_and_the_next_gets_its_turn() -> None:
    turns = Turns(1)
    got_turn = threading.Event()

    def failing(ahead: int) -> None:
        raise RuntimeError("the client went away")

    with turns.turn(lambda ahead: None):
        try:
            with turns.turn(failing):
                raise AssertionError("a full engine gave a turn")
        except RuntimeError:
            pass

    def take_turn() -> None:
        with turns.turn(lambda ahead: None):
            got_turn.set()

    thread = threading.Thread(target=take_turn)
    thread.start()
    thread.join(10)
    assert got_turn.is_set(), "the failed waiter's ticket no longer blocks the line"
