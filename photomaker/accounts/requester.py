"""Who is asking: a Hugging Face user on a Space with sign-in, the local user everywhere else.

On a Space, a browser is signed in by the HF sign-in (its session names the user) and a program
passes its own HF token, which `whoami` turns into a username. That answer is cached for a few
minutes under a hash of the token, so a program's calls cost one lookup between them, not one
each; the token itself is neither stored nor logged.

Anyone can send a token, so asking the Hub is bounded: a refusal is remembered briefly too (a bad
token sent 100 times costs one lookup), the same token asked for at once is looked up once, a
lookup gives up after `HUB_LOOKUP_TIMEOUT_S`, and at most `HUB_LOOKUP_CONCURRENCY` callers wait on
the Hub at once; the next are refused at once. Each waiting caller holds a thread of a pool that
also serves the page, `/metrics`, the REST API or the page's events, so while the Hub hangs, junk
tokens can hold only a few of them, and users already known are answered from the cache.
"""

from __future__ import annotations

import hashlib
import math
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from huggingface_hub import constants

from photomaker.core.errors import AccessError
from photomaker.core.expiring_cache import ExpiringCache
from photomaker.core.settings import Settings
from photomaker.core.single_flight import Shared

WHOAMI_CACHE_S = 300.0
MAX_CACHED_TOKENS = 10_000

Lookup = Callable[[str], str]
"""Turns a token into a username, or raises what `HfApi.whoami` raises."""

TOKEN_REFUSED = (
    "Hugging Face did not accept that token. Create a read token at https://huggingface.co/settings/tokens "
    'and pass it as gradio_client.Client(url, oauth_token="hf_..."), or sign in on the page.'
)
HUB_UNREACHABLE = "We could not check your Hugging Face token just now; try again in a minute."
HUB_BUSY = "We are checking many Hugging Face tokens just now; try again in a few seconds."


def whoami_lookup(endpoint: str | None, *, timeout_s: float) -> Lookup:
    """`whoami` on the Hub at `endpoint` (`HF_ENDPOINT`; the public Hub when None), giving up on a Hub that
    sends nothing for `timeout_s` (to connect, or to answer).

    `HfApi.whoami` takes no timeout and huggingface_hub's shared client has none, so a Hub that never
    answers would hold the caller's thread for good: this is the same request through the same client,
    with a timeout, so its errors are huggingface_hub's as before.
    """
    url = f"{(endpoint or constants.ENDPOINT).rstrip('/')}/api/whoami-v2"

    def lookup(token: str) -> str:
        from huggingface_hub.utils import build_hf_headers, get_session, hf_raise_for_status  # only when asked

        answer = get_session().get(url, headers=build_hf_headers(token=token), timeout=timeout_s)
        hf_raise_for_status(answer)
        return str(answer.json()["name"])

    return lookup


def _fingerprint(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Identity:
    """Resolves who is asking, and whether they may operate the app."""

    def __init__(self, settings: Settings, *, lookup: Lookup | None = None, ttl_s: float = WHOAMI_CACHE_S) -> None:
        self.settings = settings
        self.lookup = lookup or whoami_lookup(settings.hf_endpoint, timeout_s=settings.hub_lookup_timeout_s)
        self._owners: ExpiringCache[str, str] = ExpiringCache(ttl_s=ttl_s, size=MAX_CACHED_TOKENS)
        self._refused: ExpiringCache[str, bool] = ExpiringCache(
            ttl_s=settings.hub_refusal_cache_s, size=MAX_CACHED_TOKENS
        )
        self._asking: Shared[str, str] = Shared()
        self._waiting = threading.BoundedSemaphore(settings.hub_lookup_concurrency)

    @property
    def sign_in_required(self) -> bool:
        return self.settings.sign_in_required

    def username(self, *, session_user: str | None = None, token: str | None = None) -> str:
        """The account to act for: the signed-in user, the owner of `token`, or the local user off a Space.

        Raises AccessError(SIGN_IN_REQUIRED) on a Space when the caller is neither signed in nor
        carries a token Hugging Face accepts.
        """
        if not self.sign_in_required:
            return self.settings.local_username
        if session_user:
            return session_user
        if token:
            return self._owner_of(token)
        raise AccessError("SIGN_IN_REQUIRED")

    def is_operator(self, username: str) -> bool:
        """Operators see the monitoring and manage credits: `ADMIN_USERS`, or anyone off a Space."""
        return not self.sign_in_required or username in self.settings.admin_users

    def require_operator(self, username: str) -> None:
        """Raise AccessError(FORBIDDEN) unless `username` is an operator."""
        if not self.is_operator(username):
            raise AccessError("FORBIDDEN")

    def _owner_of(self, token: str) -> str:
        key = _fingerprint(token)
        if (name := self._owners.get(key)) is not None:
            return name
        if self._refused.get(key):
            raise AccessError("SIGN_IN_REQUIRED", TOKEN_REFUSED)
        with self._turn_to_wait():
            return self._asking.get(key, lambda: self._ask_hub(token, key))

    @contextmanager
    def _turn_to_wait(self) -> Iterator[None]:
        """One of the few places for callers waiting on the Hub; BACKEND_UNAVAILABLE at once when none is free."""
        if not self._waiting.acquire(blocking=False):
            # every place is held for at most the lookup's timeout: one is free again by then
            raise AccessError(
                "BACKEND_UNAVAILABLE", HUB_BUSY, retry_after=math.ceil(self.settings.hub_lookup_timeout_s)
            )
        try:
            yield
        finally:
            self._waiting.release()

    def _ask_hub(self, token: str, key: str) -> str:
        """The owner of `token` from the Hub, remembered; a refusal is remembered too, a Hub that fails is not."""
        from photomaker.engines import transport  # httpx and gradio_client: not for commands that ask nobody

        try:
            name = self.lookup(token)
        except Exception as error:
            translated = transport.translate(error, backend="hub whoami", secret=token)
            if translated is None:
                raise
            if translated.code == "AUTH_FAILED":
                self._refused.put(key, True)
                raise AccessError("SIGN_IN_REQUIRED", TOKEN_REFUSED) from None
            raise AccessError("BACKEND_UNAVAILABLE", HUB_UNREACHABLE) from None
        self._owners.put(key, name)
        return name
