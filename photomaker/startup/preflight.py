"""Settings that cannot work together, found at start: the app refuses to start and names them.

Without these checks the app started and then failed on every request: a `GRADIO_TEMP_DIR` inside
`DATA_DIR` made Gradio refuse every upload (nothing under `DATA_DIR` is served), a taken port left
the server thread dead after a wait, and a database that does not answer hung the first request.
"""

from __future__ import annotations

import errno
import socket
from pathlib import Path

from pydantic import ValidationError

from photomaker.core.settings import Settings
from photomaker.store import Database


class SettingsError(Exception):
    """Settings the app cannot start with; the message names them and says what to change."""


def load_settings() -> Settings:
    """The settings from the environment; a value that is not valid is a `SettingsError` naming its variable."""
    try:
        return Settings()
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])).upper()}: {e['msg']}" for e in error.errors())
        raise SettingsError(f"Settings that cannot be read: {problems}.") from None


def _inside(path: Path, folder: Path) -> bool:
    resolved, container = path.resolve(), folder.resolve()
    return resolved == container or container in resolved.parents


def check_temp_dir(settings: Settings) -> None:
    """Gradio's upload folder must lie outside `DATA_DIR`: the app blocks every file under `DATA_DIR`."""
    uploads = settings.upload_dir
    if _inside(uploads, settings.data_dir):
        raise SettingsError(
            f"GRADIO_TEMP_DIR ({uploads}) lies inside DATA_DIR ({settings.data_dir}): nothing under DATA_DIR is "
            "served, so every upload would be refused. Set GRADIO_TEMP_DIR to a folder outside DATA_DIR."
        )


def check_port(host: str, port: int) -> None:
    """Bind `host`:`port` as the server will (address reuse on), and let it go: a taken port is refused now."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            reason = "is taken by another program" if error.errno == errno.EADDRINUSE else f"cannot be used ({error})"
            raise SettingsError(
                f"GRADIO_SERVER_PORT {port} on GRADIO_SERVER_NAME {host} {reason}. "
                "Stop that program or set GRADIO_SERVER_PORT to a free port."
            ) from None


def check_serving(settings: Settings, *, host: str | None = None, port: int | None = None) -> None:
    """What serving needs of the settings: an upload folder outside `DATA_DIR`, and a free port."""
    check_temp_dir(settings)
    check_port(host or settings.gradio_server_name, port or settings.gradio_server_port)


def check_database(database: Database, settings: Settings) -> None:
    """Connect once (within the store's connect timeout): a database that does not answer is refused by name."""
    missing = database.no_answer()
    if missing is None:
        return
    name = "DATABASE_URL" if settings.database_url else "The SQLite database in DATA_DIR"
    where = f" at {missing.where}" if missing.where else ""
    raise SettingsError(f"{name} ({missing.url}) does not answer{where}: {missing.reason}")
