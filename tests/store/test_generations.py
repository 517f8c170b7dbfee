"""Generation rows through their life, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, update
from sqlmodel import select

from photomaker.core.errors import PhotoMakerError, RefusedError
from photomaker.generation.work_leases import Owner
from photomaker.images.avatar_files import SavedAvatar
from photomaker.monitoring import metrics, views
from photomaker.store import (
    Database,
    Generation,
    User,
    forgetting,
    generation_queries,
    generation_recovery,
    generations,
    ledger,
    projects,
    users,
)
from photomaker.store.models import utcnow
from tests.helpers import held

pytestmark = pytest.mark.both_databases  # the store's own behaviour: on SQLite and PostgreSQL


def _user(database: Database, credits: int = 100, *, name: str = "grace") -> int:
    with database.session() as session:
        return users.get_or_create_user(session, name, starting_credits=credits).id


def _start(database: Database, user_id: int, *, cost: int = 25, limit: int = 10) -> int:
    with database.session() as session:
        draft = generations.Draft(
            user_id=user_id, model_key="avatar-creator:photomaker-pro", mode="photo", engine="preview"
        )
        return generations.start(session, draft, cost=cost, rate_limit_per_min=limit, **held()).id


def _complete(database: Database, generation_id: int) -> None:
    """Complete a generation with one small avatar named after it."""
    with database.session() as session:
        generations.complete(
            session,
            generation_id,
            avatars=[SavedAvatar(f"{generation_id}.png", f"{generation_id}.webp", 8, 8)],
            seed=1,
            engine="preview",
            attempts=1,
            processing_ms=1_000,
            params={},
        )


def _balance(database: Database, user_id: int) -> int:
    with database.session() as session:
        return ledger.balance(session, user_id)


def test_start_charges_in_the_same_transaction(database: Database) -> None:
    user_id = _user(database)
    generation_id = _start(database, user_id)
    with database.session() as session:
        row = generation_queries.get(session, generation_id)
    assert (row.status, row.credits_charged) == ("processing", 25)
    assert _balance(database, user_id) == 75


def test_start_without_credits_writes_nothing(database: Database) -> None:
    user_id = _user(database, 10)
    with pytest.raises(RefusedError) as caught:
        _start(database, user_id)
    assert caught.value.code == "INSUFFICIENT_CREDITS"
    with database.session() as session:
        assert session.exec(select(func.count()).select_from(Generation)).one() == 0
    assert _balance(database, user_id) == 10


def test_complete_adds_avatars(database: Database) -> None:
    user_id = _user(database)
    generation_id = _start(database, user_id)
    saved = [SavedAvatar("u1/g1/avatar-1.png", "u1/g1/avatar-1.thumb.webp", 1024, 1024)]
    with database.session() as session:
        row = generations.complete(
            session,
            generation_id,
            avatars=saved,
            seed=7,
            engine="preview",
            attempts=1,
            processing_ms=1200,
            params={"style": "Cinematic"},
        )
    assert (row.status, row.seed, row.processing_ms) == ("completed", 7, 1200)
    with database.session() as session:
        assert [a.image_path for a in generation_queries.avatars_of(session, generation_id)] == ["u1/g1/avatar-1.png"]
        assert len(generation_queries.recent_avatars(session, user_id=user_id)) == 1


def test_fail_refunds_exactly_once(database: Database) -> None:
    user_id = _user(database)
    generation_id = _start(database, user_id)
    with database.session() as session:
        assert generations.fail(session, generation_id, code="BACKEND_UNAVAILABLE", message="down") == 25
    with database.session() as session:
        assert generations.fail(session, generation_id, code="INTERNAL", message="again") == 0
        row = generation_queries.get(session, generation_id)
    assert (row.status, row.error_code) == ("failed", "BACKEND_UNAVAILABLE")
    assert _balance(database, user_id) == 100


def test_a_failed_row_cannot_be_completed(database: Database) -> None:
    user_id = _user(database)
    generation_id = _start(database, user_id)
    with database.session() as session:
        generations.fail(session, generation_id, code="INTERNAL", message="x")
    with pytest.raises(PhotoMakerError) as caught, database.session() as session:
        generations.complete(
            session, generation_id, avatars=[], seed=1, engine="preview", attempts=1, processing_ms=1, params={}
        )
    assert caught.value.code == "INTERRUPTED", "the row was recovered (and refunded) while it was being made"
    assert _balance(database, user_id) == 100


def test_rate_limit_counts_charged_generations_in_the_last_minute(database: Database) -> None:
    user_id = _user(database, 1000)
    for _ in range(3):
        _start(database, user_id, limit=3)
    with pytest.raises(RefusedError) as caught:
        _start(database, user_id, limit=3)
    assert caught.value.code == "USER_RATE_LIMITED"
    assert "limit is 3" in caught.value.message
    assert _balance(database, user_id) == 1000 - 3 * 25


def test_reject_records_the_code_and_charges_nothing(database: Database) -> None:
    user_id = _user(database)
    with database.session() as session:
        draft = generations.Draft(user_id=user_id, model_key="k", mode="photo", engine="preview", photo_count=1)
        row = generations.reject(session, draft, error=RefusedError("NO_FACE", "no face in cat.jpg"))
    assert (row.status, row.error_code, row.credits_charged) == ("rejected", "NO_FACE", 0)
    assert _balance(database, user_id) == 100


def _recover(database: Database, *, now: datetime | None = None, ended: Any = lambda owner: False) -> list[int]:
    with database.session() as session:
        dead = generation_recovery.recover_dead(session, now=now or utcnow(), ended=ended)
    return [generation_id for _, generation_id in dead]


def _lease_of(database: Database, generation_id: int) -> tuple[str, datetime | None, str | None]:
    with database.session() as session:
        row = generation_queries.get(session, generation_id)
        return row.status, row.lease_until, row.owner


def test_recovery_fails_and_refunds_a_row_only_once_its_lease_ran_out(database: Database) -> None:
    user_id = _user(database)
    live = _start(database, user_id)
    _, lease_until, owner = _lease_of(database, live)
    assert owner == str(Owner.of_this_process()) and lease_until is not None
    assert _recover(database) == [], "a live lease is never touched"
    assert _recover(database, now=lease_until.replace(tzinfo=UTC)) == [], "the lease's last moment still counts"
    expired = lease_until.replace(tzinfo=UTC) + timedelta(microseconds=1)
    assert _recover(database, now=expired) == [live]
    assert _recover(database, now=expired) == [], "once"
    with database.session() as session:
        row = generation_queries.get(session, live)
    assert (row.status, row.error_code, row.lease_until) == ("failed", "INTERRUPTED", None)
    assert _balance(database, user_id) == 100


def test_recovery_fails_the_rows_of_an_ended_owner_at_once(database: Database) -> None:
    user_id = _user(database)
    theirs, mine = _start(database, user_id), _start(database, user_id)
    with database.session() as session:
        session.exec(update(Generation).where(Generation.id == theirs).values(owner="host-1/999/gone"))
    assert _recover(database, ended=lambda owner: owner == "host-1/999/gone") == [theirs]
    assert _lease_of(database, mine)[0] == "processing"
    assert _balance(database, user_id) == 75


def test_rows_made_before_leases_count_as_dead(database: Database) -> None:
    user_id = _user(database)
    old = _start(database, user_id)
    with database.session() as session:
        session.exec(update(Generation).where(Generation.id == old).values(owner=None, lease_until=None))
    assert _recover(database) == [old]


def test_renewal_extends_only_the_owners_processing_rows(database: Database) -> None:
    user_id = _user(database)
    mine, done, other = _start(database, user_id), _start(database, user_id), _start(database, user_id)
    _complete(database, done)
    with database.session() as session:
        session.exec(update(Generation).where(Generation.id == other).values(owner="elsewhere/1/x"))
    later = utcnow() + timedelta(hours=1)
    with database.session() as session:
        held = generation_recovery.renew(session, [mine, done, other], owner=str(Owner.of_this_process()), until=later)
    assert held == 1
    naive = later.replace(tzinfo=None)
    leases = {gid: _lease_of(database, gid)[1] for gid in (mine, done, other)}
    stored = {gid: None if lease is None else lease.replace(tzinfo=None) for gid, lease in leases.items()}
    assert stored[mine] == naive
    assert stored[done] is None, "a finished row holds no lease"
    assert stored[other] not in (None, naive)


def test_projects_are_per_user_and_trimmed(database: Database) -> None:
    user_id = _user(database)
    with database.session() as session:
        first = projects.get_or_create_project(session, user_id=user_id, name="  Work   shots ")
        again = projects.get_or_create_project(session, user_id=user_id, name="Work shots")
        default = projects.get_or_create_project(session, user_id=user_id, name="")
        assert first.id == again.id
        assert [project.name for project, _, _ in projects.project_summaries(session, user_id=user_id)] == [
            "Work shots",
            "My avatars",
        ]
    assert default.name == "My avatars"


NOW = datetime(2025, 6, 15, 12, 30, tzinfo=UTC)
"""A frozen clock for the rate window."""


@pytest.fixture
def frozen(monkeypatch: pytest.MonkeyPatch) -> datetime:
    monkeypatch.setattr(generations, "utcnow", lambda: NOW)
    return NOW


def _row_at(database: Database, user_id: int, created_at: datetime, *, status: str = "completed") -> None:
    """A generation of the user created at `created_at`, as the rate limit sees it."""
    with database.session() as session:
        session.add(
            Generation(
                user_id=user_id, model_key="k", mode="photo", engine="preview", status=status, created_at=created_at
            )
        )


def _refusal(database: Database, user_id: int, *, limit: int) -> RefusedError:
    with pytest.raises(RefusedError) as caught:
        _start(database, user_id, limit=limit)
    return caught.value


def test_the_rate_window_holds_its_first_instant_and_not_the_one_before(database: Database, frozen: datetime) -> None:
    user_id = _user(database, 1000)
    _row_at(database, user_id, frozen - generations.RATE_WINDOW - timedelta(microseconds=1))
    _row_at(database, user_id, frozen - generations.RATE_WINDOW)
    _start(database, user_id, limit=2)  # the older row has left the window: 1 of 2
    error = _refusal(database, user_id, limit=2)
    assert error.code == "USER_RATE_LIMITED"
    assert error.message == "You started 2 generations in the last minute (the limit is 2); try again in 1 second."


def test_the_wait_is_until_the_oldest_start_leaves_the_window(database: Database, frozen: datetime) -> None:
    user_id = _user(database, 1000)
    _row_at(database, user_id, frozen - timedelta(seconds=5))
    _row_at(database, user_id, frozen - timedelta(seconds=20))
    assert _refusal(database, user_id, limit=2).message.endswith("try again in 41 seconds.")
    assert _balance(database, user_id) == 1000


def test_a_start_is_stamped_with_the_clock_and_touches_only_its_users_row(database: Database, frozen: datetime) -> None:
    user_id, other = _user(database), _user(database, name="ada")
    with database.session() as session:
        theirs = session.get(User, other).updated_at
    generation_id = _start(database, user_id)
    with database.session() as session:
        row = generation_queries.get(session, generation_id)
        assert (row.created_at, row.started_at) == (frozen, frozen)
        assert session.get(User, other).updated_at == theirs


def test_one_start_below_the_limit_is_allowed(database: Database, frozen: datetime) -> None:
    user_id = _user(database, 1000)
    _row_at(database, user_id, frozen - timedelta(seconds=30))
    _start(database, user_id, limit=2)
    assert _refusal(database, user_id, limit=2).code == "USER_RATE_LIMITED"


@pytest.mark.parametrize(("status", "counts"), [("rejected", False), ("failed", True), ("processing", True)])
def test_refused_rows_do_not_count_towards_the_rate_limit(
    database: Database, frozen: datetime, status: str, counts: bool
) -> None:
    user_id = _user(database, 1000)
    _row_at(database, user_id, frozen - timedelta(seconds=1), status=status)
    if counts:
        assert _refusal(database, user_id, limit=1).code == "USER_RATE_LIMITED"
    else:
        _start(database, user_id, limit=1)


def test_other_users_starts_do_not_count(database: Database, frozen: datetime) -> None:
    user_id, other = _user(database, 1000), _user(database, name="ada")
    _row_at(database, other, frozen - timedelta(seconds=1))
    _start(database, user_id, limit=1)


def _summary(database: Database) -> dict[str, Any]:
    return metrics.summary(database, views.View(window="all"))


def test_a_completion_stores_its_outcome_and_is_counted(database: Database) -> None:
    user_id = _user(database)
    generation_id = _start(database, user_id)
    saved = [SavedAvatar(f"u/g/avatar-{n}.png", f"u/g/avatar-{n}.thumb.webp", 512, 512) for n in (1, 2)]
    with database.session() as session:
        generations.complete(
            session,
            generation_id,
            avatars=saved,
            seed=9,
            engine="space",
            attempts=2,
            processing_ms=4_000,
            params={"steps": 30},
        )
    with database.session() as session:
        row = generation_queries.get(session, generation_id)
        images = [avatar.image_path for avatar in generation_queries.avatars_of(session, generation_id)]
    assert (row.status, row.seed, row.engine, row.attempts, row.params) == ("completed", 9, "space", 2, {"steps": 30})
    assert row.completed_at is not None and row.completed_at >= row.started_at
    assert images == ["u/g/avatar-1.png", "u/g/avatar-2.png"]
    found = _summary(database)
    assert (found["completed"], found["credits_spent"], found["avg_processing_s"]) == (1, 25, 4.0)


def test_a_failure_keeps_its_attempts_and_time_only_when_given(database: Database) -> None:
    user_id = _user(database)
    timed, untimed = _start(database, user_id), _start(database, user_id)
    with database.session() as session:
        generations.fail(session, timed, code="GENERATION_TIMEOUT", message="slow", attempts=3, processing_ms=9_000)
        generations.fail(session, untimed, code="INTERNAL", message="bug")
    with database.session() as session:
        first, second = generation_queries.get(session, timed), generation_queries.get(session, untimed)
    assert (first.attempts, first.processing_ms, first.error_message) == (3, 9_000, "slow")
    assert (second.attempts, second.processing_ms, second.error_code) == (0, None, "INTERNAL")
    assert first.completed_at is not None and second.completed_at is not None
    found = _summary(database)
    assert (found["failed"], found["failures_by_code"]) == (2, {"GENERATION_TIMEOUT": 1, "INTERNAL": 1})
    assert _balance(database, user_id) == 100


def test_a_refusal_is_recorded_with_its_message_and_counted(database: Database) -> None:
    user_id = _user(database)
    with database.session() as session:
        draft = generations.Draft(user_id=user_id, model_key="k", mode="photo", engine="preview", prompt="a cat")
        generations.reject(session, draft, error=RefusedError("NO_FACE", "no face in cat.jpg"))
    with database.session() as session:
        (row,) = session.exec(select(Generation)).all()
    assert (row.error_message, row.prompt, row.credits_charged) == ("no face in cat.jpg", "a cat", 0)
    assert row.completed_at == row.created_at
    found = _summary(database)
    assert (found["rejected"], found["rejections_by_code"], found["total"]) == (1, {"NO_FACE": 1}, 1)


def test_crash_recovery_shows_in_the_metrics_and_only_touches_processing_rows(database: Database) -> None:
    user_id = _user(database)
    done = _start(database, user_id)
    _complete(database, done)
    stuck = [_start(database, user_id), _start(database, user_id)]
    assert _summary(database)["total"] == 1
    assert _recover(database, now=utcnow() + timedelta(hours=1)) == stuck
    with database.session() as session:
        assert generation_queries.get(session, done).status == "completed"
        assert {generation_queries.get(session, gid).error_message for gid in stuck} == {
            "The app stopped while this was generating."
        }
    found = _summary(database)
    assert (found["completed"], found["failed"], found["failures_by_code"]) == (1, 2, {"INTERRUPTED": 2})
    assert (found["success_rate"], found["credits_spent"]) == (pytest.approx(1 / 3), 25)
    assert _balance(database, user_id) == 75


def test_recent_avatars_are_the_users_completed_ones_newest_first(database: Database) -> None:
    user_id, other = _user(database), _user(database, name="ada")
    made = []
    for owner, outcome in [(user_id, "completed"), (user_id, "failed"), (other, "completed"), (user_id, "completed")]:
        generation_id = _start(database, owner)
        if outcome == "failed":
            with database.session() as session:
                generations.fail(session, generation_id, code="INTERNAL", message="x")
            continue
        _complete(database, generation_id)
        if owner == user_id:
            made.append(generation_id)
    with database.session() as session:
        found = [(gen.id, number) for _, gen, number in generation_queries.recent_avatars(session, user_id=user_id)]
        latest = [gen.id for _, gen, _ in generation_queries.recent_avatars(session, user_id=user_id, limit=1)]
    assert found == [(generation_id, 1) for generation_id in made[::-1]] and latest == made[-1:]


def test_retention_deletes_avatars_completed_strictly_before_the_cut(database: Database) -> None:
    user_id = _user(database)
    kept, gone = _start(database, user_id), _start(database, user_id)
    for generation_id in (kept, gone):
        _complete(database, generation_id)
    with database.session() as session:
        cut = generation_queries.get(session, kept).completed_at
        row = generation_queries.get(session, gone)
        row.completed_at = cut - timedelta(microseconds=1)
        session.add(row)
    with database.session() as session:
        assert forgetting.forget_avatars(session, before=cut) == [(user_id, gone)]
    with database.session() as session:
        assert [len(generation_queries.avatars_of(session, gid)) for gid in (kept, gone)] == [1, 0]


def test_recent_avatars_default_to_a_page_of_24(database: Database) -> None:
    user_id = _user(database)
    generation_id = _start(database, user_id)
    with database.session() as session:
        generations.complete(
            session,
            generation_id,
            avatars=[SavedAvatar(f"{n}.png", f"{n}.webp", 8, 8) for n in range(25)],
            seed=1,
            engine="preview",
            attempts=1,
            processing_ms=1,
            params={},
        )
    with database.session() as session:
        page = generation_queries.recent_avatars(session, user_id=user_id)
    assert [avatar.image_path for avatar, _, _ in page] == [f"{n}.png" for n in range(24, 0, -1)]
    # Numbered within their generation from its first avatar, the one left off the page included.
    assert [number for _, _, number in page] == list(range(25, 1, -1))


def test_rating_refusals_name_the_generation(database: Database) -> None:
    owner, other = _user(database), _user(database, name="ada")
    generation_id = _start(database, owner)
    for user_id, code, message in [
        (owner, "INVALID_PARAMS", f"Generation #{generation_id} made no avatars (processing); nothing to rate."),
        (other, "NOT_FOUND", f"Generation #{generation_id} is not one of yours; rate your own avatars."),
    ]:
        with pytest.raises(RefusedError) as caught, database.session() as session:
            generations.rate(session, generation_id, user_id=user_id, stars=4)
        assert (caught.value.code, caught.value.message) == (code, message)


def test_deleting_a_users_data_touches_only_that_user(database: Database) -> None:
    user_id, other = _user(database), _user(database, name="ada")
    _start(database, other)  # still processing: it must not block someone else's deletion
    with database.session() as session:
        mine, theirs = (session.get(User, uid).updated_at for uid in (user_id, other))
    with database.session() as session:
        assert forgetting.forget_user(session, user_id=user_id).generation_ids == []
    with database.session() as session:
        assert session.get(User, other).updated_at == theirs
        assert session.get(User, user_id).updated_at > mine, "the user's row is touched first, to queue behind a start"
