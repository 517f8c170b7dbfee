"""How long a full Monitoring-tab refresh takes as the history grows, against pandas on the raw table.

For each size, a fresh SQLite database is filled with demo history (30 days), then:
- `refresh_ms`: the summary, both series, every chart figure and the recent-generations
  table, exactly what one refresh of the tab computes (median of 15 runs);
- `pandas_ms`: the same headline figures, likeness included, computed by loading the generations
  table with pandas and aggregating it (median of a few runs);
- the two summaries are compared (counts exactly, percentiles within one histogram bucket), the
  likeness figures and the likeness check's among them.

Prints JSON. Not part of the test run: `python benchmarks/dashboard.py [--sizes 10000 100000 1000000]`.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from photomaker.core.settings import Settings
from photomaker.faces.likeness import Likeness
from photomaker.monitoring import charts, dashboard, demo_history, exports, histogram, metrics, prometheus, views
from photomaker.startup.runtime import start_runtime
from photomaker.store import rollup_rebuild
from photomaker.store.rollup_schema import GATING_COLUMNS, rollup_table

DAYS = 30
VIEW = views.View(window="all")
ROUNDS = 15


def median_ms(run: Callable[[], Any], rounds: int) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(rounds):
        started = time.perf_counter()
        result = run()
        times.append((time.perf_counter() - started) * 1000)
    return round(statistics.median(times), 1), result


def refresh(database: Any) -> dict[str, Any]:
    board = dashboard.read(database, VIEW)
    charts.all_figures(board)
    exports.recent(database, VIEW)
    return board.summary


def pandas_likeness(completed: pd.DataFrame) -> dict[str, Any]:
    """The likeness figures from the completed rows' lists of scores (None: no face found)."""
    images = completed["likeness"].dropna().explode()
    scored = images.dropna().astype(float)
    return {
        "avatars_scored": len(scored),
        "avatars_without_face": int(images.isna().sum()),
        "likeness_ok_rate": float(scored.map(lambda score: Likeness(score).ok).mean()) if len(scored) else None,
        "avg_likeness": float(scored.mean()) if len(scored) else None,
        # the nearest rank, as the rollups' histogram reads it
        "likeness_p50": float(scored.quantile(0.5, interpolation="lower")) if len(scored) else None,
    }


def pandas_tally(frame: pd.DataFrame) -> dict[str, Any]:
    """The likeness check's figures from the rows that count: Photo to Avatar, completed or failed, every count."""
    counted = frame[(frame["mode"] == "photo") & frame["status"].isin(["completed", "failed"])]
    counted = counted.dropna(subset=list(GATING_COLUMNS))
    asked, kept, made, alike = (int(counted[name].sum()) for name in GATING_COLUMNS)
    rates = (alike / asked if asked else None, kept / asked if asked else None, made / kept if kept else None)
    return dict(zip(metrics.GATING_FIGURES, (asked, made, kept, alike, *rates), strict=True))


def pandas_summary(engine: Any) -> dict[str, Any]:
    """The headline figures from the raw rows, the way one would without rollups."""
    frame = pd.read_sql_table(
        "generations",
        engine,
        columns=[
            *("model_key", "mode", "status", "error_code", "processing_ms", "credits_charged", "credits_refunded"),
            *("rating", "likeness"),
            *GATING_COLUMNS,
        ],
    )
    frame = frame[frame["status"] != "processing"]
    completed = frame[frame["status"] == "completed"]
    counts = frame["status"].value_counts()
    times = completed["processing_ms"] / 1000
    settled = counts.get("completed", 0) + counts.get("failed", 0)
    return {
        "total": len(frame),
        "completed": int(counts.get("completed", 0)),
        "failed": int(counts.get("failed", 0)),
        "rejected": int(counts.get("rejected", 0)),
        "success_rate": counts.get("completed", 0) / settled if settled else None,
        "avg_processing_s": float(times.mean()),
        "p50_processing_s": float(times.quantile(0.5, interpolation="higher")),
        "p95_processing_s": float(times.quantile(0.95, interpolation="higher")),
        "adoption_rate": float((completed["mode"] == "photo").mean()),
        "avg_rating": float(completed["rating"].mean()),
        "ratings": int(completed["rating"].count()),
        "credits_spent": int(completed["credits_charged"].sum() - completed["credits_refunded"].fillna(0).sum()),
        "by_model": frame.groupby(["model_key", "status"]).size().to_dict(),
        "failures_by_code": frame[frame["status"] == "failed"]["error_code"].value_counts().to_dict(),
        **pandas_likeness(completed),
        **pandas_tally(frame),
    }


def agree(rollup: dict[str, Any], raw: dict[str, Any]) -> bool:
    """Counts equal, averages equal, percentiles within one histogram bucket."""
    same = all(rollup[key] == raw[key] for key in ("total", "completed", "failed", "rejected", "ratings"))
    same &= rollup["credits_spent"] == raw["credits_spent"] and rollup["failures_by_code"] == raw["failures_by_code"]
    same &= all(
        math.isclose(rollup[key], raw[key], rel_tol=1e-9)
        for key in ("success_rate", "avg_processing_s", "adoption_rate", "avg_rating")
    )
    for key in ("p50_processing_s", "p95_processing_s"):
        lower, upper = histogram.LATENCY.bucket_range(histogram.LATENCY.bucket_of(raw[key]))
        same &= lower <= rollup[key] <= upper
    same &= all(rollup[key] == raw[key] for key in ("avatars_scored", "avatars_without_face"))
    same &= all(rollup[key] == raw[key] for key in metrics.GATING_FIGURES)
    if raw["avatars_scored"]:
        same &= all(math.isclose(rollup[key], raw[key], rel_tol=1e-9) for key in ("likeness_ok_rate", "avg_likeness"))
        lower, upper = histogram.LIKENESS.bucket_range(histogram.LIKENESS.bucket_of(raw["likeness_p50"]))
        same &= lower <= rollup["likeness_p50"] <= upper
    else:
        same &= all(rollup[key] is None for key in ("likeness_ok_rate", "avg_likeness", "likeness_p50"))
    by_model = {
        (key, status): figures[status]
        for key, figures in rollup["by_model"].items()
        for status in ("completed", "failed", "rejected")
        if figures[status]
    }
    return same and by_model == raw["by_model"]


def measure(size: int, folder: Path) -> dict[str, Any]:
    runtime = start_runtime(Settings(data_dir=folder / f"db-{size}", hf_token=None))
    database = runtime.database
    started = time.perf_counter()
    added = demo_history.fill(database, days=DAYS, per_day=math.ceil(size / DAYS), seed=1)
    fill_s = time.perf_counter() - started
    with database.engine.connect() as connection:
        rollup_rows = connection.execute(rollup_table.select().with_only_columns(rollup_table.c.id)).fetchall()
    median_ms(lambda: refresh(database), rounds=3)  # warm up plotly and the database pages
    refresh_ms, summary = median_ms(lambda: refresh(database), rounds=ROUNDS)
    summary_ms, _ = median_ms(lambda: metrics.summary(database, VIEW), rounds=ROUNDS)
    registry = prometheus.registry_for(database)
    scrape_ms, _ = median_ms(lambda: prometheus.exposition(registry), rounds=ROUNDS)
    pandas_ms, raw = median_ms(lambda: pandas_summary(database.engine), rounds=3 if size <= 100_000 else 2)
    started = time.perf_counter()
    rollup_rebuild.rebuild_now(database)
    rebuild_s = time.perf_counter() - started
    rebuilt = metrics.summary(database, VIEW)
    database.dispose()
    return {
        "generations": added,
        "avatars_scored": summary["avatars_scored"],
        "rollup_rows": len(rollup_rows),
        "fill_s": round(fill_s, 1),
        "refresh_ms": refresh_ms,
        "summary_ms": summary_ms,
        "prometheus_scrape_ms": scrape_ms,
        "pandas_raw_ms": pandas_ms,
        "pandas_over_refresh": round(pandas_ms / refresh_ms, 1),
        "rebuild_s": round(rebuild_s, 1),
        "figures_agree_with_raw_rows": agree(summary, raw),
        "rebuild_gives_the_same_figures": {**rebuilt, "until": None} == {**summary, "until": None},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="photomaker-dashboard-bench-") as folder:
        results = {str(size): measure(size, Path(folder)) for size in args.sizes}
    first, last = results[str(args.sizes[0])], results[str(args.sizes[-1])]
    print(
        json.dumps(
            {
                "database": "SQLite (WAL), one file per size",
                "history_days": DAYS,
                "view": {"window": VIEW.window, "tier": VIEW.tier},
                "sizes": results,
                "refresh_growth_smallest_to_largest": round(last["refresh_ms"] / first["refresh_ms"], 2),
                "aims": {
                    "refresh_under_300_ms_everywhere": all(r["refresh_ms"] < 300 for r in results.values()),
                    "growth_under_1_5x": last["refresh_ms"] / first["refresh_ms"] < 1.5,
                    "10x_faster_than_pandas_at_largest": last["pandas_over_refresh"] >= 10,
                },
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
