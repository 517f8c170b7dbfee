"""The REST API through httpx against the served app: every route, real photos as multipart uploads, the
job flow with a slow remote engine, refunds, idempotent replays and every kind of problem.

Runs on SQLite; what moves credits or keys (jobs, refunds, replays, rate limits) on PostgreSQL too. The
balance is shared by the module's tests, so they compare it before and after rather than with fixed figures.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx
import pytest

from photomaker.core.errors import PhotoMakerError
from photomaker.rest.problems import PROBLEM_JSON
from stand_ins.inference_server import Answer, FakeInferenceServer
from stand_ins.serving import ServedApp
from tests.rest.conftest import photo_parts

PROMPT = {"prompt": "a professional headshot", "tier": "basic"}


def credits(api: httpx.Client) -> int:
    return api.get("/me").raise_for_status().json()["credits"]


def project(api: httpx.Client, name: str | None = None) -> dict[str, Any]:
    answer = api.post("/projects", json={"name": name or f"project {uuid.uuid4().hex[:8]}"})
    assert answer.status_code == 201, answer.text
    return answer.json()


def generate(
    api: httpx.Client,
    project_id: int,
    *,
    photos: tuple[str, ...] = ("astronaut.png",),
    fields: dict[str, Any] | None = None,
    headers: dict[str, Any] | None = None,
    params: dict[str, Any] | None = None,
) -> httpx.Response:
    return api.post(
        f"/projects/{project_id}/avatars/generate-from-photos",
        files=photo_parts(*photos),
        data={key: str(value) for key, value in (fields or PROMPT).items()},
        headers=headers,
        params=params,
    )


def polled(api: httpx.Client, location: str, *, timeout_s: float = 30) -> tuple[dict[str, Any], list[dict]]:
    """The generation once it ended, and every progress seen on the way."""
    seen, deadline = [], time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = api.get(location.removeprefix("/api/v1")).raise_for_status().json()
        if found["status"] != "processing":
            return found, seen
        if found["progress"]:
            seen.append(found["progress"])
        time.sleep(0.05)
    raise AssertionError(f"{location} was still processing after {timeout_s} s")


def assert_problem(answer: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith(PROBLEM_JSON)
    body = answer.json()
    assert (body["status"], body["code"], body["type"]) == (status, code, f"urn:photomaker:error:{code}")
    assert body["detail"] and body["title"] and body["instance"] == answer.request.url.path
    assert "Traceback" not in answer.text
    return body


def test_catalogue_and_account(api: httpx.Client) -> None:
    models = api.get("/models").raise_for_status().json()
    tiers = {model["tier"]: model for model in models if model["mode"] == "photo"}
    assert set(tiers) == {"basic", "pro", "enterprise"}
    assert [tiers[t]["width"] for t in ("basic", "pro", "enterprise")] == [512, 1024, 1536]
    assert tiers["basic"]["credits_per_image"] < tiers["enterprise"]["credits_per_image"]
    assert any(model["mode"] == "text" for model in models)
    me = api.get("/me").raise_for_status().json()
    assert me["username"] == "local" and me["credits"] > 0


def test_projects_are_created_renamed_listed_and_deleted(api: httpx.Client) -> None:
    made = api.post("/projects", json={"name": "  Holiday   snaps "})
    assert made.status_code == 201 and made.json()["name"] == "Holiday snaps"
    assert made.headers["location"] == made.json()["url"] == f"/api/v1/projects/{made.json()['id']}"
    number = made.json()["id"]
    assert number in [each["id"] for each in api.get("/projects").json()]
    assert_problem(api.post("/projects", json={"name": "Holiday snaps"}), 409, "NAME_TAKEN")
    renamed = api.patch(f"/projects/{number}", json={"name": "Summer"})
    assert renamed.status_code == 200 and renamed.json()["name"] == "Summer"
    assert api.get(f"/projects/{number}").json()["name"] == "Summer"
    assert_problem(api.patch(f"/projects/{number}", json={"name": "   "}), 400, "INVALID_PARAMS")
    assert_problem(api.patch(f"/projects/{number}", json={"name": "x", "colour": "red"}), 400, "INVALID_PARAMS")
    deleted = api.delete(f"/projects/{number}")
    assert deleted.status_code == 200 and deleted.json()["project_id"] == number
    assert_problem(api.get(f"/projects/{number}"), 404, "NOT_FOUND")
    assert_problem(api.delete(f"/projects/{number}"), 404, "NOT_FOUND")


@pytest.mark.both_databases
def test_a_generation_is_a_job_charged_at_acceptance_and_polled_to_its_avatars(
    api: httpx.Client, engine_server: FakeInferenceServer
) -> None:
    folder = project(api)
    before = credits(api)
    engine_server.script(Answer.image(width=512, height=512, delay_s=1.5))
    accepted = generate(api, folder["id"])
    assert accepted.status_code == 202, accepted.text
    job = accepted.json()
    assert accepted.headers["location"] == job["url"] == f"/api/v1/generations/{job['id']}"
    assert job["status"] == "processing" and job["project_id"] == folder["id"]
    assert "set-cookie" not in accepted.headers, "no upload cookie: the REST API keeps no session"
    charged = before - credits(api)
    assert charged > 0, "the credits are charged when the job is accepted"

    done, progress = polled(api, accepted.headers["location"])
    assert done["status"] == "completed" and done["error"] is None and done["progress"] is None
    assert progress and all(0 <= each["fraction"] <= 1 and each["message"] for each in progress)
    assert done["details"]["credits_charged"] == charged and done["details"]["tier"] == "basic"
    assert credits(api) == before - charged
    (avatar,) = done["avatars"]
    image = api.get(avatar["url"].removeprefix("/api/v1"))
    assert image.status_code == 200 and image.headers["content-type"] == "image/png"
    assert image.content.startswith(b"\x89PNG") and (avatar["width"], avatar["height"]) == (512, 512)
    thumbnail = api.get(avatar["thumbnail_url"].removeprefix("/api/v1"))
    assert thumbnail.headers["content-type"] == "image/webp" and thumbnail.content[8:12] == b"WEBP"

    listed = api.get(f"/projects/{folder['id']}/generations").json()
    assert [each["id"] for each in listed] == [job["id"]]
    assert api.get(f"/projects/{folder['id']}").json()["avatars"] == 1
    rated = api.post(f"/generations/{job['id']}/rating", json={"stars": 4}).json()
    assert rated == {"generation_id": job["id"], "stars": 4, "previous_stars": None}
    assert api.post(f"/generations/{job['id']}/rating", json={"stars": 5}).json()["previous_stars"] == 4
    assert_problem(api.post(f"/generations/{job['id']}/rating", json={"stars": 6}), 400, "INVALID_PARAMS")


def test_wait_answers_once_the_generation_has_ended(api: httpx.Client, engine_server: FakeInferenceServer) -> None:
    engine_server.script(Answer.image(width=512, height=512, delay_s=0.5))
    answer = generate(api, project(api)["id"], params={"wait": 20})
    assert answer.status_code == 200 and answer.json()["status"] == "completed"
    assert len(answer.json()["avatars"]) == 1
    assert_problem(generate(api, project(api)["id"], params={"wait": 61}), 400, "INVALID_PARAMS")


@pytest.mark.both_databases
def test_a_failed_job_is_refunded(api: httpx.Client, engine_server: FakeInferenceServer) -> None:
    before = credits(api)
    engine_server.script(Answer.error(400, "bad settings"))
    accepted = generate(api, project(api)["id"])
    assert accepted.status_code == 202
    done, _ = polled(api, accepted.headers["location"])
    assert done["status"] == "failed" and done["error"]["code"] == "BAD_REQUEST" and done["avatars"] == []
    assert credits(api) == before


def test_text_to_image_is_a_json_job(api: httpx.Client, engine_server: FakeInferenceServer) -> None:
    engine_server.script(Answer.image(width=512, height=512))
    accepted = api.post("/text-to-image", json={"prompt": "a lighthouse at dusk", "width": 512, "height": 512})
    assert accepted.status_code == 202, accepted.text
    done, _ = polled(api, accepted.headers["location"])
    assert done["status"] == "completed" and done["mode"] == "text" and done["details"]["width"] == 512
    assert_problem(api.post("/text-to-image", json={"prompt": "x", "width": 500}), 400, "INVALID_PARAMS")
    assert_problem(api.post("/text-to-image", content=b"not json"), 400, "INVALID_PARAMS")
    assert_problem(api.post("/text-to-image", json=["a list"]), 400, "INVALID_PARAMS")


def test_a_cat_is_refused_no_face_and_charged_nothing(api: httpx.Client, served: ServedApp) -> None:
    before = credits(api)
    body = assert_problem(generate(api, project(api)["id"], photos=("chelsea.png",)), 400, "NO_FACE")
    assert "chelsea.png" in body["detail"] or "face" in body["detail"]
    assert credits(api) == before
    assert not any(served.runtime.settings.incoming_dir.glob("*/*")), "the photos are deleted"


@pytest.mark.both_databases
def test_an_idempotent_replay_is_answered_once_and_charged_once(
    api: httpx.Client, engine_server: FakeInferenceServer
) -> None:
    folder, key = project(api), str(uuid.uuid4())
    before = credits(api)
    engine_server.script(Answer.image(width=512, height=512, delay_s=0.3))
    first = generate(api, folder["id"], headers={"Idempotency-Key": key})
    again = generate(api, folder["id"], headers={"Idempotency-Key": key})
    assert first.status_code == again.status_code == 202
    assert again.json() == first.json() and again.headers["location"] == first.headers["location"]
    assert again.headers["idempotent-replayed"] == "true" and "idempotent-replayed" not in first.headers
    polled(api, first.headers["location"])
    assert credits(api) == before - charged_for(api, first)
    other = generate(api, folder["id"], fields={**PROMPT, "prompt": "another"}, headers={"Idempotency-Key": key})
    assert_problem(other, 409, "IDEMPOTENCY_KEY_REUSED")
    refused_key = "k-" + uuid.uuid4().hex
    refusal = generate(api, folder["id"], photos=("chelsea.png",), headers={"Idempotency-Key": refused_key})
    replayed = generate(api, folder["id"], photos=("chelsea.png",), headers={"Idempotency-Key": refused_key})
    assert assert_problem(replayed, 400, "NO_FACE") == refusal.json()
    assert replayed.headers["idempotent-replayed"] == "true"
    for bad_key in ("é".encode("latin-1") * 3, "k" * 256, "a\tb"):
        assert_problem(generate(api, folder["id"], headers={"Idempotency-Key": bad_key}), 400, "INVALID_PARAMS")


def charged_for(api: httpx.Client, accepted: httpx.Response) -> int:
    return api.get(accepted.headers["location"].removeprefix("/api/v1")).json()["details"]["credits_charged"]


def test_problems_have_fitting_statuses(api: httpx.Client, served: ServedApp) -> None:
    folder = project(api)
    assert_problem(api.get("/generations/2147483647"), 404, "NOT_FOUND")
    assert_problem(api.get("/generations/0"), 404, "NOT_FOUND")
    assert_problem(api.get("/generations/abc"), 404, "NOT_FOUND")
    assert_problem(api.get("/projects/a%0Ab"), 404, "NOT_FOUND")  # a newline in a path still reaches the REST API
    assert_problem(api.get("/avatars/99999"), 404, "NOT_FOUND")
    assert_problem(api.get("/no/such/route"), 404, "NOT_FOUND")
    not_allowed = assert_problem(api.delete("/me"), 405, "METHOD_NOT_ALLOWED")
    assert not_allowed["detail"] and api.delete("/me").headers["allow"] == "GET"
    assert api.put("/projects").headers["allow"] == "GET, POST", "every method at the path, not the first route's"
    assert api.put(f"/projects/{folder['id']}").headers["allow"] == "DELETE, GET, PATCH"
    assert_problem(generate(api, 2147483647), 404, "NOT_FOUND")
    assert_problem(generate(api, folder["id"], photos=()), 400, "NO_PHOTOS")
    assert_problem(generate(api, folder["id"], fields={**PROMPT, "project": "x"}), 400, "INVALID_PARAMS")
    assert_problem(generate(api, folder["id"], fields={**PROMPT, "num_images": 9}), 400, "INVALID_PARAMS")
    assert_problem(generate(api, folder["id"], fields={**PROMPT, "tier": "gold"}), 400, "INVALID_PARAMS")


def test_a_wrong_address_is_404_whatever_else_is_wrong(api: httpx.Client) -> None:
    """The address is told first, then the query, then the headers, whether a route or a dependency checks them."""
    bad_key = {"Idempotency-Key": "k" * 256}
    assert_problem(api.post("/generations/0/rating", json={"stars": 5}, headers=bad_key), 404, "NOT_FOUND")
    assert_problem(generate(api, 0, headers=bad_key, params={"wait": 99}), 404, "NOT_FOUND")
    waited = api.post("/text-to-image", json=PROMPT, headers=bad_key, params={"wait": -1})
    assert assert_problem(waited, 400, "INVALID_PARAMS")["detail"].startswith("wait:")


def test_oversized_photos_are_413(api: httpx.Client, served: ServedApp) -> None:
    folder, limit = project(api), served.runtime.settings.max_photo_bytes
    big = [("photos", ("big.png", b"\x89PNG" + b"0" * limit, "image/png"))]
    answer = api.post(f"/projects/{folder['id']}/avatars/generate-from-photos", files=big, data=PROMPT)
    assert "big.png" in assert_problem(answer, 413, "PHOTO_TOO_LARGE")["detail"]
    huge = [("photos", (f"{n}.png", b"0" * limit, "image/png")) for n in range(5)]
    answer = api.post(f"/projects/{folder['id']}/avatars/generate-from-photos", files=huge, data=PROMPT)
    assert_problem(answer, 413, "PHOTO_TOO_LARGE")


@pytest.mark.both_databases
def test_credits_and_rate_limits(api: httpx.Client, served: ServedApp) -> None:
    folder, accounts = project(api), served.runtime.accounts
    balance = credits(api)
    accounts.grant("local", -balance, reason="test", by="test")
    try:
        assert_problem(generate(api, folder["id"]), 402, "INSUFFICIENT_CREDITS")
    finally:
        accounts.grant("local", balance, reason="test", by="test")
    settings = served.runtime.service.settings
    limit, settings.user_rate_limit_per_min = settings.user_rate_limit_per_min, 1
    try:
        limited = generate(api, folder["id"])
        body = assert_problem(limited, 429, "USER_RATE_LIMITED")
        assert int(limited.headers["retry-after"]) == body["retry_after"] >= 1
    finally:
        settings.user_rate_limit_per_min = limit
    assert credits(api) == balance


def test_no_traceback_reaches_a_client(api: httpx.Client, served: ServedApp, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("secret detail /var/lib/data")

    monkeypatch.setattr(served.runtime.accounts, "account", broken)
    body = assert_problem(api.get("/me"), 500, "INTERNAL")
    assert "secret" not in str(body) and body["detail"] == PhotoMakerError("INTERNAL").message


def test_the_schema_and_docs_are_served(api: httpx.Client) -> None:
    schema = api.get("/openapi.json").raise_for_status().json()
    paths = schema["paths"]
    assert {
        "/models",
        "/me",
        "/projects",
        "/projects/{project_id}",
        "/projects/{project_id}/avatars/generate-from-photos",
        "/projects/{project_id}/avatars/generate-pack",
        "/generations/{generation_id}/cancel",
        "/text-to-image",
        "/generations/{generation_id}",
        "/avatars/{avatar_id}",
        "/avatars/{avatar_id}/thumbnail",
        "/generations/{generation_id}/rating",
    } <= set(paths)
    form = paths["/projects/{project_id}/avatars/generate-from-photos"]["post"]["requestBody"]["content"]
    fields = form["multipart/form-data"]["schema"]["properties"]
    assert {"photos", "prompt", "tier", "style", "num_images", "seed"} <= set(fields) and "project" not in fields
    assert fields["seed"]["minimum"] == -1 and fields["steps"]["type"] == "integer"
    assert "text/html" in api.get("/docs").headers["content-type"]
