"""Settings: every value has a working local default; the environment overrides it."""

from __future__ import annotations

from pathlib import Path

import pytest

from photomaker.settings import Settings


def test_local_defaults(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("DATA_DIR", "DATABASE_URL", "PHOTOMAKER_ENGINE", "STARTING_CREDITS", "ADMIN_USERS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    settings = Settings()
    assert settings.photomaker_engine == "auto"
    assert settings.token is None
    assert settings.max_photo_mb == 5 and settings.user_rate_limit_per_min == 5
    assert settings.photomaker_space == "TencentARC/PhotoMaker-V2"
    assert settings.resolved_database_url.startswith("sqlite:///")
    assert settings.resolved_database_url.endswith("photomaker.db")


def test_environment_overrides(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    monkeypatch.setenv("ADMIN_USERS", "ada, grace,,")
    monkeypatch.setenv("STARTING_CREDITS", "99")
    monkeypatch.setenv("HF_TOKEN", "hf_secret_value")
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://u@127.0.0.1/x")
    settings = Settings()
    assert settings.data_dir == tmp_path
    assert settings.admin_users == ["ada", "grace"]
    assert settings.starting_credits == 99
    assert settings.token == "hf_secret_value"
    assert "hf_secret_value" not in repr(settings)
    assert settings.resolved_database_url == "postgresql+psycopg://u@127.0.0.1/x"


def test_blank_values_mean_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_TOKEN", "  ")
    monkeypatch.setenv("PHOTOMAKER_ENDPOINT_URL", "")
    settings = Settings()
    assert settings.token is None and settings.photomaker_endpoint_url is None
