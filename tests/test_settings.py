"""Settings: every value has a working local default; the environment overrides it."""

from __future__ import annotations

from pathlib import Path

import pytest
from annotated_types import Ge, Gt
from pydantic import ValidationError

from photomaker.core import settings as settings_module
from photomaker.core.settings import Settings


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


def test_the_default_data_dir_is_the_same_from_any_folder(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("DATA_DIR", raising=False)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    (tmp_path / "elsewhere").mkdir()
    found = []
    for folder in (settings_module.CHECKOUT, tmp_path, tmp_path / "elsewhere"):
        monkeypatch.chdir(folder)
        found.append((Settings().data_dir, Settings().resolved_database_url))
    assert found[0][0].is_absolute()
    assert found == [found[0]] * 3


def test_from_a_clone_the_default_is_its_data_folder(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(settings_module, "SPACE_DATA_DIR", tmp_path / "no-persistent-storage")
    monkeypatch.chdir(tmp_path)
    assert (settings_module.CHECKOUT / "pyproject.toml").is_file()
    assert settings_module._default_data_dir() == settings_module.CHECKOUT / "data"


def test_a_spaces_persistent_storage_comes_first(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(settings_module, "SPACE_DATA_DIR", tmp_path)
    assert settings_module._default_data_dir() == tmp_path


@pytest.mark.parametrize(
    ("xdg_data_home", "expected"),
    [
        ("{tmp}/xdg", "{tmp}/xdg/photomaker-studio"),
        ("", "{tmp}/home/.local/share/photomaker-studio"),
        ("relative/xdg", "{tmp}/home/.local/share/photomaker-studio"),  # ignored, as the XDG spec says
    ],
)
def test_without_a_clone_the_default_is_the_users_data_folder(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, xdg_data_home: str, expected: str
) -> None:
    monkeypatch.setattr(settings_module, "SPACE_DATA_DIR", tmp_path / "no-persistent-storage")
    monkeypatch.setattr(settings_module, "CHECKOUT", tmp_path / "site-packages")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_DATA_HOME", xdg_data_home.format(tmp=tmp_path))
    monkeypatch.chdir(tmp_path)
    assert settings_module._default_data_dir() == Path(expected.format(tmp=tmp_path))


def test_a_relative_data_dir_given_by_the_user_is_relative_to_the_working_folder(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("DATA_DIR", "mine")
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    settings = Settings()
    assert settings.data_dir == Path("mine")
    assert settings.resolved_database_url == f"sqlite:///{tmp_path.resolve() / 'mine' / 'photomaker.db'}"


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


@pytest.mark.parametrize(
    ("megabytes", "expected_bytes"), [(5, 5_242_880), (0.5, 524_288), (1.5, 1_572_864), (20, 20_971_520)]
)
def test_max_photo_bytes_is_the_setting_in_binary_megabytes(megabytes: float, expected_bytes: int) -> None:
    assert Settings(max_photo_mb=megabytes).max_photo_bytes == expected_bytes


def test_max_photo_bytes_drops_a_fraction_of_a_byte() -> None:
    # 1 MiB and three quarters of a byte: the limit never grows past what was set.
    assert Settings(max_photo_mb=(1_048_576 + 0.75) / 1_048_576).max_photo_bytes == 1_048_576


def test_max_photo_mb_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAX_PHOTO_MB", "2.5")
    assert Settings().max_photo_bytes == 2_621_440


@pytest.mark.parametrize("megabytes", [0, -1])
def test_max_photo_mb_must_be_positive(megabytes: float) -> None:
    with pytest.raises(ValidationError, match="max_photo_mb"):
        Settings(max_photo_mb=megabytes)


def _bounds() -> list[tuple[str, object]]:
    """Every bounded setting with its bound, as `Settings` declares it."""
    return [
        (name, bound)
        for name, field in Settings.model_fields.items()
        for bound in field.metadata
        if isinstance(bound, Ge | Gt)
    ]


@pytest.mark.parametrize(("name", "bound"), _bounds(), ids=[name for name, _ in _bounds()])
def test_each_bounded_setting_takes_its_edge_and_refuses_one_step_past(
    monkeypatch: pytest.MonkeyPatch, name: str, bound: Ge | Gt
) -> None:
    step = 1 if Settings.model_fields[name].annotation is int else 0.001
    edge = bound.ge if isinstance(bound, Ge) else bound.gt
    accepted, refused = (edge, edge - step) if isinstance(bound, Ge) else (edge + step, edge)
    monkeypatch.setenv(name.upper(), str(accepted))
    assert getattr(Settings(), name) == accepted
    monkeypatch.setenv(name.upper(), str(refused))
    with pytest.raises(ValidationError, match=name):
        Settings()


@pytest.mark.parametrize(
    "name", ["user_rate_limit_per_min", "retention_days", "retry_max_attempts", "preview_concurrency"]
)
def test_zero_is_refused_where_it_would_stop_the_app(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    monkeypatch.setenv(name.upper(), "0")
    with pytest.raises(ValidationError, match=name):
        Settings()


def test_a_new_account_may_start_with_no_credits(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STARTING_CREDITS", "0")
    assert Settings().starting_credits == 0
