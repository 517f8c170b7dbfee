"""A user's past generations: the history gallery (all of it, or one project's), their ratings.

Reading never creates an account: a user the app has not met has no history.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from sqlmodel import Session

from photomaker.core.errors import RefusedError
from photomaker.core.safe_text import quoted
from photomaker.generation.captions import image_caption
from photomaker.generation.params import RatingParams, as_row_id, parse
from photomaker.generation.results import AvatarView, GenerationDetails, GenerationView
from photomaker.generation.run_params import RunParams
from photomaker.images.avatar_files import AvatarStorage
from photomaker.store import Avatar, Database, Generation, User, generation_queries, generations, row_id, users
from photomaker.store import catalog as model_rows
from photomaker.store.models import utc

Owned = TypeVar("Owned")


def _not_yours(what: str, value: Any) -> RefusedError:
    """NOT_FOUND alike for what does not exist and what is another user's: the answer reveals neither."""
    wanted = as_row_id(value)
    return RefusedError("NOT_FOUND", f"{what} {quoted(value) if wanted is None else f'#{wanted}'} is not one of yours.")


def _owned(
    session: Session, username: str, row: Any, find: Callable[..., Owned | None]
) -> tuple[User | None, Owned | None]:
    """The user and their row `row` found by `find`; None for either when the user is unknown, the id junk or the
    row someone else's."""
    wanted = as_row_id(row)
    user = users.find_user(session, username)
    if user is None or wanted is None:
        return user, None
    return user, find(session, wanted, user_id=row_id(user))


def _view(session: Session, generation: Generation, project: str | None, *, credits: int) -> GenerationView:
    """A generation as it stands, read in the caller's session; its details only once it has completed."""
    avatars = generation_queries.avatars_of(session, row_id(generation))
    model = model_rows.find_model(session, model_key=generation.model_key)
    ran = RunParams.of_saved(generation.params)
    details = None
    if generation.status == "completed" and model is not None and ran is not None:
        details = GenerationDetails.of(
            generation, model, ran, remaining=credits, styles=[avatar.style for avatar in avatars]
        )
    return GenerationView(
        id=row_id(generation),
        status=generation.status,
        mode=generation.mode,
        model_key=generation.model_key,
        project_id=generation.project_id,
        project=project,
        created_at=utc(generation.created_at),
        completed_at=None if generation.completed_at is None else utc(generation.completed_at),
        error_code=generation.error_code,
        error_message=generation.error_message,
        details=details,
        avatars=[
            AvatarView(
                row_id(avatar), number, avatar.width, avatar.height, avatar.likeness, avatar.likeness_ok, avatar.style
            )
            for number, avatar in enumerate(avatars, start=1)
        ],
    )


@dataclass(frozen=True)
class Rating:
    """A user's rating of one of their generations, and the one it replaced."""

    generation_id: int
    stars: int
    previous: int | None


@dataclass(frozen=True)
class HistoryItem:
    """One past avatar, for the history gallery."""

    generation_id: int
    image: Path
    thumbnail: Path
    caption: str


def _caption(generation: Generation, avatar: Avatar, number: int) -> str:
    return image_caption(
        mode=generation.mode,
        number=number,
        tier=generation.params.get("tier"),
        style=avatar.style or RunParams.style_of(generation.params),  # rows before packs name no avatar's style
        preview=generation.preview,
        score=avatar.likeness,
        generation_id=row_id(generation),
    )


class Gallery:
    """What a user made: to look back at, rate and file."""

    def __init__(self, *, database: Database, storage: AvatarStorage) -> None:
        self.database = database
        self.storage = storage

    def history(self, username: str, *, project_id: int | None = None, limit: int = 24) -> list[HistoryItem]:
        """The user's latest avatars, newest first: those filed in `project_id` when given (none for a project not
        theirs), else all of them."""
        with self.database.reading() as session:
            user = users.find_user(session, username)
            rows = (
                []
                if user is None
                else generation_queries.recent_avatars(
                    session, user_id=row_id(user), project_id=project_id, limit=limit
                )
            )
        return [
            HistoryItem(
                generation_id=row_id(generation),
                image=self.storage.path(avatar.image_path),
                thumbnail=self.storage.path(avatar.thumbnail_path),
                caption=_caption(generation, avatar, number),
            )
            for avatar, generation, number in rows
        ]

    def rate(self, username: str, generation_id: Any, stars: Any) -> Rating:
        """Rate one of the user's completed generations 1-5 stars (again to change it); feeds satisfaction.

        Both values arrive as programs send them (text, fractions, huge numbers) and are checked first.
        """
        asked = parse(RatingParams, {"generation_id": generation_id, "stars": stars})
        with self.database.session() as session:
            user = users.find_user(session, username)
            previous = generations.rate(
                session, asked.generation_id, user_id=row_id(user) if user else None, stars=asked.stars
            )
        return Rating(generation_id=asked.generation_id, stars=asked.stars, previous=previous)

    def generation(self, username: str, generation_id: Any) -> GenerationView:
        """One of the user's generations as it stands; NOT_FOUND for an id that is not one of theirs (or junk)."""
        with self.database.reading() as session:
            user, found = _owned(session, username, generation_id, generation_queries.of_owner)
            if user is None or found is None:
                raise _not_yours("Generation", generation_id)
            return _view(session, *found, credits=user.credits)

    def generations(self, username: str, project_id: int, *, limit: int) -> list[GenerationView]:
        """The user's latest generations filed in one project, newest first; none for a project not theirs."""
        with self.database.reading() as session:
            user = users.find_user(session, username)
            if user is None:
                return []
            rows = generation_queries.of_project(session, project_id, user_id=row_id(user), limit=limit)
            return [_view(session, generation, project, credits=user.credits) for generation, project in rows]

    def avatar_file(self, username: str, avatar_id: Any, *, thumbnail: bool = False) -> Path:
        """The file of one of the user's avatars (its image, or its thumbnail); NOT_FOUND for anything else, and
        for an avatar whose file is gone."""
        with self.database.reading() as session:
            _, avatar = _owned(session, username, avatar_id, generation_queries.avatar_of_owner)
        path = None if avatar is None else self.storage.path(avatar.thumbnail_path if thumbnail else avatar.image_path)
        if path is None or not path.is_file():
            raise _not_yours("Avatar", avatar_id)
        return path
