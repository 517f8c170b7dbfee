"""Avatar packs through the REST API, served for real with the preview engine: one job and one charge for every
style, per-avatar progress and styles, idempotent retries, refusals that charge and keep nothing, and cancel
(`POST .../cancel` and `DELETE`) that keeps what was made and refunds exactly the rest.

What moves credits or rows runs on SQLite and PostgreSQL. The balance is shared by the module's tests, so they
compare it before and after.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlmodel import select

from photomaker.store import AIModel, Generation
from stand_ins.serving import ServedApp
from tests.helpers import GatedEngine
from tests.rest.conftest import photo_parts
from tests.rest.test_rest_api import assert_problem, credits, polled, project

PACK = {"prompt": "a professional headshot", "tier": "basic", "styles": "Cinematic, Enhance", "images_per_style": 2}
STYLES = ["Cinematic", "Enhance"]


@pytest.fixture(scope="module")
def photo_engine() -> dict[str, Any]:
    """The offline preview engine: real avatars of the person in the photos, their likeness measured."""
    return {"photomaker_engine": "preview"}


@pytest.fixture
def gated(served: ServedApp, monkeypatch: pytest.MonkeyPatch) -> Iterator[GatedEngine]:
    """An engine that holds each call until the test opens its gate, in place of the preview engine."""
    engine = GatedEngine()
    engine.name = f"gated-{uuid.uuid4().hex[:8]}"  # its own turns, at the limit of the test that made it
    monkeypatch.setattr(served.runtime.service, "engine", engine)
    yield engine
    engine.gate.set()


def basic(served: ServedApp) -> AIModel:
    return next(model for model in served.runtime.service.models() if model.tier == "basic")


def generate_pack(
    api: httpx.Client,
    project_id: int,
    fields: dict[str, Any],
    *,
    headers: dict[str, str] | None = None,
    params: dict[str, Any] | None = None,
) -> httpx.Response:
    """A pack's multipart request; a list is sent as one part per item, None not at all."""
    data = {
        key: [str(item) for item in value] if isinstance(value, list) else str(value)
        for key, value in fields.items()
        if value is not None
    }
    return api.post(
        f"/projects/{project_id}/avatars/generate-pack",
        files=photo_parts("astronaut.png"),
        data=data,
        headers=headers,
        params=params,
    )


def ledger(served: ServedApp, generation_id: int) -> list[tuple[str, int]]:
    """The credit history's lines of one generation, oldest first."""
    lines = served.runtime.accounts.credit_history("local")
    return [(line.kind, line.delta) for line in reversed(lines) if line.generation_id == generation_id]


def rows(served: ServedApp) -> Counter[str]:
    """How many generation rows there are of each status."""
    with served.runtime.database.reading() as session:
        return Counter(session.exec(select(Generation.status)).all())


def files(served: ServedApp) -> int:
    """Every file under the avatars' folder and the folder of the photos requests are reading."""
    settings = served.runtime.settings
    return sum(path.is_file() for folder in (settings.avatars_dir, settings.incoming_dir) for path in folder.rglob("*"))


@pytest.mark.both_databases
def test_a_pack_is_one_job_and_one_charge_and_each_avatar_says_its_style(api: httpx.Client, served: ServedApp) -> None:
    model, before = basic(served), credits(api)
    accepted = generate_pack(api, project(api)["id"], {**PACK, "styles": STYLES})  # a part per style
    assert accepted.status_code == 202, accepted.text
    job = accepted.json()
    assert accepted.headers["location"] == job["url"] and job["status"] == "processing"
    assert before - credits(api) == model.price(4), "the whole pack is charged when it is accepted"

    done, progress = polled(api, accepted.headers["location"], timeout_s=120)
    assert done["status"] == "completed", done["error"]
    assert [avatar["style"] for avatar in done["avatars"]] == ["Cinematic", "Cinematic", "Enhance", "Enhance"]
    details = done["details"]
    assert (details["styles"], details["avatar_styles"]) == (STYLES, [a["style"] for a in done["avatars"]])
    assert (details["num_images"], details["images_kept"], details["only_alike"]) == (4, 4, True)
    assert (details["credits_charged"], details["credits_refunded"]) == (model.price(4), 0)
    assert all(details["likeness_ok"]) and len(details["likeness"]) == 4
    assert credits(api) == before - model.price(4)
    assert ledger(served, job["id"]) == [("charge", -model.price(4))]
    making = [each for each in progress if each["image"]]
    assert making, progress
    assert all(each["images"] == 4 and each["style"] in STYLES and 1 <= each["image"] <= 4 for each in making)
    assert any(each["message"].startswith(f"Avatar {each['image']} of 4 · {each['style']}") for each in making)


@pytest.mark.both_databases
def test_a_retried_pack_is_the_same_job_charged_once(api: httpx.Client, served: ServedApp) -> None:
    folder, key, before = project(api), {"Idempotency-Key": str(uuid.uuid4())}, credits(api)
    first = generate_pack(api, folder["id"], PACK, headers=key)
    again = generate_pack(api, folder["id"], PACK, headers=key)
    assert first.status_code == again.status_code == 202, first.text
    assert again.json() == first.json() and again.headers["idempotent-replayed"] == "true"
    done, _ = polled(api, first.headers["location"], timeout_s=120)
    assert done["status"] == "completed" and len(done["avatars"]) == 4
    assert credits(api) == before - basic(served).price(4)
    other = generate_pack(api, folder["id"], {**PACK, "images_per_style": 1}, headers=key)
    assert_problem(other, 409, "IDEMPOTENCY_KEY_REUSED")
    waited = generate_pack(api, folder["id"], {**PACK, "styles": "Lowpoly"}, params={"wait": 60})
    assert waited.status_code == 200 and [a["style"] for a in waited.json()["avatars"]] == ["Lowpoly"] * 2


@pytest.mark.both_databases
@pytest.mark.parametrize(
    ("fields", "says"),
    [
        ({**PACK, "styles": "Cinematic, Cinematik"}, "Unknown style 'Cinematik'"),
        ({**PACK, "styles": ["Cinematic", "Enhance", "Cinematic"]}, "'Cinematic' is listed twice"),
        ({**PACK, "preset": "Professional"}, "either styles or a preset, not both"),
        ({**PACK, "images_per_style": 5}, "Images per style must be between 1 and 4; you gave 5."),
        ({**PACK, "styles": ""}, "Choose at least one style"),
        ({**PACK, "preset": "Everything", "styles": None}, "Unknown preset 'Everything'"),
        ({**PACK, "num_images": 2}, "There is no setting 'num_images'"),
    ],
    ids=["unknown", "twice", "preset-and-styles", "five-each", "none", "unknown-preset", "single-style-field"],
)
def test_a_refused_pack_charges_and_keeps_nothing(
    api: httpx.Client, served: ServedApp, fields: dict[str, Any], says: str
) -> None:
    folder, before, counted, kept = project(api), credits(api), rows(served), files(served)
    assert says in assert_problem(generate_pack(api, folder["id"], fields), 400, "INVALID_PARAMS")["detail"]
    assert credits(api) == before and files(served) == kept
    assert rows(served) == counted + Counter(rejected=1), "a refusal is recorded, nothing else"


def test_only_the_styles_may_be_sent_twice(api: httpx.Client, served: ServedApp) -> None:
    folder, counted = project(api), rows(served)
    twice = generate_pack(api, folder["id"], {**PACK, "styles": None, "preset": ["Professional", "Playful"]})
    assert "'preset' was sent twice; send each setting once." in assert_problem(twice, 400, "INVALID_PARAMS")["detail"]
    assert rows(served) == counted, "refused as it was read, before any check that records"


@pytest.mark.both_databases
def test_a_pack_too_expensive_says_how_many_avatars_the_credits_buy(api: httpx.Client, served: ServedApp) -> None:
    folder, accounts, model = project(api), served.runtime.accounts, basic(served)
    balance = credits(api)
    left = 2 * model.price_each(2) + model.price_each(2) - 1  # two avatars, not three
    accounts.grant("local", left - balance, reason="test", by="test")
    counted, kept = rows(served), files(served)
    try:
        body = assert_problem(generate_pack(api, folder["id"], PACK), 402, "INSUFFICIENT_CREDITS")
        assert body["detail"] == (
            f"These 4 avatars cost {model.price(4)} credits and you have {left}: enough for 2 basic avatars. "
            "Choose fewer styles or images, or a lower tier."
        )
        assert credits(api) == left and files(served) == kept
        assert rows(served) == counted + Counter(rejected=1)
    finally:
        accounts.grant("local", balance - left, reason="test", by="test")


@pytest.mark.both_databases
@pytest.mark.parametrize("how", ["POST", "DELETE"])
def test_cancelling_a_running_pack_keeps_what_it_made_and_refunds_exactly_the_rest(
    api: httpx.Client, served: ServedApp, gated: GatedEngine, how: str
) -> None:
    model, before = basic(served), credits(api)
    accepted = generate_pack(api, project(api)["id"], PACK)
    assert accepted.status_code == 202, accepted.text
    generation_id = accepted.json()["id"]
    assert gated.started.acquire(timeout=30), "the first style is being made"
    cancel = (
        api.post(f"/generations/{generation_id}/cancel")
        if how == "POST"
        else api.delete(f"/generations/{generation_id}")
    )
    assert cancel.status_code == 202, cancel.text
    assert cancel.json()["status"] == "processing" and cancel.headers["location"] == accepted.headers["location"]
    gated.gate.set()

    done, _ = polled(api, accepted.headers["location"])
    each, not_made = model.price_each(4), 2
    assert done["status"] == "completed" and [a["style"] for a in done["avatars"]] == ["Cinematic", "Cinematic"]
    assert (done["details"]["images_kept"], done["details"]["credits_refunded"]) == (2, each * not_made)
    assert len(gated.requests) == 1, "the second style was never asked of the engine"
    assert ledger(served, generation_id) == [("charge", -model.price(4)), ("refund", each * not_made)]
    assert "2 avatars cancelled" in " ".join(done["details"]["notes"])
    assert credits(api) == before - model.price(4) + each * not_made

    for again in (api.post(f"/generations/{generation_id}/cancel"), api.delete(f"/generations/{generation_id}")):
        assert_problem(again, 409, "NOT_RUNNING")
    assert credits(api) == before - model.price(4) + each * not_made


@pytest.mark.both_databases
def test_a_pack_cancelled_while_it_waits_for_its_turn_is_refunded_whole(
    api: httpx.Client, served: ServedApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(served.runtime.service.settings, "remote_concurrency", 1)
    engine = GatedEngine()
    engine.name = f"gated-one-at-a-time-{uuid.uuid4().hex[:8]}"
    monkeypatch.setattr(served.runtime.service, "engine", engine)
    model, before = basic(served), credits(api)
    try:
        first = generate_pack(api, project(api)["id"], {**PACK, "styles": "Cinematic"})
        assert engine.started.acquire(timeout=30), "the first pack holds the engine's one turn"
        waiting = generate_pack(api, project(api)["id"], PACK)
        assert waiting.status_code == 202, waiting.text
        cancelled = api.post(f"/generations/{waiting.json()['id']}/cancel")
        assert cancelled.status_code == 202 and cancelled.json()["status"] == "processing", cancelled.text
    finally:
        engine.gate.set()
    done, _ = polled(api, waiting.headers["location"])
    assert polled(api, first.headers["location"])[0]["status"] == "completed"
    assert done["status"] == "failed" and done["error"]["code"] == "CANCELLED" and done["avatars"] == []
    assert ledger(served, done["id"]) == [("charge", -model.price(4)), ("refund", model.price(4))]
    assert len(engine.requests) == 1, "the cancelled pack never reached the engine"
    assert credits(api) == before - model.price(2)


def test_the_pack_and_cancel_routes_are_documented(api: httpx.Client) -> None:
    paths = api.get("/openapi.json").raise_for_status().json()["paths"]
    form = paths["/projects/{project_id}/avatars/generate-pack"]["post"]["requestBody"]["content"]
    fields = form["multipart/form-data"]["schema"]["properties"]
    assert {"photos", "prompt", "tier", "styles", "preset", "images_per_style", "only_alike"} <= set(fields)
    assert "project" not in fields and "style" not in fields and fields["styles"]["type"] == "array"
    for cancel in (
        paths["/generations/{generation_id}/cancel"]["post"],
        paths["/generations/{generation_id}"]["delete"],
    ):
        assert {"200", "202", "404", "409"} <= set(cancel["responses"])
