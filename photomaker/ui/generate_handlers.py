"""The Generate tab's events: each takes the form's values keyed by widget and returns updates keyed by widget."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import partial
from typing import Any

import gradio as gr

from photomaker.core.errors import AccessError, PhotoMakerError, RefusedError
from photomaker.engines.base import CountsTokens, Engine, ProgressFn
from photomaker.engines.loading import Loading
from photomaker.generation import prompts
from photomaker.generation.params import TextParams
from photomaker.generation.prompt_fit import estimate
from photomaker.generation.prompts import DEFAULT_STYLE
from photomaker.generation.results import GenerationOutcome
from photomaker.startup.runtime import Runtime
from photomaker.ui import actions
from photomaker.ui.cache import served_copy
from photomaker.ui.errors import error_markdown
from photomaker.ui.generate_cancel import Cancelling
from photomaker.ui.generate_form import GenerateForm
from photomaker.ui.generate_results import RESULT_COLUMNS
from photomaker.ui.generate_words import (
    EMPTY_RESULTS,
    RESULTS_LABEL,
    TEXT_MODE,
    cost_text,
    details_text,
    prompt_help,
    result_captions,
    tokens_text,
)
from photomaker.ui.identity import address, caller, viewer
from photomaker.ui.pack_inputs import PAGE_FIELDS, PHOTOS_LABEL, preset_styles, request_values
from photomaker.ui.project_picker import ProjectPicker, Values
from photomaker.ui.sessions import OneAtATime
from photomaker.ui.upload_keys import uploader


def reporting_to(progress: gr.Progress) -> ProgressFn:
    """Our progress reports, shown on Gradio's progress bar."""
    return lambda fraction, message: progress(fraction, desc=message)


def loading(engine: Engine) -> bool:
    """The engine is still loading its model (so the page keeps showing how far it has got)."""
    return isinstance(engine, Loading) and engine.status().state == "loading"


class GenerateHandlers:
    """What the tab does when the user changes a choice, generates, or opens the page."""

    def __init__(self, runtime: Runtime, form: GenerateForm, *, engine_note: Callable[[], str]) -> None:
        self.runtime = runtime
        self.form = form
        self.engine_note = engine_note
        self.projects = ProjectPicker(runtime, form)
        self.running = OneAtATime()
        self.cancelling = Cancelling(runtime, form, self.running)

    def values(self, data: Values, names: Iterable[str]) -> dict[str, Any]:
        """The form's values of `names`; the seed is -1 (a fresh one) when randomising or left empty."""
        named = {name: data[getattr(self.form, name)] for name in names}
        if data[self.form.randomise] or named["seed"] is None:
            named["seed"] = -1
        return named

    def _credits(self, username: str | None) -> int | None:
        return None if username is None else self.runtime.accounts.account(username).credits

    def _cost(self, data: Values, credits: int | None) -> str:
        form = self.form
        count = int(data[form.num_images])
        if data[form.mode] != TEXT_MODE:
            count *= len(data[form.styles] or [])
        return cost_text(form.chosen_model(data), count, credits)

    def on_cost(self, data: Values, profile: gr.OAuthProfile | None = None) -> Values:
        """A new number of images, styles or text model: the price again; the images slider says whether it counts
        the images of each style."""
        form = self.form
        pack = data[form.mode] != TEXT_MODE and len(data[form.styles] or []) > 1
        return {
            form.cost: self._cost(data, self._credits(viewer(self.runtime, profile))),
            form.num_images: gr.update(label=PHOTOS_LABEL[pack]),
        }

    def on_preset(self, data: Values) -> Values:
        """A preset picked: its styles (which then price themselves)."""
        styles = preset_styles(data[self.form.preset])
        return {self.form.styles: gr.update() if styles is None else styles}

    def on_tier(self, data: Values, profile: gr.OAuthProfile | None = None) -> Values:
        """A new tier: its own style strength, and the price."""
        model = self.form.models.get(data[self.form.tier])
        strength = gr.update(value=model.default_style_strength) if model else gr.update()
        return {self.form.style_strength: strength, **self.on_cost(data, profile)}

    def on_mode(self, data: Values, profile: gr.OAuthProfile | None = None) -> Values:
        """The other mode: its controls and words (where nothing was made yet, what will appear), and the price."""
        form = self.form
        text = data[form.mode] == TEXT_MODE
        info, placeholder = prompt_help(data[form.mode], self.runtime.service.engine)
        empty = data[form.details] in EMPTY_RESULTS.values()
        return {
            **{widget: gr.update(visible=not text) for widget in self.photo_only},
            **{widget: gr.update(visible=text) for widget in self.text_only},
            form.prompt: gr.update(info=info, placeholder=placeholder),
            form.results: gr.update(label=RESULTS_LABEL[data[form.mode]]),
            form.details: EMPTY_RESULTS[data[form.mode]] if empty else gr.skip(),
            **self.on_cost(data, profile),
        }

    def on_prompt_tokens(self, data: Values) -> Values:
        """The styled prompt's tokens as the user types: the engine's own count once its model is loaded, else an
        estimate; nothing in Text to Image or on the preview engine, which read no CLIP tokens of ours."""
        form, engine = self.form, self.runtime.service.engine
        if data[form.mode] == TEXT_MODE or engine.preview or not (data[form.prompt] or "").strip():
            return {form.prompt_tokens: ""}
        photos = max(1, len(data[form.photos] or []))
        counts = []
        try:
            for style in data[form.styles] or [DEFAULT_STYLE]:  # the longest of the styles' prompts is what matters
                styled = prompts.build(data[form.prompt], style=style, subject=data[form.subject]).styled_prompt
                counted = engine.count_tokens(styled, photos=photos) if isinstance(engine, CountsTokens) else None
                counts.append(counted or estimate(styled, photos=photos))
        except PhotoMakerError as error:  # what Generate would refuse, said now
            return {form.prompt_tokens: f"⚠️ {error.message}"}
        return {form.prompt_tokens: tokens_text(max(counts, key=lambda count: count.tokens))}

    @property
    def prompt_inputs(self) -> set[Any]:
        """What the prompt's token count depends on."""
        form = self.form
        return {form.mode, form.prompt, form.styles, form.subject, form.photos}

    @property
    def text_only(self) -> tuple[Any, ...]:
        """What Text to Image shows and Photo to Avatar hides."""
        return (self.form.text_inputs, self.form.generate_text, self.form.text_examples)

    @property
    def photo_only(self) -> tuple[Any, ...]:
        """What Photo to Avatar shows and Text to Image hides."""
        form = self.form
        return (form.photo_inputs, form.tier_inputs, form.photo_advanced, form.generate, form.photo_examples)

    @property
    def choice(self) -> set[Any]:
        """The inputs the price depends on."""
        return {self.form.mode, self.form.tier, self.form.model, self.form.num_images, self.form.styles}

    def on_generate(
        self,
        data: Values,
        profile: gr.OAuthProfile | None = None,
        request: gr.Request | None = None,
        progress: gr.Progress = gr.Progress(),
    ) -> Values:
        """Avatars from the uploaded photos (used up whatever the outcome), or in Text to Image, images from the
        prompt alone."""
        reporting, started = reporting_to(progress), partial(self.running.started, request)
        if data[self.form.mode] == TEXT_MODE:
            return self._shown(
                lambda: actions.generate_from_text(
                    self.runtime,
                    caller(self.runtime, profile),
                    self.values(data, TextParams.model_fields),
                    address=address(self.runtime, request),
                    progress=reporting,
                    started=started,
                ),
                data,
                profile,
                request=request,
            )
        values, pack = request_values(self.values(data, PAGE_FIELDS))
        return self._shown(
            lambda: actions.generate_from_uploads(
                self.runtime,
                lambda: caller(self.runtime, profile),
                data[self.form.photos],
                values,
                uploader=uploader(request),
                pack=pack,
                address=address(self.runtime, request),
                progress=reporting,
                started=started,
            ),
            data,
            profile,
            request=request,
        )

    def _shown(
        self,
        action: Callable[[], GenerationOutcome],
        data: Values,
        profile: gr.OAuthProfile | None,
        *,
        request: gr.Request | None,
    ) -> Values:
        """The page after a generation: results, details, history, the new balance and seed.

        A refusal or failure (a visitor not signed in included) is shown where the results would
        be, leaving the last results in place; the upload box is emptied, as the photos were deleted.
        A second click while this session is generating changes nothing.
        """
        form, username = self.form, viewer(self.runtime, profile)
        with self.running.claim(request) as allowed:
            if not allowed:
                return gr.skip()
            try:
                outcome = action()
            except PhotoMakerError as error:
                status = "rejected" if isinstance(error, RefusedError | AccessError) else "failed"
                return {
                    form.details: error_markdown(error),
                    form.details_json: {"status": status, "error_code": error.code},
                    form.cost: self._cost(data, self._credits(username)),
                    form.photos: None,
                    **form.rating.withdraw(),
                }
        # Its notes are in `details`, under the results: a toast would cover the gallery's buttons.
        images = [
            (served_copy(path), caption) for path, caption in zip(outcome.images, result_captions(outcome), strict=True)
        ]
        return {
            form.results: gr.update(value=images, columns=min(len(images), RESULT_COLUMNS)),
            form.download: gr.update(value=actions.results_zip(caller(self.runtime, profile), outcome), visible=True),
            form.details: details_text(outcome),
            form.details_json: outcome.details.model_dump(),
            form.cost: self._cost(data, outcome.details.credits_remaining),
            form.seed: outcome.details.seed,
            form.photos: None,
            **self.projects.picker(username, data[form.project]),  # the generation may have made its project
            **form.rating.offer(outcome.generation_id),
        }

    def on_load(self, data: Values, username: str | None) -> Values:
        """The page as `username` (None: a visitor not signed in) opens it, their oldest project selected; their
        account opens at sign-in."""
        form = self.form
        credits = None if username is None else self.runtime.accounts.sign_in(username).credits
        return {
            form.cost: self._cost(data, credits),
            **self.projects.picker(username, None),
            **self.on_note(),
            form.my_data: gr.Accordion(visible=username is not None),
        }

    @property
    def load_outputs(self) -> list[Any]:
        """What opening the page updates (see `on_load`)."""
        form = self.form
        return [form.cost, form.history, form.project, form.note, form.note_timer, form.my_data]

    def on_note(self) -> Values:
        """The engine note again, and its timer running only while the engine's model loads."""
        # Asked first: a model that finishes loading in between is then shown ready at the next tick.
        active = loading(self.runtime.service.engine)
        return {self.form.note: self.engine_note(), self.form.note_timer: gr.Timer(active=active)}

    @property
    def note_outputs(self) -> list[Any]:
        """What the note's timer updates (see `on_note`)."""
        return [self.form.note, self.form.note_timer]

    @property
    def outputs(self) -> list[Any]:
        """What a generation updates."""
        form = self.form
        return [
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
