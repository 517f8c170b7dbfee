"""PhotoMaker Studio: `python app.py` serves the app on http://127.0.0.1:7860 (offline by default)."""

import logging
import sys

from photomaker.startup.preflight import SettingsError, check_serving, load_settings
from photomaker.startup.records import open_records

logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
logging.getLogger("httpx").setLevel(logging.WARNING)


def _refuse(error: SettingsError) -> int:
    print(f"PhotoMaker Studio cannot start: {error}", file=sys.stderr)
    return 2


def main() -> int:
    """Check the settings and open the database before anything slow (gradio, the engines): settings that cannot
    work print one line naming them and exit 2; good ones are served until Ctrl-C."""
    try:
        settings = load_settings()
        check_serving(settings)
        records = open_records(settings)
    except SettingsError as error:
        return _refuse(error)
    from photomaker.startup.runtime import start_engines
    from photomaker.ui import build_app, launch

    runtime = start_engines(records)
    try:
        server = launch(build_app(runtime), runtime)
    except SettingsError as error:  # the port was taken since the check
        runtime.close()
        return _refuse(error)
    print(f"PhotoMaker Studio is serving on {server.url}", flush=True)
    server.wait()
    return 0


if __name__ == "__main__":  # only here: worker processes (photomaker.core.workers) import this file again
    sys.exit(main())
