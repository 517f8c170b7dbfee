"""The raw side of the Monitoring tab: the newest generations, and a CSV of a whole window.

Both read generation rows (not rollups) through `store.reports`; the table is bounded so a
refresh stays flat, the export streams in chunks so a window of a million rows fits in memory.
The export's `likeness` and `likeness_ok` columns list each image's score and verdict, separated
by `;` in the order the images were made, with `-` for an image in which no face was found
(`0.87;0.91;-;0.42` and `True;True;-;False`). Both come from the generation row, so they outlive
its avatars; they are empty where the row has no likeness: Text to Image, failed or refused
generations, and those made before likeness was measured. Before them, the likeness check's tally of each row:
`images_asked`, `images_kept`, `candidates` (images the engine made, second tries included) and `alike_first_try`,
empty on rows without one (refusals, rows made before packs).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pandas as pd

from photomaker.faces.likeness import Likeness
from photomaker.monitoring.views import View, catalogue, scope_for, tier_of
from photomaker.store import Database, reports, rollup_schema
from photomaker.store.models import utcnow

RECENT_ROWS = 25
RECENT_COLUMNS = (
    "id",
    "created (UTC)",
    "tier",
    "mode",
    "engine",
    "status",
    "error",
    "time (s)",
    "credits charged",
    "rating",
)
STATUS_LABELS = {"rejected": "refused"}
"""The table speaks to people, who read *refused*; the CSV keeps the stored status (`rejected`)."""
NULLABLE_INTEGERS = {name: "Int64" for name in ("processing_ms", "rating", *rollup_schema.GATING_COLUMNS)}
"""Columns that pandas would otherwise write as floats (`4.0`) because some rows have none."""
EXPORT_COLUMNS: list[str] = [*reports.COLUMNS[:4], "tier", *reports.COLUMNS[4:], "likeness_ok"]
NO_FACE = "-"
LIST_SEPARATOR = ";"


def _listed(scores: list[float | None] | None, *, verdicts: bool = False) -> str:
    """One entry per image, its score (or with `verdicts`, whether it looks like the person), `NO_FACE`
    where no face was found; empty when the generation has no likeness."""
    return LIST_SEPARATOR.join(
        NO_FACE if score is None else str(Likeness(score).ok if verdicts else score) for score in scores or ()
    )


def recent(database: Database, view: View, *, limit: int = RECENT_ROWS, now: datetime | None = None) -> pd.DataFrame:
    """The newest generations of a view, as the dashboard's table shows them."""
    now = now or utcnow()
    with database.session() as session:
        models = catalogue(session)
        rows = reports.recent(session, scope_for(view, models, now), limit=limit, now=now)
    return pd.DataFrame(
        [
            [
                row["id"],
                row["created_at"].strftime("%Y-%m-%d %H:%M:%S"),
                tier_of(models, row["model_key"]),
                row["mode"],
                row["engine"],
                STATUS_LABELS.get(row["status"], row["status"]),
                row["error_code"] or "",
                None if row["processing_ms"] is None else round(row["processing_ms"] / 1000, 1),
                row["credits_charged"],
                row["rating"],
            ]
            for row in rows
        ],
        columns=list(RECENT_COLUMNS),
    )


def export_csv(database: Database, view: View, path: Path, *, now: datetime | None = None) -> int:
    """Write every generation of a view's window to `path` as CSV (streamed in chunks); returns how many."""
    written = 0
    with database.session() as session, path.open("w", newline="", encoding="utf-8") as out:
        models = catalogue(session)
        out.write(",".join(EXPORT_COLUMNS) + "\n")
        for chunk in reports.stream(session, scope_for(view, models, now or utcnow())):
            frame = pd.DataFrame(chunk, columns=list(reports.COLUMNS)).astype(NULLABLE_INTEGERS)
            frame["tier"] = [tier_of(models, key) for key in frame["model_key"]]
            frame["likeness_ok"] = [_listed(scores, verdicts=True) for scores in frame["likeness"]]
            frame["likeness"] = [_listed(scores) for scores in frame["likeness"]]
            frame[EXPORT_COLUMNS].to_csv(out, header=False, index=False, date_format="%Y-%m-%dT%H:%M:%S%z")
            written += len(frame)
    return written
