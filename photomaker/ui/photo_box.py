"""The Generate tab's photo box: what it holds is kept for the page's next generations (`kept_photos`), and the
*Forget my photos* button and the page closing delete it."""

from __future__ import annotations

from typing import TYPE_CHECKING

import gradio as gr

from photomaker.startup.runtime import Runtime
from photomaker.ui import uploads
from photomaker.ui.identity import viewer
from photomaker.ui.kept_photos import KEPT, page_of
from photomaker.ui.project_picker import Values
from photomaker.ui.upload_keys import uploader

if TYPE_CHECKING:
    from photomaker.ui.generate_form import GenerateForm

FORGOTTEN = "Your photos are deleted from this app."


class PhotoBox:
    """The box's events, for the page that sends them."""

    def __init__(self, runtime: Runtime, form: GenerateForm) -> None:
        self.runtime, self.form = runtime, form

    def on_change(
        self, data: Values, profile: gr.OAuthProfile | None = None, request: gr.Request | None = None
    ) -> None:
        """What the box holds now is kept for this page (a photo taken out is deleted at once); a visitor not
        signed in keeps nothing: their uploads go as any other's nobody uses."""
        page, username = page_of(request), viewer(self.runtime, profile)
        if page is None or username is None:
            return
        KEPT.keep(page, uploads.claim(data[self.form.photos], owner=page.uploader).photos, username=username)

    def on_forget(self, data: Values, request: gr.Request | None = None) -> Values:
        """Every photo of this page deleted, those in the box and those it kept, and the box emptied."""
        page = page_of(request)
        uploads.discard(uploads.claim(data[self.form.photos], owner=uploader(request)).photos)
        if page is not None:
            KEPT.forget(page)
        gr.Info(FORGOTTEN)
        return {self.form.photos: None}

    def on_unload(self, request: gr.Request) -> None:
        """The page is closed or reloaded: what it kept is deleted."""
        page = page_of(request)
        if page is not None:
            KEPT.forget(page)
