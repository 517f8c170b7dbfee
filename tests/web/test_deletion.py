"""*Delete my data* leaves nothing of the user served: not their avatars' or thumbnails' copies, not their exports.
And an export is a download, not a place to keep data: it is served for minutes, then deleted."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import gradio as gr
import httpx
from gradio_client import Client, handle_file

from photomaker.ui import build_app
from photomaker.ui.cache import cache_dir, expire_downloads
from stand_ins.serving import ServedApp
from tests.ui.page_events import PageEvents
from tests.web.conftest import FIXTURES, TOKENS

(ALICE_TOKEN,) = TOKENS


def _call(app: ServedApp, api_name: str, data: list[Any]) -> Any:
    """An API endpoint called over plain HTTP, as alice's program; its output with the URLs it was served at."""
    with httpx.Client(base_url=app.url, timeout=60) as client:
        body = {"data": data, "oauth_token": ALICE_TOKEN}
        event = client.post(f"gradio_api/call/{api_name}", json=body).json()["event_id"]
        stream = client.get(f"gradio_api/call/{api_name}/{event}").text
    (line,) = [line for line in stream.splitlines() if line.startswith("data: ") and "event: error" not in stream]
    return json.loads(line.removeprefix("data: "))


def _served_copies(contents: set[bytes]) -> list[Path]:
    return [path for path in cache_dir().rglob("*") if path.is_file() and path.read_bytes() in contents]


def test_deleting_ones_data_withdraws_every_copy_served(space: ServedApp) -> None:
    alice = Client(space.url, verbose=False, oauth_token=ALICE_TOKEN, download_files=False)
    alice.predict(
        photos=[handle_file(FIXTURES / "astronaut.png")],
        prompt="a headshot",
        tier="basic",
        num_images=2,
        api_name="/generate_avatar",
    )
    profile = gr.OAuthProfile({"preferred_username": "alice", "name": "", "profile": "", "picture": ""})
    shown = PageEvents(build_app(space.runtime))("ui_project", project="My avatars", profile=profile)
    assert len(shown["history"]) >= 2, "the page served alice her thumbnails"
    (export,) = _call(space, "export_my_data", [])
    assert httpx.get(export["url"], timeout=10).status_code == 200
    files = space.runtime.accounts.avatar_files("alice")
    contents = {path.read_bytes() for path in files} | {httpx.get(export["url"], timeout=10).content}
    assert len(_served_copies(contents)) >= len(files) + 1, "avatars, thumbnails and the export were served"

    alice.predict(confirm=True, api_name="/delete_my_data")

    assert _served_copies(contents) == []
    assert httpx.get(export["url"], timeout=10).status_code != 200


def test_an_export_is_served_for_minutes_only(space: ServedApp) -> None:
    (export,) = _call(space, "export_my_data", [])
    assert httpx.get(export["url"], timeout=10).status_code == 200
    assert expire_downloads(older_than_s=3600) == 0, "a fresh export stays"
    time.sleep(0.01)
    assert expire_downloads(older_than_s=0) >= 1
    assert httpx.get(export["url"], timeout=10).status_code != 200
