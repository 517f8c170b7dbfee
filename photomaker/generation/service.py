"""One generation, end to end: the only place that orders the steps of a generation.

1. `prepare_*`: check the parameters and the prompt against the chosen model (one read);
2. `accept`: check the photos, find the faces and that they are one person's (refusals so far
   charge nothing and are recorded as `rejected` rows); then in one transaction: the account,
   rate limit, a `processing` row, the charge;
3. `finish`: in the engine's turn, generate, and measure each avatar's likeness to the photos;
4. save the avatars and complete the row, reading the new balance in the same transaction;
5. on any failure after the charge: fail the row and refund exactly once.

`run` is `accept` then `finish` in one call (the page, the Gradio API, the CLI); the REST API's jobs
(`photomaker.generation.jobs`) answer after `accept` and `finish` in the background.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from functools import partial
from typing import Any

from photomaker.accounts.account import open_account
from photomaker.core import safe_text as text
from photomaker.core.errors import BackendError, PhotoMakerError, RefusedError
from photomaker.core.refusals import Asked, Refusals
from photomaker.core.settings import Settings
from photomaker.engines.base import (
    MAX_SEED,
    Admitting,
    Engine,
    GenerationRequest,
    GenerationResult,
    ProgressFn,
    no_progress,
)
from photomaker.engines.registry import concurrency_limit
from photomaker.faces import analysis as faces
from photomaker.faces import likeness
from photomaker.faces import matching as face_match
from photomaker.generation import prompts
from photomaker.generation.engine_queue import Turns
from photomaker.generation.params import DEFAULT_MAX_OUTPUTS, PhotoParams, TextParams, given, parse
from photomaker.generation.results import GenerationDetails, GenerationOutcome
from photomaker.generation.run_params import RunParams
from photomaker.generation.work_leases import Leases
from photomaker.images import uploaded_photos as photos
from photomaker.images.avatar_files import AvatarStorage
from photomaker.images.decode_budget import DecodeBudget
from photomaker.images.uploaded_photos import PhotoUpload
from photomaker.store import AIModel, Database, Generation, generation_queries, generations, ledger, projects, row_id
from photomaker.store import catalog as model_rows

log = logging.getLogger(__name__)

TEXT_MODE_OFF = (
    "Text to Image needs a Hugging Face token (HF_TOKEN) or TEXT_TO_IMAGE_ENDPOINT_URL, and this app has neither."
)

WAITING_FOR_TURN = "Waiting for the generations before yours"
"""What a generation's progress says while it waits for its engine's turn (or, as a job, for a worker)."""


def waiting_for_turn(ahead: int) -> str:
    """The progress of a generation waiting for its turn, with its place in line."""
    return f"{WAITING_FOR_TURN}: {ahead} ahead of yours"


@dataclass(frozen=True)
class Prepared:
    """A request that passed every check but the photos': all `run` needs."""

    username: str
    model: AIModel
    engine: Engine
    request: GenerationRequest
    run_params: RunParams
    project: str
    asked: Asked
    address: str | None = None
    """The client's address, where a surface knows it: refusals count against it too."""


@dataclass(frozen=True)
class Accepted:
    """A request checked and charged: its row is `processing` and held; `finish` makes it."""

    prepared: Prepared
    request: GenerationRequest
    generation: Generation
    notes: tuple[str, ...]
    accepted_at: float
    """`time.monotonic()` at the charge: the generation's time counts from here, waiting for its turn included."""

    @property
    def generation_id(self) -> int:
        return row_id(self.generation)


def _asked(
    values: Mapping[str, Any],
    *,
    mode: str,
    engine: str,
    model: AIModel | None,
    params: Mapping[str, Any],
    photo_count: int = 0,
) -> Asked:
    """What a refusal of these raw values records: the prompts cut to their limits, and `params` and
    `photo_count`, every value made storable (a refusal of text that cannot be stored is recorded too)."""
    return partial(
        generations.Draft,
        model_key=model.model_key if model else "unknown",
        mode=mode,
        engine=engine,
        prompt=text.storable(str(values.get("prompt") or ""))[: prompts.MAX_PROMPT_CHARS],
        negative_prompt=text.storable(str(values.get("negative_prompt") or ""))[: prompts.MAX_NEGATIVE_CHARS],
        params={key: text.recordable(value) for key, value in params.items()},
        photo_count=photo_count,
    )


def _max_images(model: AIModel) -> int:
    return model.max_outputs or DEFAULT_MAX_OUTPUTS


class GenerationService:
    """Generates avatars for users and keeps the books straight."""

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

    def models(self, *, mode: str = "photo") -> list[AIModel]:
        """The enabled models of one mode, cheapest first."""
        with self.database.reading() as session:
            return model_rows.list_models(session, mode=mode)

    def prepare_avatar(
        self,
        username: str,
        values: Mapping[str, Any],
        *,
        photo_count: int,
        upload_problem: RefusedError | None = None,
        address: str | None = None,
    ) -> Prepared:
        """Every check of a photo request that does not read the photos; a refusal is recorded and raised.

        `upload_problem` is a refusal of the uploads found before (a file this caller did not upload):
        recorded like the others. `address` is the client's, where the surface knows it.
        """
        self.refusals.admit(username, address=address)
        tier = given(PhotoParams, values, "tier")
        model = self._photo_model(tier) if isinstance(tier, str) and not text.unstorable(tier) else None
        recorded = {key: given(PhotoParams, values, key) for key in ("style", "num_images")}
        asked = _asked(
            values,
            mode="photo",
            engine=self.engine.name,
            model=model,
            params={"tier": tier, **recorded},
            photo_count=photo_count,
        )
        with self.refusals.recorded(username, asked, address=address):
            if upload_problem is not None:
                raise upload_problem
            if model is None:
                raise RefusedError(
                    "INVALID_PARAMS",
                    f"Unknown tier {text.quoted(tier)}; choose basic, pro or enterprise.",
                )
            params = parse(PhotoParams, values, max_images=_max_images(model))
            built = prompts.build(
                params.prompt, style=params.style, subject=params.subject, negative_prompt=params.negative_prompt
            )
        run_params = RunParams.for_photo(params, model)
        return self._prepared(
            username, model, self.engine, built, run_params, project=params.project, asked=asked, address=address
        )

    def _photo_model(self, tier: str) -> AIModel | None:
        with self.database.reading() as session:
            found = model_rows.find_model(session, tier=tier)
        return found if found is not None and found.mode == "photo" else None

    def prepare_text(self, username: str, values: Mapping[str, Any], *, address: str | None = None) -> Prepared:
        """Every check of a Text to Image request; a refusal is recorded and raised, with the model asked for
        (the default one when none or an unknown one was)."""
        self.refusals.admit(username, address=address)
        engine = self.text_engine
        models = self.models(mode="text")
        key = values.get("model") or None
        model = next((model for model in models if key in (None, model.model_key)), None)
        recorded = {name: given(TextParams, values, name) for name in ("width", "height", "num_images")}
        if key is not None:
            recorded["model"] = key
        default = model or (models[0] if models else None)
        asked = _asked(values, mode="text", engine=engine.name if engine else "none", model=default, params=recorded)
        with self.refusals.recorded(username, asked, address=address):
            if engine is None:
                raise RefusedError("NOT_OFFERED", TEXT_MODE_OFF)
            if model is None:
                choices = ", ".join(model.model_key for model in models) or "none"
                raise RefusedError(
                    "INVALID_PARAMS",
                    f"Unknown text model {text.quoted(key)}; choose one of: {choices}.",
                )
            params = parse(TextParams, values, max_images=_max_images(model))
            built = prompts.build(
                params.prompt, style=prompts.NO_STYLE, negative_prompt=params.negative_prompt, with_trigger=False
            )
        run_params = RunParams.for_text(params, model)
        return self._prepared(
            username, model, engine, built, run_params, project=params.project, asked=asked, address=address
        )

    @staticmethod
    def _prepared(
        username: str,
        model: AIModel,
        engine: Engine,
        built: prompts.BuiltPrompt,
        run_params: RunParams,
        *,
        project: str,
        asked: Asked,
        address: str | None,
    ) -> Prepared:
        request = GenerationRequest.from_prompts(
            built,
            mode=model.mode,
            model_key=model.model_key,
            style=prompts.get_style(run_params.style or prompts.NO_STYLE),
            style_strength=run_params.style_strength or 0,
            width=run_params.width,
            height=run_params.height,
            num_images=run_params.num_images,
            steps=run_params.steps,
            guidance_scale=run_params.guidance_scale,
            seed=random.randint(0, MAX_SEED) if run_params.seed_requested == -1 else run_params.seed_requested,
        )
        return Prepared(username, model, engine, request, run_params, project, asked, address)

    def generate_avatar(
        self,
        username: str,
        uploads: Sequence[PhotoUpload],
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
        self, prepared: Prepared, uploads: Sequence[PhotoUpload] = (), *, progress: ProgressFn = no_progress
    ) -> GenerationOutcome:
        """Check the photos (if any), charge, generate, save; on any failure after the charge, refund once."""
        return self.finish(self.accept(prepared, uploads, progress=progress), progress=progress)

    def accept(
        self, prepared: Prepared, uploads: Sequence[PhotoUpload] = (), *, progress: ProgressFn = no_progress
    ) -> Accepted:
        """Check the photos (if any) and charge; a refusal so far charges nothing and is recorded.

        From here the row is `processing` and its lease is held until `finish` (or `abandon`) ends it, so
        an accepted job may wait for its turn in another thread without being taken for dead.
        """
        request, notes = prepared.request, []
        with self.refusals.recorded(prepared.username, prepared.asked, address=prepared.address):
            if request.mode == "photo":
                progress(0.05, "Checking your photos")
                prepared_photos = photos.prepare(
                    uploads, max_bytes=self.settings.max_photo_bytes, budget=self.decode_budget
                )
                progress(0.12, "Finding your face")
                located = faces.locate_all(prepared_photos)
                face_match.check_same_person(located)
                request, notes = replace(request, photos=tuple(located)), faces.notes(located)
                if isinstance(prepared.engine, Admitting):
                    admitted = prepared.engine.admit(request)
                    request, notes = admitted.request, [*notes, *admitted.notes]
        generation = self._start(prepared, request, progress)
        self.leases.hold(row_id(generation))
        return Accepted(prepared, request, generation, tuple(notes), accepted_at=time.monotonic())

    def finish(self, accepted: Accepted, *, progress: ProgressFn = no_progress) -> GenerationOutcome:
        """Generate in the engine's turn, measure the likeness, save; on any failure, fail the row and refund
        once. Ends the lease `accept` took."""
        prepared, request, generation = accepted.prepared, accepted.request, accepted.generation
        try:
            with self._turn(prepared.engine, progress):
                result = prepared.engine.generate(request, lambda f, m: progress(0.25 + 0.65 * f, m))
            measured = None
            if request.photos:
                progress(0.91, "Checking the likeness")
                measured = face_match.measure(result.images, face_match.reference(request.photos))
            progress(0.93, "Saving your avatars")
            outcome = self._save(
                prepared,
                generation,
                result,
                measured,
                started=accepted.accepted_at,
                notes=[*accepted.notes, *likeness.notes(measured or [])],
            )
        except Exception as exc:
            self._fail(generation, exc, started=accepted.accepted_at)
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
