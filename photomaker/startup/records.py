"""Start-up of what every command needs: the database made ready, and the accounts, projects and gallery on it.

Builds no engine and loads no face model, so it imports neither gradio nor torch: a CLI command that only reads or
moves credits starts in well under a second. `photomaker.startup.runtime.start_runtime` builds the engines on top.
"""

from __future__ import annotations

from dataclasses import dataclass

from photomaker.accounts.account import Accounts
from photomaker.accounts.gallery import Gallery
from photomaker.accounts.projects import Projects
from photomaker.accounts.requester import Identity
from photomaker.core.settings import Settings
from photomaker.generation.catalogue import load_seed_models
from photomaker.generation.housekeeping import Housekeeping
from photomaker.generation.work_leases import Leases
from photomaker.images.avatar_files import AvatarStorage, private_folder
from photomaker.startup.preflight import check_database
from photomaker.store import Database, rollup_rebuild
from photomaker.store import catalog as model_rows


@dataclass(frozen=True)
class Records:
    """The database and the domain objects that read and write it, without any engine."""

    settings: Settings
    database: Database
    storage: AvatarStorage
    leases: Leases
    identity: Identity
    accounts: Accounts
    """Balances, operators' credit adjustments, credit history, a user's export and deletion."""
    gallery: Gallery
    """A user's past avatars and their ratings."""
    projects: Projects
    """The projects a user files generations in: listed, made, renamed, deleted."""
    housekeeping: Housekeeping
    """Dead generations refunded and leftover files deleted: at start, and in the background while serving."""

    def close(self) -> None:
        """Stop the tidying, close the database's connections."""
        self.housekeeping.stop()
        self.database.dispose()


def seed_models(database: Database) -> tuple[int, int, int]:
    """Upsert the catalogue; returns (models in the catalogue, inserted, updated)."""
    specs = load_seed_models()
    with database.session() as session:
        inserted, updated = model_rows.upsert_models(session, specs)
    return len(specs), inserted, updated


def open_records(settings: Settings, *, tidy: bool = True) -> Records:
    """Check that the database answers, upgrade its schema, seed, rebuild stale rollups (before anything counts
    into them); with `tidy` (not for commands that only read), refund dead generations and delete leftover files."""
    private_folder(settings.data_dir)
    database = Database.connect(settings.resolved_database_url)
    check_database(database, settings)
    database.migrate()
    seed_models(database)
    rollup_rebuild.rebuild_if_stale(database)
    storage = AvatarStorage(settings.avatars_dir)
    leases = Leases(database, lease_s=settings.generation_lease_s)
    housekeeping = Housekeeping(settings=settings, database=database, storage=storage, leases=leases)
    if tidy:
        housekeeping.tidy()
    return Records(
        settings=settings,
        database=database,
        storage=storage,
        leases=leases,
        identity=Identity(settings),
        accounts=Accounts(settings=settings, database=database, storage=storage),
        gallery=Gallery(database=database, storage=storage),
        projects=Projects(settings=settings, database=database, storage=storage),
        housekeeping=housekeeping,
    )
