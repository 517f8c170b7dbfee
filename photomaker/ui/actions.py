"""What the page and the API both do with a request: one path from uploads (or a prompt) to images."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from photomaker.engines.base import ProgressFn, no_progress
from photomaker.runtime import Runtime
from photomaker.service import AvatarParams, GenerationOutcome, TextParams
from photomaker.ui import uploads


def generate_from_uploads(
    runtime: Runtime,
    username: str,
    photo_items: Sequence[Any] | None,
    *,
    progress: ProgressFn = no_progress,
    keep_photos_for_a_retry: bool = False,
    **fields: Any,
) -> GenerationOutcome:
    """Generate from uploaded files, then delete the uploads: once read, photos are never kept.

    With `keep_photos_for_a_retry` (the page, where the upload box still shows them), a mistake
    in the prompt or the options is refused before the photos are read, and they stay for the
    corrected try. Raises our errors unchanged: the API turns them into `gr.Error`, the page
    shows them inline.
    """
    params = AvatarParams(photos=uploads.to_uploads(photo_items), **fields)
    if keep_photos_for_a_retry:
        runtime.service.check_avatar(username, params)
    try:
        return runtime.service.generate_avatar(username, params, progress=progress)
    finally:
        uploads.discard(photo_items)


def generate_from_text(
    runtime: Runtime, username: str, *, progress: ProgressFn = no_progress, **fields: Any
) -> GenerationOutcome:
    """Generate from a prompt alone; raises our errors unchanged, like `generate_from_uploads`."""
    return runtime.service.generate_from_text(username, TextParams(**fields), progress=progress)
