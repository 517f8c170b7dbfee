"""A small history with known figures, shared by the metrics, charts, Prometheus and export tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from photomaker.startup.records import seed_models
from photomaker.store import Database, generations, row_id, users
from photomaker.store.rollup_schema import GATING_COLUMNS
from tests.helpers import add_finished

NOW = datetime(2025, 6, 15, 12, 30, tzinfo=UTC)
PRO = "avatar-creator:photomaker-pro"
BASIC = "avatar-creator:photomaker-basic"
ENTERPRISE = "avatar-creator:photomaker-enterprise"
TEXT = "text-to-image:flux-schnell"

Tally = tuple[int, int, int, int]
"""The likeness check's tally of a row: images asked for, kept, made (second tries included), alike at the first try."""
Row = tuple[int, str, str, str, str | None, int | None, int, int | None, str, list[float | None] | None, Tally | None]
ROWS: list[Row] = [
    # (hours ago, model key, mode, status, error code, seconds, credits, stars, engine, likeness, tally)
    (2, PRO, "photo", "completed", None, 100, 25, 5, "preview", [0.82], (1, 1, 2, 0)),
    (3, PRO, "photo", "completed", None, 130, 50, 4, "preview", [0.74, 0.41], None),
    (5, BASIC, "photo", "completed", None, 60, 18, None, "preview", [None], (1, 1, 1, 1)),
    (6, TEXT, "text", "completed", None, 10, 10, 3, "preview", None, (1, 1, 1, 0)),
    (4, PRO, "photo", "failed", "GENERATION_TIMEOUT", 600, 25, None, "preview", None, (1, 0, 0, 0)),
    (1, BASIC, "photo", "rejected", "NO_FACE", None, 0, None, "preview", None, None),
    (72, ENTERPRISE, "photo", "completed", None, 150, 35, None, "synthetic", [0.9], (2, 1, 3, 1)),
    (40 * 24, BASIC, "photo", "failed", "BACKEND_UNAVAILABLE", 5, 18, None, "preview", None, (4, 0, 4, 0)),
]
"""In the last 24 h: 6 generations (4 completed, 1 failed, 1 refused), 103 credits spent,
times 10/60/100/130 s, 3 of 4 completed from photos, ratings 5/4/3; 3 images scored (0.82 and
0.74 look like the person, 0.41 does not), a basic image with no face found, and a text image
(never scored). A synthetic enterprise generation 3 days ago (scored 0.9), and a failure 40 days ago.
Each completed generation has one avatar row per image.

The likeness check's tally: the 0.82 pro avatar was alike at its second try, the basic one had no face (kept
at once), the timeout made nothing; the 0.74/0.41 pro generation was made before packs (no tally) and the text
one does not count. So the last 24 h count 3 asked, 2 kept, 3 made, 1 alike at once (pro alone: 2, 1, 2, 0);
the synthetic enterprise one kept 1 of 2 after 3 tries, 1 alike at once (the last 7 days: 5, 3, 6, 2); the
failure 40 days ago tried 4 images that never looked alike before the engine went down (all time: 9, 3, 10, 2)."""
ENGINE = 8
"""The index of the engine in a row of ROWS."""


def make_known_history(database: Database) -> int:
    """Write ROWS (ratings through the real rating function); returns the owner's user id."""
    seed_models(database)
    with database.session() as session:
        user_id = row_id(users.get_or_create_user(session, "ops", starting_credits=0))
    for hours, model_key, mode, status, code, seconds, credits, stars, engine, likeness, tally in ROWS:
        created = NOW - timedelta(hours=hours)
        generation_id = add_finished(
            database,
            user_id,
            avatars=len(likeness or [None]) if status == "completed" else 0,  # the text generation made one
            model_key=model_key,
            mode=mode,
            status=status,
            error_code=code,
            processing_ms=None if seconds is None else seconds * 1000,
            credits_charged=credits,
            engine=engine,
            likeness=likeness,
            **dict(zip(GATING_COLUMNS, tally or (None,) * len(GATING_COLUMNS), strict=True)),
            created_at=created,
            completed_at=created,
        )
        if stars:
            with database.session() as session:
                generations.rate(session, generation_id, user_id=user_id, stars=stars)
    return user_id
