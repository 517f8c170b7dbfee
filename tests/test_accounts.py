"""Credits an operator manages and a user's own data (export, deletion), on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import zipfile
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import func, update
from sqlmodel import col, select

from photomaker.core.errors import PhotoMakerError, RefusedError
from photomaker.images.uploaded_photos import PhotoUpload
from photomaker.startup.runtime import Runtime
from photomaker.store import (
    Avatar,
    CreditTransaction,
    Generation,
    Project,
    User,
    forgetting,
    generation_queries,
    generations,
    idempotency,
    rollup_rebuild,
)
from photomaker.store.models import IdempotencyKey
from tests.helpers import held, snapshot

pytestmark = pytest.mark.both_databases  # the store's own behaviour: on SQLite and PostgreSQL

FIXTURES = Path(__file__).parent / "fixtures"


def _generate(app: Runtime, username: str, *, num_images: int = 1, project: str = "My avatars") -> int:
    params = dict(
        prompt="a professional headshot, studio lighting",
        negative_prompt="sunglasses",
        tier="basic",
        num_images=num_images,
        project=project,
    )
    photos = [PhotoUpload.from_path(FIXTURES / "astronaut.png")]
    return app.service.generate_avatar(username, photos, params).generation_id


def _refused(app: Runtime, username: str) -> None:
    photos = [PhotoUpload.from_path(FIXTURES / "coffee.png")]
    with pytest.raises(RefusedError):
        app.service.generate_avatar(username, photos, {"prompt": "my cup, a still life"})


def _count(app: Runtime, table: type) -> int:
    with app.database.session() as session:
        return session.exec(select(func.count()).select_from(table)).one()


def _ledger(app: Runtime) -> list[tuple[int, str, int, int, str]]:
    with app.database.session() as session:
        rows = session.exec(select(CreditTransaction).order_by(CreditTransaction.id)).all()
        return [(row.user_id, row.kind, row.delta, row.balance_after, row.note) for row in rows]


def _generations(app: Runtime, username: str) -> list[Generation]:
    with app.database.session() as session:
        user = session.exec(select(User).where(User.username == username)).one()
        return list(session.exec(select(Generation).where(Generation.user_id == user.id).order_by(Generation.id)))


def _dumps(app: Runtime, username: str) -> list[dict]:
    return [row.model_dump() for row in _generations(app, username)]


def _files(app: Runtime, generation_id: int) -> list[Path]:
    with app.database.session() as session:
        saved = generation_queries.avatars_of(session, generation_id)
    return [app.service.storage.path(avatar.image_path) for avatar in saved]


# Credits


def test_grant_and_take_back_write_ledger_lines_with_the_reason(app: Runtime) -> None:
    app.accounts.sign_in("alice")
    assert app.accounts.grant("  alice ", 100, reason="  welcome \n back ", by=" ops ") == 350
    assert app.accounts.grant("alice", -350, reason="closing the account", by="ops") == 0
    assert app.accounts.account("alice").credits == 0
    entries = app.accounts.credit_history("alice")
    assert [(entry.kind, entry.delta, entry.balance_after, entry.note) for entry in entries] == [
        ("revoke", -350, 0, "closing the account (by ops)"),
        ("grant", 100, 350, "welcome back (by ops)"),
        ("grant", 250, 250, "starting credits"),
    ]


def test_grant_to_an_unknown_user_is_refused_and_creates_nobody(app: Runtime) -> None:
    with pytest.raises(RefusedError) as caught:
        app.accounts.grant("nobody", 50, reason="gift", by="ops")
    assert caught.value.code == "INVALID_PARAMS"
    assert "no user 'nobody'" in caught.value.message and "check the name" in caught.value.message
    assert (_count(app, User), _count(app, CreditTransaction)) == (0, 0)


@pytest.mark.parametrize(
    ("amount", "reason", "says"),
    [
        (0, "nothing", "changes nothing"),
        (10, " \t ", "give a reason"),
        (-251, "too much", "the balance is 250"),
        (2.5, "half", "whole numbers"),
        (None, "nothing", "whole numbers"),
        ("abc", "text", "whole numbers"),
        (float("nan"), "not a number", "whole numbers"),
        (10, None, "give a reason"),
    ],
)
def test_refused_grants_change_nothing(app: Runtime, amount: int, reason: str, says: str) -> None:
    app.accounts.sign_in("alice")
    with pytest.raises(RefusedError) as caught:
        app.accounts.grant("alice", amount, reason=reason, by="ops")
    assert caught.value.code == "INVALID_PARAMS" and says in caught.value.message
    assert app.accounts.account("alice").credits == 250
    assert len(_ledger(app)) == 1


def test_credit_history_links_the_charge_to_its_generation(app: Runtime) -> None:
    generation_id = _generate(app, "alice", num_images=2)
    app.accounts.grant("alice", 5, reason="sorry for the wait", by="ops")
    entries = app.accounts.credit_history("alice")
    assert [(entry.kind, entry.delta, entry.balance_after, entry.generation_id) for entry in entries] == [
        ("grant", 5, 219, None),
        ("charge", -36, 214, generation_id),
        ("grant", 250, 250, None),
    ]
    assert [entry.kind for entry in app.accounts.credit_history("alice", limit=1)] == ["grant"]
    line = json.loads(json.dumps(entries[1].as_dict()))
    assert line == {
        "time": line["time"],
        "kind": "charge",
        "delta": -36,
        "balance_after": 214,
        "generation_id": generation_id,
        "note": "",
    }
    assert datetime.fromisoformat(line["time"]) == entries[1].time
    assert entries[1].time.utcoffset().total_seconds() == 0


def test_credit_history_of_a_stranger_is_empty_and_creates_nobody(app: Runtime) -> None:
    assert app.accounts.credit_history("stranger") == []
    assert _count(app, User) == 0


# Export


def _unzip(path: Path) -> tuple[dict[str, bytes], list[dict], list[dict]]:
    with zipfile.ZipFile(path) as archive:
        assert archive.testzip() is None
        members = {name: archive.read(name) for name in archive.namelist()}
    return members, json.loads(members["generations.json"]), json.loads(members["credit_history.json"])


def test_export_holds_avatars_generations_and_credits_without_server_paths(app: Runtime, tmp_path: Path) -> None:
    made = _generate(app, "alice", num_images=2, project="Holiday")
    _refused(app, "alice")
    app.gallery.rate("alice", made, 5)
    _generate(app, "bob")
    target = app.accounts.export_data(" alice ", tmp_path / "export" / "alice.zip")
    assert target == tmp_path / "export" / "alice.zip"
    assert [path.name for path in target.parent.iterdir()] == ["alice.zip"]
    members, records, history = _unzip(target)
    images = [f"avatars/generation-{made}-avatar-1.png", f"avatars/generation-{made}-avatar-2.png"]
    assert sorted(members) == sorted([*images, "generations.json", "credit_history.json"])
    for name, path in zip(images, _files(app, made), strict=True):
        assert members[name] == path.read_bytes()
    completed, refused = records
    assert completed["id"] == made and completed["status"] == "completed" and completed["mode"] == "photo"
    assert completed["project"] == "Holiday" and completed["rating"] == 5
    assert completed["model_key"] == "avatar-creator:photomaker-basic" and completed["credits_charged"] == 36
    assert "a professional headshot" in completed["prompt"] and "sunglasses" in completed["negative_prompt"]
    assert completed["params"]["num_images"] == 2 and completed["seed"] is not None
    assert completed["avatars"] == images
    assert datetime.fromisoformat(completed["created_at"]) <= datetime.fromisoformat(completed["completed_at"])
    assert (refused["status"], refused["error_code"], refused["avatars"]) == ("rejected", "NO_FACE", [])
    assert refused["prompt"] == "my cup, a still life"
    assert [(line["kind"], line["delta"], line["generation_id"]) for line in history] == [
        ("charge", -36, made),
        ("grant", 250, None),
    ]
    for name in ("generations.json", "credit_history.json"):
        assert str(app.settings.data_dir).encode() not in members[name]
        assert ("/" + "tmp").encode() not in members[name]


def test_export_leaves_out_avatar_files_already_gone(app: Runtime, tmp_path: Path) -> None:
    made = _generate(app, "alice", num_images=2)
    _files(app, made)[0].unlink()
    members, records, _ = _unzip(app.accounts.export_data("alice", tmp_path / "alice.zip"))
    assert records[0]["avatars"] == [f"avatars/generation-{made}-avatar-2.png"]
    assert f"avatars/generation-{made}-avatar-2.png" in members
    assert f"avatars/generation-{made}-avatar-1.png" not in members


def test_export_of_a_stranger_is_a_valid_empty_zip(app: Runtime, tmp_path: Path) -> None:
    members, records, history = _unzip(app.accounts.export_data("stranger", tmp_path / "empty.zip"))
    assert (sorted(members), records, history) == (["credit_history.json", "generations.json"], [], [])
    assert _count(app, User) == 0


# Deletion


def test_delete_removes_avatars_and_projects_and_blanks_generations(app: Runtime) -> None:
    made = _generate(app, "alice", num_images=2, project="Holiday")
    _refused(app, "alice")
    app.gallery.rate("alice", made, 4)
    theirs = _generate(app, "bob", project="Bob's")
    alice_files, bob_files = _files(app, made), _files(app, theirs)
    kept = {
        row.id: (row.status, row.credits_charged, row.seed, row.rating, row.error_code)
        for row in _generations(app, "alice")
    }
    rollups, ledger, bob_before = snapshot(app.database), _ledger(app), _dumps(app, "bob")
    with app.database.session() as session:
        session.execute(update(Generation).where(col(Generation.id) == made).values(notes=["alice.jpg held two faces"]))
        for username in ("alice", "bob"):
            idempotency.claim(session, username=username, key="k", fingerprint="f")

    summary = app.accounts.delete_data(" alice ")

    assert summary.as_dict() == {"generations_anonymised": 2, "avatars_deleted": 2, "projects_deleted": 1}
    assert alice_files and not any(path.exists() for path in alice_files)
    assert not alice_files[0].parent.exists()
    rows = _generations(app, "alice")
    assert {row.id: (row.status, row.credits_charged, row.seed, row.rating, row.error_code) for row in rows} == kept
    for row in rows:
        assert (row.prompt, row.negative_prompt, row.error_message, row.project_id) == ("", "", None, None)
        assert row.notes is None
        assert set(row.params) <= set(forgetting.KEPT_PARAMS)
    assert rows[0].params == {
        "tier": "basic",
        "num_images": 2,
        "steps": 50,
        "guidance_scale": 7.5,
        "width": 512,
        "height": 512,
    }
    assert _dumps(app, "bob") == bob_before
    assert all(path.exists() for path in bob_files)
    with app.database.session() as session:
        assert session.exec(select(Project.name).order_by(Project.id)).all() == ["Bob's"]
        assert session.exec(select(IdempotencyKey.username)).all() == ["bob"], "keys hold what the user sent"
    assert snapshot(app.database) == rollups
    rollup_rebuild.rebuild_now(app.database)
    assert snapshot(app.database) == rollups, "the blanked rows still add up to the same rollups"
    assert _ledger(app) == ledger
    assert app.accounts.account("alice").credits == 250 - 36


def test_a_second_delete_finds_nothing_and_succeeds(app: Runtime, tmp_path: Path) -> None:
    made = _generate(app, "alice")
    app.accounts.delete_data("alice")
    assert app.accounts.delete_data("alice").as_dict() == {
        "generations_anonymised": 0,
        "avatars_deleted": 0,
        "projects_deleted": 0,
    }
    members, records, history = _unzip(app.accounts.export_data("alice", tmp_path / "after.zip"))
    assert sorted(members) == ["credit_history.json", "generations.json"]
    assert [(r["id"], r["prompt"], r["project"], r["avatars"]) for r in records] == [(made, "", None, [])]
    assert len(history) == 2
    assert _count(app, Avatar) == 0


def test_delete_of_a_stranger_creates_nobody(app: Runtime) -> None:
    assert app.accounts.delete_data("stranger").as_dict() == {
        "generations_anonymised": 0,
        "avatars_deleted": 0,
        "projects_deleted": 0,
    }
    assert _count(app, User) == 0


def test_delete_is_refused_while_a_generation_is_processing(app: Runtime) -> None:
    made = _generate(app, "alice", project="Holiday")
    with app.database.session() as session:
        user = session.exec(select(User).where(User.username == "alice")).one()
        draft = generations.Draft(
            user_id=user.id,
            model_key="avatar-creator:photomaker-basic",
            mode="photo",
            engine="preview",
            prompt="in flight",
        )
        busy = generations.start(session, draft, cost=18, rate_limit_per_min=100, **held()).id
    before, files, ledger = _dumps(app, "alice"), _files(app, made), _ledger(app)
    with pytest.raises(PhotoMakerError) as caught:
        app.accounts.delete_data("alice")
    assert caught.value.code == "INVALID_PARAMS"
    assert f"Generation #{busy} is still being made; wait for your generation to finish" in caught.value.message
    assert _dumps(app, "alice") == before and _ledger(app) == ledger
    assert all(path.exists() for path in files) and _count(app, Avatar) == 1
    assert [project.name for project in app.projects.list("alice")] == ["Holiday"]
