"""The CLI's commands about users' accounts: credits (grant, history) and projects (list, create, rename, delete).

Each command parses its own arguments and calls the same domain code as the page and the API.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict

from photomaker.accounts.account import CreditEntry
from photomaker.accounts.projects import ProjectInfo
from photomaker.core.plurals import counted
from photomaker.startup.records import Records


def _credits_grant(runtime: Records, args: argparse.Namespace) -> int:
    balance = runtime.accounts.grant(args.user, args.amount, reason=args.reason, by="cli")
    print(f"{args.user.strip()}: {args.amount:+,} credits, the balance is now {balance:,}")
    return 0


def history_line(entry: CreditEntry) -> str:
    """One ledger line as a terminal shows it: time, kind, change, balance, generation, note."""
    generation = f"#{entry.generation_id}" if entry.generation_id is not None else "-"
    return (
        f"{entry.time:%Y-%m-%d %H:%M:%S}  {entry.kind:<6} {entry.delta:>+8,}  "
        f"balance {entry.balance_after:>8,}  {generation:>8}  {entry.note}"
    ).rstrip()


def _credits_history(runtime: Records, args: argparse.Namespace) -> int:
    entries = runtime.accounts.credit_history(args.user, limit=args.limit)
    if args.json:
        print(json.dumps([entry.as_dict() for entry in entries], indent=2))
    else:
        print("\n".join(history_line(entry) for entry in entries) or f"no credit history for {args.user.strip()!r}")
    return 0


def add_credits(commands: argparse._SubParsersAction) -> None:
    """`credits grant USER AMOUNT --reason ...` and `credits history USER`.

    AMOUNT is a plain positional int: argparse reads `-30` as a number, not an option, as long
    as no option of the parser looks like a negative number.
    """
    credits = commands.add_parser("credits", help="grant or take back credits, show a user's credit history")
    actions = credits.add_subparsers(dest="action", required=True)
    grant = actions.add_parser("grant", help="add credits to a user (a negative amount takes them back)")
    grant.add_argument("user", help="the username (they must have used the app once)")
    grant.add_argument("amount", type=int, help="credits to add; negative takes back, never below zero")
    grant.add_argument("--reason", required=True, help="why, kept in the ledger line")
    grant.set_defaults(run=_credits_grant)
    history = actions.add_parser("history", help="a user's ledger lines, newest first")
    history.add_argument("user")
    history.add_argument("--limit", type=int, default=200, help="at most this many lines")
    history.add_argument("--json", action="store_true", help="print the lines as JSON")
    history.set_defaults(run=_credits_history)


def _project_line(project: ProjectInfo) -> str:
    return (
        f"#{project.id:<6} {project.name}  ({counted(project.generations, 'generation')}, "
        f"{counted(project.avatars, 'avatar')}, "
        f"since {project.created_at:%Y-%m-%d})"
    )


def _projects(runtime: Records, args: argparse.Namespace) -> int:
    username = args.user or runtime.settings.local_username
    projects = runtime.projects
    if args.action == "list":
        found = projects.list(username)
        if args.json:
            print(json.dumps([{**asdict(each), "created_at": each.created_at.isoformat()} for each in found], indent=2))
        else:
            print("\n".join(_project_line(each) for each in found) or f"{username} has no projects yet")
    elif args.action == "create":
        print(_project_line(projects.create(username, args.name)))
    elif args.action == "rename":
        print(_project_line(projects.rename(username, args.id, args.name)))
    else:
        deleted = projects.delete(username, args.id)
        print(
            f"deleted project #{deleted.project_id}: {counted(deleted.avatars_deleted, 'avatar')}, "
            f"{counted(deleted.generations_anonymised, 'generation')} blanked (kept in the counts)"
        )
    return 0


def add_projects(commands: argparse._SubParsersAction) -> None:
    """`projects list|create NAME|rename ID NAME|delete ID`, for the local user or `--user`."""
    projects = commands.add_parser("projects", help="list, create, rename or delete a user's projects")
    actions = projects.add_subparsers(dest="action", required=True)
    listing = actions.add_parser("list", help="the user's projects, oldest first")
    listing.add_argument("--json", action="store_true", help="print them as JSON")
    actions.add_parser("create", help="a new project").add_argument("name")
    rename = actions.add_parser("rename", help="give a project another name")
    rename.add_argument("id", help="the project's number (see list)")
    rename.add_argument("name")
    actions.add_parser("delete", help="delete a project and its avatars for good").add_argument("id")
    for action in actions.choices.values():
        action.add_argument("--user", help="whose projects (default: the local user)")
    projects.set_defaults(run=_projects)
