"""Every error a user can meet, each with a stable code and one sentence that says what to do.

Codes are stored on `Generation` rows and counted on the dashboard, so they never change.
Refusals (`RefusedError`) happen before any credit moves; backend failures (`BackendError`)
happen after the charge and are refunded.
"""

from __future__ import annotations

from typing import Literal

ErrorCode = Literal[
    "NO_PHOTOS",
    "TOO_MANY_PHOTOS",
    "INVALID_PHOTO",
    "PHOTO_TOO_LARGE",
    "NO_FACE",
    "DIFFERENT_PEOPLE",
    "INVALID_PROMPT",
    "INVALID_PARAMS",
    "INSUFFICIENT_CREDITS",
    "USER_RATE_LIMITED",
    "MODEL_LOADING",
    "RATE_LIMIT_EXCEEDED",
    "GENERATION_TIMEOUT",
    "BACKEND_UNAVAILABLE",
    "AUTH_FAILED",
    "BAD_REQUEST",
    "BAD_RESPONSE",
    "INTERRUPTED",
    "CANCELLED",
    "NOT_ALIKE",
    "NOT_RUNNING",
    "SIGN_IN_REQUIRED",
    "FORBIDDEN",
    "NOT_OFFERED",
    "NOT_FOUND",
    "METHOD_NOT_ALLOWED",
    "NAME_TAKEN",
    "IDEMPOTENCY_KEY_REUSED",
    "IDEMPOTENCY_KEY_IN_USE",
    "REQUEST_TOO_LARGE",
    "INTERNAL",
]

DEFAULT_MESSAGES: dict[ErrorCode, str] = {
    "NO_PHOTOS": "Upload at least one photo of your face.",
    "TOO_MANY_PHOTOS": "Upload at most 4 photos of the same person.",
    "INVALID_PHOTO": "That file is not a photo we can read; upload a JPEG, PNG or WebP image.",
    "PHOTO_TOO_LARGE": "That photo is too large; upload a smaller one.",
    "NO_FACE": "We could not find a face; upload a clear, well-lit photo of one person facing the camera.",
    "DIFFERENT_PEOPLE": "Your photos show more than one person; upload photos of one person only.",
    "INVALID_PROMPT": "Check the prompt and try again.",
    "INVALID_PARAMS": "One of the settings is out of range; check the advanced options.",
    "INSUFFICIENT_CREDITS": "You do not have enough credits for this; choose fewer images or a lower tier.",
    "USER_RATE_LIMITED": "You are generating too fast; wait a minute and try again.",
    "MODEL_LOADING": "The model is still loading; try again in a minute. Your credits were refunded.",
    "RATE_LIMIT_EXCEEDED": "The image service is busy; try again in a minute. Your credits were refunded.",
    "GENERATION_TIMEOUT": "The generation took too long; try again. Your credits were refunded.",
    "BACKEND_UNAVAILABLE": "The image service is unavailable; try again later. Your credits were refunded.",
    "AUTH_FAILED": "The image service refused our token; ask the operator to check HF_TOKEN. Credits refunded.",
    "BAD_REQUEST": "The image service rejected these settings; change them and try again. Credits refunded.",
    "BAD_RESPONSE": "The image service sent back something that is not an image; try again. Credits refunded.",
    "INTERRUPTED": "The app restarted while this was generating; your credits were refunded, so try again.",
    "CANCELLED": "You cancelled this before any avatar was made; your credits were refunded.",
    "NOT_ALIKE": (
        "None of the avatars looked like you, so none were kept and your credits were refunded; "
        "try a lower style strength or clearer photos."
    ),
    "NOT_RUNNING": (
        "That generation is not running any more, so there is nothing to cancel; its details say how it ended."
    ),
    "SIGN_IN_REQUIRED": (
        "Sign in with Hugging Face at the top of the page, or pass your HF token from a program as "
        'gradio_client.Client(url, oauth_token="hf_...").'
    ),
    "FORBIDDEN": "Only the operators of this app (ADMIN_USERS) may do that.",
    "NOT_OFFERED": "This app does not offer that; ask its operator to turn it on.",
    "NOT_FOUND": "There is nothing of yours here; check the id (list yours first).",
    "METHOD_NOT_ALLOWED": "This address does not take that method; the Allow header lists the ones it takes.",
    "NAME_TAKEN": "You already have a project with that name; choose another name.",
    "IDEMPOTENCY_KEY_REUSED": (
        "This Idempotency-Key was used for a different request; send a new key with a new request."
    ),
    "IDEMPOTENCY_KEY_IN_USE": (
        "A request with this Idempotency-Key is still being answered; wait for it, then send the request again."
    ),
    "REQUEST_TOO_LARGE": "The request is larger than this app takes; send less and try again.",
    "INTERNAL": "Something went wrong on our side; try again. Your credits were refunded.",
}


class PhotoMakerError(Exception):
    """Base of our errors: a code from `ErrorCode` and a message fit to show a user.

    `retry_after` is how many seconds to wait before trying again, where that is known (a rate limit).
    """

    code: ErrorCode = "INTERNAL"

    def __init__(
        self, code: ErrorCode | None = None, message: str | None = None, *, retry_after: float | None = None
    ) -> None:
        if code is not None:
            self.code = code
        self.message = message or DEFAULT_MESSAGES[self.code]
        self.retry_after = retry_after
        super().__init__(self.message)


class RefusedError(PhotoMakerError):
    """Bad input or policy: refused before any credit moves; recorded as a `rejected` row."""


class BackendError(PhotoMakerError):
    """The engine failed after the charge: the row becomes `failed` and credits are refunded.

    `retry_after` is how long the server asked us to wait, when it said so; `retryable`
    tells the retry policy whether another attempt can succeed; `attempts` is how many
    attempts were made before giving up.
    """

    def __init__(
        self,
        code: ErrorCode | None = None,
        message: str | None = None,
        *,
        retryable: bool = False,
        retry_after: float | None = None,
        attempts: int | None = None,
    ) -> None:
        super().__init__(code, message, retry_after=retry_after)
        self.retryable = retryable
        self.attempts = attempts


class AccessError(PhotoMakerError):
    """Who is asking is unknown (`SIGN_IN_REQUIRED`) or may not do this (`FORBIDDEN`).

    Raised before anything is read, charged or recorded, so it leaves no row behind.
    """
