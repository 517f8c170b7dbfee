"""The public API: named Gradio endpoints for programs (`gradio_client`).

Parameter names and defaults here are the contract; keep them stable.
"""

from __future__ import annotations

from typing import Any

import gradio as gr
from gradio import FileData

from photomaker.prompts import DEFAULT_STYLE
from photomaker.runtime import Runtime
from photomaker.store.accounts import DEFAULT_PROJECT
from photomaker.ui.actions import generate_from_uploads
from photomaker.ui.errors import shown_to_user
from photomaker.ui.identity import username_for


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
            outcome = generate_from_uploads(
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
        files = [FileData(path=str(path), orig_name=path.name, mime_type="image/png") for path in outcome.images]
        return files, outcome.details

    def account(profile: gr.OAuthProfile | None = None) -> dict[str, Any]:
        """The caller's account: username, credit balance, and whether they are an admin."""
        found = service.account(username_for(profile, runtime.settings))
        return {"username": found.username, "credits": found.credits, "is_admin": found.is_admin}

    gr.api(
        generate_avatar,
        api_name="generate_avatar",
        concurrency_limit=runtime.settings.preview_concurrency,
        concurrency_id="generate",
    )
    gr.api(account, api_name="account")
