"""The Generate tab: photos and options in, avatars out, with the cost shown before generating."""

from __future__ import annotations

from typing import Any

import gradio as gr

from photomaker.prompts import DEFAULT_STYLE, STYLES, SUBJECTS
from photomaker.runtime import Runtime
from photomaker.service import STEPS_RANGE, GenerationOutcome
from photomaker.store import AIModel
from photomaker.store.accounts import DEFAULT_PROJECT
from photomaker.ui.actions import generate_from_uploads
from photomaker.ui.identity import username_for
from photomaker.ui.rating import build_rating

DEFAULT_TIER = "pro"
PROMPT_EXAMPLES = [
    "a professional headshot, studio lighting, neutral background",
    "a woman img as a fantasy elf queen in a glowing forest",
    "portrait of a man wearing a leather jacket, city lights at night",
]


def tier_label(model: AIModel) -> str:
    short = model.name.removeprefix("PhotoMaker V2 ")
    return (
        f"{short} · {model.width}×{model.height} · {model.credit_cost} credits/image · "
        f"about {model.eta_min_s}-{model.eta_max_s} s"
    )


def cost_text(model: AIModel | None, num_images: int, credits: int) -> str:
    """The price before generating, and whether the balance covers it."""
    if model is None:
        return f"You have **{credits} credits**."
    total = model.credit_cost * int(num_images)
    line = f"**Cost: {total} credits** ({int(num_images)} × {model.credit_cost}) · you have **{credits}**"
    if total > credits:
        line += " · not enough: choose fewer images or a lower tier"
    return line


def details_text(outcome: GenerationOutcome) -> str:
    """A short summary of a finished generation."""
    d = outcome.details
    lines = [
        f"**Generation #{d['generation_id']}** · {d['model_name']} · {d['width']}×{d['height']} · "
        f"{d['num_images']} image(s)",
        f"Style **{d['style']}** (strength {d['style_strength']}) · seed `{d['seed']}` · "
        f"{d['steps']} steps · guidance {d['guidance_scale']}",
        f"**{d['credits_charged']} credits** charged · **{d['credits_remaining']}** left · "
        f"{d['processing_ms'] / 1000:.1f} s · engine `{d['engine']}`",
    ]
    if d["preview"]:
        lines.append("_These are offline previews of your framing and style, not PhotoMaker output._")
    lines += [f"⚠️ {note}" for note in outcome.notes]
    return "\n\n".join(lines)


def build_generate_tab(runtime: Runtime, *, engine_note: str) -> dict[str, Any]:
    """Lay out the tab inside the current Blocks and wire its events; returns what `demo.load` refreshes."""
    service = runtime.service
    models = {model.tier: model for model in service.models(mode="photo")}
    default_model = models.get(DEFAULT_TIER) or next(iter(models.values()))

    with gr.Row(equal_height=False):
        with gr.Column(scale=5):
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
                f"{runtime.settings.max_photo_mb:g} MB each. Photos are used for this generation only and "
                "deleted right after.",
                elem_classes=["hint"],
            )
            with gr.Row():
                subject = gr.Dropdown(list(SUBJECTS), value="person", label="Who is in the photos", scale=1)
                style = gr.Dropdown([s.name for s in STYLES], value=DEFAULT_STYLE, label="Style", scale=2)
            prompt = gr.Textbox(
                label="Prompt",
                placeholder="e.g. a professional headshot, studio lighting",
                info="Describe the avatar. We place the trigger word 'img' after the person for you.",
                lines=2,
                max_lines=4,
                elem_id="prompt",
            )
            gr.Examples(examples=[[text] for text in PROMPT_EXAMPLES], inputs=[prompt], cache_examples=False)
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
            num_images = gr.Slider(1, 4, value=1, step=1, label="Number of images")
            with gr.Accordion("Advanced options", open=False):
                negative_prompt = gr.Textbox(label="Negative prompt", placeholder="What to avoid, e.g. glasses, hat")
                with gr.Row():
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
        with gr.Column(scale=6):
            gr.Markdown(engine_note, elem_id="engine-note")
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
            history = gr.Gallery(
                label="Your past avatars",
                columns=6,
                height=260,
                object_fit="cover",
                interactive=False,
                elem_id="history",
            )

    def refresh_cost(tier_value: str, count: float, profile: gr.OAuthProfile | None = None) -> str:
        credits = service.account(username_for(profile, runtime.settings)).credits
        return cost_text(models.get(tier_value), int(count), credits)

    def on_tier(tier_value: str, count: float, profile: gr.OAuthProfile | None = None) -> tuple[Any, str]:
        model = models.get(tier_value)
        strength = gr.update(value=model.default_style_strength) if model else gr.update()
        return strength, refresh_cost(tier_value, count, profile)

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
        progress: gr.Progress = gr.Progress(),
    ) -> tuple[Any, ...]:
        username = username_for(profile, runtime.settings)
        outcome = generate_from_uploads(
            runtime,
            username,
            photo_items,
            progress=lambda fraction, message: progress(fraction, desc=message),
            prompt=prompt_value or "",
            tier=tier_value,
            style=style_value,
            style_strength=strength_value,
            subject=subject_value,
            negative_prompt=negative_value or "",
            num_images=count,
            seed=-1 if randomise_value or seed_value is None else seed_value,
            steps=steps_value,
            guidance_scale=guidance_value,
            project=project_value or DEFAULT_PROJECT,
        )
        for note in outcome.notes:
            gr.Warning(note)
        suffix = " (preview)" if outcome.details["preview"] else ""
        return (
            [(str(path), f"Avatar {n}{suffix}") for n, path in enumerate(outcome.images, start=1)],
            details_text(outcome),
            outcome.details,
            history_items(username),
            cost_text(models.get(tier_value), int(count), outcome.details["credits_remaining"]),
            outcome.details["seed"],
            None,
            gr.update(choices=service.projects(username)),
            *rating.offer(outcome.generation_id),
        )

    def history_items(username: str) -> list[tuple[str, str]]:
        return [(str(item.thumbnail), item.caption) for item in service.history(username)]

    def on_load(tier_value: str, count: float, profile: gr.OAuthProfile | None = None) -> tuple[Any, ...]:
        username = username_for(profile, runtime.settings)
        return (
            refresh_cost(tier_value, count, profile),
            history_items(username),
            gr.update(choices=service.projects(username)),
        )

    tier.change(on_tier, [tier, num_images], [style_strength, cost], api_name="ui_tier", api_visibility="private")
    num_images.change(refresh_cost, [tier, num_images], cost, api_name="ui_cost", api_visibility="private")
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
        [results, details, details_json, history, cost, seed, photos, project, *rating.outputs],
        api_name="ui_generate",
        api_visibility="private",
        concurrency_limit=runtime.settings.preview_concurrency,
        concurrency_id="generate",
    )
    return {"fn": on_load, "inputs": [tier, num_images], "outputs": [cost, history, project]}
