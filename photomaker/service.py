"""One generation, end to end: the only place that orders the steps of DESIGN.md's flow.

1. check the parameters, the prompt and the photos, find the faces (refusals charge nothing
   and are recorded as `rejected` rows);
2. in one transaction: rate limit, a `processing` row, the charge;
3. generate; 4. save the avatars and complete the row;
5. on any failure after the charge: fail the row and refund exactly once.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from photomaker import faces, photos, prompts
from photomaker.engines.base import MAX_SEED, Engine, GenerationRequest, GenerationResult, ProgressFn, no_progress
from photomaker.errors import BackendError, PhotoMakerError, RefusedError
from photomaker.photos import PhotoUpload
from photomaker.prompts import DEFAULT_STYLE, Subject
from photomaker.settings import Settings
from photomaker.storage import AvatarStorage
from photomaker.store import AIModel, Database, Generation, User, accounts, generations, ledger
from photomaker.store import catalog as model_rows
from photomaker.store.accounts import DEFAULT_PROJECT

log = logging.getLogger(__name__)

STEPS_RANGE = (20, 100)
GUIDANCE_RANGE = (0.1, 10.0)
STRENGTH_RANGE = (0, 100)
TEXT_SIDE_RANGE = (256, 2048)
DEFAULT_MAX_OUTPUTS = 4
"""How many images one request may make from a model whose row names no `max_outputs`."""
TEXT_MODE_OFF = (
    "Text to Image needs a Hugging Face token (HF_TOKEN) or TEXT_TO_IMAGE_ENDPOINT_URL, and this app has neither."
)


@dataclass(frozen=True)
class AvatarParams:
    """What a user asked for, as typed values (from the page, the API or the CLI)."""

    photos: tuple[PhotoUpload, ...]
    prompt: str
    tier: str = "pro"
    style: str = DEFAULT_STYLE
    style_strength: int | None = None
    subject: Subject = "person"
    negative_prompt: str = ""
    num_images: int = 1
    seed: int = -1
    steps: int | None = None
    guidance_scale: float | None = None
    project: str = DEFAULT_PROJECT


@dataclass(frozen=True)
class TextParams:
    """A Text to Image request, as typed values: no photos, a size instead of a tier."""

    prompt: str
    model: str | None = None
    width: int = 1024
    height: int = 1024
    negative_prompt: str = ""
    num_images: int = 1
    seed: int = -1
    project: str = DEFAULT_PROJECT


@dataclass(frozen=True)
class GenerationOutcome:
    """A completed generation: its images on disk and the details shown to the user."""

    generation_id: int
    images: list[Path]
    details: dict[str, Any]
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Account:
    username: str
    credits: int


@dataclass(frozen=True)
class Rating:
    """A user's rating of one of their generations, and the one it replaced."""

    generation_id: int
    stars: int
    previous: int | None


@dataclass(frozen=True)
class HistoryItem:
    """One past avatar, for the history gallery."""

    generation_id: int
    image: Path
    thumbnail: Path
    caption: str


def _in_range(name: str, value: float, bounds: tuple[float, float]) -> None:
    low, high = bounds
    if not low <= value <= high:
        raise RefusedError("INVALID_PARAMS", f"{name} must be between {low:g} and {high:g}; you gave {value:g}.")


def _whole(name: str, value: float | None) -> int | None:
    if value is None:
        return None
    if float(value) != int(value):
        raise RefusedError("INVALID_PARAMS", f"{name} must be a whole number; you gave {value}.")
    return int(value)


def _count_and_seed(model: AIModel, num_images: float, seed: float) -> tuple[int, int]:
    """The number of images (within the model's limit) and the seed (-1 draws one)."""
    count = _whole("Number of images", num_images)
    _in_range("Number of images", count, (1, model.capabilities.get("max_outputs", DEFAULT_MAX_OUTPUTS)))
    chosen = _whole("Seed", seed)
    _in_range("Seed", chosen, (-1, MAX_SEED))
    return count, random.randint(0, MAX_SEED) if chosen == -1 else chosen


def _side(name: str, value: float) -> int:
    """A Text to Image width or height: whole, in range, a multiple of 8 as diffusion models need."""
    side = _whole(name, value)
    _in_range(name, side, TEXT_SIDE_RANGE)
    if side % 8:
        raise RefusedError("INVALID_PARAMS", f"{name} must be a multiple of 8; you gave {side}.")
    return side


def _face_notes(located: Sequence[faces.FacePhoto]) -> list[str]:
    return [
        f"{item.photo.name}: found {item.faces_found} faces; used the largest."
        for item in located
        if item.faces_found > 1
    ]


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
    ) -> None:
        self.settings = settings
        self.database = database
        self.engine = engine
        self.text_engine = text_engine
        self.storage = storage

    def _user(self, username: str) -> User:
        with self.database.session() as session:
            return accounts.get_or_create_user(
                session,
                username,
                starting_credits=self.settings.starting_credits,
                is_admin=username in self.settings.admin_users,
            )

    def account(self, username: str) -> Account:
        """The user's balance (creating the account on first sight)."""
        user = self._user(username)
        return Account(username=user.username, credits=user.credits)

    def models(self, *, mode: str = "photo") -> list[AIModel]:
        with self.database.session() as session:
            return model_rows.list_models(session, mode=mode)

    def projects(self, username: str) -> list[str]:
        user = self._user(username)
        with self.database.session() as session:
            return accounts.list_projects(session, user_id=user.id) or [DEFAULT_PROJECT]

    def history(self, username: str, *, limit: int = 24) -> list[HistoryItem]:
        """The user's latest avatars, newest first."""
        user = self._user(username)
        with self.database.session() as session:
            rows = generations.recent_avatars(session, user_id=user.id, limit=limit)
        return [
            HistoryItem(
                generation_id=generation.id,
                image=self.storage.path(avatar.image_path),
                thumbnail=self.storage.path(avatar.thumbnail_path),
                caption=f"#{generation.id} · {generation.params.get('style') or 'Text to Image'}"
                + (" · preview" if generation.preview else ""),
            )
            for avatar, generation in rows
        ]

    def rate(self, username: str, generation_id: int, stars: int) -> Rating:
        """Rate one of the user's completed generations 1-5 stars (again to change it); feeds satisfaction."""
        user = self._user(username)
        whole = _whole("Rating", stars)
        with self.database.session() as session:
            previous = generations.rate(session, generation_id, user_id=user.id, stars=whole)
        return Rating(generation_id=generation_id, stars=whole, previous=previous)

    @staticmethod
    def _avatar_request(params: AvatarParams, model: AIModel) -> GenerationRequest:
        """Every check of a photo request that does not read the photos; RefusedError before any charge."""
        num_images, seed = _count_and_seed(model, params.num_images, params.seed)
        steps = _whole("Steps", params.steps) or model.steps
        _in_range("Steps", steps, STEPS_RANGE)
        guidance = model.guidance_scale if params.guidance_scale is None else float(params.guidance_scale)
        _in_range("Guidance scale", guidance, GUIDANCE_RANGE)
        strength = _whole("Style strength", params.style_strength)
        strength = model.default_style_strength if strength is None else strength
        _in_range("Style strength", strength, STRENGTH_RANGE)
        built = prompts.build(
            params.prompt, style=params.style, subject=params.subject, negative_prompt=params.negative_prompt
        )
        return GenerationRequest.from_prompts(
            built,
            mode="photo",
            model_key=model.model_key,
            style=prompts.get_style(params.style),
            style_strength=strength,
            width=model.width,
            height=model.height,
            num_images=num_images,
            steps=steps,
            guidance_scale=guidance,
            seed=seed,
        )

    def _with_faces(
        self, request: GenerationRequest, uploads: Sequence[PhotoUpload], progress: ProgressFn
    ) -> tuple[GenerationRequest, list[str]]:
        """The request with its photos checked and their faces found (the expensive checks, done last)."""
        progress(0.05, "Checking your photos")
        prepared = photos.prepare(uploads, max_bytes=self.settings.max_photo_bytes)
        progress(0.12, "Finding your face")
        located = faces.locate_all(prepared)
        return replace(request, photos=tuple(located)), _face_notes(located)

    @contextmanager
    def _recording_refusal(self, draft: generations.Draft) -> Iterator[None]:
        """Record a refusal raised in the block as a `rejected` row (no credit moves), then re-raise it."""
        try:
            yield
        except RefusedError as error:
            with self.database.session() as session:
                generations.reject(session, draft, error=error)
            log.info("generation refused for user %s: %s", draft.user_id, error.code)
            raise

    def _photo_model(self, params: AvatarParams) -> AIModel | None:
        with self.database.session() as session:
            model = model_rows.find_model(session, tier=params.tier)
        return model if model is not None and model.mode == "photo" else None

    def _avatar_draft(self, user: User, params: AvatarParams, model: AIModel | None) -> generations.Draft:
        """What a refused photo request records: what was asked, before any check."""
        return generations.Draft(
            user_id=user.id,
            model_key=model.model_key if model else "unknown",
            mode="photo",
            engine=self.engine.name,
            prompt=params.prompt[: prompts.MAX_PROMPT_CHARS],
            negative_prompt=params.negative_prompt[: prompts.MAX_NEGATIVE_CHARS],
            params={"tier": params.tier, "style": params.style, "num_images": params.num_images},
            photo_count=len(params.photos),
        )

    @staticmethod
    def _required(model: AIModel | None, params: AvatarParams) -> AIModel:
        if model is None:
            raise RefusedError("INVALID_PARAMS", f"Unknown tier {params.tier!r}; choose basic, pro or enterprise.")
        return model

    def check_avatar(self, username: str, params: AvatarParams) -> None:
        """The checks of `generate_avatar` that do not read the photos; a refusal is recorded and raised.

        The page runs them first, so that a mistake in the prompt or the options does not use up
        the uploaded photos (they are deleted once a generation has read them).
        """
        user = self._user(username)
        model = self._photo_model(params)
        with self._recording_refusal(self._avatar_draft(user, params, model)):
            self._avatar_request(params, self._required(model, params))

    def generate_avatar(
        self, username: str, params: AvatarParams, *, progress: ProgressFn = no_progress
    ) -> GenerationOutcome:
        """Make avatars from photos; raises RefusedError (nothing charged) or BackendError (refunded)."""
        user = self._user(username)
        found = self._photo_model(params)
        with self._recording_refusal(self._avatar_draft(user, params, found)):
            model = self._required(found, params)
            request, notes = self._with_faces(self._avatar_request(params, model), params.photos, progress)
        look = {"style": request.style.name, "style_strength": request.style_strength, "subject": params.subject}
        return self._run(
            user,
            model,
            request,
            engine=self.engine,
            record=self._record(model, request, requested_seed=params.seed, **look),
            project=params.project,
            notes=notes,
            progress=progress,
        )

    def _text_model(self, key: str | None) -> AIModel:
        """The text model called `key` (the cheapest when None), or INVALID_PARAMS naming the choices."""
        models = self.models(mode="text")
        found = next((model for model in models if key in (None, model.model_key)), None)
        if found is None:
            choices = ", ".join(model.model_key for model in models) or "none"
            raise RefusedError("INVALID_PARAMS", f"Unknown text model {key!r}; choose one of: {choices}.")
        return found

    def _text_request(self, params: TextParams, model: AIModel) -> GenerationRequest:
        """Every check of a Text to Image request; raises RefusedError before any charge."""
        num_images, seed = _count_and_seed(model, params.num_images, params.seed)
        width, height = _side("Width", params.width), _side("Height", params.height)
        built = prompts.build(
            params.prompt, style=prompts.NO_STYLE, negative_prompt=params.negative_prompt, with_trigger=False
        )
        return GenerationRequest.from_prompts(
            built,
            mode="text",
            model_key=model.model_key,
            style=prompts.get_style(prompts.NO_STYLE),
            style_strength=0,
            width=width,
            height=height,
            num_images=num_images,
            steps=model.steps,
            guidance_scale=model.guidance_scale,
            seed=seed,
        )

    def generate_from_text(
        self, username: str, params: TextParams, *, progress: ProgressFn = no_progress
    ) -> GenerationOutcome:
        """Make images from a prompt alone; raises RefusedError (nothing charged) or BackendError (refunded)."""
        user = self._user(username)
        engine = self.text_engine
        draft = generations.Draft(
            user_id=user.id,
            model_key=params.model or "unknown",
            mode="text",
            engine=engine.name if engine else "none",
            prompt=params.prompt[: prompts.MAX_PROMPT_CHARS],
            negative_prompt=params.negative_prompt[: prompts.MAX_NEGATIVE_CHARS],
            params={"width": params.width, "height": params.height, "num_images": params.num_images},
        )
        with self._recording_refusal(draft):
            if engine is None:
                raise RefusedError("BACKEND_UNAVAILABLE", TEXT_MODE_OFF)
            model = self._text_model(params.model)
            request = self._text_request(params, model)
        return self._run(
            user,
            model,
            request,
            engine=engine,
            record=self._record(model, request, requested_seed=params.seed),
            project=params.project,
            notes=[],
            progress=progress,
        )

    @staticmethod
    def _record(model: AIModel, request: GenerationRequest, *, requested_seed: int, **extra: Any) -> dict[str, Any]:
        """The parameters stored on the row (and shown in the details) for either mode."""
        return {
            "tier": model.tier,
            **extra,
            "num_images": request.num_images,
            "steps": request.steps,
            "guidance_scale": request.guidance_scale,
            "width": request.width,
            "height": request.height,
            "seed_requested": requested_seed,
        }

    def _run(
        self,
        user: User,
        model: AIModel,
        request: GenerationRequest,
        *,
        engine: Engine,
        record: dict[str, Any],
        project: str,
        notes: list[str],
        progress: ProgressFn,
    ) -> GenerationOutcome:
        """Charge, generate, save; on any failure after the charge, fail the row and refund once."""
        cost = model.credit_cost * request.num_images
        progress(0.2, f"Reserving {cost} credits")
        draft = generations.Draft(
            user_id=user.id,
            model_key=model.model_key,
            mode=request.mode,
            engine=engine.name,
            prompt=request.styled_prompt,
            negative_prompt=request.styled_negative_prompt,
            params=record,
            photo_count=len(request.photos),
            preview=engine.preview,
        )
        with self._recording_refusal(draft), self.database.session() as session:
            folder = accounts.get_or_create_project(session, user_id=user.id, name=project)
            generation = generations.start(
                session,
                replace(draft, project_id=folder.id),
                cost=cost,
                rate_limit_per_min=self.settings.user_rate_limit_per_min,
            )
        started = time.monotonic()
        try:
            result = engine.generate(request, lambda f, m: progress(0.25 + 0.65 * f, m))
            progress(0.93, "Saving your avatars")
            completed = self._save(user, generation, result, record=record, started=started)
        except Exception as exc:
            self._fail(user, generation, exc, started=started)
            if isinstance(exc, PhotoMakerError):
                raise
            raise PhotoMakerError("INTERNAL") from exc
        progress(1.0, "Done")
        with self.database.session() as session:
            saved = generations.avatars_of(session, completed.id)
            remaining = ledger.balance(session, user.id)
        details = self._details(completed, model, remaining=remaining, notes=notes)
        return GenerationOutcome(
            generation_id=completed.id,
            images=[self.storage.path(avatar.image_path) for avatar in saved],
            details=details,
            notes=notes,
        )

    def _save(
        self, user: User, generation: Generation, result: GenerationResult, *, record: dict[str, Any], started: float
    ) -> Generation:
        saved = self.storage.save(result.images, user_id=user.id, generation_id=generation.id)
        with self.database.session() as session:
            return generations.complete(
                session,
                generation.id,
                avatars=saved,
                seed=result.seed,
                engine=result.engine,
                attempts=result.attempts,
                processing_ms=round((time.monotonic() - started) * 1000),
                params={**record, **result.effective_params},
            )

    def _fail(self, user: User, generation: Generation, exc: Exception, *, started: float) -> None:
        error = exc if isinstance(exc, PhotoMakerError) else PhotoMakerError("INTERNAL")
        if not isinstance(exc, PhotoMakerError):
            log.exception("generation %s failed unexpectedly", generation.id)
        self.storage.delete_generation(user_id=user.id, generation_id=generation.id)
        with self.database.session() as session:
            refunded = generations.fail(
                session,
                generation.id,
                code=error.code,
                message=error.message,
                attempts=exc.attempts if isinstance(exc, BackendError) else None,
                processing_ms=round((time.monotonic() - started) * 1000),
            )
        log.warning("generation %s failed (%s); refunded %s credits", generation.id, error.code, refunded)

    @staticmethod
    def _details(generation: Generation, model: AIModel, *, remaining: int, notes: list[str]) -> dict[str, Any]:
        params = generation.params
        return {
            "generation_id": generation.id,
            "status": generation.status,
            "engine": generation.engine,
            "preview": generation.preview,
            "model_key": generation.model_key,
            "model_name": model.name,
            "tier": model.tier,
            "mode": generation.mode,
            "prompt": generation.prompt,
            "negative_prompt": generation.negative_prompt,
            "style": params.get("style"),
            "style_strength": params.get("style_strength"),
            "seed": generation.seed,
            "width": params.get("width"),
            "height": params.get("height"),
            "num_images": params.get("num_images"),
            "steps": params.get("steps"),
            "guidance_scale": params.get("guidance_scale"),
            "credits_charged": generation.credits_charged,
            "credits_remaining": remaining,
            "processing_ms": generation.processing_ms,
            "attempts": generation.attempts,
            "notes": notes,
        }
