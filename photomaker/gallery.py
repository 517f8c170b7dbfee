"""A user's past generations: the history gallery, their ratings, their projects.

Reading never creates an account: a user the app has not met has no history and one project.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from photomaker.captions import image_caption
from photomaker.params import RatingParams, RunParams, parse
from photomaker.storage import AvatarStorage
from photomaker.store import Avatar, Database, Generation, generations, row_id
from photomaker.store import accounts as users
from photomaker.store.accounts import DEFAULT_PROJECT


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
        style=RunParams.style_of(generation.params),
        preview=generation.preview,
        score=avatar.likeness,
        generation_id=row_id(generation),
    )


class Gallery:
    """What a user made: to look back at, rate and file."""

    def __init__(self, *, database: Database, storage: AvatarStorage) -> None:
        self.database = database
        self.storage = storage

    def projects(self, username: str) -> list[str]:
        with self.database.reading() as session:
            user = users.find_user(session, username)
            names = [] if user is None else users.list_projects(session, user_id=row_id(user))
        return names or [DEFAULT_PROJECT]

    def history(self, username: str, *, limit: int = 24) -> list[HistoryItem]:
        """The user's latest avatars, newest first."""
        with self.database.reading() as session:
            user = users.find_user(session, username)
            rows = [] if user is None else generations.recent_avatars(session, user_id=row_id(user), limit=limit)
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
