"""The public API: named Gradio endpoints for programs (`gradio_client`).

Parameter names and defaults here are the contract; keep them stable. Every endpoint that reads
or changes a user's data takes the caller's identity from their sign-in session or from the token
passed as `Client(url, oauth_token=...)`; on a Space, a caller who has neither gets nothing.
"""

from __future__ import annotations

from typing import Any

import gradio as gr
from gradio import FileData
from pydantic import BaseModel

from photomaker.core.errors import RefusedError
from photomaker.generation.packs import MAX_PACK_IMAGES
from photomaker.generation.params import PackParams, PhotoParams, TextParams, as_row_id
from photomaker.generation.prompts import DEFAULT_STYLE, Subject
from photomaker.generation.results import GenerationOutcome
from photomaker.monitoring import metrics, views
from photomaker.startup.runtime import Runtime
from photomaker.store.projects import DEFAULT_PROJECT
from photomaker.ui import actions, concurrency
from photomaker.ui.api_docs import PHOTOS, RETURNS, documented
from photomaker.ui.cache import served_copy
from photomaker.ui.errors import shown_to_user
from photomaker.ui.identity import address, caller, operator
from photomaker.ui.upload_keys import uploader


def as_files(outcome: GenerationOutcome) -> tuple[list[FileData], dict[str, Any]]:
    """What the generate endpoints return: served copies of the images, and the generation's details."""
    files = [FileData(path=served_copy(path), orig_name=path.name, mime_type="image/png") for path in outcome.images]
    return files, outcome.details.model_dump()


def fields_of(model: type[BaseModel], arguments: dict[str, Any]) -> dict[str, Any]:
    """The model's fields among an endpoint's arguments (`locals()`): the signature test keeps the two in step."""
    return {name: arguments[name] for name in model.model_fields}


class PublicApi:
    """The endpoints, bound to the app's runtime: each method is one endpoint, named as its api_name (Gradio reads
    its signature and docstring, so they are the contract)."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    @documented(
        "Make 1-4 avatars of one style from 1-4 photos of one person. Charges the tier's credits per avatar up "
        "front; with only_alike, an avatar that does not look like the person is made once more, then refunded and "
        "left out. Each avatar's likeness to the photos is reported.",
        PhotoParams,
        leading=(PHOTOS,),
        returns=RETURNS,
    )
    def generate_avatar(
        self,
        photos: list[FileData],
        prompt: str,
        tier: str = "pro",
        style: str = DEFAULT_STYLE,
        style_strength: int | None = None,
        subject: Subject = "person",
        negative_prompt: str = "",
        num_images: int = 1,
        seed: int = -1,
        steps: int | None = None,
        guidance_scale: float | None = None,
        project: str = DEFAULT_PROJECT,
        only_alike: bool = True,
        profile: gr.OAuthProfile | None = None,
        token: gr.OAuthToken | None = None,
        request: gr.Request | None = None,
    ) -> tuple[list[FileData], dict[str, Any]]:
        return self._from_uploads(photos, fields_of(PhotoParams, locals()), profile, token, request, pack=False)

    @documented(
        f"Make an avatar pack from 1-4 photos of one person: several styles (or a preset's), the same number of "
        f"avatars of each, at most {MAX_PACK_IMAGES} in all. One charge up front for the whole pack at the "
        "catalogue's price (a bundle price from a few avatars); refused, charging nothing, when the credits do not "
        "cover it. With only_alike, an avatar that does not look like the person is made once more, then refunded "
        "and left out. Each avatar's style and likeness to the photos is reported.",
        PackParams,
        leading=(PHOTOS,),
        returns=RETURNS,
    )
    def generate_pack(
        self,
        photos: list[FileData],
        prompt: str,
        tier: str = "pro",
        styles: list[str] | None = None,
        preset: str | None = None,
        images_per_style: int = 1,
        style_strength: int | None = None,
        subject: Subject = "person",
        negative_prompt: str = "",
        seed: int = -1,
        steps: int | None = None,
        guidance_scale: float | None = None,
        project: str = DEFAULT_PROJECT,
        only_alike: bool = True,
        profile: gr.OAuthProfile | None = None,
        token: gr.OAuthToken | None = None,
        request: gr.Request | None = None,
    ) -> tuple[list[FileData], dict[str, Any]]:
        return self._from_uploads(photos, fields_of(PackParams, locals()), profile, token, request, pack=True)

    def _from_uploads(
        self,
        photos: list[FileData],
        values: dict[str, Any],
        profile: gr.OAuthProfile | None,
        token: gr.OAuthToken | None,
        request: gr.Request | None,
        *,
        pack: bool,
    ) -> tuple[list[FileData], dict[str, Any]]:
        """A single-style request or a pack from the caller's uploads, as the generate endpoints return it."""
        with shown_to_user():
            outcome = actions.generate_from_uploads(
                self.runtime,
                lambda: caller(self.runtime, profile, token),
                photos,
                values,
                uploader=uploader(request),
                pack=pack,
                address=address(self.runtime, request),
            )
        return as_files(outcome)

    def cancel_generation(
        self, generation_id: int, profile: gr.OAuthProfile | None = None, token: gr.OAuthToken | None = None
    ) -> dict[str, Any]:
        """Cancel one of your generations while it runs: the avatar being made is finished, kept and charged, the
        rest are refunded; the generation's own call then returns what was kept. Refused (NOT_RUNNING) when it is
        not running in this app, or is not yours. While it runs, its charge in your credit history names its
        generation_id."""
        with shown_to_user():
            username = caller(self.runtime, profile, token)
            found = as_row_id(generation_id)
            if found is None:
                raise RefusedError("INVALID_PARAMS", "generation_id must be a generation's number, 1 or more.")
            self.runtime.jobs.cancel(found, username=username)
        return {"generation_id": found, "cancelling": True}

    def generate_from_text(
        self,
        prompt: str,
        model: str | None = None,
        width: int = 1024,
        height: int = 1024,
        negative_prompt: str = "",
        num_images: int = 1,
        seed: int = -1,
        project: str = DEFAULT_PROJECT,
        profile: gr.OAuthProfile | None = None,
        token: gr.OAuthToken | None = None,
        request: gr.Request | None = None,
    ) -> tuple[list[FileData], dict[str, Any]]:
        """Make 1-4 images from a text prompt alone (no photos); returns the images and the generation's details."""
        values = fields_of(TextParams, locals())
        with shown_to_user():
            username = caller(self.runtime, profile, token)
            outcome = actions.generate_from_text(self.runtime, username, values, address=address(self.runtime, request))
        return as_files(outcome)

    def account(self, profile: gr.OAuthProfile | None = None, token: gr.OAuthToken | None = None) -> dict[str, Any]:
        """The caller's account: username, credit balance, and whether they operate this app."""
        with shown_to_user():
            found = self.runtime.accounts.account(caller(self.runtime, profile, token))
        return {
            "username": found.username,
            "credits": found.credits,
            "is_admin": self.runtime.identity.is_operator(found.username),
        }

    def credit_history(
        self, profile: gr.OAuthProfile | None = None, token: gr.OAuthToken | None = None
    ) -> list[dict[str, Any]]:
        """Your credit history, newest first: grants, charges and refunds, each with the generation it belongs to."""
        with shown_to_user():
            entries = self.runtime.accounts.credit_history(caller(self.runtime, profile, token))
        return [entry.as_dict() for entry in entries]

    def rate_generation(
        self, generation_id: int, stars: int, profile: gr.OAuthProfile | None = None, token: gr.OAuthToken | None = None
    ) -> dict[str, Any]:
        """Rate one of your own completed generations 1-5 stars; rate again to change it.

        Returns generation_id, stars and previous_stars (None on a first rating).
        """
        with shown_to_user():
            rating = self.runtime.gallery.rate(caller(self.runtime, profile, token), generation_id, stars)
        return {"generation_id": rating.generation_id, "stars": rating.stars, "previous_stars": rating.previous}

    def export_my_data(self, profile: gr.OAuthProfile | None = None, token: gr.OAuthToken | None = None) -> FileData:
        """A ZIP of your avatars, your generations (generations.json) and your credit history (credit_history.json)."""
        with shown_to_user():
            path = actions.export_file(self.runtime, caller(self.runtime, profile, token))
        return FileData(path=path, orig_name=actions.DATA_EXPORT_NAME, mime_type="application/zip")

    def delete_my_data(
        self, confirm: bool = False, profile: gr.OAuthProfile | None = None, token: gr.OAuthToken | None = None
    ) -> dict[str, Any]:
        """Delete your avatars, prompts and projects for good (pass confirm=True). Your credits stay; the
        monitoring keeps its counts, which hold no names."""
        with shown_to_user():
            username = caller(self.runtime, profile, token)
            if confirm is not True:
                raise RefusedError("INVALID_PARAMS", "Nothing was deleted: pass confirm=True to delete your data.")
            summary = actions.delete_data(self.runtime, username)
        return {"username": username, **summary.as_dict()}

    def grant_credits(
        self,
        username: str,
        amount: int,
        reason: str,
        profile: gr.OAuthProfile | None = None,
        token: gr.OAuthToken | None = None,
    ) -> dict[str, Any]:
        """Operators only: give a user credits (a negative amount takes them back, never below zero), with a reason."""
        with shown_to_user():
            admin = operator(self.runtime, profile, token)
            balance = self.runtime.accounts.grant(username, amount, reason=reason, by=admin)
        return {"username": username.strip(), "change": amount, "credits": balance}

    def metrics_summary(
        self,
        window: str = "7d",
        tier: str = "all",
        include_synthetic: bool = True,
        profile: gr.OAuthProfile | None = None,
        token: gr.OAuthToken | None = None,
    ) -> dict[str, Any]:
        """Operators only: how generation is going: totals, success rate, times, adoption, satisfaction,
        credits, per model and per error code, and each target with its value and whether it is met.

        window: 24h | 7d | 30d | all (whole hours: 24h starts at the top of the hour 24 hours ago).
        tier: all | basic | pro | enterprise | text. include_synthetic: False leaves out demo-history rows.
        Success rate = completed / (completed + failed); refusals (rejected) are counted apart.
        Times are of completed generations; p50/p95 come from a histogram, exact to within one bucket.
        The likeness check: kept_rate = avatars_kept / avatars_asked, first_try_alike_rate (the same before the
        check) and tries_per_kept_avatar = avatars_made / avatars_kept, over Photo to Avatar generations.
        """
        with shown_to_user():
            operator(self.runtime, profile, token)
            view = views.View(window=window, tier=tier, include_synthetic=include_synthetic)
            return metrics.summary(self.runtime.database, view)


def register_api(runtime: Runtime) -> None:
    """Add the API endpoints to the current Blocks: the two ways to generate (from photos, from a prompt alone)
    each in its engine's line, then the caller's own account and the operators' endpoints."""
    api = PublicApi(runtime)
    gr.api(
        api.generate_avatar,
        api_name="generate_avatar",
        **concurrency.generations(runtime.service.engine, runtime.settings),
    )
    gr.api(
        api.generate_pack,
        api_name="generate_pack",
        **concurrency.generations(runtime.service.engine, runtime.settings),
    )
    gr.api(
        api.generate_from_text,
        api_name="generate_from_text",
        **concurrency.generations(runtime.service.text_engine, runtime.settings),
    )
    for endpoint in (
        api.cancel_generation,
        api.account,
        api.credit_history,
        api.rate_generation,
        api.export_my_data,
        api.delete_my_data,
        api.grant_credits,
        api.metrics_summary,
    ):
        gr.api(endpoint, api_name=endpoint.__name__)
