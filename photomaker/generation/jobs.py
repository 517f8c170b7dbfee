"""Generations as jobs: checked and charged while the caller waits, made in the background.

A real PhotoMaker generation takes a minute or more, longer than many HTTP clients wait, so the REST
API answers as soon as a request is accepted (`GenerationService.accept`: every refusal has happened,
the credits are charged) and the client polls the generation. The rest (`finish`) runs here on a pool
as wide as the engines' limits; what it refunds on failure is the service's business, as everywhere.

A job's progress is known only to the process making it, while it runs; its outcome is in the
database for any process to read.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from photomaker.core.errors import PhotoMakerError
from photomaker.generation.service import WAITING_FOR_TURN, Accepted, GenerationService
from photomaker.images.uploaded_photos import PhotoUpload

log = logging.getLogger(__name__)

POLL_S = 0.1
"""How often `wait` looks whether a job is over."""


@dataclass(frozen=True)
class Progress:
    """How far a running job has got: a fraction from 0 to 1, and what it is doing."""

    fraction: float
    message: str


class _Running:
    """A job this process is making: its latest progress."""

    def __init__(self) -> None:
        self.progress = Progress(0.2, WAITING_FOR_TURN)

    def report(self, fraction: float, message: str) -> None:
        self.progress = Progress(round(min(max(fraction, 0.0), 1.0), 3), message)


class Jobs:
    """Accepts generations and makes them in the background; says how far each has got."""

    def __init__(self, service: GenerationService, *, workers: int) -> None:
        self.service = service
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="generation-job")
        self._running: dict[int, _Running] = {}
        self._lock = threading.Lock()

    def start_avatar(
        self,
        username: str,
        uploads: Sequence[PhotoUpload],
        values: Mapping[str, Any],
        *,
        address: str | None = None,
    ) -> int:
        """Check and charge a Photo to Avatar request, then make it in the background; returns its generation id.

        Raises RefusedError (recorded, nothing charged) like `GenerationService.generate_avatar`. The photos
        are read before this returns: the caller may delete them then.
        """
        prepared = self.service.prepare_avatar(username, values, photo_count=len(uploads), address=address)
        return self._submit(self.service.accept(prepared, uploads))

    def start_text(self, username: str, values: Mapping[str, Any], *, address: str | None = None) -> int:
        """Check and charge a Text to Image request, then make it in the background; returns its generation id."""
        return self._submit(self.service.accept(self.service.prepare_text(username, values, address=address)))

    def _submit(self, accepted: Accepted) -> int:
        running = _Running()
        with self._lock:
            self._running[accepted.generation_id] = running
        try:
            future = self._pool.submit(self._make, accepted, running)
        except RuntimeError:  # the pool is shut down: the app is stopping
            self._end(accepted, running, PhotoMakerError("INTERRUPTED"))
            raise PhotoMakerError("INTERRUPTED") from None
        future.add_done_callback(lambda done: self._cancelled(done, accepted, running))
        return accepted.generation_id

    def _make(self, accepted: Accepted, running: _Running) -> None:
        try:
            self.service.finish(accepted, progress=running.report)
        except PhotoMakerError as error:  # failed and refunded by `finish`; the row says why
            log.info("job %s ended with %s", accepted.generation_id, error.code)
        finally:
            self._forget(accepted.generation_id)

    def _cancelled(self, future: Future[None], accepted: Accepted, running: _Running) -> None:
        """A job cancelled before it began (the app stopping) is failed and refunded."""
        if future.cancelled():
            self._end(accepted, running, PhotoMakerError("INTERRUPTED"))

    def _end(self, accepted: Accepted, running: _Running, error: PhotoMakerError) -> None:
        try:
            self.service.abandon(accepted, error)
        finally:
            self._forget(accepted.generation_id)

    def _forget(self, generation_id: int) -> None:
        with self._lock:
            self._running.pop(generation_id, None)

    def progress(self, generation_id: int) -> Progress | None:
        """How far the job has got, if this process is making it."""
        with self._lock:
            running = self._running.get(generation_id)
        return None if running is None else running.progress

    async def wait(self, generation_id: int, *, timeout_s: float) -> None:
        """Return when the job is over or after `timeout_s`, whichever comes first (at once if not running here).

        It holds no thread while it waits, so a minute's `?wait=` of many clients starves nothing.
        """
        deadline = time.monotonic() + timeout_s
        while self.progress(generation_id) is not None and time.monotonic() < deadline:
            await asyncio.sleep(POLL_S)

    def close(self) -> None:
        """Stop taking jobs; the queued ones are refunded, the running ones finish."""
        self._pool.shutdown(wait=True, cancel_futures=True)
