"""A user's projects, the folders their generations are filed in: listed, made, renamed and deleted.

Domain code: the page and the REST API call it alike. Ids arrive as programs send them (text, huge
numbers); anything that is not one of the user's projects is NOT_FOUND, in the same words whether
it is another user's or does not exist, so the answer reveals neither. Listing and reading create
nothing; making a project opens the account, like a first generation.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session

from photomaker.accounts.account import open_account
from photomaker.core.errors import RefusedError
from photomaker.core.safe_text import quoted
from photomaker.core.settings import Settings
from photomaker.generation.params import ProjectParams, as_row_id, parse
from photomaker.images.avatar_files import AvatarStorage
from photomaker.store import Database, Project, User, forgetting, projects, row_id, users
from photomaker.store.models import utc


@dataclass(frozen=True)
class ProjectInfo:
    """One of a user's projects as it stands."""

    id: int
    name: str
    created_at: datetime
    """When it was made, in UTC."""
    generations: int
    """Completed generations filed in it."""
    avatars: int
    """Avatars filed in it (those kept: retention and deletion remove them)."""

    @classmethod
    def of(cls, project: Project, generations: int, avatars: int) -> ProjectInfo:
        return cls(row_id(project), project.name, utc(project.created_at), generations, avatars)


@dataclass(frozen=True)
class ProjectDeletion:
    """What `Projects.delete` did: the project and its avatars are gone, its generations kept for the counts,
    blanked."""

    project_id: int
    generations_anonymised: int
    avatars_deleted: int


def _not_yours(project_id: Any) -> RefusedError:
    """NOT_FOUND alike for a project that does not exist and another user's."""
    wanted = as_row_id(project_id)
    which = quoted(project_id) if wanted is None else f"#{wanted}"
    return RefusedError(
        "NOT_FOUND", f"Project {which} is not one of yours; list your projects to find its id, or pick one on the page."
    )


def _taken(name: str) -> RefusedError:
    return RefusedError(
        "NAME_TAKEN", f"You already have a project called {quoted(name)}; choose another name, or pick that one."
    )


def _name(name: Any) -> str:
    """A project's name as the user gave it, checked (one line, 1-100 characters) and with its spaces collapsed."""
    return parse(ProjectParams, {"name": name}).name


class Projects:
    """The projects a user files their generations in."""

    def __init__(self, *, settings: Settings, database: Database, storage: AvatarStorage) -> None:
        self.settings = settings
        self.database = database
        self.storage = storage

    def list(self, username: str) -> list[ProjectInfo]:
        """The user's projects, oldest first; none for a user the app has not met (nothing is created)."""
        with self.database.reading() as session:
            user = users.find_user(session, username)
            rows = [] if user is None else projects.project_summaries(session, user_id=row_id(user))
        return [ProjectInfo.of(*row) for row in rows]

    def get(self, username: str, project_id: Any) -> ProjectInfo:
        """One of the user's projects; NOT_FOUND for any id that is not one of theirs (or junk)."""
        with self.database.reading() as session:
            user, project = self._theirs(session, username, project_id)
            (row,) = projects.project_summaries(session, user_id=row_id(user), project_id=row_id(project))
        return ProjectInfo.of(*row)

    def create(self, username: str, name: Any) -> ProjectInfo:
        """A new, empty project; opens the user's account if this is their first use. NAME_TAKEN when they have one
        so named, even one made a moment ago by a concurrent request."""
        wanted = _name(name)
        with self.database.session() as session:
            user = open_account(session, username, self.settings)
            project = projects.add_project(session, user_id=row_id(user), name=wanted)
            if project is None:
                raise _taken(wanted)
        return ProjectInfo.of(project, 0, 0)

    def rename(self, username: str, project_id: Any, name: Any) -> ProjectInfo:
        """Give one of the user's projects a new name (its own name again changes nothing); NOT_FOUND, NAME_TAKEN."""
        wanted = _name(name)
        with self.database.session() as session:
            user, project = self._theirs(session, username, project_id)
            if project.name != wanted and not projects.rename_project(session, project, name=wanted):
                raise _taken(wanted)
            (row,) = projects.project_summaries(session, user_id=row_id(user), project_id=row_id(project))
        return ProjectInfo.of(*row)

    def delete(self, username: str, project_id: Any) -> ProjectDeletion:
        """Delete one of the user's projects and its avatars for good; its generations are blanked and detached as
        a user's deletion blanks them (`Accounts.delete_data`), so the metrics and rollups stay true.

        Refused (INVALID_PARAMS, nothing changed) while one of its generations is being made. The database
        changes are one transaction; the files go after it commits. A second call is NOT_FOUND.
        """
        with self.database.session() as session:
            user, project = self._theirs(session, username, project_id)
            forgotten = forgetting.forget_user(session, user_id=row_id(user), project_id=row_id(project))
            if not projects.delete_project(session, row_id(project)):
                raise _not_yours(project_id)  # a concurrent deletion got there first
        for generation_id in forgotten.generation_ids:
            self.storage.delete_generation(user_id=row_id(user), generation_id=generation_id)
        return ProjectDeletion(
            project_id=row_id(project),
            generations_anonymised=forgotten.generations_anonymised,
            avatars_deleted=forgotten.avatars_deleted,
        )

    @staticmethod
    def _theirs(session: Session, username: str, project_id: Any) -> tuple[User, Project]:
        """The user and their project `project_id`; NOT_FOUND when either is missing or the id is junk."""
        wanted = as_row_id(project_id)
        user = users.find_user(session, username)
        project = (
            None if user is None or wanted is None else projects.find_project(session, wanted, user_id=row_id(user))
        )
        if user is None or project is None:
            raise _not_yours(project_id)
        return user, project
