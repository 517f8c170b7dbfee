"""Refusals: each recorded as a `rejected` row, and a limit on how many a user or a client address may cause.

A refusal costs the sender nothing, and the app work: a photo decoded and searched for a face (seconds
of CPU), a row written, a refused count on the Monitoring tab. So each user and each client address
may cause `REFUSALS_PER_MIN` (per user) and `REFUSALS_PER_MIN_PER_ADDRESS` refusals a minute; past
either, a request is refused at once (`USER_RATE_LIMITED`, saying when to come back) before anything
of it is read, and is counted per hour in the monitoring (`turned_away`), never with a row of its own.

The counts live in this process's memory: each instance of the app counts its own.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from photomaker.accounts.account import open_account
from photomaker.core.errors import RefusedError
from photomaker.core.plurals import counted
from photomaker.core.settings import Settings
from photomaker.store import Database, generations, row_id, turned_away

log = logging.getLogger(__name__)

WINDOW_S = 60.0
MAX_TRACKED = 100_000
"""Past this many users and addresses, those without a refusal in the window are forgotten."""

Asked = Callable[..., generations.Draft]
"""What a request asked for, as a refusal records it: a Draft waiting for its user's id."""


class RefusalLimit:
    """Counts refusals per user and per address over the last `window_s`, and turns away who had enough."""

    def __init__(
        self,
        *,
        per_user: int,
        per_address: int,
        window_s: float = WINDOW_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limits = {"user": per_user, "address": per_address}
        self.window_s = window_s
        self.clock = clock
        self._refusals: dict[tuple[str, str], deque[float]] = {}
        self._lock = threading.Lock()

    @staticmethod
    def _keys(username: str, address: str | None) -> list[tuple[str, str]]:
        return [("user", username)] + ([("address", address)] if address else [])

    def _recent(self, key: tuple[str, str], now: float) -> deque[float]:
        times = self._refusals.get(key, deque())
        while times and times[0] <= now - self.window_s:
            times.popleft()
        return times

    def check(self, username: str, *, address: str | None) -> None:
        """Raise USER_RATE_LIMITED when this user or this address has had all its refusals for the minute."""
        now = self.clock()
        with self._lock:
            for kind, name in self._keys(username, address):
                times = self._recent((kind, name), now)
                if len(times) >= self.limits[kind]:
                    wait = max(1, math.ceil(times[0] + self.window_s - now))
                    who = "You" if kind == "user" else "Requests from your address"
                    raise RefusedError(
                        "USER_RATE_LIMITED",
                        f"{who} had {counted(len(times), 'request')} refused in the last minute (the limit is "
                        f"{self.limits[kind]}); read what they said, fix it, and try again in "
                        f"{counted(wait, 'second')}.",
                        retry_after=wait,
                    )

    def count(self, username: str, *, address: str | None) -> None:
        """One more refusal for this user and this address."""
        now = self.clock()
        with self._lock:
            if len(self._refusals) >= MAX_TRACKED:
                self._refusals = {key: times for key, times in self._refusals.items() if self._recent(key, now)}
            for key in self._keys(username, address):
                self._refusals.setdefault(key, deque()).append(now)


class Refusals:
    """Records the refusals of generations, and turns away who had too many of them."""

    def __init__(self, *, settings: Settings, database: Database) -> None:
        self.settings = settings
        self.database = database
        self.limit = RefusalLimit(per_user=settings.refusals_per_min, per_address=settings.refusals_per_min_per_address)

    @contextmanager
    def recorded(self, username: str, asked: Asked, *, address: str | None) -> Iterator[None]:
        """Record a refusal raised in the block as a `rejected` row (no credit moves) that counts against the user
        and the address, then re-raise it."""
        try:
            yield
        except RefusedError as error:
            self.limit.count(username, address=address)
            with self.database.session() as session:
                user = open_account(session, username, self.settings)
                generations.reject(session, asked(user_id=row_id(user)), error=error)
            log.info("generation refused for user %s: %s", row_id(user), error.code)
            raise

    def admit(self, username: str, *, address: str | None) -> None:
        """USER_RATE_LIMITED, before anything is read, for a user or address past its refusals for the minute:
        counted per hour, never recorded as a row."""
        try:
            self.limit.check(username, address=address)
        except RefusedError:
            with self.database.session() as session:
                turned_away.count(session)
            raise
