"""The REST API on a Space with sign-in: a bearer HF token says who is asking (resolved by a fake Hub on
loopback); nobody else's project, generation or avatar is even said to exist; the page's session cookie
is not a REST credential. Runs on SQLite; per-user idempotency keys on PostgreSQL too."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from photomaker.rest.schemas import PREFIX
from photomaker.ui.signin import session_cookie
from stand_ins.serving import ServedApp, serve
from tests.databases import fresh_database_url
from tests.fakes.hub import FakeHub
from tests.helpers import GatedEngine
from tests.rest.conftest import photo_parts
from tests.rest.test_rest_api import assert_problem, polled
from tests.signin import space_settings

TOKENS = {"hf_alice_rest_1234": "alice", "hf_bob_rest_5678": "bob"}
ALICE, BOB = TOKENS


@pytest.fixture(scope="module")
def hub() -> Iterator[FakeHub]:
    fake = FakeHub(TOKENS).start()
    yield fake
    fake.close()


@pytest.fixture(scope="module")
def space(database_kind: str, hub: FakeHub, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedApp]:
    folder = tmp_path_factory.mktemp(f"rest-space-{database_kind}")
    with (
        fresh_database_url(database_kind, folder) as url,
        serve(space_settings(folder, database_url=url, hub_url=hub.url)) as app,
    ):
        yield app


def client(app: ServedApp, token: str | None = None, **options: Any) -> httpx.Client:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.Client(base_url=app.url.rstrip("/") + PREFIX, headers=headers, timeout=60, **options)


def alices_generation(alice: httpx.Client) -> dict[str, Any]:
    folder = alice.post("/projects", json={"name": f"alice {time.monotonic_ns()}"}).json()
    accepted = alice.post(
        f"/projects/{folder['id']}/avatars/generate-from-photos",
        files=photo_parts("astronaut.png"),
        data={"prompt": "a headshot", "tier": "basic"},
        params={"wait": 30},
    )
    assert accepted.status_code == 200 and accepted.json()["status"] == "completed", accepted.text
    return accepted.json()


def requests_naming(generation_id: int, project_id: int, avatar_id: int) -> list[tuple[str, str, Any]]:
    """Every request about one generation, project and avatar: for another user's, as for ones that do not exist."""
    return [
        ("GET", f"/generations/{generation_id}", None),
        ("POST", f"/generations/{generation_id}/rating", {"stars": 1}),
        ("POST", f"/generations/{generation_id}/cancel", None),
        ("DELETE", f"/generations/{generation_id}", None),
        ("GET", f"/avatars/{avatar_id}", None),
        ("GET", f"/avatars/{avatar_id}/thumbnail", None),
        ("GET", f"/projects/{project_id}", None),
        ("GET", f"/projects/{project_id}/generations", None),
        ("PATCH", f"/projects/{project_id}", {"name": "mine now"}),
        ("DELETE", f"/projects/{project_id}", None),
    ]


def test_without_a_valid_token_nothing_is_served(space: ServedApp) -> None:
    for token in (None, "hf_not_a_token"):
        with client(space, token) as nobody:
            for method, path in [("GET", "/me"), ("GET", "/projects"), ("POST", "/projects"), ("GET", "/models")]:
                answer = nobody.request(method, path, json={"name": "x"} if method == "POST" else None)
                body = assert_problem(answer, 401, "SIGN_IN_REQUIRED")
                assert answer.headers["www-authenticate"].startswith("Bearer")
                assert "Authorization: Bearer" in body["detail"]


def test_the_pages_session_cookie_is_not_a_rest_credential(space: ServedApp) -> None:
    cookie = session_cookie(space.runtime.settings, "alice")
    with client(space, cookies={"session": cookie}) as browser:
        assert_problem(browser.get("/me"), 401, "SIGN_IN_REQUIRED")


def test_each_user_sees_only_their_own(space: ServedApp) -> None:
    with client(space, ALICE) as alice, client(space, BOB) as bob:
        assert alice.get("/me").json()["username"] == "alice"
        assert bob.get("/me").json()["username"] == "bob"
        made = alices_generation(alice)
        avatar = made["avatars"][0]
        assert alice.get(avatar["url"].removeprefix(PREFIX)).status_code == 200
        project_id = made["project_id"]
        for ids in [(made["id"], project_id, avatar["id"]), (2147483000, 2147483000, 2147483000)]:
            for method, path, body in requests_naming(*ids):
                assert_problem(bob.request(method, path, json=body), 404, "NOT_FOUND")
        generate = bob.post(
            f"/projects/{project_id}/avatars/generate-from-photos",
            files=photo_parts("astronaut.png"),
            data={"prompt": "a headshot", "tier": "basic"},
        )
        assert_problem(generate, 404, "NOT_FOUND")
        assert project_id not in [each["id"] for each in bob.get("/projects").json()]
        assert alice.get(f"/projects/{project_id}").json()["avatars"] == 1, "bob changed nothing"
        assert alice.get(f"/generations/{made['id']}").json()["status"] == "completed"


@pytest.mark.both_databases
def test_nobody_cancels_another_users_running_pack(space: ServedApp, monkeypatch: pytest.MonkeyPatch) -> None:
    engine = GatedEngine()
    monkeypatch.setattr(space.runtime.service, "engine", engine)
    with client(space, ALICE) as alice, client(space, BOB) as bob:
        folder = alice.post("/projects", json={"name": f"alice {time.monotonic_ns()}"}).json()
        try:
            accepted = alice.post(
                f"/projects/{folder['id']}/avatars/generate-pack",
                files=photo_parts("astronaut.png"),
                data={"prompt": "a headshot", "tier": "basic", "styles": "Cinematic, Enhance"},
            )
            assert accepted.status_code == 202, accepted.text
            generation_id = accepted.json()["id"]
            assert engine.started.acquire(timeout=30)
            assert_problem(bob.post(f"/generations/{generation_id}/cancel"), 404, "NOT_FOUND")
            assert_problem(bob.delete(f"/generations/{generation_id}"), 404, "NOT_FOUND")
        finally:
            engine.gate.set()
        done, _ = polled(alice, accepted.headers["location"])
        assert done["status"] == "completed" and len(done["avatars"]) == 2, "bob's cancel stopped nothing"


@pytest.mark.both_databases
def test_idempotency_keys_are_per_user(space: ServedApp) -> None:
    with client(space, ALICE) as alice, client(space, BOB) as bob:
        key = {"Idempotency-Key": f"same-key-{time.monotonic_ns()}"}
        first = alice.post("/projects", json={"name": "shared name"}, headers=key)
        second = bob.post("/projects", json={"name": "shared name"}, headers=key)
        assert first.status_code == second.status_code == 201
        assert first.json()["id"] != second.json()["id"] and "idempotent-replayed" not in second.headers
