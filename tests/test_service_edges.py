"""The service's limits at their edges: each range's ends pass, one step past them is refused and recorded.

The checks that do not read photos run through `prepare_avatar` (what the page runs first) and Text to Image
through an engine that only counts, so every edge costs milliseconds. Limits come from the constants the
service uses, so the tests move with them.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlmodel import select

from photomaker.core.errors import RefusedError
from photomaker.engines.base import MAX_SEED
from photomaker.generation import preparing
from photomaker.generation.catalogue import load_seed_models
from photomaker.generation.params import DEFAULT_MAX_OUTPUTS, PhotoParams, TextParams, bounds
from photomaker.generation.preparing import TEXT_MODE_OFF
from photomaker.generation.prompts import DEFAULT_NEGATIVE, MAX_NEGATIVE_CHARS, MAX_PROMPT_CHARS
from photomaker.generation.results import GenerationOutcome
from photomaker.generation.service import GenerationService
from photomaker.images.uploaded_photos import PhotoUpload
from photomaker.startup.runtime import Runtime
from photomaker.store import AIModel, CreditTransaction, Generation, ledger, users
from tests.helpers import CountingEngine, accounts_of, gallery_of

STEPS_RANGE, GUIDANCE_RANGE = bounds(PhotoParams, "steps"), bounds(PhotoParams, "guidance_scale")
STRENGTH_RANGE, TEXT_SIDE_RANGE = bounds(PhotoParams, "style_strength"), bounds(TextParams, "width")
MAX_OUTPUTS = {spec.tier: spec.capabilities["max_outputs"] for spec in load_seed_models()}
"""Each seeded tier's own limit on images per request."""


@pytest.fixture
def text_engine() -> CountingEngine:
    return CountingEngine("text")


@pytest.fixture
def service(runtime: Runtime, text_engine: CountingEngine) -> GenerationService:
    return GenerationService(
        settings=runtime.settings,
        database=runtime.database,
        engine=runtime.service.engine,
        storage=runtime.service.storage,
        text_engine=text_engine,
    )


def _rows(runtime: Runtime) -> list[Generation]:
    with runtime.database.session() as session:
        return list(session.exec(select(Generation).order_by(Generation.id)).all())


def _check(service: GenerationService, face_photo: Path, **options: object) -> None:
    fields: dict[str, object] = {"prompt": "a headshot", "tier": "pro", **options}
    service.prepare_avatar("local", fields, photo_count=1)


def _refused(service: GenerationService, face_photo: Path, **options: object) -> str:
    with pytest.raises(RefusedError) as caught:
        _check(service, face_photo, **options)
    assert caught.value.code == "INVALID_PARAMS"
    return caught.value.message


def _written(value: float) -> str:
    """A number as the messages write it: whole ones in full, others as short as they go."""
    return str(int(value)) if value == int(value) else f"{value:g}"


def _ends(bounds: tuple[float, float], step: float) -> list[tuple[float, float]]:
    """Each end of a range with the value one step outside it."""
    low, high = bounds
    return [(low, low - step), (high, high + step)]


RANGES = [
    ("steps", "Steps", STEPS_RANGE, 1),
    ("guidance_scale", "Guidance scale", GUIDANCE_RANGE, 0.1),
    ("style_strength", "Style strength", STRENGTH_RANGE, 1),
    ("num_images", "Number of images", (1, MAX_OUTPUTS["pro"]), 1),
    ("seed", "Seed", (-1, MAX_SEED), 1),
]


@pytest.mark.parametrize(("field", "label", "bounds", "step"), RANGES, ids=[r[0] for r in RANGES])
def test_each_photo_option_accepts_its_ends_and_refuses_one_step_past(
    runtime: Runtime, service: GenerationService, face_photo: Path, field: str, label: str, bounds, step: float
) -> None:
    for inside, outside in _ends(bounds, step):
        _check(service, face_photo, **{field: inside})
        message = _refused(service, face_photo, **{field: round(outside, 6)})
        low, high, given = (_written(value) for value in (*bounds, round(outside, 6)))
        assert message == f"{label} must be between {low} and {high}; you gave {given}."
    rows = _rows(runtime)
    assert [row.status for row in rows] == ["rejected", "rejected"]
    assert {row.error_code for row in rows} == {"INVALID_PARAMS"}
    assert runtime.accounts.account("local").credits == runtime.settings.starting_credits


@pytest.mark.parametrize(
    ("field", "label", "value"),
    [
        ("num_images", "Number of images", 1.5),
        ("seed", "Seed", 7.25),
        ("steps", "Steps", 30.5),
        ("style_strength", "Style strength", 12.5),
    ],
)
def test_fractions_are_refused_where_a_whole_number_is_needed(
    service: GenerationService, face_photo: Path, field: str, label: str, value: float
) -> None:
    assert _refused(service, face_photo, **{field: value}) == f"{label} must be a whole number; you gave {value}."


def test_whole_floats_are_taken_as_whole_numbers(service: GenerationService, face_photo: Path) -> None:
    _check(service, face_photo, num_images=2.0, seed=5.0, steps=30.0, style_strength=0.0)


def test_an_unknown_tier_names_the_choices(runtime: Runtime, service: GenerationService, face_photo: Path) -> None:
    assert _refused(service, face_photo, tier="platinum") == (
        "Unknown tier 'platinum'; choose basic, pro or enterprise."
    )
    assert _refused(service, face_photo, tier="text") == "Unknown tier 'text'; choose basic, pro or enterprise."
    (row, _) = _rows(runtime)
    assert (row.model_key, row.params["tier"]) == ("unknown", "platinum")


def test_a_refusal_records_what_was_asked_cut_to_the_prompt_limits(
    runtime: Runtime, service: GenerationService, face_photo: Path
) -> None:
    with pytest.raises(RefusedError):
        _check(
            service,
            face_photo,
            prompt="p" * (MAX_PROMPT_CHARS + 50),
            negative_prompt="n" * (MAX_NEGATIVE_CHARS + 50),
            style="Lowpoly",
            num_images=3,
        )
    (row,) = _rows(runtime)
    assert (row.error_code, row.mode, row.engine, row.photo_count) == ("INVALID_PROMPT", "photo", "preview", 1)
    assert (row.prompt, row.negative_prompt) == ("p" * MAX_PROMPT_CHARS, "n" * MAX_NEGATIVE_CHARS)
    assert row.params == {"tier": "pro", "style": "Lowpoly", "num_images": 3}
    assert row.model_key == "avatar-creator:photomaker-pro"


def _text(service: GenerationService, **options: object) -> GenerationOutcome:
    fields: dict[str, object] = {"prompt": "a lighthouse at dusk", **options}
    return service.generate_from_text("local", fields)


@pytest.mark.parametrize("side", ["width", "height"])
def test_text_sizes_accept_their_ends_and_refuse_one_multiple_of_8_past(
    runtime: Runtime, service: GenerationService, text_engine: CountingEngine, side: str
) -> None:
    low, high = TEXT_SIDE_RANGE
    label = side.capitalize()
    for inside, outside in ((low, low - 8), (high, high + 8)):
        outcome = _text(service, **{side: inside})
        assert outcome.details.model_dump()[side] == inside
        with pytest.raises(RefusedError) as caught:
            _text(service, **{side: outside})
        assert caught.value.message == f"{label} must be between {low} and {high}; you gave {outside}."
    with pytest.raises(RefusedError) as caught:
        _text(service, **{side: low + 4})
    assert (caught.value.code, caught.value.message) == (
        "INVALID_PARAMS",
        f"{label} must be a multiple of 8; you gave {low + 4}.",
    )
    assert [request.width if side == "width" else request.height for request in text_engine.requests] == [low, high]
    assert [row.status for row in _rows(runtime)] == ["completed", "rejected", "completed", "rejected", "rejected"]


def test_text_to_image_charges_the_model_per_image_and_keeps_its_settings(
    runtime: Runtime, service: GenerationService, text_engine: CountingEngine
) -> None:
    outcome = _text(service, width=768, height=512, num_images=MAX_OUTPUTS["text"], seed=11, negative_prompt="fog")
    (request,) = text_engine.requests
    assert (request.mode, request.model_key, request.steps, request.guidance_scale) == (
        "text",
        "text-to-image:flux-schnell",
        4,
        0.0,
    )
    assert (request.prompt, request.style.name, request.style_strength, request.seed) == (
        "a lighthouse at dusk",
        "(No style)",
        0,
        11,
    )
    assert request.negative_prompt.startswith("fog, ")
    assert (outcome.details.credits_charged, outcome.details.credits_remaining) == (40, 210)
    assert len(outcome.images) == MAX_OUTPUTS["text"]
    row = _rows(runtime)[-1]
    assert (row.mode, row.engine, row.photo_count, row.params["seed_requested"]) == ("text", "text", 0, 11)


def test_an_unknown_text_model_names_the_choices(runtime: Runtime, service: GenerationService) -> None:
    with pytest.raises(RefusedError) as caught:
        _text(service, model="dall-e")
    assert caught.value.message == "Unknown text model 'dall-e'; choose one of: text-to-image:flux-schnell."
    (row,) = _rows(runtime)
    assert (row.model_key, row.engine, row.mode) == ("text-to-image:flux-schnell", "text", "text")
    assert row.params["model"] == "dall-e", "the default model is counted; the name asked for is kept beside it"


def test_without_a_text_engine_text_to_image_is_refused_and_recorded(runtime: Runtime) -> None:
    with pytest.raises(RefusedError) as caught:
        runtime.service.generate_from_text("local", dict(prompt="a lighthouse"))
    assert (caught.value.code, caught.value.message) == ("NOT_OFFERED", TEXT_MODE_OFF)
    (row,) = _rows(runtime)
    assert (row.status, row.engine, row.model_key) == ("rejected", "none", "text-to-image:flux-schnell")
    assert "model" not in row.params, "none was asked for"


def test_a_drawn_seed_is_in_range_and_recorded_next_to_the_request(
    runtime: Runtime, service: GenerationService, text_engine: CountingEngine
) -> None:
    outcome = _text(service, seed=-1)
    drawn = text_engine.requests[0].seed
    assert 0 <= drawn <= MAX_SEED
    assert outcome.details.seed == drawn
    assert _rows(runtime)[-1].params["seed_requested"] == -1


def test_the_ledger_shows_the_charge_and_nothing_else_for_a_success(
    runtime: Runtime, service: GenerationService
) -> None:
    outcome = _text(service, num_images=2)
    with runtime.database.session() as session:
        lines = session.exec(select(CreditTransaction).where(CreditTransaction.generation_id.is_not(None))).all()
    assert [(line.kind, line.delta, line.generation_id) for line in lines] == [("charge", -20, outcome.generation_id)]


def test_a_fractional_text_size_is_refused_by_its_name(service: GenerationService) -> None:
    for side, label in (("width", "Width"), ("height", "Height")):
        with pytest.raises(RefusedError) as caught:
            _text(service, **{side: 512.5})
        assert (caught.value.code, caught.value.message) == (
            "INVALID_PARAMS",
            f"{label} must be a whole number; you gave 512.5.",
        )


def test_a_refused_text_request_records_what_was_asked(runtime: Runtime, service: GenerationService) -> None:
    with pytest.raises(RefusedError):
        _text(service, prompt="x" * (MAX_PROMPT_CHARS + 9), negative_prompt="y" * (MAX_NEGATIVE_CHARS + 9), width=640)
    (row,) = _rows(runtime)
    assert (row.error_code, row.prompt, row.negative_prompt) == (
        "INVALID_PROMPT",
        "x" * MAX_PROMPT_CHARS,
        "y" * MAX_NEGATIVE_CHARS,
    )
    assert row.params == {"width": 640, "height": 1024, "num_images": 1}


def test_with_no_text_model_enabled_the_choices_say_none(runtime: Runtime, service: GenerationService) -> None:
    with runtime.database.session() as session:
        for model in session.exec(select(AIModel).where(AIModel.mode == "text")).all():
            model.enabled = False
            session.add(model)
    with pytest.raises(RefusedError) as caught:
        _text(service)
    assert (caught.value.code, caught.value.message) == (
        "INVALID_PARAMS",
        "Unknown text model None; choose one of: none.",
    )


def test_the_catalogue_lists_photo_tiers_unless_asked_for_text(service: GenerationService) -> None:
    assert [model.tier for model in service.models()] == ["basic", "pro", "enterprise"]
    assert [model.model_key for model in service.models(mode="text")] == ["text-to-image:flux-schnell"]


def test_text_outcomes_carry_no_notes(service: GenerationService) -> None:
    outcome = _text(service)
    assert outcome.notes == [] and outcome.details.notes == []


def test_history_is_a_page_of_the_24_newest_avatars(runtime: Runtime, service: GenerationService) -> None:
    runtime.accounts.sign_in("local")
    with runtime.database.session() as session:
        ledger.grant(session, user_id=users.find_user(session, "local").id, amount=100)
    made = [_text(service, num_images=MAX_OUTPUTS["text"]) for _ in range(7)]
    newest = [path for outcome in made for path in outcome.images][::-1]
    assert [item.image for item in gallery_of(service).history("local")] == newest[:24]
    assert [item.image for item in gallery_of(service).history("local", limit=30)] == newest


def test_the_details_of_a_generation_are_complete(runtime: Runtime, service: GenerationService) -> None:
    outcome = _text(service, width=512, height=768, seed=3, negative_prompt="fog")
    details = outcome.details.model_dump()
    assert isinstance(details.pop("processing_ms"), int)
    assert details == {
        "generation_id": outcome.generation_id,
        "status": "completed",
        "engine": "text",
        "preview": False,
        "model_key": "text-to-image:flux-schnell",
        "model_name": "FLUX.1 schnell (Text to Image)",
        "tier": "text",
        "mode": "text",
        "prompt": "a lighthouse at dusk",
        "negative_prompt": f"fog, {DEFAULT_NEGATIVE}",
        "style": None,
        "styles": None,
        "only_alike": None,
        "style_strength": None,
        "seed": 3,
        "width": 512,
        "height": 768,
        "num_images": 1,
        "steps": 4,
        "guidance_scale": 0.0,
        "credits_charged": 10,
        "credits_refunded": 0,
        "credits_remaining": 240,
        "images_kept": 1,
        "avatar_styles": [None],
        "attempts": 1,
        "likeness": [],
        "likeness_ok": [],
        "notes": [],
    }


def test_photo_details_name_the_style_and_its_strength(service: GenerationService, face_photo: Path) -> None:
    params = {"prompt": "a headshot", "tier": "basic", "style": "Neonpunk", "style_strength": 40}
    details = service.generate_avatar("local", [PhotoUpload.from_path(face_photo)], params).details.model_dump()
    assert (details["style"], details["style_strength"], details["model_name"]) == (
        "Neonpunk",
        40,
        "PhotoMaker V2 Basic",
    )


def test_an_account_is_its_name_and_balance(service: GenerationService) -> None:
    account = accounts_of(service).account("local")
    assert (account.username, account.credits) == ("local", 250)


def test_every_text_model_is_named_among_the_choices(runtime: Runtime, service: GenerationService) -> None:
    with runtime.database.session() as session:
        text_model = session.exec(select(AIModel).where(AIModel.mode == "text")).one()
        twin = AIModel(
            **{**text_model.model_dump(exclude={"id"}), "model_key": "text-to-image:sdxl", "credit_cost": 12}
        )
        session.add(twin)
    with pytest.raises(RefusedError) as caught:
        _text(service, model="dall-e")
    assert caught.value.message.endswith("choose one of: text-to-image:flux-schnell, text-to-image:sdxl.")


def _set_capabilities(runtime: Runtime, tier: str, capabilities: dict[str, int]) -> None:
    with runtime.database.session() as session:
        model = session.exec(select(AIModel).where(AIModel.tier == tier)).one()
        model.capabilities = capabilities
        session.add(model)


def test_the_models_own_limit_caps_the_number_of_images(
    runtime: Runtime, service: GenerationService, face_photo: Path
) -> None:
    _set_capabilities(runtime, "pro", {"max_outputs": 2})
    _check(service, face_photo, num_images=2)
    assert _refused(service, face_photo, num_images=3) == "Number of images must be between 1 and 2; you gave 3."
    _set_capabilities(runtime, "pro", {})
    _check(service, face_photo, num_images=DEFAULT_MAX_OUTPUTS)
    assert _refused(service, face_photo, num_images=DEFAULT_MAX_OUTPUTS + 1).startswith(
        f"Number of images must be between 1 and {DEFAULT_MAX_OUTPUTS};"
    )


@pytest.mark.parametrize("pick", [min, max], ids=["lowest", "highest"])
def test_a_drawn_seed_can_be_any_seed(
    service: GenerationService, text_engine: CountingEngine, monkeypatch: pytest.MonkeyPatch, pick
) -> None:
    monkeypatch.setattr(preparing, "random", SimpleNamespace(randint=lambda low, high: pick(low, high)))
    assert _text(service, seed=-1).details.seed == pick(0, MAX_SEED)


def test_the_engine_gets_what_the_user_chose(runtime: Runtime, service: GenerationService, face_photo: Path) -> None:
    engine = CountingEngine()
    service.engine = engine
    params = dict(
        prompt="a portrait in a garden",
        tier="enterprise",
        style="Lowpoly",
        style_strength=60,
        subject="woman",
        negative_prompt="hats",
        num_images=2,
        seed=99,
        steps=30,
        guidance_scale=3.5,
    )
    service.generate_avatar("local", [PhotoUpload.from_path(face_photo)] * 2, params)
    (request,) = engine.requests
    assert (request.mode, request.model_key, request.width, request.height) == (
        "photo",
        "avatar-creator:photomaker-enterprise",
        1536,
        1536,
    )
    assert (request.style.name, request.style_strength, request.num_images, request.seed) == ("Lowpoly", 60, 2, 99)
    assert (request.steps, request.guidance_scale, len(request.photos)) == (30, 3.5, 2)
    assert request.prompt == "a woman img, a portrait in a garden"
    assert request.styled_prompt.startswith("low-poly style a woman img, a portrait in a garden")
    assert request.negative_prompt.startswith("hats, ")
    row = _rows(runtime)[-1]
    assert {key: row.params[key] for key in ("style", "style_strength", "subject", "seed_requested")} == {
        "style": "Lowpoly",
        "style_strength": 60,
        "subject": "woman",
        "seed_requested": 99,
    }


def test_a_refused_photo_request_of_a_known_tier_records_its_model(
    runtime: Runtime, service: GenerationService, face_photo: Path
) -> None:
    with pytest.raises(RefusedError):
        service.generate_avatar("local", [PhotoUpload.from_path(face_photo)], {"prompt": "", "tier": "basic"})
    (row,) = _rows(runtime)
    assert (row.error_code, row.model_key) == ("INVALID_PROMPT", "avatar-creator:photomaker-basic")


def test_operators_are_marked_on_their_account_row(runtime: Runtime) -> None:
    service = GenerationService(
        settings=runtime.settings.model_copy(update={"admin_users": ["ops"]}),
        database=runtime.database,
        engine=runtime.service.engine,
        storage=runtime.service.storage,
    )
    accounts_of(service).sign_in("ops")
    accounts_of(service).sign_in("local")
    with runtime.database.session() as session:
        assert {name: users.find_user(session, name).is_admin for name in ("ops", "local")} == {
            "ops": True,
            "local": False,
        }


def test_a_request_without_a_prompt_is_recorded_with_empty_prompts(
    runtime: Runtime, service: GenerationService
) -> None:
    with pytest.raises(RefusedError) as caught:
        service.prepare_avatar("local", {"tier": "basic"}, photo_count=1)
    assert (caught.value.code, caught.value.message) == ("INVALID_PARAMS", "Prompt is missing; fill it in.")
    (row,) = _rows(runtime)
    assert (row.prompt, row.negative_prompt) == ("", "")


def test_a_refusal_records_how_many_photos_were_sent(
    runtime: Runtime, service: GenerationService, face_photo: Path
) -> None:
    with pytest.raises(RefusedError):
        service.generate_avatar("local", [PhotoUpload.from_path(face_photo)] * 2, {"prompt": "a headshot", "steps": 10})
    assert [row.photo_count for row in _rows(runtime)] == [2]


def test_text_to_image_reports_its_progress(service: GenerationService) -> None:
    seen: list[str] = []
    service.generate_from_text(
        "local", {"prompt": "a lighthouse"}, progress=lambda fraction, message: seen.append(message)
    )
    assert seen[0] == "Reserving 10 credits" and seen[-1] == "Done"


def test_the_text_models_own_limit_caps_the_number_of_images(runtime: Runtime, service: GenerationService) -> None:
    _set_capabilities(runtime, "text", {"max_outputs": 2})
    assert _text(service, num_images=2).details.num_images == 2
    with pytest.raises(RefusedError) as caught:
        _text(service, num_images=3)
    assert caught.value.message == "Number of images must be between 1 and 2; you gave 3."


def test_a_text_row_saves_no_photo_settings(runtime: Runtime, service: GenerationService) -> None:
    _text(service)
    saved = _rows(runtime)[-1].params
    assert {"style", "style_strength", "subject"}.isdisjoint(saved)
    assert {"tier", "num_images", "steps", "guidance_scale", "width", "height", "seed_requested"} <= set(saved)
