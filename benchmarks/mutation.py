"""The mutation score of the code that moves money, checks input and counts, per module.

Runs mutmut over the modules listed in pyproject.toml's `[tool.mutmut]` (or reads the results of
the last run with `--no-run`) and prints JSON: per module the mutants, how many the tests killed,
how many survived, and the score (killed / mutants), then every survivor's name. Show one with
`mutmut show NAME`. Too slow for CI: about 45 minutes on 2 cores for a fresh run. mutmut keeps
each mutant's result until its function changes, so after adding tests rerun the survivors
(`--survivors`) or name the mutants to check again.

    python benchmarks/mutation.py [--no-run | --survivors] [--max-children N] [MUTANT_GLOB ...]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tomllib
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).parents[1]
DETECTED = ("killed", "timeout", "caught by type check")


def _modules() -> list[str]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mutmut"]
    return config["only_mutate"]


def _statuses(module: str) -> dict[str, str]:
    """Each mutant of `module` and what became of it in the last run."""
    from mutmut.stats import status_by_exit_code

    meta = ROOT / "mutants" / f"{module}.meta"
    if not meta.exists():
        return {}
    exit_codes = json.loads(meta.read_text())["exit_code_by_key"]
    return {name: status_by_exit_code[code] for name, code in exit_codes.items()}


def report() -> dict[str, Any]:
    """The score per module and in total, and the survivors, from the last run's results."""
    modules: dict[str, dict[str, object]] = {}
    survivors: dict[str, list[str]] = {}
    overall: Counter[str] = Counter()
    for module in _modules():
        statuses = _statuses(module)
        counts = Counter(statuses.values())
        detected = sum(counts[status] for status in DETECTED)
        modules[module] = {
            "mutants": len(statuses),
            "killed": detected,
            "survived": counts["survived"],
            "no_tests": counts["no tests"],
            "other": len(statuses) - detected - counts["survived"] - counts["no tests"],
            "score": round(detected / len(statuses), 3) if statuses else None,
        }
        survivors[module] = sorted(name for name, status in statuses.items() if status not in DETECTED)
        overall.update(mutants=len(statuses), killed=detected)
    total = {**overall, "score": round(overall["killed"] / overall["mutants"], 3) if overall["mutants"] else None}
    return {"modules": modules, "total": total, "survivors": survivors}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--no-run", action="store_true", help="only report the last run's results")
    parser.add_argument("--survivors", action="store_true", help="check the last run's survivors again")
    parser.add_argument("--max-children", type=int, default=os.cpu_count() or 1)
    parser.add_argument(
        "mutants", nargs="*", help="run only these mutants (globs such as 'photomaker.generation.prompts.*')"
    )
    args = parser.parse_args()
    mutants = list(args.mutants)
    if args.survivors:
        mutants += [name for names in report()["survivors"].values() for name in names]
    if not args.no_run:
        command = [sys.executable, "-m", "mutmut", "run", "--max-children", str(args.max_children), *mutants]
        subprocess.run(command, cwd=ROOT, check=True, stdout=sys.stderr)
    print(json.dumps(report(), indent=2))


if __name__ == "__main__":
    main()
