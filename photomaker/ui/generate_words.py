"""What the Generate tab says: its modes, examples and help, the model labels, the price, a result's summary and what
became of a new project or a new name."""

from __future__ import annotations

from photomaker.core.errors import PhotoMakerError
from photomaker.core.plurals import counted
from photomaker.engines.base import Engine
from photomaker.engines.entries import ENGINES
from photomaker.faces import likeness
from photomaker.generation.captions import image_caption
from photomaker.generation.expected_time import seconds_each
from photomaker.generation.packs import affordable
from photomaker.generation.prompt_fit import TokenCount
from photomaker.generation.results import GenerationOutcome
from photomaker.images.avatar_files import numbers_within_style
from photomaker.store import AIModel

PHOTO_MODE, TEXT_MODE = "Photo to Avatar", "Text to Image"
PROMPT_EXAMPLES = {
    # Nobody named: "Who is in the photos" says who, so each example fits the person chosen there.
    PHOTO_MODE: [
        "a professional headshot, studio lighting, neutral background",
        "as a fantasy elf in a glowing forest",
        "portrait wearing a leather jacket, city lights at night",
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
GENERATE_LABEL = {PHOTO_MODE: "Generate avatars", TEXT_MODE: "Generate images"}
BUSY_LABEL = "Generating…"
"""Both Generate buttons' label while this page generates (they are disabled then)."""
EMPTY_RESULTS = {PHOTO_MODE: "Your avatars will appear here.", TEXT_MODE: "Your images will appear here."}
"""What the details say where the results go before the first generation, in each mode."""
PROJECT_HELP = "Where your next avatars are filed; the history under the results shows this project's."


def project_made(name: str) -> str:
    return f"✅ Made the project “{name}”: your next avatars are filed in it."


def project_renamed(old: str, new: str) -> str:
    return f"✅ “{old}” is now called “{new}”." if old != new else f"✅ “{new}” already has that name."


DELETE_UNTICKED = "Tick the box first: deleting cannot be undone."


def project_deleted(name: str, avatars: int) -> str:
    gone = f" and its {counted(avatars, 'avatar')}" if avatars else ""
    return f"✅ Deleted the project “{name}”{gone}."


def project_not_made(name: str) -> str:
    return f"❌ “{name}” has no avatars yet: there is nothing to delete."


def project_refused(error: PhotoMakerError) -> str:
    """Why a new project or a new name was refused, under the name box (not in a toast): what to do."""
    return f"❌ {error.message}"


def prompt_left_out(engine_name: str) -> str | None:
    """Where the engine leaves the prompt's words out (its registry entry says so), the page says it by the prompt,
    in the engine note and under the results; None for an engine that reads them."""
    entry = ENGINES.get(engine_name)
    if entry is None or entry.reads_prompt:
        return None
    return (
        f"The {engine_name} engine leaves your prompt's words out: it frames and styles your photo alone, "
        'so "as a wizard" makes no wizard.'
    )


def prompt_help(mode: str, engine: Engine) -> tuple[str, str]:
    """The prompt box's help and placeholder in `mode`: in Photo to Avatar, that `engine` leaves the words out if
    it does."""
    info, placeholder = PROMPT_HELP[mode]
    left_out = prompt_left_out(engine.name) if mode == PHOTO_MODE else None
    return (f"⚠️ {left_out}" if left_out else info), placeholder


def mode_help(engine: Engine) -> str:
    """Under the mode: what makes the avatars, never PhotoMaker V2 where a preview engine makes them."""
    made = "as offline previews, not by PhotoMaker V2" if engine.preview else "with PhotoMaker V2"
    return f"Avatars from your photos {made}, or images from a prompt alone."


def tier_help(engine: Engine) -> str:
    """Under the tiers: which engine their times are for."""
    return f"Made by the {engine.name} engine; each tier's time is for one image."


def _per_image(model: AIModel, engine: Engine | None) -> str:
    """A model's price and, on the engine that makes its images (None: the mode is off), its time, per image."""
    if engine is None:
        return f"{model.credit_cost} credits per image"
    low, high = seconds_each(engine, model)
    return f"{model.credit_cost} credits and about {low}-{high} s per image"


def text_model_label(model: AIModel, engine: Engine | None) -> str:
    """A text model's choice: its name, price and time per image on the Text to Image engine (None: off)."""
    return f"{model.name} · {_per_image(model, engine)}"


def tier_label(model: AIModel, engine: Engine) -> str:
    """A tier's choice: its name, size, price and time per image on the photo engine that runs (`seconds_each`)."""
    short = model.name.removeprefix("PhotoMaker V2 ")
    return f"{short} · {model.width}×{model.height} · {_per_image(model, engine)}"


def cost_text(model: AIModel | None, count: int, credits: int | None) -> str:
    """The price of `count` images before generating, bundle price included (`AIModel.price`, what the service
    charges), and whether the balance covers it (None: a visitor not signed in)."""
    have = "sign in to see your credits" if credits is None else f"you have **{credits}**"
    if model is None:
        return have[0].upper() + have[1:] + "."
    noun = "image" if model.mode == "text" else "avatar"
    if count < 1:
        return f"Choose at least one style · {have}"
    each, start = model.price_each(count), model.bundle_from
    how = f"{counted(count, noun)} × {each} credits"
    if start is not None and each != model.credit_cost:
        how += f", bundle price from {start}"
    elif start is not None:
        how += f"; from {counted(start, noun)}, {model.price_each(start)} credits each"
    line = f"**Cost: {model.price(count)} credits** ({how}) · {have}"
    if credits is not None and model.price(count) > credits:
        can = affordable(model, credits)
        line += f" · not enough: you can afford {counted(can, noun)}" if can else " · not enough for one"
    return line


def result_captions(outcome: GenerationOutcome) -> list[str]:
    """Under each result (and its alt text): which of its style's it is, its style and tier, and its likeness."""
    d, styles = outcome.details, outcome.styles
    numbers = numbers_within_style(styles)
    return [
        image_caption(
            mode=d.mode,
            number=number,
            count=styles.count(style),
            tier=d.tier,
            style=style,
            preview=d.preview,
            score=score,
        )
        for style, number, score in zip(styles, numbers, d.likeness or [None] * len(styles), strict=True)
    ]


def details_text(outcome: GenerationOutcome) -> str:
    """A short summary of a finished generation: what was made, what it cost and gave back, how alike it is."""
    d = outcome.details
    if d.mode != "photo":
        look = TEXT_MODE
    elif d.styles:
        made = " · ".join(f"{style} {d.avatar_styles.count(style)}" for style in d.styles)
        look = f"Styles **{made}** (strength {d.style_strength})"
    else:
        look = f"Style **{d.style}** (strength {d.style_strength})"
    refunded = f" · **{d.credits_refunded}** given back" if d.credits_refunded else ""
    made = (
        counted(d.num_images, "image") if d.images_kept == d.num_images else f"{d.images_kept} of {d.num_images} kept"
    )
    model = f"{d.tier.capitalize()} tier" if d.preview else d.model_name  # the tier's name is PhotoMaker V2's
    lines = [
        f"**Generation #{d.generation_id}** · {model} · {d.width}×{d.height} · {made}",
        f"{look} · seed `{d.seed}` · {d.steps} steps · guidance {d.guidance_scale}",
        f"**{d.credits_charged} credits** charged{refunded} · **{d.credits_remaining}** left · "
        f"{(d.processing_ms or 0) / 1000:.1f} s · engine `{d.engine}`",
    ]
    if d.likeness:
        lines.append(
            "**Looks like you?** "
            + " · ".join(f"{n}: {likeness.label(score)}" for n, score in enumerate(d.likeness, start=1))
        )
    if d.preview:
        left_out = prompt_left_out(d.engine)
        lines.append(
            "_These are offline previews of your framing and style, not PhotoMaker output."
            + (f" {left_out}_" if left_out else "_")
        )
    lines += [f"⚠️ {note}" for note in outcome.notes]
    return "\n\n".join(lines)


def tokens_text(count: TokenCount) -> str:
    """Under the prompt: how many of the model's tokens it takes, what it loses past them, or why it cannot be
    served; an estimate says so."""
    about = "about " if count.estimated else ""
    how = " (estimated: the model's tokenizer is not loaded here)" if count.estimated else ""
    if count.refusal is not None:
        return f"⛔ {count.refusal}"
    if count.unused_words:
        return (
            f"⚠️ {about}{count.tokens} of {count.limit} tokens{how}: the prompt is over {count.limit} tokens; "
            f"these words will not be used: {count.unused_words}"
        )
    return f"{about}{count.tokens} of {count.limit} tokens{how}"
