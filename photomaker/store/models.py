"""The tables. Nothing here is SQLite-only: the same models run on PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy import JSON, Index, Table, UniqueConstraint
from sqlmodel import Field, SQLModel

GenerationStatus = Literal["processing", "completed", "failed", "rejected"]
CreditKind = Literal["grant", "revoke", "charge", "refund"]
"""`revoke` is an operator taking credits back; `grant` also covers starting credits and top-ups."""
FINAL_STATUSES: tuple[GenerationStatus, ...] = ("completed", "failed", "rejected")
SYNTHETIC_ENGINE = "synthetic"
"""The engine name of demo-history rows, so that they can be hidden and deleted."""


def row_id(row: User | Generation | Project | Avatar) -> int:
    """The id of a stored row; SQLModel types ids `int | None` because a row has none until it is added."""
    if row.id is None:
        raise LookupError(f"this {type(row).__name__} has not been stored yet")
    return row.id


def utcnow() -> datetime:
    """The current time, timezone-aware in UTC, as SQLModel stores datetimes."""
    return datetime.now(UTC)


def utc(moment: datetime) -> datetime:
    """A stored time marked as UTC: SQLite hands back naive datetimes (all of ours are UTC)."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


class AIModel(SQLModel, table=True):
    """A model users can pick: a PhotoMaker tier or a text-to-image model."""

    __tablename__ = "ai_models"

    id: int | None = Field(default=None, primary_key=True)
    model_key: str = Field(unique=True, index=True, max_length=120)
    app_id: str = Field(max_length=60)
    name: str = Field(max_length=120)
    tier: str = Field(max_length=20, index=True)
    mode: str = Field(max_length=10)
    provider: str = Field(max_length=60)
    credit_cost: int
    width: int
    height: int
    default_style_strength: int
    steps: int
    guidance_scale: float
    eta_min_s: int
    eta_max_s: int
    enabled: bool = True
    capabilities: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    features: list[str] = Field(default_factory=list, sa_type=JSON)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)

    def price(self, num_images: int) -> int:
        """What `num_images` images cost, in credits: the page shows it, the service charges it."""
        return self.price_each(num_images) * num_images

    def price_each(self, num_images: int) -> int:
        """What each of `num_images` images costs: the catalogue's bundle price (`pack_price`) in a request of at
        least its size, else the single price. A whole number, so an avatar not kept is refunded exactly."""
        bundle = self.capabilities.get("pack_price") or {}
        start = self.bundle_from
        if start is not None and num_images >= start:
            return int(bundle["credits_each"])
        return self.credit_cost

    @property
    def bundle_from(self) -> int | None:
        """How many images a request needs for the bundle price; None for a model without one."""
        bundle = self.capabilities.get("pack_price") or {}
        return int(bundle.get("from_images", 1)) if "credits_each" in bundle else None

    @property
    def max_outputs(self) -> int | None:
        """The most images one request may make, when the catalogue says."""
        return self.capabilities.get("max_outputs")


class User(SQLModel, table=True):
    """An account: the HF username on a Space, `local` in the offline demo."""

    __tablename__ = "users"

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(unique=True, index=True, max_length=100)
    credits: int = 0
    is_admin: bool = False
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class CreditTransaction(SQLModel, table=True):
    """One line of the credits ledger. At most one charge and one refund per generation."""

    __tablename__ = "credit_transactions"
    __table_args__ = (UniqueConstraint("generation_id", "kind", name="uq_credit_generation_kind"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    generation_id: int | None = Field(default=None, foreign_key="generations.id")
    kind: str = Field(max_length=10)
    delta: int
    balance_after: int
    note: str = Field(default="", max_length=200)
    created_at: datetime = Field(default_factory=utcnow)


class Project(SQLModel, table=True):
    """A user's named folder of avatars."""

    __tablename__ = "projects"
    __table_args__ = (UniqueConstraint("user_id", "name", name="uq_project_user_name"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    name: str = Field(max_length=100)
    created_at: datetime = Field(default_factory=utcnow)


class Generation(SQLModel, table=True):
    """One request to generate, whatever became of it."""

    __tablename__ = "generations"
    __table_args__ = (
        Index("ix_generations_user_created", "user_id", "created_at"),
        Index("ix_generations_status_created", "status", "created_at"),
        Index("ix_generations_created", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id")
    project_id: int | None = Field(default=None, foreign_key="projects.id")
    model_key: str = Field(max_length=120)
    mode: str = Field(max_length=10)
    engine: str = Field(max_length=40)
    status: str = Field(max_length=20)
    prompt: str = ""
    negative_prompt: str = ""
    params: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    photo_count: int = 0
    seed: int | None = None
    credits_charged: int = 0
    attempts: int = 0
    preview: bool = False
    error_code: str | None = Field(default=None, max_length=40)
    error_message: str | None = None
    created_at: datetime = Field(default_factory=utcnow)
    started_at: datetime | None = None
    completed_at: datetime | None = None
    processing_ms: int | None = None
    rating: int | None = Field(default=None, ge=1, le=5)
    owner: str | None = Field(default=None, max_length=120)
    """The process making a `processing` row (`work_leases.Owner`); None on rows made before leases."""
    lease_until: datetime | None = None
    """Until when the owner vouches that it is still making this row; it renews the lease while it works."""
    likeness: list[float | None] | None = Field(default=None, sa_type=JSON)
    """Per image of a completed Photo to Avatar generation, its likeness score (`photomaker.faces.likeness`), None
    where no face was found; None for the rest. Kept with the row for the metrics after the avatars are gone."""
    notes: list[str] | None = Field(default=None, sa_type=JSON)
    """What the user should know about a completed generation (a photo with two faces, a weak likeness), as its
    details showed them; None on rows made before notes were kept."""
    images_asked: int | None = None
    """How many images the request asked for (a pack's styles times images per style); None on older rows."""
    images_kept: int | None = None
    """How many of them the user got and paid for; the rest were refunded. None until it ends, and on older rows."""
    credits_refunded: int | None = None
    """What a completed generation gave back for the images it did not keep (the ledger's refund line)."""
    candidates: int | None = None
    """How many images the engine made for it, second tries for a likeness included."""
    alike_first_try: int | None = None
    """How many images looked like the person at their first try (before any was tried again)."""


generation_table: Table = Generation.__table__  # type: ignore[attr-defined]  # set by SQLModel, not declared
"""The generations table itself, for bulk Core statements that skip the ORM."""


class Avatar(SQLModel, table=True):
    """One image a generation made; paths are relative to `DATA_DIR`."""

    __tablename__ = "avatars"

    id: int | None = Field(default=None, primary_key=True)
    generation_id: int = Field(foreign_key="generations.id", index=True)
    image_path: str
    thumbnail_path: str
    width: int
    height: int
    likeness: float | None = None
    """How alike the avatar's face is to the person in the photos, 0 to 1 (`photomaker.faces.likeness`);
    None when no face could be found in the avatar, or when it was made from text alone."""
    likeness_ok: bool | None = None
    """Whether the avatar looks like the person: its likeness is at least `likeness.ALIKE_SCORE`."""
    style: str | None = Field(default=None, max_length=60)
    """The style it was made in (a pack has several); None for Text to Image and on older rows."""
    created_at: datetime = Field(default_factory=utcnow)


MAX_IDEMPOTENCY_KEY = 255
"""The longest `Idempotency-Key` the REST API takes."""


class IdempotencyKey(SQLModel, table=True):
    """A REST request's `Idempotency-Key` and the answer it got, so that a retry gets the same answer.

    `status_code` is None while the first request is still being answered. Keys are kept for a day.
    """

    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("username", "key", name="uq_idempotency_username_key"),)

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=100)
    key: str = Field(max_length=MAX_IDEMPOTENCY_KEY)
    fingerprint: str = Field(max_length=64)
    """A hash of what the request asked for: the same key with other content is refused."""
    status_code: int | None = None
    response: dict[str, Any] | None = Field(default=None, sa_type=JSON)
    location: str | None = Field(default=None, max_length=200)
    created_at: datetime = Field(default_factory=utcnow, index=True)


class TurnedAway(SQLModel, table=True):
    """Requests turned away unheard in one hour, for a user or address with too many refusals that minute
    (`photomaker.refusal_limit`): counted here, with no generation row each."""

    __tablename__ = "turned_away"

    epoch_hour: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    requests: int = 0
