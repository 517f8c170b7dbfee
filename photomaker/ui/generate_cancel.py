"""The Generate tab's Cancel button: shown while this browser's generation runs, it stops that generation after
the avatar being made (`Jobs.cancel`); what is made by then is kept and charged, the rest refunded, and the
generation's own answer says so where the results go."""

from __future__ import annotations

from typing import TYPE_CHECKING

import gradio as gr

from photomaker.core.errors import RefusedError
from photomaker.startup.runtime import Runtime
from photomaker.ui.identity import viewer
from photomaker.ui.project_picker import Values
from photomaker.ui.sessions import OneAtATime

if TYPE_CHECKING:
    from photomaker.ui.generate_form import GenerateForm


class Cancelling:
    """Which generation this browser runs (`running`), and the button that cancels it."""

    def __init__(self, runtime: Runtime, form: GenerateForm, running: OneAtATime) -> None:
        self.runtime, self.form, self.running = runtime, form, running

    def on_cancel(
        self, data: Values, profile: gr.OAuthProfile | None = None, request: gr.Request | None = None
    ) -> Values:
        """Cancel this browser's running generation; with nothing running (it just ended) there is nothing to do."""
        generation_id, username = self.running.running(request), viewer(self.runtime, profile)
        if generation_id is None or username is None:
            return {self.form.cancel: gr.update(visible=False)}
        try:
            self.runtime.jobs.cancel(generation_id, username=username)
        except RefusedError:  # it ended meanwhile: its outcome is on its way to the page
            return {self.form.cancel: gr.update(visible=False)}
        return {self.form.cancel: gr.update(value="Cancelling…", interactive=False)}
