"""The AI model rows: seeding from the catalogue and lookups for the service and the page."""

from __future__ import annotations

from collections.abc import Iterable

from sqlmodel import Session, col, select

from photomaker.generation.catalogue import ModelSpec
from photomaker.store.models import AIModel, utcnow


def upsert_models(session: Session, specs: Iterable[ModelSpec]) -> tuple[int, int]:
    """Insert or update each model by `model_key`; returns (inserted, updated). Idempotent."""
    inserted = updated = 0
    for spec in specs:
        values = spec.model_dump()
        row = session.exec(select(AIModel).where(AIModel.model_key == spec.model_key)).first()
        if row is None:
            session.add(AIModel(**values))
            inserted += 1
        elif any(getattr(row, key) != value for key, value in values.items()):
            for key, value in values.items():
                setattr(row, key, value)
            row.updated_at = utcnow()
            session.add(row)
            updated += 1
    session.flush()
    return inserted, updated


def list_models(session: Session, *, mode: str | None = None, enabled_only: bool = True) -> list[AIModel]:
    """Models in catalogue order (cheapest first)."""
    statement = select(AIModel).order_by(col(AIModel.credit_cost), col(AIModel.id))
    if mode is not None:
        statement = statement.where(AIModel.mode == mode)
    if enabled_only:
        statement = statement.where(AIModel.enabled)
    return list(session.exec(statement).all())


def find_model(session: Session, *, tier: str | None = None, model_key: str | None = None) -> AIModel | None:
    """The enabled model with this key, or the enabled photo model of this tier."""
    statement = select(AIModel).where(AIModel.enabled)
    if model_key is not None:
        statement = statement.where(AIModel.model_key == model_key)
    if tier is not None:
        statement = statement.where(AIModel.tier == tier)
    return session.exec(statement.order_by(col(AIModel.id))).first()
