"""The transactions that keep a generation's books straight: its row and charge (`_start`), the saved avatars
and completed row (`_save`), and on failure the failed row and its refund, exactly once (`_fail`).

`GenerationService` orders them: `_start` in `accept`, `_save` and `_fail` in `finish`.
"""

from __future__ import annotations

import logging
import time
from functools import partial

from photomaker.accounts.account import open_account
from photomaker.core.errors import BackendError, PhotoMakerError
from photomaker.core.settings import Settings
from photomaker.engines.base import GenerationRequest, GenerationResult, ProgressFn
from photomaker.generation.preparing import Prepared
from photomaker.generation.refusals import Refusals
from photomaker.generation.results import GenerationDetails, GenerationOutcome
from photomaker.generation.work_leases import Leases
from photomaker.images.avatar_files import AvatarStorage
from photomaker.store import Database, Generation, generation_queries, generations, ledger, projects, row_id

log = logging.getLogger(__name__)


class Bookkeeping:
    """A generation's row, charge, completion and refund, as `GenerationService` writes them (the attributes
    are its own)."""

    settings: Settings
    database: Database
    storage: AvatarStorage
    leases: Leases
    refusals: Refusals

    def _start(self, prepared: Prepared, request: GenerationRequest, progress: ProgressFn) -> Generation:
        """One transaction: the user's account (opened on a first charge), the project, rate limit, row and charge."""
        cost = prepared.model.price(request.num_images)
        progress(0.2, f"Reserving {cost} credits")
        draft = partial(
            generations.Draft,
            model_key=prepared.model.model_key,
            mode=request.mode,
            engine=prepared.engine.name,
            prompt=request.styled_prompt,
            negative_prompt=request.styled_negative_prompt,
            params=prepared.run_params.saved({}),
            photo_count=len(request.photos),
            preview=prepared.engine.preview,
        )
        with (
            self.refusals.recorded(prepared.username, draft, address=prepared.address),
            self.database.session() as session,
        ):
            user = open_account(session, prepared.username, self.settings)
            folder = projects.get_or_create_project(session, user_id=row_id(user), name=prepared.project)
            return generations.start(
                session,
                draft(user_id=row_id(user), project_id=row_id(folder)),
                cost=cost,
                rate_limit_per_min=self.settings.user_rate_limit_per_min,
                owner=str(self.leases.owner),
                lease_until=self.leases.until(),
            )

    def _save(
        self,
        prepared: Prepared,
        generation: Generation,
        result: GenerationResult,
        measured: list[float | None] | None,
        *,
        started: float,
        notes: list[str],
    ) -> GenerationOutcome:
        """Store the images, complete the row and read the new balance, in one transaction."""
        saved = self.storage.save(result.images, user_id=generation.user_id, generation_id=row_id(generation))
        with self.database.session() as session:
            completed = generations.complete(
                session,
                row_id(generation),
                avatars=saved,
                seed=result.seed,
                engine=result.engine,
                attempts=result.attempts,
                processing_ms=round((time.monotonic() - started) * 1000),
                params=prepared.run_params.saved(result.effective_params),
                likeness=measured,
                notes=notes,
            )
            avatars = generation_queries.avatars_of(session, row_id(completed))
            remaining = ledger.balance(session, completed.user_id)
        return GenerationOutcome(
            images=[self.storage.path(avatar.image_path) for avatar in avatars],
            details=GenerationDetails.of(completed, prepared.model, prepared.run_params, remaining=remaining),
        )

    def _fail(self, generation: Generation, exc: Exception, *, started: float) -> None:
        error = exc if isinstance(exc, PhotoMakerError) else PhotoMakerError("INTERNAL")
        if not isinstance(exc, PhotoMakerError):
            log.exception("generation %s failed unexpectedly", row_id(generation))
        self.storage.delete_generation(user_id=generation.user_id, generation_id=row_id(generation))
        with self.database.session() as session:
            refunded = generations.fail(
                session,
                row_id(generation),
                code=error.code,
                message=error.message,
                attempts=exc.attempts if isinstance(exc, BackendError) else None,
                processing_ms=round((time.monotonic() - started) * 1000),
            )
        log.warning("generation %s failed (%s); refunded %s credits", row_id(generation), error.code, refunded)
