"""Another website's page cannot act for a signed-in visitor: not through the page's events, the API, uploads or
files, with or without the sign-in cookie. The app's own pages, huggingface.co and programs still can.

The probe's attack, replayed: a page on evil.example, in a browser signed in to the Space, joined the queue
with a page event's `fn_index` to read the credit history, export and delete the data and generate."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlmodel import func, select

from photomaker.images.uploaded_photos import PhotoUpload
from photomaker.store import Generation, User
from stand_ins.serving import ServedApp
from tests.signin import SPACE_HOST
from tests.web.conftest import EVIL_ORIGIN, FIXTURES, SPACE_ORIGIN, Browser

FOREIGN = [EVIL_ORIGIN, "null", f"http://{SPACE_HOST}.evil.example", "https://huggingface.co.evil.example", "junk"]
ALLOWED = [SPACE_ORIGIN, "https://huggingface.co", f"https://{SPACE_HOST}:443", None]


def _fn_index(browser: Browser, api_name: str) -> int:
    config = browser.request("GET", "config").json()
    return next(i for i, dependency in enumerate(config["dependencies"]) if dependency["api_name"] == api_name)


def _join(browser: Browser, api_name: str, data: list[Any], *, session_hash: str) -> Any:
    body = {"data": data, "fn_index": _fn_index(browser, api_name), "session_hash": session_hash, "event_data": None}
    return browser.request("POST", "gradio_api/queue/join", json=body)


def _outputs(browser: Browser, session_hash: str) -> list[Any]:
    """The outputs of the session's event, read from the queue's event stream."""
    stream = browser.request("GET", f"gradio_api/queue/data?session_hash={session_hash}").text
    for line in stream.splitlines():
        message = json.loads(line.removeprefix("data: ")) if line.startswith("data: ") else {}
        if message.get("msg") == "process_completed":
            assert message["success"], message
            return message["output"]["data"]
    raise AssertionError(stream)


def _refused(answer: Any) -> None:
    assert answer.status_code == 403, answer.text
    problem = answer.json()
    assert problem["code"] == "FORBIDDEN" and "another website" in problem["detail"]
    cors = {name for name in answer.headers if name.startswith("access-control-")}
    assert cors == set(), "another website is told nothing it could read with the visitor's cookies"


def _balance_and_rows(space: ServedApp) -> tuple[int, int]:
    with space.runtime.database.reading() as session:
        credits = session.exec(select(User.credits).where(User.username == "alice")).one()
        rows = session.exec(select(func.count()).select_from(Generation)).one()
    return credits, rows


@pytest.fixture(scope="module")
def alice_made_one(space: ServedApp) -> None:
    """alice, signed in, has a generation: history, an avatar and a balance to steal or spend."""
    photo = PhotoUpload.from_path(FIXTURES / "astronaut.png")
    space.runtime.service.generate_avatar("alice", [photo], {"prompt": "a headshot", "tier": "basic"})


@pytest.mark.parametrize("origin", FOREIGN)
@pytest.mark.parametrize("signed_in", [True, False])
def test_another_websites_page_reaches_no_event_or_route(
    space: ServedApp, browser: Any, alice_made_one: None, origin: str, signed_in: bool
) -> None:
    before = _balance_and_rows(space)
    evil = browser(origin=origin, user="alice" if signed_in else None)
    fn_index = _fn_index(browser(origin=None), "ui_credit_history")
    _refused(
        evil.request("POST", "gradio_api/queue/join", json={"data": [], "fn_index": fn_index, "session_hash": "e"})
    )
    for method, path, body in [
        ("GET", "gradio_api/queue/data?session_hash=evil", None),
        ("POST", "gradio_api/call/credit_history", {"data": []}),
        ("POST", "gradio_api/call/export_my_data", {"data": []}),
        ("POST", "gradio_api/call/delete_my_data", {"data": [True]}),
        ("POST", "gradio_api/call/generate_avatar", {"data": [[], "a headshot", "enterprise"]}),
        ("GET", "gradio_api/call/credit_history/some-event", None),
        ("GET", f"gradio_api/file={FIXTURES / 'astronaut.png'}", None),
        ("GET", "gradio_api/info", None),
        ("GET", "config", None),
        ("GET", "api/v1/me", None),
        ("POST", "api/v1/projects", {"name": "evil"}),
    ]:
        _refused(evil.request(method, path, json=body))
    with (FIXTURES / "astronaut.png").open("rb") as photo:
        _refused(evil.request("POST", "gradio_api/upload", files=[("files", ("me.png", photo))]))
    assert _balance_and_rows(space) == before, "nothing charged, read or recorded"


@pytest.mark.parametrize("origin", ALLOWED)
def test_the_spaces_own_pages_huggingface_and_programs_still_work(
    space: ServedApp, browser: Any, alice_made_one: None, origin: str | None
) -> None:
    page = browser(origin=origin, user="alice")
    assert _join(page, "ui_credit_history", [], session_hash="own").status_code == 200
    (history,) = _outputs(page, "own")
    assert "when (UTC)" in history and history.count("<tr") >= 3, "the header and alice's two lines"
    answer = page.request("POST", "gradio_api/call/credit_history", json={"data": []})
    assert answer.status_code == 200 and "event_id" in answer.json()


def test_the_probes_whole_attack_fails(space: ServedApp, browser: Any, alice_made_one: None) -> None:
    """Read the history, export, generate Enterprise x4 and delete, through the page's own events."""
    before = _balance_and_rows(space)
    evil = browser(origin=EVIL_ORIGIN, user="alice")
    for api_name, data in [
        ("ui_credit_history", []),
        ("ui_export_my_data", []),
        ("ui_delete_my_data", [True]),
    ]:
        body = {"data": data, "fn_index": _fn_index(browser(origin=None), api_name), "session_hash": "evil"}
        _refused(evil.request("POST", "gradio_api/queue/join", json=body))
    assert _balance_and_rows(space) == before
    assert space.runtime.accounts.avatar_files("alice"), "alice's avatars are still there"


PREFLIGHT = {"access-control-request-method": "POST", "access-control-request-headers": "content-type"}


@pytest.mark.parametrize("path", ["gradio_api/call/credit_history", "gradio_api/queue/join", "api/v1/projects"])
def test_another_websites_preflight_is_refused_and_an_allowed_ones_answered(browser: Any, path: str) -> None:
    """The browser asks before a credentialed JSON request: another website hears no, with no CORS headers at
    all; huggingface.co (the page that embeds the Space) is allowed, for itself alone."""
    _refused(browser(origin=EVIL_ORIGIN, user="alice").request("OPTIONS", path, headers=PREFLIGHT))
    allowed = browser(origin="https://huggingface.co", user="alice").request("OPTIONS", path, headers=PREFLIGHT)
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == "https://huggingface.co"
    assert allowed.headers["access-control-allow-credentials"] == "true"


def test_cors_is_ours_alone_for_allowed_origins(browser: Any, alice_made_one: None) -> None:
    """Gradio's own CORS middleware (which echoes any Origin) stays out: one policy, ours."""
    hub = browser(origin="https://huggingface.co", user="alice").request(
        "POST", "gradio_api/call/credit_history", json={"data": []}
    )
    assert hub.status_code == 200 and hub.headers["access-control-allow-origin"] == "https://huggingface.co"
    own = browser(origin=SPACE_ORIGIN, user="alice").request("GET", "config")
    assert own.status_code == 200 and own.headers["access-control-allow-origin"] == SPACE_ORIGIN


def test_every_answer_carries_the_security_headers(space: ServedApp, browser: Any) -> None:
    for answer in [
        browser(origin=None).request("GET", ""),
        browser(origin=None).request("GET", "config"),
        browser(origin=EVIL_ORIGIN).request("GET", "config"),
        browser(origin=None).request("GET", "api/v1/me"),
    ]:
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert answer.headers["referrer-policy"] == "same-origin"
        policy = answer.headers["content-security-policy"]
        assert policy.startswith("frame-ancestors 'self' ") and "https://huggingface.co" in policy
        assert SPACE_ORIGIN in policy and EVIL_ORIGIN not in policy
