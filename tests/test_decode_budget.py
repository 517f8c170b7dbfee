"""DecodeBudget: decodes together never hold more than the budget, wait in the order they came, and always let go."""

from __future__ import annotations

import random
import threading
import time

import pytest

from photomaker.images import decode_budget
from photomaker.images.decode_budget import DecodeBudget


class Ledger:
    """What the decodes inside a budget hold together, and the most bytes and decodes it ever had at once."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.now = self.most = 0
        self.inside = self.most_inside = 0
        self.entered: list[str] = []

    def enter(self, name: str, size: int) -> None:
        with self._lock:
            self.now += size
            self.inside += 1
            self.most, self.most_inside = max(self.most, self.now), max(self.most_inside, self.inside)
            self.entered.append(name)

    def leave(self, size: int) -> None:
        with self._lock:
            self.now -= size
            self.inside -= 1


def _waiting(budget: DecodeBudget, count: int) -> None:
    """Until `count` decodes wait in `budget`'s line (its private line, read only to know when to go on)."""
    deadline = time.monotonic() + 5
    while len(budget._turns._waiting) < count:
        assert time.monotonic() < deadline, "the decodes never started waiting"
        time.sleep(0.001)


def test_decodes_at_once_never_hold_more_than_the_budget() -> None:
    budget, ledger = DecodeBudget(100), Ledger()
    sizes = [random.Random(seed).randint(1, 100) for seed in range(40)]

    def decode(size: int) -> None:
        with budget.held(size):
            ledger.enter(str(size), size)
            time.sleep(0.002)
            ledger.leave(size)

    threads = [threading.Thread(target=decode, args=(size,)) for size in sizes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert len(ledger.entered) == len(sizes)
    assert ledger.most <= 100
    assert ledger.most_inside > 1  # yet decodes that fit together did run side by side
    assert budget.held_bytes == 0


def test_a_decode_that_does_not_fit_waits_and_the_smaller_ones_behind_it_wait_too() -> None:
    """First come, first served: a large photo is not passed over for ever by small ones that would fit."""
    budget, ledger = DecodeBudget(100), Ledger()
    release_first = threading.Event()

    def decode(name: str, size: int, until: threading.Event | None = None) -> None:
        with budget.held(size):
            ledger.enter(name, size)
            if until is not None:
                until.wait(5)

    first = threading.Thread(target=decode, args=("first", 60, release_first))
    first.start()
    while ledger.entered != ["first"]:
        time.sleep(0.001)
    large = threading.Thread(target=decode, args=("large", 80))
    large.start()
    _waiting(budget, 1)
    small = threading.Thread(target=decode, args=("small", 10))
    small.start()
    _waiting(budget, 2)
    assert ledger.entered == ["first"]  # 60 + 10 would fit, but the small one came after the large one
    release_first.set()
    for thread in (first, large, small):
        thread.join(timeout=5)
    assert ledger.entered == ["first", "large", "small"]


def test_the_bytes_are_let_go_when_the_decode_fails() -> None:
    budget = DecodeBudget(100)
    with pytest.raises(OSError), budget.held(70):
        raise OSError("truncated")
    assert budget.held_bytes == 0
    with budget.held(100):
        assert budget.held_bytes == 100


def test_a_decode_larger_than_the_whole_budget_is_not_waited_for() -> None:
    with pytest.raises(ValueError, match="a turn of 101 can never fit a limit of 100"):
        DecodeBudget(100).held(101).__enter__()


def test_freed_memory_is_given_back_when_a_large_decode_ends(monkeypatch: pytest.MonkeyPatch) -> None:
    given_back: list[int] = []
    monkeypatch.setattr(decode_budget, "give_back_freed_memory", lambda: given_back.append(1))
    budget = DecodeBudget(decode_budget.GIVE_BACK_FROM)
    with budget.held(decode_budget.GIVE_BACK_FROM - 1):
        pass
    assert given_back == []
    with budget.held(decode_budget.GIVE_BACK_FROM):
        assert given_back == []
    assert given_back == [1]


def test_the_memory_calls_are_safe_to_make_on_this_system() -> None:
    """glibc here (CI's Linux); elsewhere they do nothing, which is what `_glibc` returning None means."""
    decode_budget.give_back_freed_memory()
    decode_budget.share_heaps()
