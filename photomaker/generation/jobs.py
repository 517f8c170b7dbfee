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
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import CancelledError, Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, replace
from typing import Any

from photomaker.core.errors import PhotoMakerError, RefusedError
from photomaker.engines.base import ProgressFn, no_progress
from photomaker.generation.making import Control
from photomaker.generation.results import GenerationOutcome
from photomaker.generation.service import WAITING_FOR_TURN, Accepted, GenerationService
from photomaker.images.uploaded_photos import PhotoUpload

log = logging.getLogger(__name__)

POLL_S = 0.1
"""How often `wait` and `run` look whether a job is over."""
SAID_KEPT = 1000
"""The most progress reports kept for a waiting caller: far more than a pack of 44 makes in 0.1 s."""


@dataclass(frozen=True)
class Progress:
    """How far a running job has got: a fraction from 0 to 1, what it is doing, and which image it is making
    (from 1, of `images`, in `style`; 0 and None before the first)."""

    fraction: float
    message: str
    image: int = 0
    images: int = 0
    style: str | None = None
    at_engine: bool = False
    """The engine is making `image` now (else it is checked, saved, or waits its turn)."""


class _Running:
    """A job this process is making: whose it is, its latest progress, and its control (which image, cancel)."""

    def __init__(self, username: str, total: int) -> None:
        self.username = username
        self.control = Control()
        self.control.total = total
        self.message = Progress(0.2, WAITING_FOR_TURN)
        self.said: deque[Progress] = deque(maxlen=SAID_KEPT)
        """What it reported that a waiting caller has not passed on yet (`Jobs.run`)."""
        self.future: Future[GenerationOutcome] | None = None

    def report(self, fraction: float, message: str) -> None:
        self.message = Progress(round(min(max(fraction, 0.0), 1.0), 3), message)
        self.said.append(self.message)

    def relay(self, progress: ProgressFn) -> None:
        """Pass on to `progress` every report not passed on yet, in order."""
        while self.said:
            said = self.said.popleft()
            progress(said.fraction, said.message)

    @property
    def progress(self) -> Progress:
        control = self.control
        return replace(
            self.message, image=control.number, images=control.total, style=control.style, at_engine=control.at_engine
        )


def _stopped(running: _Running) -> PhotoMakerError:
    """Why a job that never began ended: its user cancelled it, or the app is stopping."""
    return PhotoMakerError("CANCELLED" if running.control.cancelled else "INTERRUPTED")


class Jobs:
    """Accepts generations and makes them in the background; says how far each has got, and cancels.

    Every surface generates through here: the REST API answers with the job's id (`start`); the page, the
    Gradio API, MCP and the CLI wait for its outcome (`run`).
    """

    def __init__(self, service: GenerationService, *, workers: int) -> None:
        self.service = service
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="generation-job")
        self._running: dict[int, _Running] = {}
        self._lock = threading.Lock()

    def start(
        self,
        username: str,
        values: Mapping[str, Any],
        *,
        uploads: Sequence[PhotoUpload] | None = None,
        pack: bool = False,
        upload_problem: RefusedError | None = None,
        named: int | None = None,
        address: str | None = None,
        progress: ProgressFn = no_progress,
    ) -> int:
        """Check and charge a request, then make it in the background; returns its generation id.

        With `uploads` (a list, maybe empty) it is Photo to Avatar: a single style (`PhotoParams`) or, with `pack`,
        a pack (`PackParams`); without, Text to Image. `upload_problem` refuses files the caller named but did not
        upload (`named` counts them all). Raises RefusedError (recorded, nothing charged). The photos
        are read before this returns: the caller may delete them then. `progress` hears the checks before the
        charge; the job's own progress is `progress(id)`.
        """
        service = self.service
        if uploads is None:
            prepared = service.prepare_text(username, values, address=address)
        else:
            prepared = service.prepare_avatar(
                username,
                values,
                photo_count=len(uploads) if named is None else named,
                pack=pack,
                upload_problem=upload_problem,
                address=address,
            )
        return self._submit(service.accept(prepared, uploads or (), progress=progress))

    def run(
        self,
        username: str,
        values: Mapping[str, Any],
        *,
        uploads: Sequence[PhotoUpload] | None = None,
        pack: bool = False,
        upload_problem: RefusedError | None = None,
        named: int | None = None,
        address: str | None = None,
        progress: ProgressFn = no_progress,
        started: Callable[[int], None] = lambda generation_id: None,
    ) -> GenerationOutcome:
        """`start`, then wait for the outcome, passing the job's progress on; raises our errors (a refusal
        charged nothing; a failure was refunded). `started` hears the job's id (to cancel it)."""
        generation_id = self.start(
            username,
            values,
            uploads=uploads,
            pack=pack,
            upload_problem=upload_problem,
            named=named,
            address=address,
            progress=progress,
        )
        started(generation_id)
        with self._lock:
            running = self._running.get(generation_id)
        future = running.future if running else None
        if running is None or future is None:
            raise PhotoMakerError("INTERRUPTED")
        while True:
            try:
                outcome = future.result(timeout=POLL_S)
            except FutureTimeout:
                running.relay(progress)
                continue
            except CancelledError:
                raise _stopped(running) from None
            running.relay(progress)
            return outcome

    def _submit(self, accepted: Accepted) -> int:
        running = _Running(accepted.prepared.username, accepted.prepared.plan.total)
        with self._lock:
            self._running[accepted.generation_id] = running
        try:
            running.future = self._pool.submit(self._make, accepted, running)
        except RuntimeError:  # the pool is shut down: the app is stopping
            self._end(accepted, running, PhotoMakerError("INTERRUPTED"))
            raise PhotoMakerError("INTERRUPTED") from None
        running.future.add_done_callback(lambda done: self._cancelled(done, accepted, running))
        return accepted.generation_id

    def _make(self, accepted: Accepted, running: _Running) -> GenerationOutcome:
        try:
            return self.service.finish(accepted, progress=running.report, control=running.control)
        except PhotoMakerError as error:  # failed and refunded by `finish`; the row says why
            log.info("job %s ended with %s", accepted.generation_id, error.code)
            raise
        finally:
            self._forget(accepted.generation_id)

    def _cancelled(self, future: Future[GenerationOutcome], accepted: Accepted, running: _Running) -> None:
        """A job cancelled before it began (by its user, or the app stopping) is failed and refunded whole."""
        if future.cancelled():
            self._end(accepted, running, _stopped(running))

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

    def cancel(self, generation_id: int, *, username: str) -> None:
        """Stop `username`'s job after the engine call under way: what is made by then is kept and charged, the
        rest refunded. NOT_RUNNING when it is not running here (over, or never theirs)."""
        with self._lock:
            running = self._running.get(generation_id)
        if running is None or running.username != username:
            raise RefusedError("NOT_RUNNING")
        running.control.cancel()
        if running.future is not None and running.future.cancel():  # still queued: refunded whole at once
            log.info("job %s cancelled before it began", generation_id)

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
