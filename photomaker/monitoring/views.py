"""What an operator looks at: a window and a tier, with or without demo rows, and the rollups that view reads."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from photomaker.core import safe_text as text
from photomaker.core.errors import RefusedError
from photomaker.store import AIModel, Database, rollup_schema
from photomaker.store import catalog as model_rows
from photomaker.store.rollup_queries import Scope

WINDOWS: dict[str, int | None] = {"24h": 24, "7d": 7 * 24, "30d": 30 * 24, "all": None}
"""Each window's length in hours; it starts at the beginning of the hour that long ago."""
WINDOW_LABELS: dict[str, str] = {"24h": "last 24 hours", "7d": "last 7 days", "30d": "last 30 days", "all": "all time"}
PERIOD_HOURS: dict[str, int] = {"24h": 1, "7d": 6, "30d": 24, "all": 24}
"""The width of one point on the charts over time."""
ALL_TIERS = "all"


@dataclass(frozen=True)
class View:
    """What an operator is looking at: a window, a tier (or all), with or without demo rows."""

    window: str = "7d"
    tier: str = ALL_TIERS
    include_synthetic: bool = True


def tier_of(models: Mapping[str, AIModel], key: str) -> str:
    """A model key's tier, or `unknown` for a key no longer in the catalogue."""
    return models[key].tier if key in models else "unknown"


def tiers(database: Database) -> list[str]:
    """The tier filter's choices: all, then each tier in catalogue order."""
    with database.session() as session:
        models = catalogue(session)
    return [ALL_TIERS, *dict.fromkeys(model.tier for model in models.values())]


def scope_for(view: View, models: Mapping[str, AIModel], now: datetime) -> Scope:
    """The rollups a view reads; an unknown window or tier is refused with the valid choices."""
    if not isinstance(view.window, str) or view.window not in WINDOWS:
        raise RefusedError(
            "INVALID_PARAMS", f"Unknown window {text.quoted(view.window)}; choose one of {', '.join(WINDOWS)}."
        )
    if not isinstance(view.include_synthetic, bool):
        raise RefusedError(
            "INVALID_PARAMS", f"include_synthetic is true or false; you gave {text.quoted(view.include_synthetic)}."
        )
    model_keys = None
    if view.tier != ALL_TIERS:
        model_keys = tuple(key for key, model in models.items() if model.tier == view.tier)
        if not model_keys:
            known = ", ".join(dict.fromkeys(model.tier for model in models.values()))
            raise RefusedError("INVALID_PARAMS", f"Unknown tier {text.quoted(view.tier)}; choose all, {known}.")
    hours = WINDOWS[view.window]
    since_hour = None if hours is None else rollup_schema.epoch_hour(now) - hours
    return Scope(since_hour=since_hour, model_keys=model_keys, include_synthetic=view.include_synthetic)


def catalogue(session: Session) -> dict[str, AIModel]:
    """Every model by key, photo tiers first (cheapest first), then text: the order of tables and charts."""
    models = sorted(model_rows.list_models(session, enabled_only=False), key=lambda model: model.mode != "photo")
    return {model.model_key: model for model in models}
