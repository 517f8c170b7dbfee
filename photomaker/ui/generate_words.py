"""What the Generate tab says: its modes, examples and help, the model labels, the price, a result's summary and what
became of a new project or a new name."""

from __future__ import annotations

from photomaker.core.errors import PhotoMakerError
from photomaker.faces import likeness
from photomaker.generation.captions import image_caption
from photomaker.generation.packs import affordable
from photomaker.generation.prompt_fit import TokenCount
from photomaker.generation.results import GenerationOutcome
from photomaker.images.avatar_files import numbers_within_style
from photomaker.store import AIModel

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
GENERATE_LABEL = {PHOTO_MODE: "Generate avatars", TEXT_MODE: "Generate images"}
BUSY_LABEL = "Generating…"
"""Both Generate buttons' label while this page generates (they are disabled then)."""
NO_RESULTS = "Your avatars will appear here."
"""Under the results before a first generation, and once what they showed was deleted."""
PROJECT_HELP = "Where your next avatars are filed; the history under the results shows this project's."


def project_made(name: str) -> str:
    return f"✅ Made the project “{name}”: your next avatars are filed in it."


def project_renamed(old: str, new: str) -> str:
    return f"✅ “{old}” is now called “{new}”." if old != new else f"✅ “{new}” already has that name."


DELETE_UNTICKED = "Tick the box first: deleting cannot be undone."


def project_deleted(name: str, avatars: int) -> str:
    gone = f" and its {_count(avatars, 'avatar')}" if avatars else ""
    return f"✅ Deleted the project “{name}”{gone}."


def project_not_made(name: str) -> str:
    return f"❌ “{name}” has no avatars yet: there is nothing to delete."


def project_refused(error: PhotoMakerError) -> str:
    """Why a new project or a new name was refused, under the name box (not in a toast): what to do."""
    return f"❌ {error.message}"


def text_model_label(model: AIModel) -> str:
    return f"{model.name} · {model.credit_cost} credits/image · about {model.eta_min_s}-{model.eta_max_s} s"


def tier_label(model: AIModel) -> str:
    short = model.name.removeprefix("PhotoMaker V2 ")
    return (
        f"{short} · {model.width}×{model.height} · {model.credit_cost} credits/image · "
        f"about {model.eta_min_s}-{model.eta_max_s} s"
    )


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'s' if number != 1 else ''}"


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
    how = f"{_count(count, noun)} × {each} credits"
    if start is not None and each != model.credit_cost:
        how += f", bundle price from {start}"
    elif start is not None:
        how += f"; from {start} {noun}s, {model.price_each(start)} credits each"
    line = f"**Cost: {model.price(count)} credits** ({how}) · {have}"
    if credits is not None and model.price(count) > credits:
        can = affordable(model, credits)
        line += f" · not enough: you can afford {_count(can, noun)}" if can else " · not enough for one"
    return line


def result_captions(outcome: GenerationOutcome) -> list[str]:
    """Under each result (and its alt text): which of its style's it is, its style and tier, and its likeness."""
    d = outcome.details
    styles = d.avatar_styles or [d.style] * len(outcome.images)
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
    made = f"{d.num_images} image(s)" if d.images_kept == d.num_images else f"{d.images_kept} of {d.num_images} kept"
    lines = [
        f"**Generation #{d.generation_id}** · {d.model_name} · {d.width}×{d.height} · {made}",
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
        lines.append("_These are offline previews of your framing and style, not PhotoMaker output._")
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
