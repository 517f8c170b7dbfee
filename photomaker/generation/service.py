"""One generation, end to end: the only place that orders the steps of a generation.

1. `prepare_*`: check the parameters and the prompt against the chosen model (one read);
2. `accept`: check the photos, find the faces and that they are one person's (refusals so far
   charge nothing and are recorded as `rejected` rows); then in one transaction: the account,
   rate limit, a `processing` row, the charge;
3. `finish`: in the engine's turn, generate, and measure each avatar's likeness to the photos;
4. save the avatars and complete the row, reading the new balance in the same transaction;
5. on any failure after the charge: fail the row and refund exactly once.

`run` is `accept` then `finish` in one call (the page, the Gradio API, the CLI); the REST API's jobs
(`photomaker.generation.jobs`) answer after `accept` and `finish` in the background. The checks of step 1
are `preparing`'s, the transactions of steps 2, 4 and 5 `bookkeeping`'s; `GenerationService` orders them.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

from PIL import Image

from photomaker.core.errors import PhotoMakerError
from photomaker.core.fair_queue import Turns
from photomaker.core.settings import Settings
from photomaker.engines.base import Admitting, Engine, GenerationRequest, ProgressFn, no_progress
from photomaker.engines.registry import concurrency_limit
from photomaker.faces import analysis as faces
from photomaker.faces import likeness
from photomaker.faces import matching as face_match
from photomaker.generation.bookkeeping import Bookkeeping, Kept
from photomaker.generation.making import Control, Made, Making
from photomaker.generation.preparing import Prepared, Preparing
from photomaker.generation.refusals import Refusals
from photomaker.generation.results import GenerationOutcome
from photomaker.generation.work_leases import Leases
from photomaker.images import uploaded_photos as photos
from photomaker.images.avatar_files import AvatarStorage
from photomaker.images.decode_budget import DecodeBudget
from photomaker.images.encoding_ahead import EncodingAhead
from photomaker.store import Database, Generation, row_id

WAITING_FOR_TURN = "Waiting for the generations before yours"
"""What a generation's progress says while it waits for its engine's turn (or, as a job, for a worker)."""


def waiting_for_turn(ahead: int) -> str:
    """The progress of a generation waiting for its turn, with its place in line."""
    return f"{WAITING_FOR_TURN}: {ahead} ahead of yours"


@dataclass(frozen=True)
class Accepted:
    """A request checked and charged: its row is `processing` and held; `finish` makes it."""

    prepared: Prepared
    requests: tuple[GenerationRequest, ...]
    """The prepared requests with the photos in, as the engine admitted them."""
    generation: Generation
    notes: tuple[str, ...]
    accepted_at: float
    """`time.monotonic()` at the charge: the generation's time counts from here, waiting for its turn included."""

    @property
    def generation_id(self) -> int:
        return row_id(self.generation)


class GenerationService(Preparing, Bookkeeping):
    """Generates avatars for users and keeps the books straight: orders the steps of `preparing` and
    `bookkeeping`."""

    def __init__(
        self,
        *,
        settings: Settings,
        database: Database,
        engine: Engine,
        storage: AvatarStorage,
        text_engine: Engine | None = None,
        leases: Leases | None = None,
    ) -> None:
        self.settings = settings
        self.database = database
        self.engine = engine
        self.text_engine = text_engine
        self.storage = storage
        self.leases = leases or Leases(database, lease_s=settings.generation_lease_s)
        self.decode_budget = DecodeBudget(settings.decode_budget_bytes)
        self._turns: dict[str, Turns] = {}
        self._turns_lock = threading.Lock()
        self.refusals = Refusals(settings=settings, database=database)

    def generate_avatar(
        self,
        username: str,
        uploads: Sequence[photos.PhotoUpload],
        values: Mapping[str, Any],
        *,
        address: str | None = None,
        progress: ProgressFn = no_progress,
    ) -> GenerationOutcome:
        """Make avatars from photos; raises RefusedError (nothing charged) or BackendError (refunded)."""
        prepared = self.prepare_avatar(username, values, photo_count=len(uploads), address=address)
        return self.run(prepared, uploads, progress=progress)

    def generate_from_text(
        self,
        username: str,
        values: Mapping[str, Any],
        *,
        address: str | None = None,
        progress: ProgressFn = no_progress,
    ) -> GenerationOutcome:
        """Make images from a prompt alone; raises RefusedError (nothing charged) or BackendError (refunded)."""
        return self.run(self.prepare_text(username, values, address=address), progress=progress)

    def run(
        self, prepared: Prepared, uploads: Sequence[photos.PhotoUpload] = (), *, progress: ProgressFn = no_progress
    ) -> GenerationOutcome:
        """Check the photos (if any), charge, generate, save; on any failure after the charge, refund once."""
        return self.finish(self.accept(prepared, uploads, progress=progress), progress=progress)

    def accept(
        self, prepared: Prepared, uploads: Sequence[photos.PhotoUpload] = (), *, progress: ProgressFn = no_progress
    ) -> Accepted:
        """Check the photos (if any) and charge the whole plan; a refusal so far charges nothing and is recorded.

        From here the row is `processing` and its lease is held until `finish` (or `abandon`) ends it, so
        an accepted job may wait for its turn in another thread without being taken for dead.
        """
        requests, notes = prepared.requests, list[str]()
        with self.refusals.recorded(prepared.username, prepared.asked, address=prepared.address):
            if prepared.request.mode == "photo":
                progress(0.05, "Checking your photos")
                prepared_photos = photos.prepare(
                    uploads, max_bytes=self.settings.max_photo_bytes, budget=self.decode_budget
                )
                progress(0.12, "Finding your face")
                located = faces.locate_all(prepared_photos)
                face_match.check_same_person(located)
                requests, notes = (
                    tuple(replace(request, photos=tuple(located)) for request in requests),
                    faces.notes(located),
                )
                if isinstance(prepared.engine, Admitting):
                    admitted = [prepared.engine.admit(request) for request in requests]
                    requests = tuple(admission.request for admission in admitted)
                    notes.extend(dict.fromkeys(note for admission in admitted for note in admission.notes))
        generation = self._start(prepared, requests[0], progress)
        self.leases.hold(row_id(generation))
        return Accepted(prepared, requests, generation, tuple(notes), accepted_at=time.monotonic())

    def finish(
        self, accepted: Accepted, *, progress: ProgressFn = no_progress, control: Control | None = None
    ) -> GenerationOutcome:
        """Make the plan in the engine's turn, keeping each group's images as it ends (each image is encoded while
        its likeness is measured, `EncodingAhead`); then complete the row and refund the images not kept, or, when
        none was kept, fail it and refund it all. Ends the lease `accept` took. `control` says which image is being
        made, and cancels."""
        prepared, generation = accepted.prepared, accepted.generation
        made = Made(asked=prepared.plan.total)
        ahead = EncodingAhead()
        making = Making(
            prepared.engine, prepared.plan, accepted.requests, progress, control or Control(), fresh=ahead.start
        )
        text = prepared.request.mode == "text"

        last: list[Kept] = []  # the last group's avatars: written with the completion, in one transaction

        def keep(style: str, images: Sequence[Image.Image], scores: Sequence[float | None], ends: bool) -> None:
            encoded = ahead.taken(images)
            kept = self._keep(generation, None if text else style, encoded, scores, first=made.kept + 1, write=not ends)
            last.extend([kept] if ends else [])

        try:
            with self._turn(prepared.engine, progress), ahead:
                making.run(made, keep)
            if not made.kept:
                raise made.error or PhotoMakerError("CANCELLED" if made.cancelled else "NOT_ALIKE")
            outcome = self._complete(
                prepared,
                generation,
                made,
                last=last[0] if last else None,
                started=accepted.accepted_at,
                notes=[*accepted.notes, *(likeness.notes(made.scores) if not text else [])],
            )
        except Exception as exc:
            self._fail(generation, exc, started=accepted.accepted_at, made=made)
            if isinstance(exc, PhotoMakerError):
                raise
            raise PhotoMakerError("INTERNAL") from exc
        finally:
            self.leases.release(row_id(generation))
        progress(1.0, "Done")
        return outcome

    def abandon(self, accepted: Accepted, error: PhotoMakerError) -> None:
        """Fail and refund an accepted generation that will never be made (the app is stopping)."""
        try:
            self._fail(accepted.generation, error, started=accepted.accepted_at)
        finally:
            self.leases.release(accepted.generation_id)

    @contextmanager
    def _turn(self, engine: Engine, progress: ProgressFn) -> Iterator[None]:
        """The engine's turn: at most its concurrency limit of generations at once, from every surface, in the
        order they came; a waiting one's progress says how many are ahead of it."""
        with self._turns_lock:
            turns = self._turns.setdefault(engine.name, Turns(concurrency_limit(engine, self.settings)))
        with turns.turn(lambda ahead: progress(0.22, waiting_for_turn(ahead))):
            yield
