"""The transactions that keep a generation's books straight: its row and charge (`_start`), the saved avatars
and completed row (`_save`), and on failure the failed row and its refund, exactly once (`_fail`).

`GenerationService` orders them: `_start` in `accept`, `_save` and `_fail` in `finish`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from PIL import Image

from photomaker.accounts.account import open_account
from photomaker.core.errors import BackendError, PhotoMakerError
from photomaker.core.settings import Settings
from photomaker.engines.base import GenerationRequest, ProgressFn
from photomaker.generation.making import Made
from photomaker.generation.packs import short_of_credits
from photomaker.generation.preparing import Prepared
from photomaker.generation.refusals import Refusals
from photomaker.generation.results import GenerationDetails, GenerationOutcome
from photomaker.generation.work_leases import Leases
from photomaker.images.avatar_files import AvatarStorage, EncodedAvatar, SavedAvatar
from photomaker.store import Database, Generation, generation_queries, generations, ledger, projects, row_id

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Kept:
    """One group's avatars as saved: files, likeness, style."""

    avatars: list[SavedAvatar]
    likeness: list[float | None]
    style: str | None

    def as_completed(self) -> dict[str, Any]:
        """`generations.complete`'s arguments that add these avatars with the completion."""
        return {"avatars": self.avatars, "avatar_likeness": self.likeness, "style": self.style}


class Bookkeeping:
    """A generation's row, charge, completion and refund, as `GenerationService` writes them (the attributes
    are its own)."""

    settings: Settings
    database: Database
    storage: AvatarStorage
    leases: Leases
    refusals: Refusals

    def _start(self, prepared: Prepared, request: GenerationRequest, progress: ProgressFn) -> Generation:
        """One transaction: the user's account (opened on a first charge), the project, rate limit, row and charge
        for the whole plan."""
        plan = prepared.plan
        cost = prepared.model.price(plan.total)
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
            images_asked=plan.total,
        )
        short = partial(short_of_credits, prepared.model, plan) if prepared.run_params.styles else None
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
                short=short,
            )

    def _keep(
        self,
        generation: Generation,
        style: str | None,
        images: Sequence[Image.Image | EncodedAvatar],
        scores: Sequence[float | None],
        *,
        first: int,
        write: bool,
    ) -> Kept:
        """Save one group's kept images (encoded already, or not), numbered from `first`; with `write`, add them to
        the row at once, once their files exist (so that recovery keeps them), else the completion adds them in its
        own transaction (the last group's)."""
        saved = self.storage.save(images, user_id=generation.user_id, generation_id=row_id(generation), first=first)
        kept = Kept(saved, list(scores), style)
        if write:
            with self.database.session() as session:
                generations.add_avatars(session, row_id(generation), saved, likeness=scores, style=style)
        return kept

    def _complete(
        self,
        prepared: Prepared,
        generation: Generation,
        made: Made,
        *,
        last: Kept | None,
        started: float,
        notes: list[str],
    ) -> GenerationOutcome:
        """Complete the row with the `last` group's avatars, refund the images not kept (exactly, at the price each
        was charged) and read the new balance, in one transaction."""
        first = made.first
        if first is None:
            raise RuntimeError("a generation that kept images has a result")
        refund, reasons = made.refund(prepared.model, charged=generation.credits_charged)
        with self.database.session() as session:
            completed = generations.complete(
                session,
                row_id(generation),
                counts=made.counts(),
                seed=first.seed,
                engine=first.engine,
                attempts=made.attempts,
                processing_ms=round((time.monotonic() - started) * 1000),
                params=prepared.run_params.saved(first.effective_params),
                likeness=made.scores if prepared.request.mode == "photo" else None,
                notes=[*notes, *(f"{reason}." for reason in reasons)],
                refund=refund,
                refund_note="; ".join(reasons),
                **(last.as_completed() if last else {}),
            )
            avatars = generation_queries.avatars_of(session, row_id(completed))
            remaining = ledger.balance(session, completed.user_id)
        return GenerationOutcome(
            images=[self.storage.path(avatar.image_path) for avatar in avatars],
            details=GenerationDetails.of(
                completed,
                prepared.model,
                prepared.run_params,
                remaining=remaining,
                styles=[avatar.style for avatar in avatars],
            ),
        )

    def _fail(self, generation: Generation, exc: Exception, *, started: float, made: Made | None = None) -> None:
        """Fail the row and refund it, then delete its files, unless it was settled otherwise already (recovery
        completes a dead pack with the avatars it kept)."""
        error = exc if isinstance(exc, PhotoMakerError) else PhotoMakerError("INTERNAL")
        if not isinstance(exc, PhotoMakerError):
            log.exception("generation %s failed unexpectedly", row_id(generation))
        with self.database.session() as session:
            refunded = generations.fail(
                session,
                row_id(generation),
                code=error.code,
                message=error.message,
                attempts=exc.attempts if isinstance(exc, BackendError) else made.attempts if made else None,
                processing_ms=round((time.monotonic() - started) * 1000),
                counts=made.counts() if made else None,
            )
            status = generations.status_of(session, row_id(generation))
        if status != "completed":
            self.storage.delete_generation(user_id=generation.user_id, generation_id=row_id(generation))
        log.warning("generation %s failed (%s); refunded %s credits", row_id(generation), error.code, refunded)
