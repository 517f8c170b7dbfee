"""One `Settings` object, read from the environment; every value has a working local default."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Annotated

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from photomaker.engines.entries import AUTO, ENGINE_CHOICES

SPACE_DATA_DIR = Path("/data")
"""Where a Hugging Face Space mounts its persistent storage."""
CHECKOUT = Path(__file__).resolve().parents[2]
"""The folder above the `photomaker` package: a clone's root when running from one (an editable install included)."""


def _default_data_dir() -> Path:
    """An absolute folder, so the app, the CLI and `python -m seeds` share one database whatever folder they start in.

    A Space's persistent storage when it is mounted; else the clone's `data/` (its `.gitignore` keeps it out
    of git); else, for a package installed without a clone, the user's data folder (`XDG_DATA_HOME`).
    """
    if SPACE_DATA_DIR.is_dir() and os.access(SPACE_DATA_DIR, os.W_OK):
        return SPACE_DATA_DIR
    if (CHECKOUT / "pyproject.toml").is_file():
        return CHECKOUT / "data"
    xdg = Path(os.environ.get("XDG_DATA_HOME") or "~/.local/share").expanduser()
    return (xdg if xdg.is_absolute() else Path.home() / ".local" / "share") / "photomaker-studio"


class Settings(BaseSettings):
    """Configuration of one running app. Field names are the environment variable names."""

    model_config = SettingsConfigDict(case_sensitive=False, extra="ignore")

    data_dir: Path = Field(default_factory=_default_data_dir)
    gradio_server_name: str = "127.0.0.1"
    """Where the app listens (the variables Gradio itself reads; a Space sets 0.0.0.0 and 7860)."""
    gradio_server_port: int = Field(default=7860, ge=1, le=65535)
    gradio_temp_dir: Path | None = None
    """Gradio's folder of uploads and served files: Gradio reads the variable itself; here to check it."""
    database_url: str | None = None
    photomaker_engine: str = AUTO
    """`auto` or an engine's name (`engines.entries`)."""
    hf_token: SecretStr | None = None
    photomaker_space: str = "TencentARC/PhotoMaker-V2"
    photomaker_endpoint_url: str | None = None
    local_base_model: str = "SG161222/RealVisXL_V4.0"
    local_model_dir: Path | None = None
    local_offload: bool = False
    local_allow_cpu: bool = False
    text_to_image_model: str = "black-forest-labs/FLUX.1-schnell"
    text_to_image_endpoint_url: str | None = None
    starting_credits: int = Field(default=250, ge=0)
    admin_users: Annotated[list[str], NoDecode] = Field(default_factory=list)
    max_photo_mb: float = Field(default=5, gt=0)
    user_rate_limit_per_min: int = Field(default=5, ge=1)
    retention_days: int = Field(default=30, ge=1)
    local_username: str = "local"
    preview_concurrency: int = Field(default_factory=lambda: os.cpu_count() or 1, ge=1)
    remote_concurrency: int = Field(default=32, ge=1)
    inference_timeout_s: float = Field(default=120, gt=0)
    space_timeout_s: float = Field(default=300, gt=0)
    retry_max_attempts: int = Field(default=4, ge=1)
    retry_max_wait_s: float = Field(default=180, ge=0)
    retry_backoff_s: float = Field(default=2, ge=0)
    retry_backoff_max_s: float = Field(default=30, ge=0)
    generation_lease_s: float = Field(default=60, gt=0)
    metrics_token: SecretStr | None = None
    space_id: str | None = None
    oauth_client_id: str | None = None
    oauth_client_secret: SecretStr | None = None
    hf_endpoint: str | None = None
    space_host: Annotated[list[str], NoDecode] = Field(default_factory=list)
    allowed_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    max_request_kb: int = Field(default=256, ge=16)
    anonymous_upload_s: float = Field(default=60, gt=0)
    kept_photos_minutes: float = Field(default=30, gt=0)
    """How long the page keeps a user's photos for their next generations without use (`ui.kept_photos`)."""
    refusals_per_min: int = Field(default=20, ge=1)
    refusals_per_min_per_address: int = Field(default=60, ge=1)
    proxy_hops: int | None = Field(default=None, ge=0)
    hub_lookup_timeout_s: float = Field(default=5, gt=0, le=60)
    hub_lookup_concurrency: int = Field(default=8, ge=1, le=32)
    hub_refusal_cache_s: float = Field(default=60, ge=0, le=3600)
    decode_budget_mb: int = Field(default=512, ge=128)

    @field_validator("admin_users", "space_host", "allowed_origins", mode="before")
    @classmethod
    def _split_list(cls, value: object) -> object:
        if isinstance(value, str):
            return [name.strip() for name in value.split(",") if name.strip()]
        return value

    @field_validator("photomaker_engine")
    @classmethod
    def _known_engine(cls, value: str) -> str:
        if value not in ENGINE_CHOICES:
            raise ValueError(f"PHOTOMAKER_ENGINE must be one of {', '.join(ENGINE_CHOICES)}; got {value!r}")
        return value

    @field_validator(
        "hf_token",
        "photomaker_endpoint_url",
        "text_to_image_endpoint_url",
        "database_url",
        "metrics_token",
        "space_id",
        "oauth_client_id",
        "oauth_client_secret",
        "hf_endpoint",
        "local_model_dir",
        "gradio_temp_dir",
        mode="before",
    )
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @property
    def resolved_database_url(self) -> str:
        """`DATABASE_URL`, or a SQLite file in `DATA_DIR`."""
        return self.database_url or f"sqlite:///{(self.data_dir / 'photomaker.db').resolve()}"

    @property
    def upload_dir(self) -> Path:
        """Where Gradio keeps uploads: `GRADIO_TEMP_DIR`, else the temp folder's `gradio` (as Gradio decides)."""
        return self.gradio_temp_dir or Path(tempfile.gettempdir()) / "gradio"

    @property
    def avatars_dir(self) -> Path:
        return self.data_dir / "avatars"

    @property
    def longest_request_s(self) -> float:
        """The most time one generation may take, every attempt and wait included: an upload or a download
        older than this belongs to no request."""
        return self.retry_max_attempts * max(self.inference_timeout_s, self.space_timeout_s) + self.retry_max_wait_s

    @property
    def downloads_dir(self) -> Path:
        """Where the Space engine's client receives images, each file deleted once read."""
        return self.data_dir / "downloads"

    @property
    def incoming_dir(self) -> Path:
        """Where the REST API keeps a request's photos while reading them: a folder per request, deleted after."""
        return self.data_dir / "incoming"

    @property
    def max_photo_bytes(self) -> int:
        return int(self.max_photo_mb * 1024 * 1024)

    @property
    def decode_budget_bytes(self) -> int:
        return self.decode_budget_mb * 1024 * 1024

    @property
    def sign_in_required(self) -> bool:
        """True on a Space with `hf_oauth: true` (it sets `SPACE_ID` and `OAUTH_CLIENT_ID`): every user signs in."""
        return bool(self.space_id and self.oauth_client_id)

    @property
    def max_request_bytes(self) -> int:
        """The largest body of a request that carries no photos."""
        return self.max_request_kb * 1024

    @property
    def forwarding_proxies(self) -> int:
        """How many proxies in front of the app add the client's address to `X-Forwarded-For`: `PROXY_HOPS`, else
        one on a Space (its own proxy) and none elsewhere."""
        if self.proxy_hops is not None:
            return self.proxy_hops
        return 1 if self.space_id else 0

    @property
    def token(self) -> str | None:
        """The HF token as a plain string, for the clients that need it; never log it."""
        return self.hf_token.get_secret_value() if self.hf_token else None
