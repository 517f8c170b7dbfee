"""Computed once: concurrent callers of one key share one computation, and a small cache of recent results.

A burst of requests with the same input (a user generating again and again from the same photos, a
double submit, a program's parallel calls with one new token) would otherwise each compute the same
result side by side, on the same cores or the same remote service.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from concurrent.futures import Future
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Shared(Generic[K, V]):
    """A key being computed makes later callers wait for that result; nothing is kept once it is done.

    A computation that raises gives its waiters the same error.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running: dict[K, Future[V]] = {}

    def get(self, key: K, compute: Callable[[], V]) -> V:
        """The result of `compute` for `key`: being computed by another caller (then waited for), or computed now."""
        with self._lock:
            running = self._running.get(key)
            mine = running is None
            if running is None:
                running = self._running[key] = Future()
        if mine:
            try:
                running.set_result(compute())
            except BaseException as error:
                running.set_exception(error)
            finally:
                with self._lock:
                    del self._running[key]
        return running.result()


class OnceCache(Generic[K, V]):
    """The last `size` results by key; a key being computed makes later callers wait for that result.

    A computation that raises is not kept: its waiters get the same error, and the next caller tries again.
    """

    def __init__(self, *, size: int) -> None:
        self.size = size
        self._lock = threading.Lock()
        self._results: OrderedDict[K, V] = OrderedDict()
        self._shared: Shared[K, V] = Shared()

    def get(self, key: K, compute: Callable[[], V]) -> V:
        """The result for `key`: kept, being computed by another caller (then waited for), or computed now."""
        with self._lock:
            if key in self._results:
                self._results.move_to_end(key)
                return self._results[key]
        return self._shared.get(key, lambda: self._keep(key, compute()))

    def _keep(self, key: K, result: V) -> V:
        with self._lock:
            self._results[key] = result
            while len(self._results) > self.size:
                self._results.popitem(last=False)
        return result
