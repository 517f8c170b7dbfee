"""`python -m seeds`: upsert the AI model catalogue into the configured database."""

from photomaker.core.settings import Settings
from photomaker.generation.catalogue import PHOTO_TIERS, load_seed_models
from photomaker.startup.records import seed_models
from photomaker.store import Database


def main() -> None:
    settings = Settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    database = Database.connect(settings.resolved_database_url)
    database.migrate()
    total, inserted, updated = seed_models(database)
    photomaker_models = sum(spec.tier in PHOTO_TIERS for spec in load_seed_models())
    print(f"Seeded {total} AI models (including {photomaker_models} PhotoMaker models)")
    print(f"{inserted} added, {updated} updated, {total - inserted - updated} unchanged")


if __name__ == "__main__":
    main()
