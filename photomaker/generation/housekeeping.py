"""Tidying that no request does: dead generations refunded, and files that nobody will read deleted.

`tidy` runs when the app starts (and as `python -m photomaker cleanup`); `Housekeeping.start` then
repeats the recovery in the background while the app serves, so that the rows of an instance that
died are refunded by one that lives. Read-only commands do neither.
"""

from __future__ import annotations

import logging
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from photomaker.core.settings import Settings
from photomaker.generation.work_leases import Leases, Repeating
from photomaker.images.avatar_files import AvatarStorage
from photomaker.store import Database, forgetting, generation_queries, idempotency
from photomaker.store.models import utcnow

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Tidied:
    """What one `tidy` did."""

    recovered: int
    """Dead generations failed and refunded (their files deleted)."""
    orphan_files: int
    """Avatar files deleted that no completed avatar row named."""
    expired: int
    """Generations whose avatars were older than the retention period."""
    downloads: int
    """Leftover downloads of the Space engine, and photos of REST requests (a process that died reading them),
    deleted."""
    idempotency_keys: int
    """REST idempotency keys deleted, a day after their first use."""


def recover_dead(leases: Leases, storage: AvatarStorage) -> int:
    """Fail and refund the dead `processing` rows (`Leases.recover`), and delete whatever files they wrote."""
    dead = leases.recover()
    for user_id, generation_id in dead:
        storage.delete_generation(user_id=user_id, generation_id=generation_id)
    if dead:
        log.warning("marked %d interrupted generation(s) as failed and refunded them", len(dead))
    return len(dead)


def remove_orphan_files(database: Database, storage: AvatarStorage) -> int:
    """Delete avatar files that no avatar row names: a crash while saving, a failure whose clean-up did not run.

    The folders of `processing` rows are left alone: after `recover_dead`, those are live and writing.
    """
    folders = storage.generation_folders()
    if not folders:
        return 0
    with database.reading() as session:
        live, kept = generation_queries.files_in_use(session)
    return sum(
        storage.keep_only(folder, kept.get(generation_id, set()))
        for _, generation_id, folder in folders
        if generation_id not in live
    )


def expire_old_avatars(database: Database, storage: AvatarStorage, *, days: int, now: datetime | None = None) -> int:
    """Delete avatars (rows and files) older than `days`; returns how many generations lost theirs."""
    with database.session() as session:
        expired = forgetting.forget_avatars(session, before=(now or utcnow()) - timedelta(days=days))
    for user_id, generation_id in expired:
        storage.delete_generation(user_id=user_id, generation_id=generation_id)
    return len(expired)


def remove_old_files(folder: Path, *, older_than_s: float) -> int:
    """Delete what lies in `folder` untouched for `older_than_s` seconds; returns how many entries went."""
    if not folder.is_dir():
        return 0
    cutoff = time.time() - older_than_s
    removed = 0
    for path in folder.iterdir():
        try:
            if path.lstat().st_mtime >= cutoff:
                continue
        except FileNotFoundError:
            continue
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
        removed += 1
    return removed


def expire_idempotency_keys(database: Database) -> int:
    """Delete the idempotency keys kept longer than a day; returns how many."""
    with database.session() as session:
        return idempotency.expire(session)


class Housekeeping:
    """The app's tidying, at start and in the background."""

    def __init__(self, *, settings: Settings, database: Database, storage: AvatarStorage, leases: Leases) -> None:
        self.settings = settings
        self.database = database
        self.storage = storage
        self.leases = leases
        self._repeating: Repeating | None = None

    def tidy(self, *, retention_days: int | None = None) -> Tidied:
        """Recover dead generations first (so that only live ones keep their folders), then delete orphan
        avatar files, avatars past retention, downloads and REST photos older than any request, and idempotency
        keys older than a day."""
        days = retention_days or self.settings.retention_days
        tidied = Tidied(
            recovered=recover_dead(self.leases, self.storage),
            orphan_files=remove_orphan_files(self.database, self.storage),
            expired=expire_old_avatars(self.database, self.storage, days=days),
            downloads=sum(
                remove_old_files(folder, older_than_s=self.settings.longest_request_s)
                for folder in (self.settings.downloads_dir, self.settings.incoming_dir)
            ),
            idempotency_keys=expire_idempotency_keys(self.database),
        )
        if tidied.orphan_files or tidied.expired:
            log.info(
                "deleted %d orphan avatar file(s) and the avatars of %d generation(s) older than %d days",
                tidied.orphan_files,
                tidied.expired,
                days,
            )
        return tidied

    def start(self, *, chores: Sequence[Callable[[], object]] = ()) -> None:
        """Recover dead generations, expire idempotency keys, and run `chores`, every third of a lease while the app
        serves."""

        def tick() -> None:
            recover_dead(self.leases, self.storage)
            expire_idempotency_keys(self.database)
            for chore in chores:
                chore()

        if self._repeating is None:
            interval = self.settings.generation_lease_s / 3
            self._repeating = Repeating(tick, interval_s=interval, name="housekeeping").start()

    def stop(self) -> None:
        if self._repeating is not None:
            self._repeating.stop()
            self._repeating = None
