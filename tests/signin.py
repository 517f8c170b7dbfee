"""A simulated Space with the HF sign-in, for a test OAuth secret (`photomaker.ui.signin.session_cookie` signs its
browsers in)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from photomaker.core.settings import Settings
from stand_ins.serving import ServedApp, serve
from tests.fakes.hub import FakeHub

OAUTH_SECRET = "test-oauth-secret"
METRICS_TOKEN = "test-metrics-token-3456"
SPACE_HOST = "studio-photomaker.hf.space"
"""Where the Space is served (what Spaces set `SPACE_HOST` to)."""


def space_settings(folder: Path, *, database_url: str, hub_url: str, **extra: object) -> Settings:
    """A Space with sign-in, as `hf_oauth: true` sets it up, where carol operates and /metrics has a token."""
    return Settings(
        data_dir=folder / "data",
        database_url=database_url,
        user_rate_limit_per_min=100,
        hf_token=None,
        space_id="studio/photomaker",
        oauth_client_id="test-client-id",
        oauth_client_secret=OAUTH_SECRET,
        admin_users="carol",
        metrics_token=METRICS_TOKEN,
        hf_endpoint=hub_url,
        space_host=SPACE_HOST,
        **extra,
    )


@contextmanager
def served_space(folder: Path, *, tokens: dict[str, str]) -> Iterator[ServedApp]:
    """The simulated Space on SQLite in `folder`, served on loopback, its Hub knowing `tokens` (token -> user)."""
    hub = FakeHub(tokens).start()
    settings = space_settings(folder, database_url=f"sqlite:///{folder / 'test.db'}", hub_url=hub.url)
    try:
        with serve(settings) as app:
            yield app
    finally:
        hub.close()
