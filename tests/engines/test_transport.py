"""Transport failures become our codes in one place, with the server's wait kept and secrets masked."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import httpx
import httpx2
import pytest
from gradio_client.exceptions import AppError
from gradio_client.utils import QueueError
from huggingface_hub.errors import HfHubHTTPError, InferenceTimeoutError
from PIL import Image

from photomaker.core.errors import BackendError
from photomaker.engines import transport
from stand_ins.engine_inputs import FAKE_TOKEN


def _response(status: int, *, json: object | None = None, headers: dict[str, str] | None = None) -> httpx2.Response:
    return httpx2.Response(status, json=json, headers=headers, request=httpx2.Request("POST", "http://127.0.0.1/"))


@pytest.mark.parametrize(
    ("status", "body", "headers", "code", "retryable", "retry_after"),
    [
        (503, {"error": "loading", "estimated_time": 20.5}, {}, "MODEL_LOADING", True, 20.5),
        (503, {"error": "down"}, {}, "BACKEND_UNAVAILABLE", True, None),
        (429, {"error": "slow down"}, {"Retry-After": "7"}, "RATE_LIMIT_EXCEEDED", True, 7.0),
        (429, {"error": "slow down"}, {}, "RATE_LIMIT_EXCEEDED", True, None),
        (504, {}, {}, "GENERATION_TIMEOUT", True, None),
        (500, {"error": "boom"}, {}, "BACKEND_UNAVAILABLE", True, None),
        (502, {}, {}, "BACKEND_UNAVAILABLE", True, None),
        (400, {"error": "bad"}, {}, "BAD_REQUEST", False, None),
        (422, {"error": "unprocessable"}, {}, "BAD_REQUEST", False, None),
        (401, {"error": "who are you"}, {}, "AUTH_FAILED", False, None),
        (403, {"error": "no"}, {}, "AUTH_FAILED", False, None),
        (404, {"error": "no such thing"}, {}, "BACKEND_UNAVAILABLE", False, None),
    ],
)
def test_http_statuses(
    status: int, body: object, headers: dict[str, str], code: str, retryable: bool, retry_after: float | None
) -> None:
    error = transport.from_status(_response(status, json=body, headers=headers))
    assert (error.code, error.retryable, error.retry_after) == (code, retryable, retry_after)
    assert error.message.endswith(".")


def test_retry_after_as_a_date() -> None:
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=90), usegmt=True)
    assert 85 <= transport.retry_after_seconds(later) <= 90
    assert transport.retry_after_seconds("soon") is None
    assert transport.retry_after_seconds(None) is None


@pytest.mark.parametrize(
    ("error", "code", "retryable"),
    [
        (InferenceTimeoutError("Inference call timed out"), "GENERATION_TIMEOUT", True),
        (httpx2.ReadTimeout("slow"), "GENERATION_TIMEOUT", True),
        (httpx.ReadTimeout("slow"), "GENERATION_TIMEOUT", True),
        (TimeoutError("no answer"), "GENERATION_TIMEOUT", True),
        (httpx2.ConnectError("refused"), "BACKEND_UNAVAILABLE", True),
        (httpx.ConnectError("refused"), "BACKEND_UNAVAILABLE", True),
        (QueueError("Queue is full!"), "RATE_LIMIT_EXCEEDED", True),
        (Image.UnidentifiedImageError("not an image"), "BAD_RESPONSE", False),
    ],
)
def test_transport_errors(error: Exception, code: str, retryable: bool) -> None:
    translated = transport.translate(error, backend="test")
    assert translated is not None
    assert (translated.code, translated.retryable) == (code, retryable)


def test_hub_http_errors_use_the_status_on_the_response() -> None:
    error = HfHubHTTPError("503 Server Error", response=_response(503, json={"estimated_time": 12}))
    translated = transport.translate(error, backend="test")
    assert translated is not None and (translated.code, translated.retry_after) == ("MODEL_LOADING", 12)


def test_a_bug_is_not_a_transport_error() -> None:
    assert transport.translate(KeyError("oops"), backend="test") is None
    with pytest.raises(KeyError), transport.translated(backend="test"):
        raise KeyError("oops")


@pytest.mark.parametrize(
    ("text", "code", "retryable", "retry_after"),
    [
        (
            "You have exceeded your GPU quota (60s requested vs. 30s left). Sign-up on Hugging Face to get more "
            "quotas or retry in 0:09:48.",
            "RATE_LIMIT_EXCEEDED",
            True,
            588,
        ),
        ("ZeroGPU quota exceeded", "RATE_LIMIT_EXCEEDED", True, None),
        ("No GPU was available after 60s. Retry later", "BACKEND_UNAVAILABLE", True, None),
        ("No face detected, please update the input face image(s)", "NO_FACE", False, None),
        ("Cannot find any input face image! Please refer to step 1️⃣", "BAD_REQUEST", False, None),
        ("Cannot use multiple trigger words 'img' in text prompt!", "BAD_REQUEST", False, None),
        (
            "The upstream Gradio app has raised an exception but has not enabled verbose error reporting.",
            "BACKEND_UNAVAILABLE",
            False,
            None,
        ),
    ],
)
def test_space_messages(text: str, code: str, retryable: bool, retry_after: int | None) -> None:
    translated = transport.translate(AppError(text), backend="space")
    assert translated is not None
    assert (translated.code, translated.retryable, translated.retry_after) == (code, retryable, retry_after)
    assert "refunded" in translated.message


def test_the_token_is_masked_in_the_log(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    error = HfHubHTTPError(
        "400", response=_response(400, json={"error": f"token {FAKE_TOKEN} is not allowed"}), server_message=FAKE_TOKEN
    )
    translated = transport.translate(error, backend="endpoint", secret=FAKE_TOKEN)
    assert translated is not None and FAKE_TOKEN not in translated.message
    assert caplog.records and FAKE_TOKEN not in caplog.text
    assert transport.MASK in caplog.text


def test_load_image_refuses_what_is_not_an_image(tmp_path: Path) -> None:
    page = tmp_path / "page.png"
    page.write_bytes(b"<html>hello</html>")
    truncated = tmp_path / "cut.png"
    Image.new("RGB", (64, 64), (1, 2, 3)).save(truncated)
    truncated.write_bytes(truncated.read_bytes()[:60])
    for path in (page, truncated):
        with pytest.raises(BackendError) as caught:
            transport.load_image(path)
        assert caught.value.code == "BAD_RESPONSE" and not caught.value.retryable
    rgba = Image.new("RGBA", (8, 8))
    assert transport.load_image(rgba).mode == "RGB"
