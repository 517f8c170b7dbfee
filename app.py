"""PhotoMaker Studio: `python app.py` serves the app on http://127.0.0.1:7860 (offline by default)."""

import logging

from photomaker.core.settings import Settings
from photomaker.runtime import start_runtime
from photomaker.ui import build_app, launch

logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
logging.getLogger("httpx").setLevel(logging.WARNING)

if __name__ == "__main__":  # only here: worker processes (photomaker.core.workers) import this file again
    runtime = start_runtime(Settings())
    server = launch(build_app(runtime), runtime)
    print(f"PhotoMaker Studio is serving on {server.url}", flush=True)
    server.wait()
