"""A user's account: the balance, operators' credit adjustments, the credit history, and the user's
own data (a ZIP export, deletion).

Domain code: the page, the API and the CLI call it alike; errors are ours, so each surface shows
them its own way. Asking about a user who never used the app creates nothing.
"""

from __future__ import annotations

import json
import os
import zipfile
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlmodel import Session

from photomaker.core import safe_text as text
from photomaker.core.errors import RefusedError
from photomaker.core.settings import Settings
from photomaker.images.avatar_files import AvatarStorage
from photomaker.store import (
    Avatar,
    CreditTransaction,
    Database,
    Generation,
    User,
    forgetting,
    generation_queries,
    idempotency,
    ledger,
    projects,
    row_id,
    users,
)
from photomaker.store.models import utc

AVATARS_FOLDER = "avatars"


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else utc(moment).isoformat()


def _name(username: str | None) -> str:
    return (username or "").strip()


@dataclass(frozen=True)
class Account:
    username: str
    credits: int


@dataclass(frozen=True)
class CreditEntry:
    """One line of a user's credit history."""

    time: datetime
    """When, in UTC."""
    kind: str
    delta: int
    balance_after: int
    generation_id: int | None
    note: str

    @classmethod
    def of(cls, line: CreditTransaction) -> CreditEntry:
        return cls(utc(line.created_at), line.kind, line.delta, line.balance_after, line.generation_id, line.note)

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly values, the time as an ISO string."""
        return {**asdict(self), "time": self.time.isoformat()}


@dataclass(frozen=True)
class DeletionSummary:
    """What `Accounts.delete_data` did; all zero when there was nothing (left) to delete."""

    generations_anonymised: int = 0
    avatars_deleted: int = 0
    projects_deleted: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def _avatar_names(avatars: list[Avatar], storage: AvatarStorage) -> dict[int, list[tuple[Path, str]]]:
    """Per generation, each avatar file still on disk with its name inside the ZIP."""
    named: dict[int, list[tuple[Path, str]]] = {}
    counters: dict[int, int] = {}
    for avatar in avatars:
        counters[avatar.generation_id] = counters.get(avatar.generation_id, 0) + 1
        path = storage.path(avatar.image_path)
        if path.is_file():
            name = f"{AVATARS_FOLDER}/generation-{avatar.generation_id}-avatar-{counters[avatar.generation_id]}.png"
            named.setdefault(avatar.generation_id, []).append((path, name))
    return named


def _generation_record(generation: Generation, project: str | None, avatars: list[str]) -> dict[str, Any]:
    """One generation as `generations.json` holds it: what the user asked and got, no server paths."""
    return {
        "id": generation.id,
        "created_at": _iso(generation.created_at),
        "completed_at": _iso(generation.completed_at),
        "status": generation.status,
        "mode": generation.mode,
        "model_key": generation.model_key,
        "project": project,
        "prompt": generation.prompt,
        "negative_prompt": generation.negative_prompt,
        "params": generation.params,
        "seed": generation.seed,
        "credits_charged": generation.credits_charged,
        "rating": generation.rating,
        "error_code": generation.error_code,
        "avatars": avatars,
    }


def open_account(session: Session, username: str, settings: Settings) -> User:
    """The user called `username`, made with the starting credits if new: at sign-in, a first charge or refusal."""
    return users.get_or_create_user(
        session, username, starting_credits=settings.starting_credits, is_admin=username in settings.admin_users
    )


class Accounts:
    """Credits an operator can manage, and a user's own data."""

    def __init__(self, *, settings: Settings, database: Database, storage: AvatarStorage) -> None:
        self.settings = settings
        self.database = database
        self.storage = storage

    def _known(self, username: str) -> User:
        """The user called `username`; refused, not created, when they never used the app."""
        with self.database.reading() as session:
            user = users.find_user(session, _name(username))
        if user is None:
            raise RefusedError(
                "INVALID_PARAMS",
                f"There is no user {text.quoted(_name(username))}; check the name (they must have used the app once).",
            )
        return user

    def account(self, username: str) -> Account:
        """The user's balance; one the app has not met yet has the starting credits they will get on their first
        generation (the account is made then, or at sign-in)."""
        with self.database.reading() as session:
            user = users.find_user(session, _name(username))
        return Account(_name(username), self.settings.starting_credits if user is None else user.credits)

    def sign_in(self, username: str) -> Account:
        """The user's account, opened (with the starting credits) the first time they sign in."""
        with self.database.reading() as session:
            user = users.find_user(session, _name(username))
        if user is None:
            with self.database.session() as session:
                user = open_account(session, _name(username), self.settings)
        return Account(user.username, user.credits)

    def grant(self, username: str, amount: float, *, reason: str, by: str) -> int:
        """Give (positive) or take back (negative) credits with a reason; returns the new balance.

        Goes through the ledger, so the change is a ledger line saying why and who; a take-back
        larger than the balance is refused and changes nothing.
        """
        whole = (isinstance(amount, float) and amount.is_integer()) or type(amount) is int
        if not whole:
            raise RefusedError(
                "INVALID_PARAMS", f"Credits are whole numbers, like 100 or -30; you gave {text.quoted(amount)}."
            )
        reason = text.checked(reason or "", what="The reason")
        user = self._known(text.checked(username, what="The username"))
        with self.database.session() as session:
            return ledger.adjust(
                session,
                user_id=row_id(user),
                amount=int(amount),
                reason=" ".join(reason.split()),
                by=by.strip(),
            )

    def credit_history(self, username: str, *, limit: int = 200) -> list[CreditEntry]:
        """The user's ledger lines, newest first; empty for a user the app has not met yet."""
        with self.database.reading() as session:
            user = users.find_user(session, _name(username))
            lines = [] if user is None else ledger.history(session, user_id=row_id(user), limit=limit)
        return [CreditEntry.of(line) for line in lines]

    def export_data(self, username: str, target: Path) -> Path:
        """Write everything the app holds about the user into a ZIP at `target`; returns `target`.

        `avatars/generation-<id>-avatar-<n>.png` for every avatar file still kept,
        `generations.json` (every generation, with the names of its avatars in the ZIP) and
        `credit_history.json` (every ledger line). No server path goes in; avatars are copied in
        chunks from disk, and the ZIP appears at `target` only once it is complete.
        """
        with self.database.reading() as session:
            user = users.find_user(session, _name(username))
            rows = [] if user is None else generation_queries.of_user(session, user_id=row_id(user))
            avatars = [] if user is None else generation_queries.avatars_of_user(session, user_id=row_id(user))
            lines = [] if user is None else ledger.history(session, user_id=row_id(user))
        files = _avatar_names(avatars, self.storage)
        records = [
            _generation_record(generation, project, [name for _, name in files.get(row_id(generation), [])])
            for generation, project in rows
        ]
        history = [CreditEntry.of(line).as_dict() for line in lines]
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{target.name}.partial")
        try:
            with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as archive:
                for path, name in (item for named in files.values() for item in named):
                    archive.write(path, name, compress_type=zipfile.ZIP_STORED)
                archive.writestr("generations.json", json.dumps(records, indent=2, ensure_ascii=False))
                archive.writestr("credit_history.json", json.dumps(history, indent=2, ensure_ascii=False))
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        os.replace(partial, target)
        return target

    def avatar_files(self, username: str, *, project_id: int | None = None) -> list[Path]:
        """Every avatar image and thumbnail of the user (only those filed in `project_id` when given) still on disk,
        for the callers that copied them."""
        with self.database.reading() as session:
            user = users.find_user(session, _name(username))
            avatars = (
                []
                if user is None
                else generation_queries.avatars_of_user(session, user_id=row_id(user), project_id=project_id)
            )
        paths = (self.storage.path(name) for avatar in avatars for name in (avatar.image_path, avatar.thumbnail_path))
        return [path for path in paths if path.is_file()]

    def delete_data(self, username: str) -> DeletionSummary:
        """Delete the user's avatars (files and rows), projects and REST idempotency keys (their answers hold what
        the user wrote), and blank their generations.

        Kept on purpose: the generation rows, blanked (no prompt, negative prompt, error message, notes or
        project; params keep only `forgetting.KEPT_PARAMS`), so the monitoring figures and the
        hourly rollups stay true; the ledger with its amounts and notes (written by the app and
        operators, never by the user); and the User row with its balance, so deleting cannot be
        used to get the starting credits again. Refused (INVALID_PARAMS, nothing changed) while a
        generation of theirs is still being made. The database changes are one transaction; the
        files go after it commits. A second call finds nothing and succeeds.
        """
        with self.database.session() as session:
            user = users.find_user(session, _name(username))
            if user is None:
                return DeletionSummary()
            forgotten = forgetting.forget_user(session, user_id=row_id(user))
            projects_deleted = projects.delete_projects(session, user_id=row_id(user))
            idempotency.forget_user(session, username=user.username)
        for generation_id in forgotten.generation_ids:
            self.storage.delete_generation(user_id=row_id(user), generation_id=generation_id)
        return DeletionSummary(
            generations_anonymised=forgotten.generations_anonymised,
            avatars_deleted=forgotten.avatars_deleted,
            projects_deleted=projects_deleted,
        )
