"""The public API: named Gradio endpoints for programs (`gradio_client`).

Parameter names and defaults here are the contract; keep them stable.
"""

from __future__ import annotations

from typing import Any

import gradio as gr
from gradio import FileData

from photomaker import metrics
from photomaker.engines.registry import concurrency_limit
from photomaker.prompts import DEFAULT_STYLE
from photomaker.runtime import Runtime
from photomaker.service import GenerationOutcome
from photomaker.store.accounts import DEFAULT_PROJECT
from photomaker.ui import actions
from photomaker.ui.errors import shown_to_user
from photomaker.ui.identity import username_for


def as_files(outcome: GenerationOutcome) -> tuple[list[FileData], dict[str, Any]]:
    """What the generate endpoints return: the image files and the generation's details."""
    files = [FileData(path=str(path), orig_name=path.name, mime_type="image/png") for path in outcome.images]
    return files, outcome.details


def register_api(runtime: Runtime) -> None:
    """Add the API endpoints to the current Blocks."""
    service = runtime.service

    def generate_avatar(
        photos: list[FileData],
        prompt: str,
        tier: str = "pro",
        style: str = DEFAULT_STYLE,
        style_strength: int | None = None,
        subject: str = "person",
        negative_prompt: str = "",
        num_images: int = 1,
        seed: int = -1,
        steps: int | None = None,
        guidance_scale: float | None = None,
        project: str = DEFAULT_PROJECT,
        profile: gr.OAuthProfile | None = None,
    ) -> tuple[list[FileData], dict[str, Any]]:
        """Make 1-4 avatars from 1-4 photos of one person; returns the images and the generation's details."""
        with shown_to_user():
            outcome = actions.generate_from_uploads(
                runtime,
                username_for(profile, runtime.settings),
                photos,
                prompt=prompt,
                tier=tier,
                style=style,
                style_strength=style_strength,
                subject=subject,
                negative_prompt=negative_prompt or "",
                num_images=num_images,
                seed=seed,
                steps=steps,
                guidance_scale=guidance_scale,
                project=project or DEFAULT_PROJECT,
            )
        return as_files(outcome)

    def generate_from_text(
        prompt: str,
        model: str | None = None,
        width: int = 1024,
        height: int = 1024,
        negative_prompt: str = "",
        num_images: int = 1,
        seed: int = -1,
        project: str = DEFAULT_PROJECT,
        profile: gr.OAuthProfile | None = None,
    ) -> tuple[list[FileData], dict[str, Any]]:
        """Make 1-4 images from a text prompt alone (no photos); returns the images and the generation's details."""
        with shown_to_user():
            outcome = actions.generate_from_text(
                runtime,
                username_for(profile, runtime.settings),
                prompt=prompt,
                model=model or None,
                width=width,
                height=height,
                negative_prompt=negative_prompt or "",
                num_images=num_images,
                seed=seed,
                project=project or DEFAULT_PROJECT,
            )
        return as_files(outcome)

    def account(profile: gr.OAuthProfile | None = None) -> dict[str, Any]:
        """The caller's account: username, credit balance, and whether they are an admin."""
        found = service.account(username_for(profile, runtime.settings))
        return {"username": found.username, "credits": found.credits, "is_admin": found.is_admin}

    def rate_generation(generation_id: int, stars: int, profile: gr.OAuthProfile | None = None) -> dict[str, Any]:
        """Rate one of your own completed generations 1-5 stars; rate again to change it.

        Returns generation_id, stars and previous_stars (None on a first rating).
        """
        with shown_to_user():
            rating = service.rate(username_for(profile, runtime.settings), generation_id, stars)
        return {"generation_id": rating.generation_id, "stars": rating.stars, "previous_stars": rating.previous}

    def metrics_summary(window: str = "7d", tier: str = "all", include_synthetic: bool = True) -> dict[str, Any]:
        """How generation is going: totals, success rate, times, adoption, satisfaction, credits, per model and
        per error code, and each target with its value and whether it is met.

        window: 24h | 7d | 30d | all (whole hours: 24h starts at the top of the hour 24 hours ago).
        tier: all | basic | pro | enterprise | text. include_synthetic: False leaves out demo-history rows.
        Success rate = completed / (completed + failed); refusals (rejected) are counted apart.
        Times are of completed generations; p50/p95 come from a histogram, exact to within one bucket.
        """
        with shown_to_user():
            view = metrics.View(window=window, tier=tier, include_synthetic=include_synthetic)
            return metrics.summary(runtime.database, view)

    gr.api(
        generate_avatar,
        api_name="generate_avatar",
        concurrency_limit=concurrency_limit(service.engine, runtime.settings),
        concurrency_id="generate",
    )
    gr.api(
        generate_from_text,
        api_name="generate_from_text",
        concurrency_limit=runtime.settings.remote_concurrency,
        concurrency_id="generate-text",
    )
    gr.api(account, api_name="account")
    gr.api(rate_generation, api_name="rate_generation")
    gr.api(metrics_summary, api_name="metrics_summary")
