"""How long the terminal commands take, start to finish, each in a fresh process as a user runs them.

Times `python -m photomaker account`, `stats`, `credits history local` and `--help` against a private
`DATA_DIR` made once beforehand (a first run creates and seeds its database), and prints JSON: the median
wall time in seconds of `ROUNDS` runs of each, the Python that ran them and the machine's load average.

    python -m benchmarks.cli_startup
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).parents[1]
ROUNDS = 5
COMMANDS = {
    "account": ["account"],
    "stats": ["stats"],
    "credits history": ["credits", "history", "local"],
    "--help": ["--help"],
}


def run_once(arguments: list[str], environment: dict[str, str]) -> float:
    """Seconds one `python -m photomaker ...` took, from start to exit; a failure is an error, not a time."""
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "photomaker", *arguments],
        cwd=ROOT,
        env=environment,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return time.perf_counter() - start


def median_s(arguments: list[str], environment: dict[str, str], *, rounds: int = ROUNDS) -> float:
    return round(statistics.median(run_once(arguments, environment) for _ in range(rounds)), 3)


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="photomaker-cli-") as folder:
        environment = {key: value for key, value in os.environ.items() if key != "DATABASE_URL"}
        environment["DATA_DIR"] = str(Path(folder) / "data")
        run_once(["account"], environment)  # creates and seeds the database, as a first use does
        seconds = {name: median_s(arguments, environment) for name, arguments in COMMANDS.items()}
    print(
        json.dumps(
            {
                "median_s": seconds,
                "rounds": ROUNDS,
                "python": sys.version.split()[0],
                "load_average": [round(load, 2) for load in os.getloadavg()],
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
