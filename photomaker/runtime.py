"""Start-up: everything a running app needs, built once from the settings.

Used by the page, the CLI, the tests and the benchmarks alike, so all of them run the same
start-up: tables created and models seeded; then, unless the caller only reads, dead generations
refunded and leftover files deleted (`housekeeping`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from photomaker.accounts.account import Accounts
from photomaker.accounts.gallery import Gallery
from photomaker.accounts.projects import Projects
from photomaker.accounts.requester import Identity
from photomaker.core.settings import Settings
from photomaker.engines.health import EngineHealth
from photomaker.engines.registry import create_engine, create_text_engine, generation_slots
from photomaker.generation.catalogue import load_seed_models
from photomaker.generation.housekeeping import Housekeeping
from photomaker.generation.jobs import Jobs
from photomaker.generation.service import GenerationService
from photomaker.generation.work_leases import Leases
from photomaker.images.avatar_files import AvatarStorage, private_folder
from photomaker.store import Database, rollup_rebuild
from photomaker.store import catalog as model_rows

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
    """A user's past avatars and their ratings."""
    projects: Projects
    """The projects a user files generations in: listed, made, renamed, deleted."""
    housekeeping: Housekeeping
    """Dead generations refunded and leftover files deleted: at start, and in the background while serving."""
    jobs: Jobs
    """Generations the REST API accepted, made in the background."""
    health: tuple[EngineHealth, ...] = ()
    """Start-up checks of the remote engines, running in the background."""

    def close(self) -> None:
        """Finish the running jobs (refunding the queued ones), stop the tidying, close the database's connections."""
        self.jobs.close()
        self.housekeeping.stop()
        self.database.dispose()


def seed_models(database: Database) -> tuple[int, int, int]:
    """Upsert the catalogue; returns (models in the catalogue, inserted, updated)."""
    specs = load_seed_models()
    with database.session() as session:
        inserted, updated = model_rows.upsert_models(session, specs)
    return len(specs), inserted, updated


def start_runtime(settings: Settings, *, tidy: bool = True) -> Runtime:
    """Connect, upgrade the schema, seed, rebuild stale rollups (before anything counts into them); with `tidy`
    (not for commands that only read), refund dead generations and delete leftover files; then the engines and
    checks."""
    private_folder(settings.data_dir)
    database = Database.connect(settings.resolved_database_url)
    database.migrate()
    seed_models(database)
    rollup_rebuild.rebuild_if_stale(database)
    storage = AvatarStorage(settings.avatars_dir)
    leases = Leases(database, lease_s=settings.generation_lease_s)
    housekeeping = Housekeeping(settings=settings, database=database, storage=storage, leases=leases)
    if tidy:
        housekeeping.tidy()
    service = GenerationService(
        settings=settings,
        database=database,
        engine=create_engine(settings),
        text_engine=create_text_engine(settings),
        storage=storage,
        leases=leases,
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
        projects=Projects(settings=settings, database=database, storage=storage),
        housekeeping=housekeeping,
        jobs=Jobs(service, workers=generation_slots((service.engine, service.text_engine), settings)),
        health=health,
    )
