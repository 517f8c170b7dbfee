"""`python -m photomaker.store.migrations`: write the next revision, or upgrade the configured database."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from photomaker.core.settings import Settings
from photomaker.store.db import Database
from photomaker.store.migrate import new_revision


def main(argv: Sequence[str] | None = None) -> int:
    """`revision MESSAGE`: write the next revision from the models; `upgrade`: bring DATABASE_URL's database to
    the newest revision now, as a start would."""
    parser = argparse.ArgumentParser(prog="python -m photomaker.store.migrations", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("revision", help="write the next revision from the models").add_argument("message")
    commands.add_parser("upgrade", help="upgrade the configured database (DATABASE_URL) to the newest revision")
    args = parser.parse_args(argv)
    if args.command == "revision":
        print(new_revision(args.message))
        return 0
    database = Database.connect(Settings().resolved_database_url)
    try:
        print(database.migrate())
    finally:
        database.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
