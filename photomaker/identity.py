"""Who is asking: a Hugging Face user on a Space with sign-in, the local user everywhere else.

On a Space, a browser is signed in by the HF sign-in (its session names the user) and a program
passes its own HF token, which `whoami` turns into a username. That answer is cached for a few
minutes under a hash of the token, so a program's calls cost one lookup between them, not one
each; the token itself is neither stored nor logged.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable

from huggingface_hub import HfApi

from photomaker.engines import transport
from photomaker.errors import AccessError
from photomaker.settings import Settings

WHOAMI_CACHE_S = 300.0
MAX_CACHED_TOKENS = 10_000

Lookup = Callable[[str], str]
"""Turns a token into a username, or raises what `HfApi.whoami` raises."""

TOKEN_REFUSED = (
    "Hugging Face did not accept that token. Create a read token at https://huggingface.co/settings/tokens "
    'and pass it as gradio_client.Client(url, oauth_token="hf_..."), or sign in on the page.'
)
HUB_UNREACHABLE = "We could not check your Hugging Face token just now; try again in a minute."


def whoami_lookup(endpoint: str | None) -> Lookup:
    """`whoami` on the Hub at `endpoint` (`HF_ENDPOINT`; the public Hub when None)."""
    api = HfApi(endpoint=endpoint)
    return lambda token: api.whoami(token=token)["name"]


def _fingerprint(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Identity:
    """Resolves who is asking, and whether they may operate the app."""

    def __init__(self, settings: Settings, *, lookup: Lookup | None = None, ttl_s: float = WHOAMI_CACHE_S) -> None:
        self.settings = settings
        self.lookup = lookup or whoami_lookup(settings.hf_endpoint)
        self.ttl_s = ttl_s
        self._cache: dict[str, tuple[str, float]] = {}
        self._lock = threading.Lock()

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
        key, now = _fingerprint(token), time.monotonic()
        with self._lock:
            cached = self._cache.get(key)
        if cached and cached[1] > now:
            return cached[0]
        try:
            name = self.lookup(token)
        except Exception as error:
            translated = transport.translate(error, backend="hub whoami", secret=token)
            if translated is None:
                raise
            if translated.code == "AUTH_FAILED":
                raise AccessError("SIGN_IN_REQUIRED", TOKEN_REFUSED) from None
            raise AccessError("BACKEND_UNAVAILABLE", HUB_UNREACHABLE) from None
        with self._lock:
            if len(self._cache) >= MAX_CACHED_TOKENS:
                self._cache = {k: v for k, v in self._cache.items() if v[1] > now}
            self._cache[key] = (name, now + self.ttl_s)
        return name
