"""The sign-in outside a real Space reads the very cookie Gradio signs on one; /metrics asks for its bearer."""

from __future__ import annotations

from pathlib import Path

import fastapi
import pytest
from gradio import oauth

from photomaker.core.settings import Settings
from photomaker.ui.routes import metrics_refusal
from photomaker.ui.signin import gradio_signs_in, session_middleware

SECRET = "test-oauth-secret"


def _space(tmp_path: Path, **extra: object) -> Settings:
    return Settings(
        data_dir=tmp_path, space_id="studio/photomaker", oauth_client_id="cid", oauth_client_secret=SECRET, **extra
    )


def test_the_session_key_is_the_one_gradio_derives(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "OAUTH_CLIENT_ID": "cid",
        "OAUTH_CLIENT_SECRET": SECRET,
        "OAUTH_SCOPES": "openid profile",
        "OPENID_PROVIDER_URL": "http://127.0.0.1:9",
    }.items():
        monkeypatch.setattr(oauth, name, value)
    monkeypatch.setenv("SYSTEM", "spaces")
    monkeypatch.setenv("SPACE_ID", "studio/photomaker")
    app = fastapi.FastAPI()
    oauth.attach_oauth(app)
    (gradios,) = [m for m in app.user_middleware if m.cls.__name__ == "SessionMiddleware"]
    assert gradio_signs_in(_space(tmp_path)), "on a real Space Gradio adds the sign-in itself"
    assert session_middleware(_space(tmp_path)) == []
    monkeypatch.delenv("SYSTEM")
    (ours,) = session_middleware(_space(tmp_path))
    assert ours.kwargs["secret_key"] == gradios.kwargs["secret_key"]


def test_no_session_reader_without_sign_in(tmp_path: Path) -> None:
    assert session_middleware(Settings(data_dir=tmp_path)) == []


@pytest.mark.parametrize(
    ("space", "token", "authorization", "served"),
    [
        (False, None, None, True),
        (False, "m-token", None, False),
        (False, "m-token", "Bearer m-token", True),
        (True, None, None, False),
        (True, None, "Bearer anything", False),
        (True, "m-token", "Bearer m-token", True),
        (True, "m-token", "bearer  m-token ", True),
        (True, "m-token", "Bearer m-token-and-more", False),
        (True, "m-token", "Basic m-token", False),
    ],
)
def test_metrics_is_served_to_its_bearer(
    tmp_path: Path, space: bool, token: str | None, authorization: str | None, served: bool
) -> None:
    settings = _space(tmp_path, metrics_token=token) if space else Settings(data_dir=tmp_path, metrics_token=token)
    refusal = metrics_refusal(settings, authorization)
    assert (refusal is None) == served
    if space and token is None:
        assert "off" in refusal and "METRICS_TOKEN" in refusal
