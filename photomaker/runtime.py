"""Start-up: everything a running app needs, built once from the settings.

Used by the page, the CLI, the tests and the benchmarks alike, so all of them run the same
start-up: tables created, models seeded, interrupted generations refunded.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from photomaker.accounts import Accounts
from photomaker.engines.health import EngineHealth
from photomaker.engines.registry import create_engine, create_text_engine
from photomaker.gallery import Gallery
from photomaker.identity import Identity
from photomaker.model_specs import load_seed_models
from photomaker.monitoring import metrics
from photomaker.service import GenerationService
from photomaker.settings import Settings
from photomaker.storage import AvatarStorage, private_folder
from photomaker.store import Database, generations
from photomaker.store import catalog as model_rows
from photomaker.store.models import utcnow

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Runtime:
    settings: Settings
    database: Database
    service: GenerationService
    identity: Identity
    accounts: Accounts
    """Balances, operators' credit adjustments, credit history, a user's export and deletion."""
    gallery: Gallery
    """A user's past avatars, their ratings and projects."""
    health: tuple[EngineHealth, ...] = ()
    """Start-up checks of the remote engines, running in the background."""


def seed_models(database: Database) -> tuple[int, int, int]:
    """Upsert the catalogue; returns (models in the catalogue, inserted, updated)."""
    specs = load_seed_models()
    with database.session() as session:
        inserted, updated = model_rows.upsert_models(session, specs)
    return len(specs), inserted, updated


def expire_old_avatars(database: Database, storage: AvatarStorage, *, days: int, now: datetime | None = None) -> int:
    """Delete avatars (rows and files) older than `days`; returns how many generations lost theirs."""
    with database.session() as session:
        expired = generations.forget_avatars(session, before=(now or utcnow()) - timedelta(days=days))
    for user_id, generation_id in expired:
        storage.delete_generation(user_id=user_id, generation_id=generation_id)
    return len(expired)


def start_runtime(settings: Settings) -> Runtime:
    """Connect, create tables, seed, recover interrupted generations, build missing rollups, expire old
    avatars, build the engines and start their checks."""
    private_folder(settings.data_dir)
    database = Database.connect(settings.resolved_database_url)
    database.create_all()
    seed_models(database)
    with database.session() as session:
        recovered = generations.recover_interrupted(session)
    if recovered:
        log.warning("marked %d interrupted generation(s) as failed and refunded them", len(recovered))
    metrics.rebuild_if_missing(database)
    storage = AvatarStorage(settings.avatars_dir)
    if expired := expire_old_avatars(database, storage, days=settings.retention_days):
        log.info("deleted the avatars of %d generation(s) older than %d days", expired, settings.retention_days)
    service = GenerationService(
        settings=settings,
        database=database,
        engine=create_engine(settings),
        text_engine=create_text_engine(settings),
        storage=storage,
    )
    remote = [engine for engine in (service.engine, service.text_engine) if engine and not engine.preview]
    health = tuple(EngineHealth(engine).start() for engine in remote)
    accounts = Accounts(settings=settings, database=database, storage=storage)
    return Runtime(
        settings=settings,
        database=database,
        service=service,
        identity=Identity(settings),
        accounts=accounts,
        gallery=Gallery(database=database, storage=storage),
        health=health,
    )
