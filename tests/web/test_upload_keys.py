"""Upload keys are the server's: a value a client makes up is replaced, a key rotates at sign-in, an upload is
served back to its sender alone, and a visitor's uploads on a Space are kept for seconds, not for hosting."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from photomaker.ui import uploads
from photomaker.ui.upload_keys import UPLOADER_COOKIE, genuine
from photomaker.ui.uploads import REGISTRY
from stand_ins.serving import ServedApp
from tests.helpers import served_spellings
from tests.web.conftest import FIXTURES, SPACE_ORIGIN, Browser


def _upload(browser: Browser) -> Path:
    with (FIXTURES / "astronaut.png").open("rb") as photo:
        answer = browser.request("POST", "gradio_api/upload", files=[("files", ("me.png", photo))])
    assert answer.status_code == 200, answer.text
    (stored,) = answer.json()
    return Path(stored)


def _key(browser: Browser) -> str:
    return browser.cookies[UPLOADER_COOKIE]


def test_a_key_the_client_made_up_is_replaced(space: ServedApp, browser: Any) -> None:
    planted = browser(origin=None)
    planted.cookies[UPLOADER_COOKIE] = "attacker-knows-this"
    photo = _upload(planted)
    issued = _key(planted)
    assert issued != "attacker-knows-this" and genuine(issued, None)
    assert REGISTRY.owned(photo, issued) and not REGISTRY.owned(photo, "attacker-knows-this")
    attacker = browser(origin=None)
    attacker.cookies[UPLOADER_COOKIE] = "attacker-knows-this"
    assert attacker.request("GET", f"gradio_api/file={photo}").status_code == 404


def test_a_key_rotates_at_sign_in(space: ServedApp, browser: Any) -> None:
    page = browser(origin=SPACE_ORIGIN)
    page.request("GET", "config")
    visitor_key = _key(page)
    assert genuine(visitor_key, None)
    signed_in = browser(origin=SPACE_ORIGIN, user="alice")
    signed_in.cookies[UPLOADER_COOKIE] = visitor_key  # the same browser, now signed in
    signed_in.request("GET", "config")
    alice_key = _key(signed_in)
    assert alice_key != visitor_key and genuine(alice_key, "alice") and not genuine(alice_key, None)
    signed_in.request("GET", "config")
    assert _key(signed_in) == alice_key, "kept while she stays signed in"


def test_an_upload_is_served_to_its_sender_alone(space: ServedApp, browser: Any) -> None:
    sender = browser(origin=None, user="alice")
    photo = _upload(sender)
    shown = sender.request("GET", f"gradio_api/file={photo}")
    assert shown.status_code == 200 and shown.content == (FIXTURES / "astronaut.png").read_bytes()
    for other in (browser(origin=None), browser(origin=None, user="alice")):
        assert other.request("GET", f"gradio_api/file={photo}").status_code == 404
    with httpx.Client(timeout=10) as stranger:
        assert served_spellings(space.url, str(photo), stranger) == [], "by no spelling of its address"
    uploads.discard([uploads.PhotoUpload(path=photo, name="me.png")])


@pytest.mark.parametrize("asks_after", [False, True])
def test_a_visitors_upload_is_kept_for_seconds_unless_it_asks_for_something(
    space: ServedApp, browser: Any, asks_after: bool
) -> None:
    visitor, member = browser(origin=None), browser(origin=None, user="alice")
    kept, brief = _upload(member), _upload(visitor)
    if asks_after:  # a program joins the queue right after uploading; its request may wait for its turn
        assert visitor.request("POST", "gradio_api/call/account", json={"data": []}).status_code == 200
    uploads.sweep(older_than_s=3600, anonymous_older_than_s=0)
    assert kept.exists(), "a signed-in user's photos wait for Generate"
    assert brief.exists() is asks_after
    uploads.discard([uploads.PhotoUpload(path=path, name=path.name) for path in (kept, brief)])


def test_gradios_own_monitoring_is_off(space: ServedApp, capsys: pytest.CaptureFixture[str]) -> None:
    for path in ("monitoring", "monitoring/summary", "monitoring/anything"):
        answer = httpx.get(space.url + path, timeout=10)
        assert answer.status_code in (403, 404) and "success" not in answer.text, path
    assert "monitoring" not in capsys.readouterr().out.lower(), "no secret URL printed"
