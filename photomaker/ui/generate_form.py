"""The Generate tab's widgets, in one dataclass, laid out once; their bounds, labels and help come from `params`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any

import gradio as gr
from pydantic import BaseModel

from photomaker.engines.base import Engine
from photomaker.generation.params import DEFAULT_MAX_OUTPUTS, PhotoParams, TextParams, bounds, label
from photomaker.generation.preparing import TEXT_MODE_OFF
from photomaker.startup.runtime import Runtime
from photomaker.store import AIModel
from photomaker.ui.generate_results import build_results
from photomaker.ui.generate_words import (
    EMPTY_RESULTS,
    GENERATE_LABEL,
    PHOTO_MODE,
    PROMPT_EXAMPLES,
    TEXT_MODE,
    mode_help,
    prompt_help,
    text_model_label,
    tier_help,
    tier_label,
)
from photomaker.ui.my_data import MyDataWidgets
from photomaker.ui.pack_inputs import PHOTOS_LABEL, build_photo_inputs
from photomaker.ui.project_picker import build_project_picker
from photomaker.ui.rating import RatingWidgets

DEFAULT_TIER = PhotoParams.model_fields["tier"].default


def field_slider(
    model: type[BaseModel],
    name: str,
    *,
    value: float,
    step: float,
    max_images: int = DEFAULT_MAX_OUTPUTS,
    **options: Any,
) -> gr.Slider:
    """A slider for one numeric field: its bounds and label from the model."""
    low, high = bounds(model, name, max_images=max_images)
    return gr.Slider(low, high, value=value, step=step, label=label(model, name), **options)


_NOT_WIDGETS = ("rating", "my_data", "models", "text_models")


@dataclass(frozen=True)
class GenerateForm:
    """Every widget of the Generate tab; a field named like a `PhotoParams`/`TextParams` field holds its value."""

    project: gr.Dropdown
    """Where the next generation is filed (by name, as `PhotoParams.project`) and whose avatars the history shows."""
    project_name: gr.Textbox
    new_project: gr.Button
    rename_project: gr.Button
    confirm_delete_project: gr.Checkbox
    delete_project: gr.Button
    project_note: gr.Markdown
    mode: gr.Radio
    photo_inputs: gr.Column
    photos: gr.Gallery
    """The photos, kept for this page's next generations (`kept_photos`)."""
    forget_photos: gr.Button
    subject: gr.Dropdown
    styles: gr.Dropdown
    """The styles to make: one for a single-style request, several for a pack."""
    preset: gr.Dropdown
    """Fills in `styles` with a named set; never sent itself."""
    prompt: gr.Textbox
    prompt_tokens: gr.Markdown
    """How many of the model's 77 tokens the styled prompt takes, counted as the user types."""
    photo_examples: gr.Column
    text_examples: gr.Column
    tier_inputs: gr.Column
    tier: gr.Radio
    style_strength: gr.Slider
    only_alike: gr.Checkbox
    text_inputs: gr.Column
    model: gr.Radio
    width: gr.Slider
    height: gr.Slider
    num_images: gr.Slider
    negative_prompt: gr.Textbox
    photo_advanced: gr.Row
    steps: gr.Slider
    guidance_scale: gr.Slider
    seed: gr.Number
    randomise: gr.Checkbox
    cost: gr.Markdown
    generate: gr.Button
    generate_text: gr.Button
    working: gr.Row
    """In view while this page generates (fixed at the screen's bottom): `status` and `cancel`."""
    status: gr.HTML
    """What is happening, how far, and the time left (`generate_progress`)."""
    note: gr.Markdown
    note_timer: gr.Timer
    """Shows the note again every few seconds while the engine's model loads (started by the page's load)."""
    results: gr.Gallery
    cancel: gr.Button
    """Shown while a generation of this browser runs: stops it after the avatar being made."""
    download: gr.DownloadButton
    """Every result in one ZIP, named by style and number, served to its owner alone."""
    details: gr.Markdown
    rating: RatingWidgets
    details_json: gr.JSON
    history: gr.Gallery
    my_data: MyDataWidgets
    models: dict[str, AIModel]
    """The photo models by tier."""
    text_models: dict[str, AIModel]
    """The text models by key."""

    def named(self) -> dict[str, Any]:
        """Each widget by its field name."""
        return {item.name: getattr(self, item.name) for item in fields(self) if item.name not in _NOT_WIDGETS}

    def no_results(self) -> dict[Any, Any]:
        """The results as before a first generation, for when what they showed was deleted."""
        return {
            self.results: gr.update(value=None, visible=False),
            self.download: gr.update(value=None, visible=False),
            self.details: EMPTY_RESULTS[PHOTO_MODE],
            self.details_json: None,
            **self.rating.withdraw(),
        }

    @property
    def results_outputs(self) -> list[Any]:
        """What `no_results` updates."""
        return [self.results, self.download, self.details, self.details_json, *self.rating.outputs]

    def chosen_model(self, data: dict[Any, Any]) -> AIModel | None:
        """The model the form's values pick: a text model in Text to Image, else the tier's."""
        if data[self.mode] == TEXT_MODE:
            return self.text_models.get(data[self.model] or "")
        return self.models.get(data[self.tier])


def _prompt(engine: Engine) -> dict[str, Any]:
    info, placeholder = prompt_help(PHOTO_MODE, engine)
    prompt = gr.Textbox(
        label=label(PhotoParams, "prompt"),
        info=info,
        placeholder=placeholder,
        lines=2,
        max_lines=4,
        elem_id="prompt",
    )
    prompt_tokens = gr.Markdown(elem_id="prompt-tokens", elem_classes=["hint"])
    examples = {}
    for name, texts in PROMPT_EXAMPLES.items():
        with gr.Column(visible=name == PHOTO_MODE) as examples[name]:
            gr.Examples(examples=[[text] for text in texts], inputs=[prompt], cache_examples=False)
    return {
        "prompt": prompt,
        "prompt_tokens": prompt_tokens,
        "photo_examples": examples[PHOTO_MODE],
        "text_examples": examples[TEXT_MODE],
    }


def _model_inputs(
    runtime: Runtime, models: dict[str, AIModel], text_models: dict[str, AIModel], default: AIModel
) -> dict[str, Any]:
    """The tier (photo mode) or the text model and size (text mode), each labelled with the time its engine takes."""
    engine, text_engine = runtime.service.engine, runtime.service.text_engine
    with gr.Column() as tier_inputs:
        tier = gr.Radio(
            [(tier_label(model, engine), model.tier) for model in models.values()],
            value=default.tier,
            label=label(PhotoParams, "tier"),
            info=tier_help(engine),
            elem_id="tier",
        )
        style_strength = field_slider(
            PhotoParams,
            "style_strength",
            value=default.default_style_strength,
            step=1,
            info="Higher means more style, less likeness. Each tier has its own default.",
        )
        only_alike = gr.Checkbox(
            value=PhotoParams.model_fields["only_alike"].default,
            label=label(PhotoParams, "only_alike"),
            info="An avatar that does not look like you is made once more, then refunded and not shown.",
            elem_id="only-alike",
        )
    with gr.Column(visible=False) as text_inputs:
        if text_engine is None:
            gr.Markdown(f"⚠️ {TEXT_MODE_OFF}", elem_id="text-off")
        model = gr.Radio(
            [(text_model_label(model, text_engine), key) for key, model in text_models.items()],
            value=next(iter(text_models), None),
            label=label(TextParams, "model"),
            elem_id="text-model",
        )
        with gr.Row():
            width = field_slider(TextParams, "width", value=TextParams.model_fields["width"].default, step=64)
            height = field_slider(TextParams, "height", value=TextParams.model_fields["height"].default, step=64)
    limit = max(model.max_outputs or DEFAULT_MAX_OUTPUTS for model in [*models.values(), *text_models.values()])
    return {
        "tier_inputs": tier_inputs,
        "tier": tier,
        "style_strength": style_strength,
        "only_alike": only_alike,
        "text_inputs": text_inputs,
        "model": model,
        "width": width,
        "height": height,
        "num_images": gr.Slider(
            *bounds(PhotoParams, "num_images", max_images=limit),
            value=1,
            step=1,
            label=PHOTOS_LABEL[False],
            elem_id="num-images",
        ),
    }


def _advanced(default: AIModel) -> dict[str, Any]:
    with gr.Accordion("Advanced options", open=False):
        negative_prompt = gr.Textbox(
            label=label(PhotoParams, "negative_prompt"),
            placeholder=str(PhotoParams.model_fields["negative_prompt"].description).capitalize(),
        )
        with gr.Row() as photo_advanced:
            steps = field_slider(PhotoParams, "steps", value=default.steps, step=1)
            guidance_scale = field_slider(PhotoParams, "guidance_scale", value=default.guidance_scale, step=0.1)
        with gr.Row():
            seed = gr.Number(
                value=PhotoParams.model_fields["seed"].default,
                precision=0,
                label=label(PhotoParams, "seed"),
                info=PhotoParams.model_fields["seed"].description,
            )
            randomise = gr.Checkbox(value=True, label="Randomise seed each time")
    return {
        "negative_prompt": negative_prompt,
        "photo_advanced": photo_advanced,
        "steps": steps,
        "guidance_scale": guidance_scale,
        "seed": seed,
        "randomise": randomise,
    }


def build_generate_form(runtime: Runtime, *, engine_note: Callable[[], str]) -> GenerateForm:
    """Lay out the tab's widgets inside the current Blocks."""
    models = {model.tier: model for model in runtime.service.models(mode="photo")}
    text_models = {model.model_key: model for model in runtime.service.models(mode="text")}
    default = models.get(DEFAULT_TIER) or next(iter(models.values()))
    with gr.Row(equal_height=False):
        with gr.Column(scale=5):
            picker = build_project_picker()
            mode = gr.Radio(
                [PHOTO_MODE, TEXT_MODE],
                value=PHOTO_MODE,
                label="Mode",
                info=mode_help(runtime.service.engine),
                elem_id="mode",
            )
            widgets = {
                **picker,
                **build_photo_inputs(runtime),
                **_prompt(runtime.service.engine),
                **_model_inputs(runtime, models, text_models, default),
            }
            widgets.update(_advanced(default))
            widgets["cost"] = gr.Markdown(elem_id="cost")
            widgets["generate"] = gr.Button(GENERATE_LABEL[PHOTO_MODE], variant="primary", elem_id="generate")
            widgets["generate_text"] = gr.Button(
                GENERATE_LABEL[TEXT_MODE],
                variant="primary",
                visible=False,
                interactive=runtime.service.text_engine is not None,
                elem_id="generate-text",
            )
            with gr.Row(visible=False, elem_id="working") as widgets["working"]:
                widgets["status"] = gr.HTML(elem_id="status")
                widgets["cancel"] = gr.Button("Cancel", variant="stop", scale=0, min_width=110, elem_id="cancel")
        with gr.Column(scale=6):
            widgets.update(build_results(runtime, engine_note))
    return GenerateForm(mode=mode, models=models, text_models=text_models, **widgets)
