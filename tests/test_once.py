"""OnceCache: a result per key, computed once even when asked for at the same time; Shared: the same, kept
only while it is being computed."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest

from photomaker.core.single_flight import OnceCache, Shared


class Counting:
    """A computation that counts its runs and can be held until released."""

    def __init__(self, result: str) -> None:
        self.result = result
        self.runs = 0
        self.started = threading.Event()
        self.release = threading.Event()
        self.release.set()

    def __call__(self) -> str:
        self.runs += 1
        self.started.set()
        assert self.release.wait(10)
        return self.result


def test_a_key_is_computed_once_and_then_kept() -> None:
    cache: OnceCache[str, str] = OnceCache(size=4)
    compute = Counting("faces of a")
    assert cache.get("a", compute) == "faces of a"
    assert cache.get("a", compute) == "faces of a"
    assert compute.runs == 1


def test_different_keys_do_not_collide() -> None:
    cache: OnceCache[str, str] = OnceCache(size=4)
    assert cache.get("a", Counting("faces of a")) == "faces of a"
    assert cache.get("b", Counting("faces of b")) == "faces of b"
    assert cache.get("a", Counting("not computed again")) == "faces of a"


def _at_once(get: Callable[[str, Callable[[], str]], str], compute: Counting, *, callers: int) -> list[str]:
    """What `callers` calls of `get("a", compute)` return, all but the first made while the first computes."""
    compute.release.clear()
    with ThreadPoolExecutor(callers) as pool:
        first = pool.submit(get, "a", compute)
        assert compute.started.wait(10)
        others = [pool.submit(get, "a", compute) for _ in range(callers - 1)]
        time.sleep(0.2)  # time for them to reach the cache while the first still computes
        assert not any(other.done() for other in others), "they wait for the first caller's result"
        compute.release.set()
        return [call.result(10) for call in (first, *others)]


def test_callers_of_a_key_being_computed_wait_for_that_result() -> None:
    cache: OnceCache[str, str] = OnceCache(size=4)
    compute = Counting("faces of a")
    assert _at_once(cache.get, compute, callers=4) == ["faces of a"] * 4
    assert compute.runs == 1


def test_the_oldest_key_is_forgotten_beyond_the_size() -> None:
    cache: OnceCache[str, str] = OnceCache(size=2)
    cache.get("a", Counting("a1"))
    cache.get("b", Counting("b1"))
    cache.get("a", Counting("a2"))  # "a" used last: "b" is now the oldest
    cache.get("c", Counting("c1"))
    assert cache.get("a", Counting("a3")) == "a1"
    assert cache.get("b", Counting("b2")) == "b2", "forgotten, so computed again"


def test_an_error_reaches_every_waiting_caller_and_is_not_kept() -> None:
    cache: OnceCache[str, str] = OnceCache(size=4)
    started, release = threading.Event(), threading.Event()

    def failing() -> str:
        started.set()
        assert release.wait(10)
        raise RuntimeError("worker died")

    with ThreadPoolExecutor(2) as pool:
        first = pool.submit(cache.get, "a", failing)
        assert started.wait(10)
        second = pool.submit(cache.get, "a", Counting("never run"))
        release.set()
        for call in (first, second):
            with pytest.raises(RuntimeError, match="worker died"):
                call.result(10)
    assert cache.get("a", Counting("tried again")) == "tried again"


def test_shared_computes_once_for_callers_at_the_same_time_and_keeps_nothing() -> None:
    shared: Shared[str, str] = Shared()
    compute = Counting("owner of a")
    assert _at_once(shared.get, compute, callers=3) == ["owner of a"] * 3
    assert compute.runs == 1
    assert shared.get("a", Counting("asked again")) == "asked again", "done, so computed again"
