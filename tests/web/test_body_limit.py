"""Bodies are bounded before anything reads them: a photo over its limit, an upload larger than four photos, a
JSON body over MAX_REQUEST_KB. Each is refused with our code, stores nothing, and the app keeps serving."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from photomaker.images.uploaded_photos import MAX_PHOTOS
from photomaker.rest.request_bodies import FORM_ALLOWANCE
from stand_ins.serving import ServedApp
from tests.web.conftest import FIXTURES, TOKENS


def _files(upload_dir: Path) -> set[Path]:
    return {path for path in upload_dir.rglob("*") if path.is_file()}


def _raw(app: ServedApp, head: str, body: bytes = b"") -> tuple[int, dict]:
    """Send a request as written (so its Content-Length may lie about a body never sent); the status and body."""
    address = urlsplit(app.url)
    with socket.create_connection((address.hostname, address.port), timeout=10) as connection:
        connection.sendall(head.encode() + b"\r\n\r\n" + body)
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    status = int(answer.split(b" ", 2)[1])
    return status, json.loads(answer.partition(b"\r\n\r\n")[2] or b"{}")


def _still_serving(app: ServedApp) -> None:
    assert httpx.get(app.url + "config", timeout=10).status_code == 200


def test_a_photo_over_its_limit_is_refused_before_it_is_stored(space: ServedApp, upload_dir: Path) -> None:
    before = _files(upload_dir)
    limit = space.runtime.settings.max_photo_bytes
    big = b"\xff\xd8\xff" + b"\x00" * limit
    answer = httpx.post(space.url + "gradio_api/upload", files=[("files", ("big.jpg", big))], timeout=30)
    assert answer.status_code == 413 and answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["code"] == "PHOTO_TOO_LARGE" and "5 MB" in answer.json()["detail"]
    assert _files(upload_dir) == before, "nothing of it is kept"
    small = httpx.post(
        space.url + "gradio_api/upload", files=[("files", ("me.png", (FIXTURES / "astronaut.png").read_bytes()))]
    )
    assert small.status_code == 200, "a photo under the limit is taken"
    _still_serving(space)


def test_a_body_that_says_it_is_too_large_is_refused_unread(space: ServedApp, upload_dir: Path) -> None:
    before = _files(upload_dir)
    limit = MAX_PHOTOS * space.runtime.settings.max_photo_bytes + FORM_ALLOWANCE
    head = (
        "POST /gradio_api/upload HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
        f"Content-Type: multipart/form-data; boundary=b\r\nContent-Length: {limit + 1}"
    )
    status, problem = _raw(space, head)
    assert (status, problem["code"]) == (413, "PHOTO_TOO_LARGE"), "answered without waiting for the body"
    json_head = (
        "POST /gradio_api/queue/join HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
        f"Content-Type: application/json\r\nContent-Length: {40 * 1024 * 1024}"
    )
    status, problem = _raw(space, json_head)
    assert (status, problem["code"]) == (413, "REQUEST_TOO_LARGE") and "256 KB" in problem["detail"]
    assert _files(upload_dir) == before
    _still_serving(space)


def _chunks(total: int, *, size: int = 1 << 16) -> Iterator[bytes]:
    sent = 0
    while sent < total:
        yield b" " * min(size, total - sent)
        sent += size


@pytest.mark.parametrize("route", ["gradio_api/queue/join", "gradio_api/call/account", "api/v1/text-to-image"])
def test_a_json_body_that_grows_past_the_limit_is_cut_off(space: ServedApp, route: str) -> None:
    """No Content-Length (chunked): refused once 256 KB have arrived, whatever the route would have done."""
    (token,) = TOKENS
    answer = httpx.post(
        space.url + route,
        content=_chunks(40 * 1024 * 1024),
        headers={"content-type": "application/json", "authorization": f"Bearer {token}"},
        timeout=30,
    )
    assert answer.status_code == 413 and answer.json()["code"] == "REQUEST_TOO_LARGE"
    _still_serving(space)


def test_a_body_under_the_limit_reaches_its_route(space: ServedApp) -> None:
    padding = " " * (space.runtime.settings.max_request_bytes - 100)
    answer = httpx.post(
        space.url + "gradio_api/call/account",
        content=('{"data": []' + padding + "}").encode(),
        headers={"content-type": "application/json"},
        timeout=30,
    )
    assert answer.status_code == 200 and "event_id" in answer.json()
