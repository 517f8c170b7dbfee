"""Refusals are not free: past REFUSALS_PER_MIN a minute per user (or per address), requests are turned away unread,
with no row each, and counted apart in the monitoring. A refused photo counts like any refusal."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import func, select

from photomaker.core.errors import RefusedError
from photomaker.core.settings import Settings
from photomaker.generation.refusals import RefusalLimit
from photomaker.images.uploaded_photos import PhotoUpload
from photomaker.monitoring import metrics, prometheus
from photomaker.startup.runtime import Runtime, start_runtime
from photomaker.store import Generation

FIXTURES = Path(__file__).parent / "fixtures"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _refused(call: object, *args: object, **kwargs: object) -> RefusedError:
    with pytest.raises(RefusedError) as refused:
        call(*args, **kwargs)  # type: ignore[operator]
    return refused.value


def test_a_user_past_the_limit_waits_for_the_oldest_refusal_to_age() -> None:
    clock = Clock()
    limit = RefusalLimit(per_user=3, per_address=10, clock=clock)
    for _ in range(3):
        limit.check("alice", address=None)
        clock.now += 1
        limit.count("alice", address=None)
    said = _refused(limit.check, "alice", address=None)
    assert said.code == "USER_RATE_LIMITED" and said.retry_after == 58 and "3 requests refused" in said.message
    limit.check("bob", address=None)
    clock.now += 57.5
    _refused(limit.check, "alice", address=None)
    clock.now += 0.6
    limit.check("alice", address=None)


def test_an_address_counts_the_refusals_of_every_user_behind_it() -> None:
    limit = RefusalLimit(per_user=100, per_address=4, clock=Clock())
    for user in ("alice", "bob", "carol", "dave"):
        limit.count(user, address="203.0.113.9")
    said = _refused(limit.check, "erin", address="203.0.113.9")
    assert said.message.startswith("Requests from your address had 4 requests refused")
    limit.check("erin", address="198.51.100.1")
    limit.check("erin", address=None)


@pytest.fixture
def strict(database_url: str, tmp_path: Path) -> Iterator[Runtime]:
    """An app allowing 3 refusals a minute per user."""
    settings = Settings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        hf_token=None,
        user_rate_limit_per_min=100,
        refusals_per_min=3,
        refusals_per_min_per_address=100,
    )
    started = start_runtime(settings)
    yield started
    started.close()


def _rows(app: Runtime) -> int:
    with app.database.reading() as session:
        return session.exec(select(func.count()).select_from(Generation)).one()


@pytest.mark.both_databases
def test_the_probes_flood_of_refusals_writes_a_few_rows_and_is_counted(strict: Runtime) -> None:
    """300 refusals in a few seconds: 3 rows, the rest turned away unread and counted apart; no credit moves."""
    service, cat = strict.service, [PhotoUpload.from_path(FIXTURES / "chelsea.png")]
    codes = [_refused(service.generate_avatar, "mallory", cat, {"prompt": "x", "tier": "basic"}).code for _ in range(3)]
    assert codes == ["NO_FACE"] * 3, "a refused photo counts like any refusal"
    bad = {"prompt": "x", "tier": "gold"}
    turned = {_refused(service.generate_avatar, "mallory", cat, bad).code for _ in range(297)}
    assert turned == {"USER_RATE_LIMITED"}
    assert _rows(strict) == 3
    assert strict.accounts.account("mallory").credits == strict.settings.starting_credits
    summary = metrics.summary(strict.database)
    assert (summary["rejected"], summary["turned_away"]) == (3, 297), "the refused count is not inflated"
    scrape = prometheus.exposition(prometheus.registry_for(strict.database)).decode()
    assert "photomaker_requests_turned_away_total 297.0" in scrape


def test_a_user_turned_away_can_still_see_their_account_and_others_generate(strict: Runtime) -> None:
    face = [PhotoUpload.from_path(FIXTURES / "astronaut.png")]
    for _ in range(3):
        _refused(strict.service.generate_avatar, "mallory", face, {"prompt": "x", "tier": "gold"})
    turned = _refused(strict.service.generate_avatar, "mallory", face, {"prompt": "a headshot", "tier": "basic"})
    assert turned.code == "USER_RATE_LIMITED" and turned.retry_after is not None
    assert strict.accounts.account("mallory").credits == strict.settings.starting_credits
    made = strict.service.generate_avatar("alice", face, {"prompt": "a headshot", "tier": "basic"})
    assert made.details.status == "completed"
    strict.service.refusals.limit.clock = lambda: float("inf")  # a minute later
    later = strict.service.generate_avatar("mallory", face, {"prompt": "a headshot", "tier": "basic"})
    assert later.details.status == "completed"


def test_text_to_image_refusals_count_too(strict: Runtime) -> None:
    for _ in range(3):
        assert _refused(strict.service.generate_from_text, "mallory", {"prompt": "a lighthouse"}).code == "NOT_OFFERED"
    assert _refused(strict.service.generate_from_text, "mallory", {"prompt": "a lighthouse"}).code == (
        "USER_RATE_LIMITED"
    )
