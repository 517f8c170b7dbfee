"""A generation on the page, from the click to its results in view.

At the click the Generate button goes busy, the last results are cleared and a bar comes into view (fixed at
the bottom of the screen on a laptop and a phone) with what is happening, the time left and Cancel
(`generate_progress`). When it ends, the results or the refusal take the place of the last results and the
page scrolls to them. The photos stay in the box for the next generation (`kept_photos`).
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from typing import TYPE_CHECKING, Any

import gradio as gr

from photomaker.core.errors import AccessError, PhotoMakerError, RefusedError
from photomaker.generation.expected_time import seconds_each
from photomaker.generation.params import TextParams
from photomaker.generation.results import GenerationOutcome
from photomaker.ui import actions
from photomaker.ui.errors import error_markdown
from photomaker.ui.generate_cancel import Cancelling
from photomaker.ui.generate_progress import STARTING, Run, Watched, status_html
from photomaker.ui.generate_results import RESULT_COLUMNS, shown_results
from photomaker.ui.generate_words import (
    BUSY_LABEL,
    GENERATE_LABEL,
    PHOTO_MODE,
    TEXT_MODE,
    details_text,
)
from photomaker.ui.identity import address, caller, viewer
from photomaker.ui.kept_photos import PageKey, page_of
from photomaker.ui.pack_inputs import PAGE_FIELDS, request_values
from photomaker.ui.project_picker import Values
from photomaker.ui.sessions import OneAtATime
from photomaker.ui.upload_keys import uploader

if TYPE_CHECKING:
    from photomaker.ui.generate_handlers import GenerateHandlers


SHOW_RESULTS = "() => document.querySelector('#results-area')?.scrollIntoView({block: 'start', behavior: 'instant'})"
"""Once a generation ends: its results (or its refusal) at the top of the screen."""


class GenerationFlow:
    """The Generate buttons' events: busy at the click, the progress while it runs, the outcome in view."""

    def __init__(self, handlers: GenerateHandlers) -> None:
        self.handlers, self.runtime, self.form = handlers, handlers.runtime, handlers.form
        self.running = OneAtATime()
        self.cancelling = Cancelling(self.runtime, self.form, self.running)

    def on_click(self) -> Values:
        """At the click, before any queue: Generate busy, the bar in view with Cancel, the last results gone."""
        form = self.form
        return {
            form.generate: gr.update(value=BUSY_LABEL, interactive=False),
            form.generate_text: gr.update(value=BUSY_LABEL, interactive=False),
            form.working: gr.update(visible=True),
            form.status: status_html(STARTING, 0),
            form.cancel: gr.update(value="Cancel", interactive=True),
            **form.no_results(),
            form.details: "",
        }

    def on_idle(self, request: gr.Request | None = None) -> Values:
        """Once it has ended, whatever its outcome: the buttons back, the bar gone; not after a second click that
        changed nothing while the first one's generation runs on."""
        form = self.form
        if self.running.busy(request):
            return gr.skip()
        return {
            form.generate: gr.update(value=GENERATE_LABEL[PHOTO_MODE], interactive=True),
            form.generate_text: gr.update(
                value=GENERATE_LABEL[TEXT_MODE], interactive=self.runtime.service.text_engine is not None
            ),
            form.working: gr.update(visible=False),
        }

    @property
    def busy_outputs(self) -> list[Any]:
        """What `on_click` and `on_idle` update."""
        form = self.form
        return [
            form.generate,
            form.generate_text,
            form.working,
            form.status,
            form.cancel,
            *form.results_outputs,
        ]

    def on_generate(
        self, data: Values, profile: gr.OAuthProfile | None = None, request: gr.Request | None = None
    ) -> Iterator[Values]:
        """Avatars from the photos in the box (kept there for the next one), or in Text to Image, images from the
        prompt alone; the bar's line renewed while it runs. A second click while this page generates changes
        nothing."""
        form = self.form
        with self.running.claim(request) as allowed:
            if not allowed:
                yield gr.skip()
                return
            text = data[form.mode] == TEXT_MODE
            # A visitor not signed in keeps nothing: their photos go with the refusal, like a program's.
            page = None if text or viewer(self.runtime, profile) is None else page_of(request)
            watched = Watched(self._run(data, profile, request, page), started=partial(self.running.started, request))
            model, engine = form.chosen_model(data), self.runtime.service.engine
            if text:
                engine = self.runtime.service.text_engine or engine
            each = sum(seconds_each(engine, model)) / 2 if model else 0.0
            noun, pack = ("image", False) if text else ("avatar", len(data[form.styles] or []) > 1)
            for _ in watched.waiting():
                line, step = watched.lines(self.runtime.jobs, expected_each_s=each, noun=noun, pack=pack)
                yield {form.status: status_html(line, watched.fraction, step=step)}
            try:
                outcome = watched.outcome()
            except PhotoMakerError as error:
                yield self._refused(error, data, profile, kept=page is not None)
                return
            yield self._shown(outcome, data, profile, kept=page is not None)

    def _run(
        self, data: Values, profile: gr.OAuthProfile | None, request: gr.Request | None, page: PageKey | None
    ) -> Run:
        """The generation the form asks for, made when called."""
        runtime, form, values = self.runtime, self.form, self.handlers.values
        where = address(runtime, request)
        if data[form.mode] == TEXT_MODE:
            text_values = values(data, TextParams.model_fields)
            return lambda progress, started: actions.generate_from_text(
                runtime, caller(runtime, profile), text_values, address=where, progress=progress, started=started
            )
        photo_values, pack = request_values(values(data, PAGE_FIELDS))
        return lambda progress, started: actions.generate_from_uploads(
            runtime,
            lambda: caller(runtime, profile),
            data[form.photos],
            photo_values,
            uploader=uploader(request),
            page=page,
            pack=pack,
            address=where,
            progress=progress,
            started=started,
        )

    def _refused(self, error: PhotoMakerError, data: Values, profile: gr.OAuthProfile | None, *, kept: bool) -> Values:
        """A refusal or failure (a visitor not signed in included) where the results go; the photos stay in the
        box unless they are gone (not kept, or no longer this page's)."""
        form = self.form
        status = "rejected" if isinstance(error, RefusedError | AccessError) else "failed"
        gone = not kept or error.code == "INVALID_PHOTO"
        return {
            **form.no_results(),  # never under the last avatars
            form.details: error_markdown(error),
            form.details_json: {"status": status, "error_code": error.code},
            form.cost: self.handlers.cost(data, self.handlers.credits(viewer(self.runtime, profile))),
            **({form.photos: None} if gone else {}),
        }

    def _shown(
        self, outcome: GenerationOutcome, data: Values, profile: gr.OAuthProfile | None, *, kept: bool
    ) -> Values:
        """The results, their details and rating, the history, the new balance and seed."""
        form, username = self.form, viewer(self.runtime, profile)
        # Its notes are in `details`, under the results: a toast would cover the gallery's buttons.
        images = shown_results(outcome)
        return {
            form.results: gr.update(value=images, columns=min(len(images), RESULT_COLUMNS), visible=True),
            form.download: gr.update(value=actions.results_zip(caller(self.runtime, profile), outcome), visible=True),
            form.details: details_text(outcome),
            form.details_json: outcome.details.model_dump(),
            form.cost: self.handlers.cost(data, outcome.details.credits_remaining),
            form.seed: outcome.details.seed,
            **({} if kept else {form.photos: None}),
            **self.handlers.projects.picker(username, data[form.project]),  # the generation may have made its project
            **form.rating.offer(outcome.generation_id),
        }

    @property
    def outputs(self) -> list[Any]:
        """What a generation updates as it runs and when it ends."""
        form = self.form
        return [
            form.status,
            form.results,
            form.download,
            form.details,
            form.details_json,
            form.history,
            form.cost,
            form.seed,
            form.photos,
            form.project,
            *form.rating.outputs,
        ]
