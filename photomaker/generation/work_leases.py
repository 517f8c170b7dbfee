"""Who is making which generation, so that recovery touches only dead work.

Every process has an `Owner` id. A `processing` row carries its owner and a lease, which the owner
renews while it works on the row. A row is dead when its lease has run out, or at once when its
owner is a process on this machine that has ended (a `kill -9` and a restart). Only dead rows are
ever failed and refunded: a CLI command or a second app instance on the same database never
touches a live generation.
"""

from __future__ import annotations

import hashlib
import logging
import os
import secrets
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path

from photomaker.store import Database, generation_recovery
from photomaker.store.models import utcnow

log = logging.getLogger(__name__)

_STARTED = secrets.token_hex(6)
"""This process's token: every runtime in one process is one owner (a fork gets its own process id)."""


def _read(path: str) -> str:
    try:
        return Path(path).read_text().strip()
    except OSError:
        return ""


@cache
def _machine() -> str:
    """This machine as its processes share it: the host name, and the kernel's boot and process namespace.

    Two containers may share a host name and a kernel but never a process namespace, so a process
    id is only compared with processes that can see each other.
    """
    try:
        namespace = str(os.stat("/proc/self/ns/pid").st_ino)
    except OSError:
        namespace = ""
    boot = _read("/proc/sys/kernel/random/boot_id")
    digest = hashlib.sha256(f"{boot}/{namespace}".encode()).hexdigest()[:12]
    return f"{socket.gethostname()[:60]}-{digest}"


@dataclass(frozen=True)
class Owner:
    """A process that makes generations: its machine, its process id, and a token of its own start."""

    machine: str
    pid: int
    token: str

    def __str__(self) -> str:
        return f"{self.machine}/{self.pid}/{self.token}"

    @classmethod
    def of_this_process(cls) -> Owner:
        return cls(machine=_machine(), pid=os.getpid(), token=_STARTED)

    @classmethod
    def parse(cls, text: str | None) -> Owner | None:
        """The owner a row names; None for rows made before owners, or text that names none."""
        parts = (text or "").rsplit("/", 2)
        if len(parts) != 3 or not parts[1].isdigit():
            return None
        machine, pid, token = parts
        return cls(machine=machine, pid=int(pid), token=token)

    def has_ended(self, other: str | None) -> bool:
        """Whether `other` names a process on this machine that is gone (its rows are dead without waiting for
        their lease): an ended process id, or this very id with another token (a restart that got it back)."""
        found = Owner.parse(other)
        if found is None or found.machine != self.machine:
            return False
        if found.pid == self.pid:
            return found.token != self.token
        return not _running(found.pid)


def _running(pid: int) -> bool:
    """Whether process `pid` is alive here (a zombie, killed but not yet reaped, is not)."""
    stat = _read(f"/proc/{pid}/stat")
    if stat:
        return stat.rpartition(")")[2].split()[:1] not in (["Z"], ["X"])
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class Repeating:
    """`action` every `interval_s` seconds on a daemon thread, until `stop()`; an error is logged, not fatal."""

    def __init__(self, action: Callable[[], object], *, interval_s: float, name: str) -> None:
        self._action = action
        self._interval_s = interval_s
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> Repeating:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopped.set()

    def _run(self) -> None:
        while not self._stopped.wait(self._interval_s):
            try:
                self._action()
            except Exception:
                log.exception("%s failed; trying again in %g s", self._thread.name, self._interval_s)


class Leases:
    """This process's leases on the generations it is making, renewed in the background while it holds any."""

    def __init__(self, database: Database, *, lease_s: float, owner: Owner | None = None) -> None:
        self.database = database
        self.lease = timedelta(seconds=lease_s)
        self.owner = owner or Owner.of_this_process()
        self._held: set[int] = set()
        self._lock = threading.Lock()
        self._renewer: Repeating | None = None

    def until(self) -> datetime:
        """When a lease taken or renewed now runs out."""
        return utcnow() + self.lease

    @contextmanager
    def holding(self, generation_id: int) -> Iterator[None]:
        """Keep the row's lease renewed while the block works on it."""
        self.hold(generation_id)
        try:
            yield
        finally:
            self.release(generation_id)

    def hold(self, generation_id: int) -> None:
        """Renew the row's lease from now on, until `release`: for work that starts in one thread and ends in
        another (a job accepted by a request and made in the background)."""
        with self._lock:
            self._held.add(generation_id)
            if self._renewer is None:
                interval = self.lease.total_seconds() / 3
                self._renewer = Repeating(self.renew, interval_s=interval, name="lease-renewal").start()

    def release(self, generation_id: int) -> None:
        """Stop renewing the row's lease (its work is over)."""
        with self._lock:
            self._held.discard(generation_id)
            if not self._held and self._renewer is not None:
                self._renewer.stop()
                self._renewer = None

    def renew(self) -> int:
        """Extend the lease of every row this process holds; returns how many it still holds."""
        with self._lock:
            held = sorted(self._held)
        if not held:
            return 0
        with self.database.session() as session:
            return generation_recovery.renew(session, held, owner=str(self.owner), until=self.until())

    def recover(self) -> list[tuple[int, int]]:
        """Fail and refund every dead `processing` row, whoever made it; returns their (user id, generation id)."""
        with self.database.session() as session:
            return generation_recovery.recover_dead(session, now=utcnow(), ended=self.owner.has_ended)
