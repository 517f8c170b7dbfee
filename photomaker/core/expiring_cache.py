"""Answers remembered for a while: a bounded, thread-safe map whose entries expire.

For answers that go stale (who owns a token, whether the Hub refused it): kept `ttl_s` seconds,
and no more than `size` of them, the oldest forgotten first, so a flood of new keys costs a fixed
amount of memory.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class ExpiringCache(Generic[K, V]):
    """At most `size` values, each for `ttl_s` seconds after it was put."""

    def __init__(self, *, ttl_s: float, size: int) -> None:
        self.ttl_s = ttl_s
        self.size = size
        self._lock = threading.Lock()
        self._entries: OrderedDict[K, tuple[V, float]] = OrderedDict()

    def get(self, key: K) -> V | None:
        """The value put for `key`, or None once it has expired or been forgotten."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if entry[1] <= time.monotonic():
                del self._entries[key]
                return None
            return entry[0]

    def put(self, key: K, value: V) -> None:
        """Remember `value` for `ttl_s` seconds (nothing at all when `ttl_s` is 0)."""
        if self.ttl_s <= 0:
            return
        with self._lock:
            self._entries.pop(key, None)
            self._entries[key] = (value, time.monotonic() + self.ttl_s)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)
