"""The Generate tab: photos (or just a prompt) and options in, images out, the cost shown before generating.

The widgets are laid out in `generate_form`, the events live in `generate_handlers`; this module wires them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gradio as gr

from photomaker.generation.params import TextParams
from photomaker.startup.runtime import Runtime
from photomaker.ui import concurrency
from photomaker.ui.generate_form import GenerateForm, build_generate_form
from photomaker.ui.generate_handlers import GenerateHandlers
from photomaker.ui.pack_inputs import PAGE_FIELDS


def build_generate_tab(runtime: Runtime, *, engine_note: Callable[[], str]) -> GenerateHandlers:
    """Lay out the tab inside the current Blocks and wire its events; returns its handlers (for the app's load)."""
    form = build_generate_form(runtime, engine_note=engine_note)
    handlers = GenerateHandlers(runtime, form, engine_note=engine_note)
    _wire_choices(form, handlers)
    _wire_projects(form, handlers)
    _wire_generate(runtime, form, handlers)
    return handlers


def _wire_choices(form: GenerateForm, handlers: GenerateHandlers) -> None:
    """A new mode, tier, number of images or text model: the controls, price and prompt tokens that follow."""
    form.mode.change(
        handlers.on_mode,
        {*handlers.choice, form.details},
        [
            *handlers.photo_only,
            *handlers.text_only,
            form.prompt,
            form.results,
            form.details,
            form.cost,
            form.num_images,
        ],
        api_name="ui_mode",
        api_visibility="private",
    )
    form.tier.change(
        handlers.on_tier,
        handlers.choice,
        [form.style_strength, form.cost, form.num_images],
        api_name="ui_tier",
        api_visibility="private",
    )
    for control, name in ((form.num_images, "ui_cost"), (form.model, "ui_text_model"), (form.styles, "ui_styles")):
        control.change(
            handlers.on_cost, handlers.choice, [form.cost, form.num_images], api_name=name, api_visibility="private"
        )
    # A preset picked by the user fills in the styles, which then price themselves.
    form.preset.input(handlers.on_preset, {form.preset}, [form.styles], api_name="ui_preset", api_visibility="private")
    gr.on(
        [control.change for control in (form.mode, form.prompt, form.styles, form.subject, form.photos)],
        handlers.on_prompt_tokens,
        handlers.prompt_inputs,
        [form.prompt_tokens],
        api_name="ui_prompt_tokens",
        api_visibility="private",
        trigger_mode="always_last",  # typing fast: only the latest text is counted
        show_progress="hidden",
    )


def _wire_projects(form: GenerateForm, handlers: GenerateHandlers) -> None:
    """The project picker: another project picked, a new one made, the selected one renamed."""
    # A pick by the user, not the updates the handlers make (they show the history themselves).
    form.project.input(
        handlers.projects.on_project,
        {form.project},
        [form.project, form.history],
        api_name="ui_project",
        api_visibility="private",
    )
    for button, action, name in (
        (form.new_project, handlers.projects.on_new_project, "ui_new_project"),
        (form.rename_project, handlers.projects.on_rename_project, "ui_rename_project"),
    ):
        button.click(
            action,
            {form.project, form.project_name},
            handlers.projects.outputs,
            api_name=name,
            api_visibility="private",
        )


SHOW_RESULTS = "() => document.querySelector('#results')?.scrollIntoView({block: 'start', behavior: 'instant'})"
"""Gradio scrolls to each output as it updates, and on a laptop ends below the results: the results, once more."""


def _wire_generate(runtime: Runtime, form: GenerateForm, handlers: GenerateHandlers) -> None:
    """The two Generate buttons, each in its engine's line, with Cancel shown while they run."""
    named = form.named()
    # Progress shows on the results, and the page scrolls to them when done: on a phone they are far below.
    on_results: dict[str, Any] = {"show_progress_on": [form.results], "scroll_to_output": True}
    cancelling = handlers.cancelling
    for button, name, fields, engine in (
        (form.generate, "ui_generate", ("photos", *PAGE_FIELDS), runtime.service.engine),
        (form.generate_text, "ui_generate_text", tuple(TextParams.model_fields), runtime.service.text_engine),
    ):
        inputs = {named[field] for field in ("randomise", "mode", *fields)}
        # Cancel shows at the click, beside the generation (which keeps scrolling to its results), and goes after it.
        button.click(cancelling.shown, {form.cancel}, [form.cancel], queue=False, api_visibility="private")
        button.click(
            handlers.on_generate,
            inputs,
            handlers.outputs,
            api_name=name,
            **on_results,
            **concurrency.generations(engine, runtime.settings),
            api_visibility="private",
        ).then(cancelling.hidden, {form.cancel}, [form.cancel], queue=False, api_visibility="private").then(
            None, js=SHOW_RESULTS, api_visibility="private", concurrency_id=f"{name}:show-results"
        )
    form.cancel.click(
        cancelling.on_cancel, {form.cancel}, [form.cancel], api_name="ui_cancel", api_visibility="private"
    )
