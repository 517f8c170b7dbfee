"""The commands that only read or move credits start without the page, the engines or the face models.

Each runs as a user runs it, `python -m photomaker ...` in a process of its own with a fresh `DATA_DIR`, under
`-X importtime`, whose report names every module the process imported. What it must not import is checked, not
how long it took (`benchmarks/cli_startup.py` times it).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
HEAVY = {"gradio", "torch", "diffusers", "transformers", "plotly", "pandas", "cv2", "dlib", "onnxruntime"}
"""The UI, the local engine's libraries, the charts' and the face models': seconds of imports between them."""


def imported_packages(importtime_report: str) -> set[str]:
    """The top-level packages named in the lines of a `-X importtime` report."""
    return {
        line.rsplit("|", 1)[1].strip().split(".")[0]
        for line in importtime_report.splitlines()
        if line.startswith("import time:") and "|" in line
    }


def test_the_report_is_read_as_expected() -> None:
    report = "import time: self [us] | cumulative | imported package\nimport time:  12 |  40 |   gradio.utils\n"
    assert imported_packages(report) == {"imported package", "gradio"}


@pytest.mark.parametrize(
    ("command", "shows"),
    [
        (["account"], '"credits": 250'),
        (["stats"], "Total generations: 0"),
        (["credits", "history", "local"], "no credit history for 'local'"),
    ],
    ids=["account", "stats", "credits-history"],
)
def test_reading_commands_import_neither_the_ui_nor_torch(tmp_path: Path, command: list[str], shows: str) -> None:
    environment = {name: value for name, value in os.environ.items() if name != "DATABASE_URL"}
    environment["DATA_DIR"] = str(tmp_path / "data")
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "photomaker", *command],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert shows in done.stdout
    imported = imported_packages(done.stderr)
    assert {"photomaker", "sqlmodel"} <= imported, "the report names what the command did import"
    assert not imported & HEAVY
