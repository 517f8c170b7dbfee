"""PhotoMaker Studio: `python app.py` serves the app on http://127.0.0.1:7860 (offline by default)."""

import logging

from photomaker.runtime import start_runtime
from photomaker.settings import Settings
from photomaker.ui import build_app, launch

logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
logging.getLogger("httpx").setLevel(logging.WARNING)
runtime = start_runtime(Settings())
demo = build_app(runtime)

if __name__ == "__main__":
    launch(demo, runtime)
