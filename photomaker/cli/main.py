"""`python -m photomaker ...`: the same service as the page, from a terminal.

python -m photomaker generate --photo me.jpg --prompt "a headshot" --tier pro --out ~/avatars
python -m photomaker pack --styles "Cinematic,Enhance" --images-per-style 2 --prompt "a headshot" me.jpg
python -m photomaker account
python -m photomaker stats --window 7d
python -m photomaker metrics rebuild
python -m photomaker demo-history --days 30 --per-day 200   (--delete removes it)
python -m photomaker cleanup --days 30   (refunds dead generations, deletes leftover files and old avatars)
python -m photomaker credits grant alice 100 --reason "welcome back"   (a negative amount takes back)
python -m photomaker credits history alice --json
python -m photomaker projects list   (create NAME, rename ID NAME, delete ID; --user for another user's)
"""

from __future__ import annotations

import argparse
import json
import logging
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from photomaker.cli.accounts import add_credits, add_projects
from photomaker.cli.generating import CANCELLED_EXIT, add_param_options, print_progress, wait_until_loaded
from photomaker.cli.pack import add_pack
from photomaker.core.errors import PhotoMakerError
from photomaker.core.plurals import counted
from photomaker.generation.params import PhotoParams
from photomaker.monitoring import demo_history, metrics, views
from photomaker.monitoring.targets import TARGETS, display, target_text
from photomaker.startup.preflight import SettingsError, load_settings
from photomaker.startup.records import Records, open_records
from photomaker.store import rollup_rebuild

if TYPE_CHECKING:
    from photomaker.startup.runtime import Runtime


def _generate(runtime: Runtime, args: argparse.Namespace) -> int:
    from photomaker.images.uploaded_photos import PhotoUpload  # the photo checks load the face models

    values = {name: getattr(args, name) for name in PhotoParams.model_fields if hasattr(args, name)}
    username = args.user or runtime.settings.local_username
    photos = [PhotoUpload.from_path(path) for path in args.photo]
    wait_until_loaded(runtime.service.engine)
    outcome = runtime.jobs.run(username, values, uploads=photos, progress=print_progress)
    if args.out is None:
        targets = outcome.images
    else:
        args.out.mkdir(parents=True, exist_ok=True)
        targets = [args.out / f"generation-{outcome.generation_id}-{path.name}" for path in outcome.images]
        for path, target in zip(outcome.images, targets, strict=True):
            shutil.copyfile(path, target)
    print("\n".join(str(target) for target in targets))
    for note in outcome.notes:
        print(f"note: {note}", file=sys.stderr)
    print(outcome.details.model_dump_json(indent=2), file=sys.stderr)
    return 0


def _account(runtime: Records, args: argparse.Namespace) -> int:
    found = runtime.accounts.account(args.user or runtime.settings.local_username)
    is_admin = runtime.identity.is_operator(found.username)
    print(json.dumps({"username": found.username, "credits": found.credits, "is_admin": is_admin}))
    return 0


def summary_lines(summary: dict[str, Any]) -> list[str]:
    """The summary as a terminal shows it: the spec's four figures first, then the rest."""
    label = views.WINDOW_LABELS[summary["window"]]
    lines = [
        f"Window: {label} (since {summary['since'] or 'the first generation'}), tier: {summary['tier']}"
        + ("" if summary["include_synthetic"] else ", synthetic rows hidden"),
        f"Total generations: {summary['total']:,}",
        f"Average time: {display('avg_processing_s', summary['avg_processing_s'])}",
        f"Successful: {summary['completed']:,}",
        f"Failed: {summary['failed']:,}",
        f"Refused: {summary['rejected']:,}",
        f"p50 time: {display('p50_processing_s', summary['p50_processing_s'])}",
        f"Credits spent: {summary['credits_spent']:,}",
        f"Ratings: {summary['ratings']:,}",
        "Targets:",
    ]
    for target in TARGETS:
        checked = summary["targets"][target.key]
        verdict = checked.get("not_applicable") or {True: "met", False: "missed", None: "no data"}[checked["met"]]
        lines.append(
            f"  {target.label}: {display(target.key, checked['value'])} (target {target_text(target)}: {verdict})"
        )
    lines += [f"Failed with {code}: {count:,}" for code, count in summary["failures_by_code"].items()]
    lines += [f"Refused with {code}: {count:,}" for code, count in summary["rejections_by_code"].items()]
    return lines


def _stats(runtime: Records, args: argparse.Namespace) -> int:
    view = views.View(window=args.window, tier=args.tier, include_synthetic=not args.hide_synthetic)
    summary = metrics.summary(runtime.database, view)
    print(json.dumps(summary, indent=2) if args.json else "\n".join(summary_lines(summary)))
    return 0


def _rebuild(runtime: Records, args: argparse.Namespace) -> int:
    counted = rollup_rebuild.rebuild_now(runtime.database)
    print(f"rebuilt the hourly rollups from {counted:,} finished generations")
    return 0


def _demo_history(runtime: Records, args: argparse.Namespace) -> int:
    if args.delete:
        print(f"deleted {demo_history.clear(runtime.database):,} synthetic generations")
        return 0
    added = demo_history.fill(runtime.database, days=args.days, per_day=args.per_day, seed=args.seed)
    print(f"added {added:,} synthetic generations over {args.days} days (engine 'synthetic')")
    return 0


def _cleanup(runtime: Records, args: argparse.Namespace) -> int:
    days = args.days or runtime.settings.retention_days
    tidied = runtime.housekeeping.tidy(retention_days=days)
    print(f"refunded {counted(tidied.recovered, 'generation')} left unfinished by a process that stopped")
    print(f"deleted {counted(tidied.orphan_files, 'avatar file')} that no avatar row named")
    print(f"deleted the avatars of {counted(tidied.expired, 'generation')} older than {counted(days, 'day')}")
    print(f"deleted {counted(tidied.downloads, 'leftover download')} and REST photos")
    print(f"deleted {counted(tidied.idempotency_keys, 'idempotency key')} older than a day")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m photomaker", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)

    generate = commands.add_parser("generate", help="make avatars from 1-4 photos")
    generate.add_argument("--photo", action="append", type=Path, required=True, help="a photo (repeat for up to 4)")
    add_param_options(generate, PhotoParams)
    generate.add_argument("--out", type=Path, help="copy the avatars into this folder (default: print where they are)")
    generate.add_argument("--user", help="whose credits to use (default: the local user)")
    generate.set_defaults(run=_generate, engines=True)
    add_pack(commands)

    account = commands.add_parser("account", help="show a user's credit balance")
    account.add_argument("--user")
    account.set_defaults(run=_account)

    stats = commands.add_parser("stats", help="how generation is going: totals, times, targets")
    stats.add_argument("--window", choices=list(views.WINDOWS), default="7d")
    stats.add_argument("--tier", default=views.ALL_TIERS, help="all, or one tier (basic, pro, enterprise, text)")
    stats.add_argument("--hide-synthetic", action="store_true", help="leave out demo-history rows")
    stats.add_argument("--json", action="store_true", help="print the same dict as the /metrics_summary API")
    stats.set_defaults(run=_stats)

    rollups = commands.add_parser("metrics", help="maintain the monitoring rollups")
    rollups.add_argument("action", choices=["rebuild"], help="rebuild: recompute the rollups from the raw rows")
    rollups.set_defaults(run=_rebuild)

    demo = commands.add_parser("demo-history", help="fill the database with synthetic generations (or --delete them)")
    demo.add_argument("--days", type=int, default=30)
    demo.add_argument("--per-day", type=int, default=200)
    demo.add_argument("--seed", type=int, default=0, help="the same seed gives the same history")
    demo.add_argument("--delete", action="store_true", help="delete every synthetic generation instead")
    demo.set_defaults(run=_demo_history)
    cleanup = commands.add_parser(
        "cleanup",
        help="refund dead generations, delete leftover files and avatars older than RETENTION_DAYS (done on start)",
    )
    cleanup.add_argument("--days", type=int, help="keep this many days instead of RETENTION_DAYS")
    cleanup.set_defaults(run=_cleanup)
    add_credits(commands)
    add_projects(commands)
    return parser


def _start(*, engines: bool) -> Records:
    """The records alone for every command but `generate` and `pack`, which need the engines too: the others import
    neither gradio, torch nor the face models, so they answer at once.

    No command tidies on start: reading must never touch a live generation, and `cleanup` tidies on purpose.
    """
    records = open_records(load_settings(), tidy=False)
    if not engines:
        return records
    from photomaker.startup.runtime import start_engines

    return start_engines(records)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        runtime = _start(engines=getattr(args, "engines", False))
    except SettingsError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    try:
        return args.run(runtime, args)
    except PhotoMakerError as error:
        print(f"error [{error.code}]: {error.message}", file=sys.stderr)
        return CANCELLED_EXIT if error.code == "CANCELLED" else 2
    finally:
        runtime.close()
