"""Start-up: everything a running app needs, built once from the settings.

Used by the page, the CLI's `generate`, the tests and the benchmarks alike, so all of them run the same
start-up: the records (`photomaker.startup.records`: the schema upgraded, models seeded, and unless the caller only
reads, dead generations refunded and leftover files deleted), then the engines and their checks.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from photomaker.core.settings import Settings
from photomaker.engines.health import EngineHealth
from photomaker.engines.registry import create_engine, create_text_engine, generation_slots
from photomaker.generation.jobs import Jobs
from photomaker.generation.service import GenerationService
from photomaker.startup.records import Records, open_records


@dataclass(frozen=True)
class Runtime(Records):
    """The records with the engines: what the page, the REST API and `generate` need."""

    service: GenerationService
    jobs: Jobs
    """Generations the REST API accepted, made in the background."""
    health: tuple[EngineHealth, ...] = ()
    """Start-up checks of the remote engines, running in the background."""

    def close(self) -> None:
        """Finish the running jobs (refunding the queued ones), stop the tidying, close the database's connections."""
        self.jobs.close()
        super().close()


def start_engines(records: Records) -> Runtime:
    """The engines and their start-up checks on top of `records`, which are closed if that fails."""
    settings = records.settings
    try:
        service = GenerationService(
            settings=settings,
            database=records.database,
            engine=create_engine(settings),
            text_engine=create_text_engine(settings),
            storage=records.storage,
            leases=records.leases,
        )
    except BaseException:
        records.close()
        raise
    remote = [engine for engine in (service.engine, service.text_engine) if engine and not engine.preview]
    health = tuple(EngineHealth(engine).start() for engine in remote)
    return Runtime(
        **{field.name: getattr(records, field.name) for field in fields(Records)},
        service=service,
        jobs=Jobs(service, workers=generation_slots((service.engine, service.text_engine), settings)),
        health=health,
    )


def start_runtime(settings: Settings, *, tidy: bool = True) -> Runtime:
    """The records (`open_records`: `tidy` as there), then the engines."""
    return start_engines(open_records(settings, tidy=tidy))
