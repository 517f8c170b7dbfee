"""Transport and backend failures become our errors here, and only here.

`InferenceClient` raises `HfHubHTTPError` (the status on `.response`), `InferenceTimeoutError`
and httpx2 transport errors; `gradio_client` raises `AppError` carrying the Space's `gr.Error`
text, its own queue and rate errors, and httpx transport errors; PIL fails on answers that are
not images. Each becomes a `BackendError` with one of our codes, `retryable` for the retry
policy, and `retry_after` when the server said how long to wait. The server's own words go to
the log (with the token masked), never to the user.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import httpx
import httpx2
from gradio_client.exceptions import AppError, AuthenticationError, ValidationError
from gradio_client.utils import InvalidAPIEndpointError, QueueError, TooManyRequestsError
from huggingface_hub.errors import HfHubHTTPError, InferenceTimeoutError
from PIL import Image

from photomaker.core.errors import BackendError, ErrorCode

log = logging.getLogger(__name__)

MASK = "[hidden]"
DETAIL_CHARS = 300


def redact(text: str, secret: str | None) -> str:
    """`text` with the secret masked, for logs."""
    return text.replace(secret, MASK) if secret else text


@dataclass(frozen=True)
class SpaceMessage:
    """How one kind of `gr.Error` text from the PhotoMaker Space (or ZeroGPU) maps to our codes."""

    pattern: re.Pattern[str]
    code: ErrorCode
    message: str
    retryable: bool = False


SPACE_MESSAGES: tuple[SpaceMessage, ...] = (
    SpaceMessage(
        re.compile(r"GPU quota|quota exceeded", re.IGNORECASE),
        "RATE_LIMIT_EXCEEDED",
        "The PhotoMaker Space's free GPU time is used up for now; try again later. Your credits were refunded.",
        retryable=True,
    ),
    SpaceMessage(
        re.compile(r"No GPU was available|GPU task aborted|ZeroGPU worker error", re.IGNORECASE),
        "BACKEND_UNAVAILABLE",
        "The PhotoMaker Space has no GPU free right now; try again in a few minutes. Your credits were refunded.",
        retryable=True,
    ),
    SpaceMessage(
        re.compile(r"No face detected", re.IGNORECASE),
        "NO_FACE",
        "PhotoMaker could not find a face in your photos; upload clear, well-lit photos of one person facing the "
        "camera. Your credits were refunded.",
    ),
    SpaceMessage(
        re.compile(r"input face image|trigger word", re.IGNORECASE),
        "BAD_REQUEST",
        "The PhotoMaker Space rejected this request; try again with other photos or another prompt. "
        "Your credits were refunded.",
    ),
)

SPACE_FAILED = (
    "The PhotoMaker Space failed on this request; try again later or with other photos. Your credits were refunded."
)
NOT_FOUND = "The image service was not found at its configured address; ask the operator to check it. Credits refunded."


def _seconds(value: Any) -> float | None:
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        return None
    return seconds if seconds >= 0 else None


def retry_after_seconds(header: str | None) -> float | None:
    """A `Retry-After` header (seconds or an HTTP date) in seconds from now."""
    if not header:
        return None
    seconds = _seconds(header)
    if seconds is not None:
        return seconds
    try:
        when = parsedate_to_datetime(header)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _estimated_time(response: httpx2.Response | httpx.Response) -> float | None:
    """The `estimated_time` of a 503 "model is loading" answer, when the body has one."""
    try:
        body = response.json()
    except Exception:
        return None
    return _seconds(body.get("estimated_time")) if isinstance(body, dict) else None


def from_status(response: httpx2.Response | httpx.Response) -> BackendError:
    """An HTTP error answer as our error."""
    status = response.status_code
    retry_after = retry_after_seconds(response.headers.get("Retry-After"))
    if status == 503 and (loading := _estimated_time(response)) is not None:
        return BackendError("MODEL_LOADING", retryable=True, retry_after=loading)
    if status == 429:
        return BackendError("RATE_LIMIT_EXCEEDED", retryable=True, retry_after=retry_after)
    if status in (408, 504):
        return BackendError("GENERATION_TIMEOUT", retryable=True)
    if status in (401, 403):
        return BackendError("AUTH_FAILED")
    if status == 404:
        return BackendError("BACKEND_UNAVAILABLE", NOT_FOUND)
    if status >= 500:
        return BackendError("BACKEND_UNAVAILABLE", retryable=True, retry_after=retry_after)
    return BackendError("BAD_REQUEST")


def from_space_message(text: str) -> BackendError:
    """A `gr.Error` raised by the PhotoMaker Space as our error (a quota message's wait is kept)."""
    for known in SPACE_MESSAGES:
        if known.pattern.search(text):
            wait = re.search(r"retry in (\d+):(\d\d):(\d\d)", text, re.IGNORECASE)
            retry_after = int(wait[1]) * 3600 + int(wait[2]) * 60 + int(wait[3]) if wait else None
            return BackendError(known.code, known.message, retryable=known.retryable, retry_after=retry_after)
    return BackendError("BACKEND_UNAVAILABLE", SPACE_FAILED)


def _classify(error: BaseException) -> BackendError | None:
    if isinstance(error, HfHubHTTPError) and error.response is not None:
        return from_status(error.response)
    if isinstance(error, httpx.HTTPStatusError):
        return from_status(error.response)
    if isinstance(error, InferenceTimeoutError | httpx2.TimeoutException | httpx.TimeoutException | TimeoutError):
        return BackendError("GENERATION_TIMEOUT", retryable=True)
    if isinstance(error, httpx2.TransportError | httpx.TransportError | ConnectionError):
        return BackendError("BACKEND_UNAVAILABLE", retryable=True)
    if isinstance(error, AppError):
        return from_space_message(error.message)
    if isinstance(error, ValidationError):
        return BackendError("BAD_REQUEST")
    if isinstance(error, QueueError | TooManyRequestsError):
        return BackendError("RATE_LIMIT_EXCEEDED", retryable=True)
    if isinstance(error, AuthenticationError):
        return BackendError("AUTH_FAILED")
    if isinstance(error, InvalidAPIEndpointError):
        return BackendError("BACKEND_UNAVAILABLE", SPACE_FAILED)
    if isinstance(error, Image.UnidentifiedImageError):
        return BackendError("BAD_RESPONSE")
    return None


def _detail(error: BaseException) -> str:
    """The server's own words about a failure, for the log."""
    if isinstance(error, HfHubHTTPError):
        return f"HTTP {error.response.status_code}: {error.server_message or 'no message'}"
    return f"{type(error).__name__}: {error}"


def translate(error: BaseException, *, backend: str, secret: str | None = None) -> BackendError | None:
    """Our error for a transport or backend failure (the details logged at INFO); None if it is neither (a bug)."""
    translated = _classify(error)
    if translated is not None:
        detail = redact(_detail(error), secret)[:DETAIL_CHARS]
        log.info("%s failed: %s -> %s", backend, " ".join(detail.split()), translated.code)
    return translated


@contextmanager
def translated(*, backend: str, secret: str | None = None) -> Iterator[None]:
    """Run backend calls in the block; their transport failures come out as our BackendError."""
    try:
        yield
    except BackendError:
        raise
    except Exception as error:
        ours = translate(error, backend=backend, secret=secret)
        if ours is None:
            raise
        raise ours from error


def load_image(source: Image.Image | Path) -> Image.Image:
    """A backend's answer as a fully decoded RGB image, or BAD_RESPONSE when it is not one."""
    try:
        image = source if isinstance(source, Image.Image) else Image.open(source)
        image.load()
        return image.convert("RGB")
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as error:
        log.warning("the image service answered something that is not an image: %s", type(error).__name__)
        raise BackendError("BAD_RESPONSE") from error
