"""Browser sessions as Gradio signs them on a Space with the HF sign-in, for a test OAuth secret."""

from __future__ import annotations

import json
import time
from base64 import b64encode
from pathlib import Path

from itsdangerous import TimestampSigner

from photomaker.settings import Settings
from photomaker.ui.signin import session_middleware

OAUTH_SECRET = "test-oauth-secret"
METRICS_TOKEN = "test-metrics-token-3456"


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
        **extra,
    )


def session_cookie(settings: Settings, username: str) -> str:
    """The `session` cookie of a browser signed in as `username` (what Gradio's /login/callback stores)."""
    (middleware,) = session_middleware(settings)
    oauth_info = {
        "access_token": f"hf_oauth_{username}",
        "token_type": "bearer",
        "scope": "openid profile",
        "expires_at": int(time.time()) + 3600,
        "userinfo": {
            "preferred_username": username,
            "name": username.title(),
            "profile": f"https://huggingface.co/{username}",
            "picture": "",
        },
    }
    payload = b64encode(json.dumps({"oauth_info": oauth_info}).encode())
    return TimestampSigner(middleware.kwargs["secret_key"]).sign(payload).decode()
