"""What the page and the API both do: one path from uploads (or a prompt) to images, and a user's
export and deletion."""

from __future__ import annotations

import zipfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from photomaker.accounts.account import DeletionSummary
from photomaker.accounts.projects import ProjectDeletion
from photomaker.engines.base import ProgressFn, no_progress
from photomaker.generation.results import GenerationOutcome
from photomaker.images.avatar_files import download_names
from photomaker.startup.runtime import Runtime
from photomaker.ui import uploads
from photomaker.ui.cache import copies_of, served_download, withdraw, withdraw_downloads
from photomaker.ui.kept_photos import KEPT, PageKey

DATA_EXPORT_NAME = "my-photomaker-data.zip"


def generate_from_uploads(
    runtime: Runtime,
    asker: Callable[[], str],
    photo_items: Any,
    values: Mapping[str, Any],
    *,
    uploader: str | None,
    page: PageKey | None = None,
    pack: bool = False,
    address: str | None = None,
    progress: ProgressFn = no_progress,
    started: Callable[[int], None] = lambda generation_id: None,
) -> GenerationOutcome:
    """Generate (with `pack`, a pack) for whoever `asker` says is asking, from files `uploader` sent, as a job
    (`started` hears its id, to cancel it), then delete those files, unless the `page` that sent them keeps
    them for its next generations (`kept_photos`).

    Only this client's own uploads are read: naming anything else is refused (and that file left
    alone). Whatever becomes of the request, a refusal (a caller who is nobody included) or a
    failure, the uploads it claimed are deleted or kept alike. Raises our errors unchanged: the API
    turns them into `gr.Error`, the page shows them inline.
    """
    claimed = uploads.claim(photo_items, owner=uploader)
    username = None
    try:
        username = asker()
        return runtime.jobs.run(
            username,
            values,
            uploads=claimed.photos,
            pack=pack,
            upload_problem=claimed.problem,
            named=claimed.named,
            address=address,
            progress=progress,
            started=started,
        )
    finally:
        if page is None or username is None:
            uploads.discard(claimed.photos)
        else:
            KEPT.keep(page, claimed.photos, username=username)


def generate_from_text(
    runtime: Runtime,
    username: str,
    values: Mapping[str, Any],
    *,
    address: str | None = None,
    progress: ProgressFn = no_progress,
    started: Callable[[int], None] = lambda generation_id: None,
) -> GenerationOutcome:
    """Generate from a prompt alone, as a job; raises our errors unchanged, like `generate_from_uploads`."""
    return runtime.jobs.run(username, values, address=address, progress=progress, started=started)


def export_file(runtime: Runtime, username: str) -> str:
    """The user's data as a ZIP, served to them alone."""
    served, _ = served_download(
        DATA_EXPORT_NAME, lambda path: runtime.accounts.export_data(username, path), owner=username
    )
    return served


def results_zip(username: str, outcome: GenerationOutcome) -> str:
    """A generation's images in one ZIP, each named by its style and number (`cinematic-2.png`), served to
    `username` alone."""
    names = download_names(outcome.styles)

    def write(path: Path) -> None:
        with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:  # PNGs do not compress further
            for image, name in zip(outcome.images, names, strict=True):
                archive.write(image, name)

    served, _ = served_download(f"photomaker-{outcome.generation_id}.zip", write, owner=username)
    return served


def delete_data(runtime: Runtime, username: str) -> DeletionSummary:
    """Delete the user's data, and every copy served to them: their avatars and thumbnails, their exports, and the
    photos their pages keep."""
    copies = copies_of(runtime.accounts.avatar_files(username))
    summary = runtime.accounts.delete_data(username)
    withdraw(copies)
    withdraw_downloads(username)
    KEPT.forget_user(username)
    return summary


def delete_project(runtime: Runtime, username: str, project_id: int) -> tuple[ProjectDeletion, list[Path]]:
    """Delete one of the user's projects and every copy of its avatars and thumbnails served to them; returns what
    was deleted and the folders of those copies (so that the page can take down whatever showed them)."""
    copies = copies_of(runtime.accounts.avatar_files(username, project_id=project_id))
    deletion = runtime.projects.delete(username, project_id)
    withdraw(copies)
    return deletion, copies
