"""`python -m photomaker`: the same service from a terminal."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image
from sqlmodel import select

from photomaker.cli.main import main
from photomaker.core.settings import Settings
from photomaker.startup.runtime import start_runtime
from photomaker.store import Generation, generation_queries, generations, users
from tests.helpers import held

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(autouse=True)
def _private_data(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))


def test_generate_writes_avatars_and_charges(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    code = main(
        [
            "generate",
            "--photo",
            str(FIXTURES / "astronaut.png"),
            "--prompt",
            "a headshot",
            "--tier",
            "basic",
            "--num-images",
            "2",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    files = sorted(out.glob("*.png"))
    assert len(files) == 2
    assert all(Image.open(f).size == (512, 512) for f in files)
    assert (FIXTURES / "astronaut.png").exists(), "the user's own photo is never deleted"
    capsys.readouterr()
    assert main(["account"]) == 0
    account = json.loads(capsys.readouterr().out)
    assert account["credits"] == 250 - 36
    assert account["is_admin"] is True, "off a Space the local user is the operator, as /account says"


def test_refusal_exits_2_with_the_message(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["generate", "--photo", str(FIXTURES / "coffee.png"), "--prompt", "a headshot", "--out", str(tmp_path)])
    assert code == 2
    assert "error [NO_FACE]" in capsys.readouterr().err


def test_generate_reports_each_avatars_likeness(capsys: pytest.CaptureFixture[str]) -> None:
    views = ["--photo", str(FIXTURES / "newton-1689.jpg"), "--photo", str(FIXTURES / "newton-1702.jpg")]
    assert main(["generate", *views, "--prompt", "a headshot", "--tier", "basic", "--num-images", "2"]) == 0
    err = capsys.readouterr().err
    details = json.loads(err[err.index("{") :])
    assert details["likeness_ok"] == [True, True] and len(details["likeness"]) == 2


def test_photos_of_two_people_are_refused_naming_the_odd_one(capsys: pytest.CaptureFixture[str]) -> None:
    people = ["--photo", str(FIXTURES / "newton-1702.jpg"), "--photo", str(FIXTURES / "astronaut.png")]
    assert main(["generate", *people, "--prompt", "a headshot"]) == 2
    assert "error [DIFFERENT_PEOPLE]: astronaut.png does not show the same person as newton-1702.jpg" in (
        capsys.readouterr().err
    )
    assert main(["account"]) == 0
    assert json.loads(capsys.readouterr().out)["credits"] == 250


def _stats(capsys: pytest.CaptureFixture[str], *options: str) -> list[str]:
    capsys.readouterr()
    assert main(["stats", *options]) == 0
    return capsys.readouterr().out.splitlines()


def test_stats_reports_the_four_spec_figures_then_the_rest(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    photo = ["--photo", str(FIXTURES / "astronaut.png"), "--prompt", "a headshot", "--out", str(tmp_path)]
    assert main(["generate", *photo, "--tier", "basic"]) == 0
    assert main(["generate", "--photo", str(FIXTURES / "coffee.png"), "--prompt", "x", "--out", str(tmp_path)]) == 2
    lines = _stats(capsys, "--window", "7d")
    assert lines[0].startswith("Window: last 7 days (since ")
    assert lines[1:5] == ["Total generations: 2", lines[2], "Successful: 1", "Failed: 0"]
    assert lines[2].startswith("Average time: ") and lines[2].endswith(" s")
    assert "Refused: 1" in lines
    assert "  Success rate: 100.0% (target > 95.0%: met)" in lines
    assert "  Satisfaction: n/a (target > 4.50 / 5: no data)" in lines
    assert "Refused with NO_FACE: 1" in lines
    adoption = "  Photo-to-avatar adoption: n/a (target > 30.0%: one tier has one mode: choose All tiers)"
    assert adoption in _stats(capsys, "--window", "7d", "--tier", "basic")
    capsys.readouterr()
    assert main(["stats", "--window", "24h", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert (summary["total"], summary["completed"], summary["rejected"]) == (2, 1, 1)
    assert summary["credits_spent"] == 18


def test_demo_history_stats_rebuild_and_delete(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo-history", "--days", "2", "--per-day", "30", "--seed", "5"]) == 0
    assert "added 60 synthetic generations over 2 days" in capsys.readouterr().out
    lines = _stats(capsys, "--window", "7d")
    assert "Total generations: 60" in lines
    assert "Total generations: 0" in _stats(capsys, "--window", "7d", "--hide-synthetic")
    assert main(["metrics", "rebuild"]) == 0
    assert "from 60 finished generations" in capsys.readouterr().out
    assert _stats(capsys, "--window", "7d") == lines
    assert main(["demo-history", "--delete"]) == 0
    assert "deleted 60 synthetic generations" in capsys.readouterr().out
    assert "Total generations: 0" in _stats(capsys, "--window", "all")


def test_stats_refuses_an_unknown_tier(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["stats", "--tier", "gold"]) == 2
    assert "error [INVALID_PARAMS]: Unknown tier 'gold'" in capsys.readouterr().err


def test_cleanup_reports_what_it_deleted(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["cleanup", "--days", "7"]) == 0
    assert "deleted the avatars of 0 generations older than 7 days" in capsys.readouterr().out


def test_a_control_character_in_a_prompt_is_refused_and_recorded(capsys: pytest.CaptureFixture[str]) -> None:
    photo = str(FIXTURES / "astronaut.png")
    assert main(["generate", "--photo", photo, "--prompt", "a head\x07shot", "--tier", "basic"]) == 2
    said = capsys.readouterr().err
    assert "error [INVALID_PARAMS]: Prompt contains a character we do not accept (U+0007)" in said
    runtime = start_runtime(Settings(), tidy=False)
    with runtime.database.reading() as session:
        row = session.exec(select(Generation)).one()
    runtime.close()
    assert (row.status, row.error_code, row.prompt) == ("rejected", "INVALID_PARAMS", "a headshot")


def test_reading_commands_never_recover_a_generation(capsys: pytest.CaptureFixture[str]) -> None:
    """Even a row whose lease ran out is left to the app and to `cleanup`: reading changes nothing."""
    runtime = start_runtime(Settings(), tidy=False)
    with runtime.database.session() as session:
        user = users.get_or_create_user(session, "local", starting_credits=250)
        draft = generations.Draft(user_id=user.id, model_key="avatar-creator:photomaker-pro", mode="photo", engine="x")
        stuck = generations.start(session, draft, cost=25, rate_limit_per_min=10, **held(minutes=-1)).id
    for command in (["stats"], ["account"], ["credits", "history", "local"], ["metrics", "rebuild"]):
        assert main(command) == 0
        with runtime.database.reading() as session:
            assert generation_queries.get(session, stuck).status == "processing", command
    assert main(["cleanup"]) == 0
    assert "refunded 1 generation left unfinished" in capsys.readouterr().out
    with runtime.database.reading() as session:
        assert generation_queries.get(session, stuck).status == "failed"
    runtime.close()


def _signed_in(username: str) -> None:
    """`username` has opened the page once, which opens their account (reading a balance does not)."""
    runtime = start_runtime(Settings())
    runtime.accounts.sign_in(username)
    runtime.database.dispose()


def test_credits_grant_take_back_and_history(capsys: pytest.CaptureFixture[str]) -> None:
    _signed_in("alice")
    assert main(["credits", "grant", "alice", "100", "--reason", "welcome back"]) == 0
    assert capsys.readouterr().out == "alice: +100 credits, the balance is now 350\n"
    assert main(["credits", "grant", "alice", "-30", "--reason", "refund of a test"]) == 0
    assert capsys.readouterr().out == "alice: -30 credits, the balance is now 320\n"
    assert main(["credits", "history", "alice"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3
    assert lines[0].split()[2:] == ["revoke", "-30", "balance", "320", "-", "refund", "of", "a", "test", "(by", "cli)"]
    assert lines[1].split()[2:5] == ["grant", "+100", "balance"] and lines[1].endswith("welcome back (by cli)")
    assert lines[2].endswith("starting credits")
    assert main(["credits", "history", "alice", "--json", "--limit", "2"]) == 0
    history = json.loads(capsys.readouterr().out)
    assert [(line["kind"], line["delta"], line["balance_after"]) for line in history] == [
        ("revoke", -30, 320),
        ("grant", 100, 350),
    ]
    assert main(["account", "--user", "alice"]) == 0
    assert json.loads(capsys.readouterr().out)["credits"] == 320


def test_credits_refusals_exit_2_and_change_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["credits", "grant", "nobody", "50", "--reason", "gift"]) == 2
    assert "error [INVALID_PARAMS]: There is no user 'nobody'" in capsys.readouterr().err
    _signed_in("alice")
    assert main(["credits", "grant", "alice", "-251", "--reason", "too much"]) == 2
    assert "the balance is 250" in capsys.readouterr().err
    assert main(["credits", "grant", "alice", "0", "--reason", "nothing"]) == 2
    assert "error [INVALID_PARAMS]" in capsys.readouterr().err
    assert main(["credits", "history", "alice", "--json"]) == 0
    assert [line["kind"] for line in json.loads(capsys.readouterr().out)] == ["grant"]


def test_credits_history_of_a_stranger_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["credits", "history", "stranger"]) == 0
    assert capsys.readouterr().out == "no credit history for 'stranger'\n"
    assert main(["credits", "history", "stranger", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []


def test_generate_without_out_writes_nowhere_but_the_data_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    here = tmp_path / "checkout"
    here.mkdir()
    monkeypatch.chdir(here)
    assert main(["generate", "--photo", str(FIXTURES / "astronaut.png"), "--prompt", "a headshot"]) == 0
    printed = [Path(line) for line in capsys.readouterr().out.splitlines()]
    assert len(printed) == 1 and printed[0].is_file()
    assert printed[0].is_relative_to(tmp_path / "data"), "the avatar stays where the app keeps it"
    assert list(here.iterdir()) == [], "nothing is written in the folder the command runs from"


def test_projects_are_listed_made_renamed_and_deleted(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["projects", "list"]) == 0
    assert "local has no projects yet" in capsys.readouterr().out
    assert main(["projects", "create", "  Holiday   portraits "]) == 0
    made = capsys.readouterr().out
    assert "Holiday portraits" in made and "0 generations, 0 avatars" in made
    number = made.split()[0].lstrip("#")
    assert main(["projects", "create", "Holiday portraits"]) == 2
    assert "error [NAME_TAKEN]" in capsys.readouterr().err
    assert main(["projects", "rename", number, "Summer"]) == 0
    capsys.readouterr()
    assert main(["projects", "create", "Winter", "--user", "alice"]) == 0
    capsys.readouterr()
    assert main(["projects", "list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [(each["id"], each["name"]) for each in listed] == [(int(number), "Summer")]
    assert main(["projects", "rename", number, "Mine", "--user", "alice"]) == 2
    assert "error [NOT_FOUND]" in capsys.readouterr().err, "another user's project is not found"
    assert main(["projects", "delete", number]) == 0
    assert f"deleted project #{number}: 0 avatars" in capsys.readouterr().out
    assert main(["projects", "delete", number]) == 2
    assert main(["projects", "rename", "abc", "x"]) == 2
    assert "error [NOT_FOUND]" in capsys.readouterr().err
