"""Turns on an engine: at most its limit of generations at once, the others waiting in arrival order.

A waiting generation is told how many are ahead of it each time that changes, so that its progress
shows its place in line (on the local GPU, one runs at a time and the queue can be long). A turn may
take several units of the limit: decodes take the bytes they hold (`photomaker.images.decode_budget`).
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager


class Turns:
    """A fair semaphore that says each waiter's place."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._running = 0
        self._held = 0
        self._waiting: deque[object] = deque()
        self._changed = threading.Condition()

    @property
    def held(self) -> int:
        """Units of the limit the turns running now hold."""
        with self._changed:
            return self._held

    @contextmanager
    def turn(self, on_wait: Callable[[int], None], *, units: int = 1) -> Iterator[None]:
        """Hold a turn of `units` for the block; while waiting, `on_wait(ahead)` is called whenever the count
        ahead changes."""
        if units > self.limit:
            raise ValueError(f"a turn of {units} can never fit a limit of {self.limit}")
        ticket = object()
        with self._changed:
            self._waiting.append(ticket)
            try:
                self._wait_for(ticket, units, on_wait)
            except BaseException:  # a waiter that fails (its progress raised) leaves the line
                self._waiting.remove(ticket)
                self._changed.notify_all()
                raise
            self._waiting.popleft()
            self._running += 1
            self._held += units
            self._changed.notify_all()
        try:
            yield
        finally:
            with self._changed:
                self._running -= 1
                self._held -= units
                self._changed.notify_all()

    def _wait_for(self, ticket: object, units: int, on_wait: Callable[[int], None]) -> None:
        """Until `ticket` is first in line and its `units` are free (the condition's lock held)."""
        told = None
        while self._held + units > self.limit or self._waiting[0] is not ticket:
            ahead = self._running + self._waiting.index(ticket)
            if ahead != told:
                on_wait(ahead)
                told = ahead
            self._changed.wait()
