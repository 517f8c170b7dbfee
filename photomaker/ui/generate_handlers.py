"""The Generate tab's events: each takes the form's values keyed by widget and returns updates keyed by widget."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import gradio as gr

from photomaker.core.errors import PhotoMakerError
from photomaker.engines.base import CountsTokens, Engine
from photomaker.engines.loading import Loading
from photomaker.generation import prompts
from photomaker.generation.prompt_fit import estimate
from photomaker.generation.prompts import DEFAULT_STYLE
from photomaker.startup.runtime import Runtime
from photomaker.ui.generate_flow import GenerationFlow
from photomaker.ui.generate_form import GenerateForm
from photomaker.ui.generate_words import (
    EMPTY_RESULTS,
    RESULTS_LABEL,
    TEXT_MODE,
    cost_text,
    prompt_help,
    tokens_text,
)
from photomaker.ui.identity import viewer
from photomaker.ui.pack_inputs import PHOTOS_LABEL, preset_styles
from photomaker.ui.project_picker import ProjectPicker, Values


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
        self.flow = GenerationFlow(self)

    def values(self, data: Values, names: Iterable[str]) -> dict[str, Any]:
        """The form's values of `names`; the seed is -1 (a fresh one) when randomising or left empty."""
        named = {name: data[getattr(self.form, name)] for name in names}
        if data[self.form.randomise] or named["seed"] is None:
            named["seed"] = -1
        return named

    def credits(self, username: str | None) -> int | None:
        """The user's balance (None: a visitor not signed in)."""
        return None if username is None else self.runtime.accounts.account(username).credits

    def cost(self, data: Values, credits: int | None) -> str:
        """The price of what the form asks for, and whether `credits` cover it."""
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
            form.cost: self.cost(data, self.credits(viewer(self.runtime, profile))),
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

    def on_load(self, data: Values, username: str | None) -> Values:
        """The page as `username` (None: a visitor not signed in) opens it, their oldest project selected; their
        account opens at sign-in."""
        form = self.form
        credits = None if username is None else self.runtime.accounts.sign_in(username).credits
        return {
            form.cost: self.cost(data, credits),
            **self.projects.picker(username, None),
            **self.on_note(),
            form.my_data.section: gr.Accordion(visible=username is not None),
        }

    @property
    def load_outputs(self) -> list[Any]:
        """What opening the page updates (see `on_load`)."""
        form = self.form
        return [form.cost, form.history, form.project, form.note, form.note_timer, form.my_data.section]

    def on_note(self) -> Values:
        """The engine note again, and its timer running only while the engine's model loads."""
        # Asked first: a model that finishes loading in between is then shown ready at the next tick.
        active = loading(self.runtime.service.engine)
        return {self.form.note: self.engine_note(), self.form.note_timer: gr.Timer(active=active)}

    @property
    def note_outputs(self) -> list[Any]:
        """What the note's timer updates (see `on_note`)."""
        return [self.form.note, self.form.note_timer]
