"""The Generate tab: photos (or just a prompt) and options in, images out, the cost shown before generating."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gradio as gr

from photomaker.engines.base import ProgressFn
from photomaker.engines.registry import concurrency_limit
from photomaker.errors import AccessError, PhotoMakerError, RefusedError
from photomaker.prompts import DEFAULT_STYLE, STYLES, SUBJECTS
from photomaker.runtime import Runtime
from photomaker.service import STEPS_RANGE, TEXT_MODE_OFF, TEXT_SIDE_RANGE, GenerationOutcome
from photomaker.store import AIModel
from photomaker.store.accounts import DEFAULT_PROJECT
from photomaker.ui import actions, uploads
from photomaker.ui.cache import served_copy
from photomaker.ui.errors import error_markdown, warn
from photomaker.ui.identity import caller, viewer
from photomaker.ui.my_data import build_my_data
from photomaker.ui.rating import build_rating
from photomaker.ui.sessions import OneAtATime

DEFAULT_TIER = "pro"
PHOTO_MODE, TEXT_MODE = "Photo to Avatar", "Text to Image"
PROMPT_EXAMPLES = {
    PHOTO_MODE: [
        "a professional headshot, studio lighting, neutral background",
        "a woman img as a fantasy elf queen in a glowing forest",
        "portrait of a man wearing a leather jacket, city lights at night",
    ],
    TEXT_MODE: [
        "a lighthouse on a cliff at dusk, oil painting",
        "a cosy reading nook with a cat, warm morning light",
        "an isometric city block made of paper, pastel colours",
    ],
}
PROMPT_HELP = {
    PHOTO_MODE: (
        "Describe the avatar. We place the trigger word 'img' after the person for you.",
        "e.g. a professional headshot, studio lighting",
    ),
    TEXT_MODE: ("Describe the image. No photos are used in this mode.", "e.g. a lighthouse at dusk, oil painting"),
}
RESULTS_LABEL = {PHOTO_MODE: "Your avatars", TEXT_MODE: "Your images"}


def text_model_label(model: AIModel) -> str:
    return f"{model.name} · {model.credit_cost} credits/image · about {model.eta_min_s}-{model.eta_max_s} s"


def tier_label(model: AIModel) -> str:
    short = model.name.removeprefix("PhotoMaker V2 ")
    return (
        f"{short} · {model.width}×{model.height} · {model.credit_cost} credits/image · "
        f"about {model.eta_min_s}-{model.eta_max_s} s"
    )


def cost_text(model: AIModel | None, num_images: int, credits: int | None) -> str:
    """The price before generating, and whether the balance covers it (None: a visitor not signed in)."""
    have = "sign in to see your credits" if credits is None else f"you have **{credits}**"
    if model is None:
        return have[0].upper() + have[1:] + "."
    total = model.credit_cost * int(num_images)
    line = f"**Cost: {total} credits** ({int(num_images)} × {model.credit_cost}) · {have}"
    if credits is not None and total > credits:
        line += " · not enough: choose fewer images or a lower tier"
    return line


def details_text(outcome: GenerationOutcome) -> str:
    """A short summary of a finished generation."""
    d = outcome.details
    look = f"Style **{d['style']}** (strength {d['style_strength']})" if d["mode"] == "photo" else TEXT_MODE
    lines = [
        f"**Generation #{d['generation_id']}** · {d['model_name']} · {d['width']}×{d['height']} · "
        f"{d['num_images']} image(s)",
        f"{look} · seed `{d['seed']}` · {d['steps']} steps · guidance {d['guidance_scale']}",
        f"**{d['credits_charged']} credits** charged · **{d['credits_remaining']}** left · "
        f"{d['processing_ms'] / 1000:.1f} s · engine `{d['engine']}`",
    ]
    if d["preview"]:
        lines.append("_These are offline previews of your framing and style, not PhotoMaker output._")
    lines += [f"⚠️ {note}" for note in outcome.notes]
    return "\n\n".join(lines)


def chosen_seed(seed: float | None, *, randomise: bool) -> float:
    """The seed field's value, or -1 (a fresh random seed) when randomising or left empty."""
    return -1 if randomise or seed is None else seed


def reporting_to(progress: gr.Progress) -> ProgressFn:
    """Our progress reports, shown on Gradio's progress bar."""
    return lambda fraction, message: progress(fraction, desc=message)


def build_generate_tab(runtime: Runtime, *, engine_note: Callable[[], str]) -> dict[str, Any]:
    """Lay out the tab inside the current Blocks and wire its events; returns what `demo.load` refreshes."""
    service = runtime.service
    models = {model.tier: model for model in service.models(mode="photo")}
    default_model = models.get(DEFAULT_TIER) or next(iter(models.values()))
    text_models = {model.model_key: model for model in service.models(mode="text")}

    with gr.Row(equal_height=False):
        with gr.Column(scale=5):
            mode = gr.Radio(
                [PHOTO_MODE, TEXT_MODE],
                value=PHOTO_MODE,
                label="Mode",
                info="Avatars from your photos with PhotoMaker V2, or images from a prompt alone.",
                elem_id="mode",
            )
            with gr.Column() as photo_inputs:
                photos = gr.Gallery(
                    label="Your photos: 1 to 4 of the same person",
                    type="filepath",
                    interactive=True,
                    columns=4,
                    height=220,
                    object_fit="cover",
                    elem_id="photos",
                )
                gr.Markdown(
                    "JPEG, PNG or WebP, up to "
                    f"{runtime.settings.max_photo_mb:g} MB each. For your privacy, photos are deleted as soon "
                    "as a generation ends: upload them again for the next one.",
                    elem_classes=["hint"],
                )
                with gr.Row():
                    subject = gr.Dropdown(list(SUBJECTS), value="person", label="Who is in the photos", scale=1)
                    style = gr.Dropdown([s.name for s in STYLES], value=DEFAULT_STYLE, label="Style", scale=2)
            prompt = gr.Textbox(
                label="Prompt",
                info=PROMPT_HELP[PHOTO_MODE][0],
                placeholder=PROMPT_HELP[PHOTO_MODE][1],
                lines=2,
                max_lines=4,
                elem_id="prompt",
            )
            examples = {}
            for name, texts in PROMPT_EXAMPLES.items():
                with gr.Column(visible=name == PHOTO_MODE) as examples[name]:
                    gr.Examples(examples=[[text] for text in texts], inputs=[prompt], cache_examples=False)
            with gr.Column() as tier_inputs:
                tier = gr.Radio(
                    [(tier_label(model), model.tier) for model in models.values()],
                    value=default_model.tier,
                    label="Tier",
                    elem_id="tier",
                )
                style_strength = gr.Slider(
                    0,
                    100,
                    value=default_model.default_style_strength,
                    step=1,
                    label="Style strength",
                    info="Higher means more style, less likeness. Each tier has its own default.",
                )
            with gr.Column(visible=False) as text_inputs:
                if service.text_engine is None:
                    gr.Markdown(f"⚠️ {TEXT_MODE_OFF}", elem_id="text-off")
                text_model = gr.Radio(
                    [(text_model_label(model), key) for key, model in text_models.items()],
                    value=next(iter(text_models), None),
                    label="Model",
                    elem_id="text-model",
                )
                with gr.Row():
                    width = gr.Slider(*TEXT_SIDE_RANGE, value=1024, step=64, label="Width")
                    height = gr.Slider(*TEXT_SIDE_RANGE, value=1024, step=64, label="Height")
            num_images = gr.Slider(1, 4, value=1, step=1, label="Number of images")
            with gr.Accordion("Advanced options", open=False):
                negative_prompt = gr.Textbox(label="Negative prompt", placeholder="What to avoid, e.g. glasses, hat")
                with gr.Row() as photo_advanced:
                    steps = gr.Slider(*STEPS_RANGE, value=default_model.steps, step=1, label="Steps")
                    guidance = gr.Slider(0.1, 10, value=default_model.guidance_scale, step=0.1, label="Guidance scale")
                with gr.Row():
                    seed = gr.Number(value=-1, precision=0, label="Seed", info="-1 picks a random seed")
                    randomise = gr.Checkbox(value=True, label="Randomise seed each time")
                project = gr.Dropdown(
                    [DEFAULT_PROJECT], value=DEFAULT_PROJECT, allow_custom_value=True, label="Save to project"
                )
            cost = gr.Markdown(elem_id="cost")
            generate = gr.Button("Generate avatars", variant="primary", elem_id="generate")
            generate_text = gr.Button(
                "Generate images",
                variant="primary",
                visible=False,
                interactive=service.text_engine is not None,
                elem_id="generate-text",
            )
        with gr.Column(scale=6):
            note = gr.Markdown(engine_note(), elem_id="engine-note")
            results = gr.Gallery(
                label="Your avatars",
                columns=2,
                height=520,
                object_fit="contain",
                buttons=["download", "fullscreen"],
                interactive=False,
                elem_id="results",
            )
            details = gr.Markdown("Your avatars will appear here.", elem_id="details")
            rating = build_rating(runtime)
            with gr.Accordion("All details", open=False):
                details_json = gr.JSON(label="Generation details")
            gr.Markdown("**Your past avatars and images**")
            history = gr.Gallery(
                show_label=False,
                buttons=[],
                columns=6,
                height=260,
                object_fit="cover",
                preview=False,
                fit_columns=False,
                interactive=False,
                elem_id="history",
            )
            my_data = build_my_data(runtime)

    running = OneAtATime()

    def chosen_model(mode_value: str, tier_value: str, text_value: str | None) -> AIModel | None:
        return text_models.get(text_value or "") if mode_value == TEXT_MODE else models.get(tier_value)

    def credits_of(username: str | None) -> int | None:
        return None if username is None else service.account(username).credits

    def refresh_cost(
        mode_value: str, tier_value: str, text_value: str | None, count: float, profile: gr.OAuthProfile | None = None
    ) -> str:
        credits = credits_of(viewer(runtime, profile))
        return cost_text(chosen_model(mode_value, tier_value, text_value), int(count), credits)

    def on_tier(
        mode_value: str, tier_value: str, text_value: str | None, count: float, profile: gr.OAuthProfile | None = None
    ) -> tuple[Any, str]:
        model = models.get(tier_value)
        strength = gr.update(value=model.default_style_strength) if model else gr.update()
        return strength, refresh_cost(mode_value, tier_value, text_value, count, profile)

    def on_mode(
        mode_value: str, tier_value: str, text_value: str | None, count: float, profile: gr.OAuthProfile | None = None
    ) -> tuple[Any, ...]:
        text = mode_value == TEXT_MODE
        info, placeholder = PROMPT_HELP[mode_value]
        return (
            *[gr.update(visible=not text)] * 5,
            *[gr.update(visible=text)] * 3,
            gr.update(info=info, placeholder=placeholder),
            gr.update(label=RESULTS_LABEL[mode_value]),
            refresh_cost(mode_value, tier_value, text_value, count, profile),
        )

    def shown(
        action: Callable[[], GenerationOutcome],
        profile: gr.OAuthProfile | None,
        model: AIModel | None,
        count: float,
        *,
        request: gr.Request | None,
        photo_items: list[Any] | None = None,
    ) -> tuple[Any, ...]:
        """The page after a generation: results, details, history, the new balance and seed.

        A refusal or failure (a visitor not signed in included) is shown where the results would
        be, leaving the last results in place and the uploaded photos too while they were not used
        up. A second click while this session is generating changes nothing.
        """
        username = viewer(runtime, profile)
        with running.claim(request) as allowed:
            if not allowed:
                return tuple(gr.skip() for _ in results_out)
            try:
                outcome = action()
            except PhotoMakerError as error:
                warn(error)
                status = "rejected" if isinstance(error, RefusedError | AccessError) else "failed"
                return (
                    gr.skip(),
                    error_markdown(error),
                    {"status": status, "error_code": error.code},
                    gr.skip(),
                    cost_text(model, int(count), credits_of(username)),
                    gr.skip(),
                    gr.skip() if uploads.still_there(photo_items, owner=uploads.uploader(request)) else None,
                    gr.skip(),
                    *rating.withdraw(),
                )
        for message in outcome.notes:
            gr.Warning(message, duration=6)
        kind = "Avatar" if outcome.details["mode"] == "photo" else "Image"
        suffix = " (preview)" if outcome.details["preview"] else ""
        return (
            [(served_copy(path), f"{kind} {n}{suffix}") for n, path in enumerate(outcome.images, start=1)],
            details_text(outcome),
            outcome.details,
            history_items(username),
            cost_text(model, int(count), outcome.details["credits_remaining"]),
            outcome.details["seed"],
            None,
            gr.update(choices=service.projects(username)),
            *rating.offer(outcome.generation_id),
        )

    def on_generate(
        photo_items: list[tuple[str, str | None]] | None,
        subject_value: str,
        style_value: str,
        prompt_value: str,
        tier_value: str,
        strength_value: float,
        count: float,
        negative_value: str,
        steps_value: float,
        guidance_value: float,
        seed_value: float | None,
        randomise_value: bool,
        project_value: str | None,
        profile: gr.OAuthProfile | None = None,
        request: gr.Request | None = None,
        progress: gr.Progress = gr.Progress(),
    ) -> tuple[Any, ...]:
        return shown(
            lambda: actions.generate_from_uploads(
                runtime,
                lambda: caller(runtime, profile),
                photo_items,
                uploader=uploads.uploader(request),
                progress=reporting_to(progress),
                keep_photos_for_a_retry=True,
                prompt=prompt_value or "",
                tier=tier_value,
                style=style_value,
                style_strength=strength_value,
                subject=subject_value,
                negative_prompt=negative_value or "",
                num_images=count,
                seed=chosen_seed(seed_value, randomise=randomise_value),
                steps=steps_value,
                guidance_scale=guidance_value,
                project=project_value or DEFAULT_PROJECT,
            ),
            profile,
            models.get(tier_value),
            count,
            request=request,
            photo_items=photo_items,
        )

    def on_generate_text(
        prompt_value: str,
        text_value: str | None,
        width_value: float,
        height_value: float,
        count: float,
        negative_value: str,
        seed_value: float | None,
        randomise_value: bool,
        project_value: str | None,
        profile: gr.OAuthProfile | None = None,
        request: gr.Request | None = None,
        progress: gr.Progress = gr.Progress(),
    ) -> tuple[Any, ...]:
        return shown(
            lambda: actions.generate_from_text(
                runtime,
                caller(runtime, profile),
                progress=reporting_to(progress),
                prompt=prompt_value or "",
                model=text_value,
                width=width_value,
                height=height_value,
                negative_prompt=negative_value or "",
                num_images=count,
                seed=chosen_seed(seed_value, randomise=randomise_value),
                project=project_value or DEFAULT_PROJECT,
            ),
            profile,
            text_models.get(text_value or ""),
            count,
            request=request,
        )

    def history_items(username: str | None) -> list[tuple[str, str]]:
        if username is None:
            return []
        return [(served_copy(item.thumbnail), item.caption) for item in service.history(username)]

    def on_load(
        mode_value: str, tier_value: str, text_value: str | None, count: float, profile: gr.OAuthProfile | None = None
    ) -> tuple[Any, ...]:
        username = viewer(runtime, profile)
        return (
            refresh_cost(mode_value, tier_value, text_value, count, profile),
            history_items(username),
            gr.update(choices=service.projects(username) if username else [DEFAULT_PROJECT]),
            engine_note(),
            gr.Accordion(visible=username is not None),
        )

    choice = [mode, tier, text_model, num_images]
    mode.change(
        on_mode,
        choice,
        [
            photo_inputs,
            tier_inputs,
            photo_advanced,
            generate,
            examples[PHOTO_MODE],
            text_inputs,
            generate_text,
            examples[TEXT_MODE],
            prompt,
            results,
            cost,
        ],
        api_name="ui_mode",
        api_visibility="private",
    )
    tier.change(on_tier, choice, [style_strength, cost], api_name="ui_tier", api_visibility="private")
    for control, name in ((num_images, "ui_cost"), (text_model, "ui_text_model")):
        control.change(refresh_cost, choice, cost, api_name=name, api_visibility="private")
    results_out = [results, details, details_json, history, cost, seed, photos, project, *rating.outputs]
    generate.click(
        on_generate,
        [
            photos,
            subject,
            style,
            prompt,
            tier,
            style_strength,
            num_images,
            negative_prompt,
            steps,
            guidance,
            seed,
            randomise,
            project,
        ],
        results_out,
        api_name="ui_generate",
        api_visibility="private",
        show_progress_on=[results],
        concurrency_limit=concurrency_limit(service.engine, runtime.settings),
        concurrency_id="generate",
    )
    generate_text.click(
        on_generate_text,
        [prompt, text_model, width, height, num_images, negative_prompt, seed, randomise, project],
        results_out,
        api_name="ui_generate_text",
        api_visibility="private",
        show_progress_on=[results],
        concurrency_limit=runtime.settings.remote_concurrency,
        concurrency_id="generate-text",
    )
    return {"fn": on_load, "inputs": choice, "outputs": [cost, history, project, note, my_data]}
