"""The parameter models are the one home of a generation's parameters: the API, the CLI and the page's sliders keep to
them, and `parse` turns a bad value into one clear sentence."""

from __future__ import annotations

import argparse
import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Any, get_args

import gradio as gr
import pytest
from pydantic import BaseModel, ValidationError
from sqlmodel import select

from photomaker.cli import main as cli
from photomaker.core.errors import RefusedError
from photomaker.generation.params import (
    DEFAULT_MAX_OUTPUTS,
    PackParams,
    PhotoParams,
    ProjectParams,
    TextParams,
    bounds,
    label,
    parse,
)
from photomaker.startup.runtime import Runtime
from photomaker.store import Generation
from photomaker.ui import build_app
from photomaker.ui.api import register_api
from tests.ui.page_events import PageEvents

INJECTED = ("profile", "token", "request")
"""What Gradio fills in itself, after the request's own parameters."""

REQUIRED = "<required>"


def _default(value: Any) -> tuple[str, Any]:
    """A default with its type, so that 1 and 1.0 (or True) count as different defaults."""
    return (REQUIRED, REQUIRED) if value is inspect.Parameter.empty else (type(value).__name__, value)


def _model_defaults(model: type[BaseModel]) -> list[tuple[str, tuple[str, Any]]]:
    return [
        (name, _default(inspect.Parameter.empty if field.is_required() else field.default))
        for name, field in model.model_fields.items()
    ]


@pytest.fixture
def endpoints(runtime: Runtime) -> dict[str, Callable[..., Any]]:
    """The API's functions by api_name, registered as the app registers them."""
    with gr.Blocks() as blocks:
        register_api(runtime)
    return {block.api_name: block.fn for block in blocks.fns.values() if block.api_name}


@pytest.mark.parametrize(
    ("api_name", "model", "leading"),
    [
        ("generate_avatar", PhotoParams, ("photos",)),
        ("generate_pack", PackParams, ("photos",)),
        ("generate_from_text", TextParams, ()),
    ],
)
def test_endpoint_parameters_are_the_models_fields_in_order_with_their_defaults(
    endpoints: dict[str, Callable[..., Any]], api_name: str, model: type[BaseModel], leading: tuple[str, ...]
) -> None:
    parameters = list(inspect.signature(endpoints[api_name]).parameters.values())
    names = [parameter.name for parameter in parameters]
    assert tuple(names[: len(leading)]) == leading
    injected = [name for name in INJECTED if name in names]
    assert names[len(names) - len(injected) :] == injected, "Gradio's own parameters come last, in this order"
    assert all(parameters[names.index(name)].default is None for name in injected)
    own = parameters[len(leading) : len(parameters) - len(injected)]
    assert [(parameter.name, _default(parameter.default)) for parameter in own] == _model_defaults(model)


def _parser(command: str = "generate") -> argparse.ArgumentParser:
    commands = next(item for item in cli.build_parser()._actions if isinstance(item, argparse._SubParsersAction))
    return commands.choices[command]


def _options(parser: argparse.ArgumentParser) -> dict[str, argparse.Action]:
    return {option: action for action in parser._actions for option in action.option_strings}


@pytest.mark.parametrize(("command", "model"), [("generate", PhotoParams), ("pack", PackParams)])
def test_every_field_is_an_option_of_its_command(command: str, model: type[BaseModel]) -> None:
    options = _options(_parser(command))
    for name, field in model.model_fields.items():
        option = options[f"--{name.replace('_', '-')}"]
        assert option.dest == name
        assert option.required == field.is_required()
        assert option.default is argparse.SUPPRESS, f"--{name} must pass nothing when left out"
        assert field.title and field.title in (option.help or "")
    assert list(options["--subject"].choices or []) == list(get_args(PhotoParams.model_fields["subject"].annotation))


def test_generate_options_are_typed_and_checked() -> None:
    parser = _parser()
    options = "--photo me.jpg --steps 30 --guidance-scale 6.5 --style-strength 40 --num-images 2 --seed 7"
    args = parser.parse_args([*options.split(), "--subject", "woman", "--prompt", "a headshot"])
    chosen = {name: getattr(args, name) for name in PhotoParams.model_fields if hasattr(args, name)}
    assert chosen == {
        "prompt": "a headshot",
        "steps": 30,
        "guidance_scale": 6.5,
        "style_strength": 40,
        "num_images": 2,
        "seed": 7,
        "subject": "woman",
    }
    with pytest.raises(SystemExit):
        parser.parse_args(["--photo", "me.jpg", "--prompt", "a headshot", "--subject", "cat"])
    assert parser.parse_args(["--photo", "me.jpg", "--prompt", "x", "--no-only-alike"]).only_alike is False


def test_pack_options_are_typed_and_checked() -> None:
    parser = _parser("pack")
    args = parser.parse_args(["--prompt", "x", "--styles", "Cinematic, Enhance", "--images-per-style", "3", "a.jpg"])
    chosen = {name: getattr(args, name) for name in PackParams.model_fields if hasattr(args, name)}
    assert chosen == {"prompt": "x", "styles": "Cinematic, Enhance", "images_per_style": 3}
    assert parse(PackParams, chosen).styles == ["Cinematic", "Enhance"]
    assert parser.parse_args(["--prompt", "x", "--preset", "Playful", "a.jpg"]).preset == "Playful"
    for wrong in (["--preset", "Everything"], ["--images-per-style", "two"]):
        with pytest.raises(SystemExit):
            parser.parse_args(["--prompt", "x", *wrong, "a.jpg"])


def test_a_left_out_option_passes_nothing_so_the_tiers_default_applies(
    runtime: Runtime, face_photo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    args = cli.build_parser().parse_args(["generate", "--photo", str(face_photo), "--prompt", "a headshot"])
    sent: list[dict[str, Any]] = []
    original = runtime.jobs.run

    def spy(username: str, values: dict[str, Any], **options: Any) -> Any:
        sent.append(dict(values))
        return original(username, values, **options)

    monkeypatch.setattr(runtime.jobs, "run", spy)
    assert cli._generate(runtime, args) == 0
    assert sent == [{"prompt": "a headshot"}]
    (pro,) = [model for model in runtime.service.models() if model.tier == PhotoParams.model_fields["tier"].default]
    with runtime.database.reading() as session:
        (row,) = session.exec(select(Generation)).all()
    assert (row.status, row.model_key, row.credits_charged) == ("completed", pro.model_key, pro.price(1))
    assert (row.params["steps"], row.params["guidance_scale"]) == (pro.steps, pro.guidance_scale)
    assert row.params["style_strength"] == pro.default_style_strength


def _refusal(model: type[BaseModel], values: dict[str, Any], **options: Any) -> str:
    with pytest.raises(RefusedError) as caught:
        parse(model, values, **options)
    assert caught.value.code == "INVALID_PARAMS"
    return caught.value.message


@pytest.mark.parametrize(
    ("model", "values", "message"),
    [
        (PhotoParams, {"guidance_scale": 12}, "Guidance scale must be between 0.1 and 10; you gave 12."),
        (PhotoParams, {"guidance_scale": 0.05}, "Guidance scale must be between 0.1 and 10; you gave 0.05."),
        (PhotoParams, {"style_strength": 101}, "Style strength must be between 0 and 100; you gave 101."),
        (PhotoParams, {"steps": 19}, "Steps must be between 20 and 100; you gave 19."),
        (PhotoParams, {"steps": 30.5}, "Steps must be a whole number; you gave 30.5."),
        (PhotoParams, {"steps": "thirty"}, "Steps must be a whole number; you gave thirty."),
        (PhotoParams, {"guidance_scale": "lots"}, "Guidance scale must be a number; you gave lots."),
        (PhotoParams, {"steps": [30]}, "Steps must be a whole number; you gave [30]."),
        (PhotoParams, {"guidance_scale": [6.5]}, "Guidance scale must be a number; you gave [6.5]."),
        (PhotoParams, {"tier": 5}, "Tier: Input should be a valid string; you gave 5."),
        (TextParams, {"width": 1001}, "Width must be a multiple of 8; you gave 1001."),
        (TextParams, {"height": 2049}, "Height must be between 256 and 2048; you gave 2049."),
        (TextParams, {"width": 4096}, "Width must be between 256 and 2048; you gave 4096."),
        (TextParams, {"width": 100}, "Width must be between 256 and 2048; you gave 100."),
        (PhotoParams, {"subject": "cat"}, "Unknown subject 'cat'; choose one of: person, man, woman, boy, girl."),
        (PhotoParams, {"num_images": 0}, "Number of images must be between 1 and 4; you gave 0."),
        (PhotoParams, {"num_images": 5}, "Number of images must be between 1 and 4; you gave 5."),
    ],
)
def test_each_bad_value_gets_one_sentence(model: type[BaseModel], values: dict[str, Any], message: str) -> None:
    assert _refusal(model, {"prompt": "a headshot", **values}) == message


@pytest.mark.parametrize("model", [PhotoParams, TextParams])
def test_an_unknown_setting_is_named_with_the_settings(model: type[BaseModel]) -> None:
    message = _refusal(model, {"prompt": "a headshot", "colour": "red"})
    assert message == f"There is no setting 'colour'; the settings are: {', '.join(model.model_fields)}."


@pytest.mark.parametrize("model", [PhotoParams, TextParams])
def test_a_prompt_sent_as_none_is_empty_so_the_prompt_rules_ask_for_one(model: type[BaseModel]) -> None:
    assert parse(model, {"prompt": None}).prompt == ""


@pytest.mark.parametrize("model", [PhotoParams, TextParams])
def test_a_missing_prompt_says_so(model: type[BaseModel]) -> None:
    assert _refusal(model, {}) == "Prompt is missing; fill it in."


def test_the_seeds_bound_is_written_in_full() -> None:
    assert _refusal(PhotoParams, {"prompt": "a headshot", "seed": -2}).startswith(
        "Seed must be between -1 and 2147483647;"
    )


def test_numbers_arrive_as_the_page_and_programs_send_them() -> None:
    parsed = parse(PhotoParams, {"prompt": "a headshot", "steps": "30", "num_images": 2.0, "guidance_scale": "6.5"})
    assert (parsed.steps, parsed.num_images, parsed.guidance_scale) == (30, 2, 6.5)
    assert type(parsed.steps) is int and type(parsed.num_images) is int


@pytest.mark.parametrize("model", [PhotoParams, TextParams])
def test_none_takes_the_default_of_every_field_that_has_one(model: type[BaseModel]) -> None:
    sent = {name: None for name in model.model_fields} | {"prompt": "a headshot"}
    parsed = parse(model, sent)
    defaults = {name: field.default for name, field in model.model_fields.items() if not field.is_required()}
    assert defaults and {name: getattr(parsed, name) for name in defaults} == defaults


def test_a_models_own_limit_raises_the_number_of_images() -> None:
    assert parse(PhotoParams, {"prompt": "a headshot", "num_images": 6}, max_images=8).num_images == 6
    assert parse(TextParams, {"prompt": "a lighthouse", "num_images": 8}, max_images=8).num_images == 8
    message = _refusal(PhotoParams, {"prompt": "a headshot", "num_images": 9}, max_images=8)
    assert message == "Number of images must be between 1 and 8; you gave 9."
    assert bounds(PhotoParams, "num_images") == (1, DEFAULT_MAX_OUTPUTS)
    assert bounds(TextParams, "num_images", max_images=8) == (1, 8)


@pytest.mark.parametrize(("model", "name"), [(PhotoParams, "steps"), (TextParams, "width")])
def test_parsed_params_are_frozen(model: type[BaseModel], name: str) -> None:
    parsed = parse(model, {"prompt": "a headshot"})
    with pytest.raises(ValidationError):
        setattr(parsed, name, 512)


def test_the_pages_sliders_take_their_bounds_and_labels_from_the_models(runtime: Runtime) -> None:
    form = PageEvents(build_app(runtime)).form
    models = [*runtime.service.models(mode="photo"), *runtime.service.models(mode="text")]
    limit = max(model.max_outputs or DEFAULT_MAX_OUTPUTS for model in models)
    sliders = {name: widget for name, widget in form.named().items() if isinstance(widget, gr.Slider)}
    assert {"style_strength", "width", "height", "num_images", "steps", "guidance_scale"} <= set(sliders)
    for name, slider in sliders.items():
        model = PhotoParams if name in PhotoParams.model_fields else TextParams
        low, high = bounds(model, name, max_images=limit)
        assert (slider.minimum, slider.maximum, slider.label) == (low, high, label(model, name)), name
        assert low <= slider.value <= high, f"{name} starts within its bounds"


def test_a_project_name_with_a_next_line_control_character_is_refused_not_trimmed() -> None:
    with pytest.raises(RefusedError) as refused:
        parse(ProjectParams, {"name": "Family\x85"})
    assert "U+0085" in str(refused.value)


@pytest.mark.parametrize(
    ("sent", "named"),
    [
        ("a headshot \u202egpj.exe", "U+202E RIGHT-TO-LEFT OVERRIDE"),
        ("a head\u2066shot", "U+2066 LEFT-TO-RIGHT ISOLATE"),
        ("a head\u200bshot", "U+200B ZERO WIDTH SPACE"),
        ("a head\u200dshot", "U+200D ZERO WIDTH JOINER"),
        ("\ufeffa headshot", "U+FEFF ZERO WIDTH NO-BREAK SPACE"),
        ("a headshot\uffff", "U+FFFF"),
        ("a headshot\U000e0041", "U+E0041 TAG LATIN CAPITAL LETTER A"),
    ],
)
@pytest.mark.parametrize("field", ["prompt", "negative_prompt", "project"])
def test_text_that_hides_or_reorders_what_it_says_is_refused_naming_the_character(
    field: str, sent: str, named: str
) -> None:
    with pytest.raises(RefusedError) as refused:
        parse(PhotoParams, {"prompt": "a headshot", field: sent})
    assert refused.value.code == "INVALID_PARAMS"
    assert f"({named})" in refused.value.message and "Remove it" in refused.value.message


def test_text_in_other_scripts_and_emoji_is_accepted() -> None:
    prompt = "portrait à la Renoir, 東京の夜, مرحبا, עברית, 😀🎨, tab\there"
    assert parse(PhotoParams, {"prompt": prompt, "project": "Été 2026 🌞"}).prompt == prompt


@pytest.mark.parametrize(
    ("model", "name", "says"),
    [
        (PhotoParams, "num_images", "whole number"),
        (PhotoParams, "seed", "whole number"),
        (PhotoParams, "steps", "whole number"),
        (PhotoParams, "style_strength", "whole number"),
        (PhotoParams, "guidance_scale", "must be a number"),
        (TextParams, "width", "whole number"),
    ],
)
@pytest.mark.parametrize("flag", [True, False])
def test_true_or_false_is_not_a_number(model: type[BaseModel], name: str, says: str, flag: bool) -> None:
    with pytest.raises(RefusedError) as refused:
        parse(model, {"prompt": "a headshot", name: flag})
    assert says in refused.value.message and f"you gave {flag}" in refused.value.message
