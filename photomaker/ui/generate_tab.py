"""The Generate tab: photos (or just a prompt) and options in, images out, the cost shown before generating.

The widgets are laid out in `generate_form`, the events live in `generate_handlers`; this module wires them.
"""

from __future__ import annotations

from collections.abc import Callable

import gradio as gr

from photomaker.generation.params import TextParams
from photomaker.startup.runtime import Runtime
from photomaker.ui import concurrency
from photomaker.ui.generate_deletions import wire_deletions
from photomaker.ui.generate_flow import SHOW_RESULTS
from photomaker.ui.generate_form import GenerateForm, build_generate_form
from photomaker.ui.generate_handlers import GenerateHandlers
from photomaker.ui.pack_inputs import PAGE_FIELDS
from photomaker.ui.photo_box import PhotoBox


def build_generate_tab(runtime: Runtime, demo: gr.Blocks, *, engine_note: Callable[[], str]) -> GenerateHandlers:
    """Lay out the tab inside the current Blocks and wire its events; returns its handlers (for the app's load)."""
    form = build_generate_form(runtime, engine_note=engine_note)
    handlers = GenerateHandlers(runtime, form, engine_note=engine_note)
    _wire_choices(form, handlers)
    _wire_projects(form, handlers)
    wire_deletions(runtime, form, handlers.projects)
    _wire_generate(runtime, form, handlers)
    _wire_photos(runtime, form, demo)
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
    """The project picker: another project picked, a new one made, the selected one renamed (deleting it is wired
    with the other deletion, in `generate_deletions`)."""
    # A pick by the user, not the updates the handlers make (they show the history themselves).
    form.project.input(
        handlers.projects.on_project,
        {form.project},
        [form.project, form.history, form.confirm_delete_project],
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


def _wire_generate(runtime: Runtime, form: GenerateForm, handlers: GenerateHandlers) -> None:
    """The two Generate buttons, each in its engine's line: busy at the click, the progress bar and Cancel in view
    while they run, and the page at the results when they end."""
    named, flow = form.named(), handlers.flow
    for button, name, fields, engine in (
        (form.generate, "ui_generate", ("photos", *PAGE_FIELDS), runtime.service.engine),
        (form.generate_text, "ui_generate_text", tuple(TextParams.model_fields), runtime.service.text_engine),
    ):
        inputs = {named[field] for field in ("randomise", "mode", *fields)}
        # Busy at once, not after the queue: the click shows it was heard even while others' generations run.
        button.click(
            flow.on_click, None, flow.busy_outputs, queue=False, show_progress="hidden", api_visibility="private"
        )
        button.click(
            flow.on_generate,
            inputs,
            flow.outputs,
            api_name=name,
            show_progress="hidden",  # the bar in view says how far it has got
            **concurrency.generations(engine, runtime.settings),
            api_visibility="private",
        ).then(
            flow.on_idle, None, flow.busy_outputs, queue=False, show_progress="hidden", api_visibility="private"
        ).then(None, js=SHOW_RESULTS, api_visibility="private", concurrency_id=f"{name}:show-results")
    form.cancel.click(
        flow.cancelling.on_cancel, {form.cancel}, [form.cancel], api_name="ui_cancel", api_visibility="private"
    )


def _wire_photos(runtime: Runtime, form: GenerateForm, demo: gr.Blocks) -> None:
    """The photo box kept for the page, Forget my photos, and what the page kept deleted when it closes."""
    box = PhotoBox(runtime, form)
    form.photos.change(
        box.on_change, {form.photos}, None, api_name="ui_keep_photos", api_visibility="private", show_progress="hidden"
    )
    form.forget_photos.click(
        box.on_forget, {form.photos}, [form.photos], api_name="ui_forget_photos", api_visibility="private"
    )
    demo.unload(box.on_unload)
