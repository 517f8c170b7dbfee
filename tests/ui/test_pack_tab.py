"""Packs on the Generate tab, called as the page calls its events: several styles from one upload, grouped
results and their ZIP, the price before Generate, refunds in the details, and Cancel during a slow run."""

from __future__ import annotations

import shutil
import threading
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from photomaker.generation import making
from photomaker.generation.packs import PRESETS
from photomaker.startup.runtime import Runtime
from photomaker.ui import build_app
from photomaker.ui.cache import cache_dir, withdraw_downloads
from photomaker.ui.uploads import REGISTRY
from tests.fakes.held_engine import HeldEngine
from tests.ui.page_events import PageEvents

FIXTURES = Path(__file__).parents[1] / "fixtures"
PACK = ["Cinematic", "Enhance"]


def _uploaded(upload_dir: Path, name: str = "astronaut.png") -> str:
    folder = upload_dir / f"pack-{name}"
    folder.mkdir(exist_ok=True)
    return str(REGISTRY.adopt(Path(shutil.copy(FIXTURES / name, folder / name)), owner=None))


def _browser(name: str = "browser-1") -> SimpleNamespace:
    """What the handlers read of a browser's request: its session, cookies, headers and address."""
    return SimpleNamespace(session_hash=name, cookies={}, headers={}, client=None)


@pytest.fixture
def events(runtime: Runtime) -> PageEvents:
    return PageEvents(build_app(runtime))


@pytest.fixture
def generate(events: PageEvents, upload_dir: Path) -> Callable[..., dict[str, Any]]:
    def call(styles: list[str], count: int = 1, *, stream: bool = False, **values: Any) -> Any:
        return (events.stream if stream else events)(
            "ui_generate",
            photos=[(_uploaded(upload_dir), None)],
            styles=styles,
            num_images=count,
            prompt="a professional headshot",
            tier="basic",
            **values,
        )

    return call


def credits(runtime: Runtime) -> int:
    return runtime.accounts.account("local").credits


def test_a_two_style_pack_is_grouped_by_style_and_downloads_as_named_pngs(
    generate: Callable[..., dict[str, Any]], runtime: Runtime
) -> None:
    basic = next(model for model in runtime.service.models() if model.tier == "basic")
    out = generate(PACK, count=2)
    captions = [caption.split(" · ")[:2] for _, caption in out["results"]["value"]]
    assert captions == [
        ["Avatar 1 of 2", "Cinematic"],
        ["Avatar 2 of 2", "Cinematic"],
        ["Avatar 1 of 2", "Enhance"],
        ["Avatar 2 of 2", "Enhance"],
    ]
    details = out["details_json"]
    assert details["styles"] == PACK and details["style"] is None and details["images_kept"] == 4
    assert details["avatar_styles"] == ["Cinematic", "Cinematic", "Enhance", "Enhance"]
    assert details["credits_charged"] == basic.price(4) == 4 * basic.credit_cost
    assert credits(runtime) == 250 - basic.price(4)
    assert "Styles **Cinematic 2 · Enhance 2**" in out["details"] and "· 4 images" in out["details"]
    history = sorted(caption.split(" · ")[1:3] for _, caption in out["history"])
    assert history == [
        ["Avatar 1", "Cinematic"],
        ["Avatar 2", "Cinematic"],
        ["Avatar 3", "Enhance"],
        ["Avatar 4", "Enhance"],
    ]
    download = out["download"]
    assert download["visible"] is True
    archive = Path(download["value"])
    assert archive.is_relative_to(cache_dir()) and not archive.is_relative_to(runtime.settings.data_dir)
    with zipfile.ZipFile(archive) as opened:
        assert opened.namelist() == ["cinematic-1.png", "cinematic-2.png", "enhance-1.png", "enhance-2.png"]
        shown = [Path(path).read_bytes() for path, _ in out["results"]["value"]]
        assert [opened.read(name) for name in opened.namelist()] == shown, "the ZIP holds the avatars shown, in order"


def test_the_zip_is_withdrawn_with_its_owners_downloads_alone(generate: Callable[..., dict[str, Any]]) -> None:
    archive = Path(generate(["Cinematic"])["download"]["value"])
    assert archive.name == archive.name.lower() and archive.suffix == ".zip"
    withdraw_downloads("someone-else")
    assert archive.exists(), "another user's deletion leaves it"
    withdraw_downloads("local")
    assert not archive.exists(), "its owner's deletion of their data takes it"


def test_one_style_is_the_single_style_request_it_always_was(generate: Callable[..., dict[str, Any]]) -> None:
    out = generate(["Comic book"], count=2)
    details = out["details_json"]
    assert (details["style"], details["styles"], details["num_images"]) == ("Comic book", None, 2)
    with zipfile.ZipFile(out["download"]["value"]) as opened:
        assert opened.namelist() == ["comic-book-1.png", "comic-book-2.png"]


def test_the_price_counts_every_style_and_says_when_the_bundle_price_applies(
    events: PageEvents, runtime: Runtime
) -> None:
    pro = next(model for model in runtime.service.models() if model.tier == "pro")
    four = events("ui_styles", styles=list(PRESETS["Professional"]), num_images=3, tier="pro")
    assert four["cost"].startswith(
        f"**Cost: {pro.price(12)} credits** (12 avatars × {pro.price_each(12)} credits, bundle price from "
        f"{pro.bundle_from})"
    )
    assert pro.price_each(12) < pro.credit_cost
    assert four["num_images"]["label"] == "Images per style"
    one = events("ui_styles", styles=["Cinematic"], num_images=3, tier="pro")
    assert one["cost"].startswith(f"**Cost: {pro.price(3)} credits** (3 avatars × {pro.credit_cost} credits;")
    assert one["num_images"]["label"] == "Number of images"
    assert events("ui_styles", styles=[], tier="pro")["cost"].startswith("Choose at least one style")


def test_a_preset_fills_in_its_styles(events: PageEvents) -> None:
    assert events("ui_preset", preset="Playful")["styles"] == list(PRESETS["Playful"])


@pytest.mark.parametrize(
    ("styles", "said"),
    [([], "Choose at least one style"), (["Cinematic", "Nope"], "Unknown style 'Nope'")],
)
def test_a_pack_refusal_is_shown_where_the_results_go_and_charges_nothing(
    generate: Callable[..., dict[str, Any]], runtime: Runtime, styles: list[str], said: str
) -> None:
    out = generate(styles)
    assert said in out["details"] and "Nothing was charged" in out["details"]
    assert out["details_json"] == {"status": "rejected", "error_code": "INVALID_PARAMS"}
    assert out["results"]["visible"] is False and out["results"]["value"] is None, "never under the last avatars"
    assert out["download"]["visible"] is False
    assert credits(runtime) == 250


def test_an_avatar_that_does_not_look_like_you_is_refunded_and_said_so(
    generate: Callable[..., dict[str, Any]], runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The second style's avatar, and its second try, are measured unlike the person."""
    basic = next(model for model in runtime.service.models() if model.tier == "basic")
    measure, calls = making.face_match.measure, []

    def unlike_after_the_first(images: Any, person: Any, **options: Any) -> list[float | None]:
        calls.append(len(images))
        return measure(images, person, **options) if len(calls) == 1 else [0.05] * len(images)

    monkeypatch.setattr(making.face_match, "measure", unlike_after_the_first)
    out = generate(PACK)
    assert calls == [1, 1, 1], "the first style's avatar, the second's, and its one more try"
    assert [caption.split(" · ")[1] for _, caption in out["results"]["value"]] == ["Cinematic"]
    details = out["details_json"]
    assert (details["credits_charged"], details["credits_refunded"]) == (basic.price(2), basic.price_each(2))
    assert f"1 avatar did not look like you: {basic.price_each(2)} credits back" in out["details"]
    assert credits(runtime) == 250 - basic.price(2) + basic.price_each(2)
    with zipfile.ZipFile(out["download"]["value"]) as opened:
        assert opened.namelist() == ["cinematic-1.png"]


def test_cancel_keeps_the_style_being_made_and_refunds_the_rest(
    generate: Callable[..., dict[str, Any]], events: PageEvents, runtime: Runtime
) -> None:
    basic = next(model for model in runtime.service.models() if model.tier == "basic")
    engine = runtime.service.engine = HeldEngine(runtime.service.engine)
    browser, outcome, said = _browser(), {}, []

    def watch() -> None:
        for update in generate(PACK, request=browser, stream=True):
            said.append(update.get("status", ""))
            outcome.update(update)

    making_it = threading.Thread(target=watch)
    making_it.start()
    assert engine.making.wait(30)
    deadline = time.monotonic() + 10
    while not any("Making avatar 1 of 2 · Cinematic · " in line and "Painting" in line for line in said):
        assert time.monotonic() < deadline, f"the page was never told which avatar is being made: {said}"
        time.sleep(0.05)
    assert events("ui_cancel", request=_browser("another-browser"))["cancel"]["visible"] is False, "not theirs"
    assert events("ui_cancel", request=browser)["cancel"] == {
        "__type__": "update",
        "value": "Cancelling…",
        "interactive": False,
    }
    engine.go.set()
    making_it.join(30)
    details = outcome["details_json"]
    assert details["avatar_styles"] == ["Cinematic"], "the avatar under way is finished and kept"
    assert (details["credits_charged"], details["credits_refunded"]) == (basic.price(2), basic.price_each(2))
    assert f"1 avatar cancelled: {basic.price_each(2)} credits back" in outcome["details"]
    assert credits(runtime) == 250 - basic.price_each(2)
    assert events("ui_cancel", request=browser)["cancel"]["visible"] is False, "nothing runs any more"
