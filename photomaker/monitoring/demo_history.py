"""Synthetic generation history for demos and benchmarks: plausible rows spread over past days.

Each tier takes about its catalogue's expected time; a few requests are refused or fail
with realistic codes (more on an occasional bad day); about a third of the avatars are
rated, mostly well. Most Photo to Avatar images look like the person, fewer the cheaper the
tier, and a few have no face to score; with the likeness check on (most requests) an image that
does not is made once more, and one still unlike is not kept, and a generation that keeps none
fails with NOT_ALIKE. The rows carry the likeness list of the images kept and the check's tally,
as a real generation's row does. The rows are written through `store.synthetic`, marked with the engine name
`synthetic`, so the dashboard can hide them and `--delete` removes them.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from itertools import islice
from typing import Any

from photomaker.core.errors import DEFAULT_MESSAGES, ErrorCode
from photomaker.faces.likeness import Likeness, verdict
from photomaker.store import AIModel, Database, synthetic
from photomaker.store import catalog as model_rows
from photomaker.store.models import utcnow
from photomaker.store.rollup_schema import GATING_COLUMNS

BATCH = 10_000
TIER_WEIGHTS: dict[str, float] = {"basic": 30, "pro": 40, "enterprise": 15, "text": 15}
REJECTED_SHARE = 0.05
FAILED_SHARE = 0.03
BAD_DAY_FAILED_SHARE = 0.12
BAD_DAY_CHANCE = 0.1
RATED_SHARE = 0.35
STAR_WEIGHTS: dict[int, float] = {1: 2, 2: 3, 3: 8, 4: 30, 5: 57}
IMAGE_WEIGHTS: dict[int, float] = {1: 55, 2: 25, 3: 8, 4: 12}
FAILURES: dict[ErrorCode, float] = {
    "GENERATION_TIMEOUT": 4,
    "BACKEND_UNAVAILABLE": 3,
    "MODEL_LOADING": 2,
    "RATE_LIMIT_EXCEEDED": 1,
    "INTERNAL": 1,
}
PHOTO_REFUSALS: dict[ErrorCode, float] = {
    "NO_FACE": 5,
    "INSUFFICIENT_CREDITS": 3,
    "INVALID_PHOTO": 2,
    "USER_RATE_LIMITED": 1,
    "INVALID_PROMPT": 1,
}
TEXT_REFUSALS: dict[ErrorCode, float] = {"INSUFFICIENT_CREDITS": 3, "INVALID_PROMPT": 2, "USER_RATE_LIMITED": 1}
TIMEOUT_MS = 600_000
NO_FACE_SHARE = 0.03
"""Photo to Avatar images in which no face can be found (a strong style, a face turned away)."""
DRIFT: dict[str, tuple[float, float]] = {"basic": (0.42, 0.09), "pro": (0.37, 0.06), "enterprise": (0.33, 0.04)}
"""Per tier: the usual face-descriptor distance of an image to the person's photos, and the share of
images whose face drifts to someone else's (a bigger, slower model keeps the face better)."""
DRIFTED_DISTANCE = 0.72
DISTANCE_SPREAD = 0.07
CHECK_OFF_SHARE = 0.1
"""Photo to Avatar requests with the likeness check switched off: they keep every image made."""


def _pick(rng: random.Random, weights: dict[Any, float]) -> Any:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _processing_ms(rng: random.Random, model: AIModel) -> int:
    """About the model's expected time: log-normal around the middle of its range."""
    middle = (model.eta_min_s + model.eta_max_s) / 2
    return max(200, round(rng.lognormvariate(math.log(middle), 0.22) * 1000))


def _score(rng: random.Random, model: AIModel) -> float | None:
    """One Photo to Avatar image's likeness score: mostly alike, sometimes drifted, now and then no face."""
    if rng.random() < NO_FACE_SHARE:
        return None
    usual, drifting = DRIFT.get(model.tier, DRIFT["pro"])
    middle = DRIFTED_DISTANCE if rng.random() < drifting else usual
    return Likeness.from_distance(max(0.0, rng.gauss(middle, DISTANCE_SPREAD))).score


def _tally(rng: random.Random, model: AIModel, images: int) -> tuple[list[float | None], dict[str, int]]:
    """A completed Photo to Avatar request's images: each made once and, with the check on, once more when it
    does not look like the person; the scores of the images kept, and the check's tally."""
    check = rng.random() >= CHECK_OFF_SHARE
    kept: list[float | None] = []
    made = alike_first_try = 0
    for _ in range(images):
        score, made = _score(rng, model), made + 1
        if verdict(score) is not False:
            alike_first_try += 1
        elif check:
            score, made = _score(rng, model), made + 1
        if not check or verdict(score) is not False:
            kept.append(score)
    return kept, _counts(images, len(kept), made, alike_first_try)


def _counts(asked: int, kept: int, made: int, alike_first_try: int) -> dict[str, int]:
    """The check's tally as the row's columns."""
    return dict(zip(GATING_COLUMNS, (asked, kept, made, alike_first_try), strict=True))


def _ending(rng: random.Random, model: AIModel, *, failed_share: float) -> tuple[str, ErrorCode | None, int | None]:
    """A request's status, error code and processing time (None for a refusal)."""
    draw = rng.random()
    status = "rejected" if draw < REJECTED_SHARE else "failed" if draw < REJECTED_SHARE + failed_share else "completed"
    expected_ms = _processing_ms(rng, model)
    if status == "rejected":
        return status, _pick(rng, PHOTO_REFUSALS if model.mode == "photo" else TEXT_REFUSALS), None
    if status == "failed":
        code: ErrorCode = _pick(rng, FAILURES)
        return status, code, TIMEOUT_MS if code == "GENERATION_TIMEOUT" else rng.randint(1_000, expected_ms)
    return status, None, expected_ms


def _outcome(rng: random.Random, model: AIModel, images: int, *, failed_share: float) -> dict[str, Any]:
    """Status, code, time, the kept images' likeness and the check's tally: a refusal has no tally, a failure
    made no image, and a completed Photo to Avatar request that kept none failed with NOT_ALIKE."""
    status, code, processing_ms = _ending(rng, model, failed_share=failed_share)
    ended = {"status": status, "error_code": code, "processing_ms": processing_ms, "likeness": None}
    if status == "rejected":
        return {**ended, **dict.fromkeys(GATING_COLUMNS)}
    if status == "failed":
        return {**ended, **_counts(images, 0, 0, 0)}
    if model.mode == "text":
        return {**ended, **_counts(images, images, images, 0)}
    likeness, tally = _tally(rng, model, images)
    if not likeness:
        return {**ended, **tally, "status": "failed", "error_code": "NOT_ALIKE"}
    return {**ended, **tally, "likeness": likeness}


def _row(rng: random.Random, model: AIModel, created: datetime, *, failed_share: float, user_id: int) -> dict[str, Any]:
    images = _pick(rng, IMAGE_WEIGHTS)
    outcome = _outcome(rng, model, images, failed_share=failed_share)
    status, code, processing_ms = outcome["status"], outcome["error_code"], outcome["processing_ms"]
    rated = status == "completed" and rng.random() < RATED_SHARE
    charged = 0 if status == "rejected" else model.price(images)
    kept = outcome["images_kept"] or 0
    return {
        **outcome,
        "user_id": user_id,
        "model_key": model.model_key,
        "mode": model.mode,
        "prompt": "synthetic demo history",
        "negative_prompt": "",
        "params": {"tier": model.tier, "num_images": images},
        "photo_count": rng.randint(1, 4) if model.mode == "photo" else 0,
        "seed": rng.randint(0, 2**31 - 1),
        "credits_charged": charged,
        "credits_refunded": charged // images * (images - kept) if status == "completed" else None,
        "attempts": 0 if status == "rejected" else 1 + (status == "failed") * rng.randint(0, 2),
        "preview": False,
        "error_message": DEFAULT_MESSAGES[code] if code else None,
        "created_at": created,
        "started_at": None if status == "rejected" else created,
        "completed_at": created + timedelta(milliseconds=processing_ms or 0),
        "rating": _pick(rng, STAR_WEIGHTS) if rated else None,
    }


def synthetic_rows(
    models: Sequence[AIModel], *, days: int, per_day: int, now: datetime, seed: int, user_id: int
) -> Iterator[dict[str, Any]]:
    """`per_day` generations for each of the `days` days before `now`, oldest day first."""
    rng = random.Random(seed)
    by_tier = {model.tier: model for model in models}
    weights = {tier: weight for tier, weight in TIER_WEIGHTS.items() if tier in by_tier}
    for day in range(days, 0, -1):
        day_start = now - timedelta(days=day)
        failed_share = BAD_DAY_FAILED_SHARE if rng.random() < BAD_DAY_CHANCE else FAILED_SHARE
        for _ in range(per_day):
            created = day_start + timedelta(seconds=rng.uniform(0, 86_400))
            yield _row(rng, by_tier[_pick(rng, weights)], created, failed_share=failed_share, user_id=user_id)


def fill(database: Database, *, days: int, per_day: int, seed: int = 0, now: datetime | None = None) -> int:
    """Add `days` x `per_day` synthetic generations, in batches of one transaction each; returns how many."""
    if days < 1 or per_day < 1:
        raise ValueError("days and per_day must be at least 1")
    with database.session() as session:
        models = model_rows.list_models(session)
        user_id = synthetic.demo_user_id(session)
    rows = synthetic_rows(models, days=days, per_day=per_day, now=now or utcnow(), seed=seed, user_id=user_id)
    added = 0
    while batch := list(islice(rows, BATCH)):
        with database.session() as session:
            added += synthetic.insert_finished(session, batch)
    return added


def clear(database: Database) -> int:
    """Delete every synthetic generation and its rollups; returns how many."""
    with database.session() as session:
        return synthetic.delete_all(session)
