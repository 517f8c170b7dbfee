"""Computed once: a small cache of recent results, where concurrent callers of one key share one computation.

A burst of requests with the same input (a user generating again and again from the same photos, a
double submit) would otherwise each compute the same result side by side, on the same cores.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from concurrent.futures import Future
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class OnceCache(Generic[K, V]):
    """The last `size` results by key; a key being computed makes later callers wait for that result.

    A computation that raises is not kept: its waiters get the same error, and the next caller tries again.
    """

    def __init__(self, *, size: int) -> None:
        self.size = size
        self._lock = threading.Lock()
        self._results: OrderedDict[K, Future[V]] = OrderedDict()

    def get(self, key: K, compute: Callable[[], V]) -> V:
        """The result for `key`: kept, being computed by another caller (then waited for), or computed now."""
        with self._lock:
            result = self._results.get(key)
            mine = result is None
            if result is None:
                result = self._results[key] = Future()
                while len(self._results) > self.size:
                    self._results.popitem(last=False)
            else:
                self._results.move_to_end(key)
        if mine:
            try:
                result.set_result(compute())
            except BaseException as error:
                with self._lock:
                    if self._results.get(key) is result:
                        del self._results[key]
                result.set_exception(error)
        return result.result()
