"""`python -m photomaker pack`: a pack through the one job runner, its avatars copied under their download names,
refusals as one coded line that change nothing, and Ctrl-C: the question, its answers, and a real interrupt of
the whole command (as a terminal sends it, to every process of the command) that keeps what was made and refunds
exactly the rest."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from photomaker.cli.main import main
from photomaker.cli.pack import QUESTION, Cancelling
from photomaker.core.errors import RefusedError
from photomaker.generation.packs import PRESETS
from photomaker.images.avatar_files import download_name

ROOT = Path(__file__).parents[1]
FIXTURES = Path(__file__).parent / "fixtures"
PHOTO = str(FIXTURES / "astronaut.png")
STARTING = 250
BASIC_EACH, BASIC_BUNDLE_EACH = 18, 14
"""Basic's price per image, alone and in a request of 8 or more (seeds/models.json)."""


@pytest.fixture(autouse=True)
def _private_data(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))


def balance(capsys: pytest.CaptureFixture[str]) -> int:
    capsys.readouterr()
    assert main(["account"]) == 0
    return int(json.loads(capsys.readouterr().out)["credits"])


def ledger(capsys: pytest.CaptureFixture[str]) -> list[tuple[str, int, int | None]]:
    """The local user's credit history, oldest first."""
    capsys.readouterr()
    assert main(["credits", "history", "local", "--json"]) == 0
    lines = json.loads(capsys.readouterr().out)
    return [(line["kind"], line["delta"], line["generation_id"]) for line in reversed(lines)]


def test_a_pack_writes_its_avatars_named_by_style(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    pack = ["pack", "--styles", "Cinematic, Enhance", "--images-per-style", "2", "--tier", "basic", "--out", str(out)]
    assert main([*pack, "--prompt", "a headshot", PHOTO]) == 0
    printed = capsys.readouterr()
    names = ["cinematic-1.png", "cinematic-2.png", "enhance-1.png", "enhance-2.png"]
    assert sorted(path.name for path in out.iterdir()) == names
    assert printed.out.split() == [str(out / name) for name in names]
    assert re.search(r"Avatar [1-4] of 4 · (Cinematic|Enhance)", printed.err), printed.err
    details = json.loads(printed.err[printed.err.index("{") :])
    assert details["avatar_styles"] == ["Cinematic", "Cinematic", "Enhance", "Enhance"]
    assert (details["credits_charged"], details["credits_refunded"]) == (4 * BASIC_EACH, 0)
    assert balance(capsys) == STARTING - 4 * BASIC_EACH
    assert ledger(capsys)[-1] == ("charge", -4 * BASIC_EACH, details["generation_id"])


@pytest.mark.parametrize(
    ("options", "says"),
    [
        (["--styles", "Cinematic,Cinematik"], "error [INVALID_PARAMS]: Unknown style 'Cinematik'"),
        (["--styles", "Enhance,Enhance"], "error [INVALID_PARAMS]: 'Enhance' is listed twice"),
        (["--styles", "Enhance", "--preset", "Playful"], "error [INVALID_PARAMS]: Give either styles or a preset"),
        (["--styles", "Enhance", "--images-per-style", "5"], "error [INVALID_PARAMS]: Images per style must be"),
        (
            ["--preset", "Every style", "--images-per-style", "4", "--tier", "enterprise"],
            "error [INSUFFICIENT_CREDITS]: These 44 avatars cost 1232 credits and you have 250: "
            "enough for 8 enterprise avatars.",
        ),
        (["--styles", "Enhance", PHOTO, PHOTO, PHOTO, PHOTO], "error [TOO_MANY_PHOTOS]"),
    ],
    ids=["unknown", "twice", "styles-and-preset", "five-each", "too-expensive", "five-photos"],
)
def test_a_refused_pack_prints_its_code_and_changes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], options: list[str], says: str
) -> None:
    out = tmp_path / "out"
    assert main(["pack", "--prompt", "a headshot", "--out", str(out), *options, PHOTO]) == 2
    errors = [line for line in capsys.readouterr().err.splitlines() if line.startswith("error")]
    assert len(errors) == 1 and errors[0].startswith(says), errors
    assert not out.exists()
    assert balance(capsys) == STARTING and ledger(capsys) == [("grant", STARTING, None)]


def test_a_pack_is_not_copied_over_files_already_there(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "cinematic-1.png").write_bytes(b"mine")
    assert main(["pack", "--styles", "Cinematic", "--prompt", "a headshot", "--out", str(out), PHOTO]) == 2
    assert "is not empty" in capsys.readouterr().err
    assert (out / "cinematic-1.png").read_bytes() == b"mine"
    assert balance(capsys) == STARTING


class FakeJobs:
    """Records the cancels it is asked for; one that is over answers NOT_RUNNING."""

    def __init__(self, *, running: bool = True) -> None:
        self.running = running
        self.cancelled: list[tuple[int, str]] = []

    def cancel(self, generation_id: int, *, username: str) -> None:
        if not self.running:
            raise RefusedError("NOT_RUNNING")
        self.cancelled.append((generation_id, username))


class Answers:
    """An `ask` that gives its answers in turn (None: the input has ended; KeyboardInterrupt: Ctrl-C again), and
    keeps the questions it was asked."""

    def __init__(self, *answers: str | type[KeyboardInterrupt] | None) -> None:
        self.answers = iter(answers)
        self.questions: list[str] = []

    def __call__(self, question: str) -> str | None:
        self.questions.append(question)
        answer = next(self.answers)
        if answer is KeyboardInterrupt:
            raise KeyboardInterrupt
        return answer  # type: ignore[return-value]


@pytest.mark.parametrize(
    ("answer", "cancels"),
    [("y\n", True), ("YES\n", True), ("\n", False), ("n\n", False), (None, True), (KeyboardInterrupt, True)],
    ids=["y", "yes", "enter", "n", "end-of-input", "second-ctrl-c"],
)
def test_ctrl_c_asks_and_the_answer_decides(
    answer: str | type[KeyboardInterrupt] | None, cancels: bool, capsys: pytest.CaptureFixture[str]
) -> None:
    jobs, ask = FakeJobs(), Answers(answer)
    pack = Cancelling(jobs, "local", ask=ask)  # type: ignore[arg-type]
    pack.started(7)
    pack.interrupted()
    assert [question.strip() for question in ask.questions] == [QUESTION.strip()]
    assert (jobs.cancelled, pack.cancelled) == (([(7, "local")], True) if cancels else ([], False))
    said = capsys.readouterr().err
    assert ("Cancelling" in said) is cancels and ("Going on." in said) is not cancels
    if not cancels:
        ask.answers = iter(["\n"])
    pack.interrupted()
    assert len(ask.questions) == 1 + (not cancels), "once cancelling, Ctrl-C does not ask again"


def test_a_cancel_asked_before_the_pack_is_charged_is_passed_on_when_it_is() -> None:
    jobs = FakeJobs()
    pack = Cancelling(jobs, "local", ask=Answers("y\n"))  # type: ignore[arg-type]
    pack.interrupted()
    assert jobs.cancelled == [] and not pack.cancelled
    pack.started(9)
    assert jobs.cancelled == [(9, "local")] and pack.cancelled


def test_a_cancel_after_the_pack_ended_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    pack = Cancelling(FakeJobs(running=False), "local", ask=Answers("y\n"))  # type: ignore[arg-type]
    pack.started(3)
    pack.interrupted()
    assert not pack.cancelled and "not running any more" in capsys.readouterr().err


MAKING = re.compile(r"Checking the likeness|Saving your avatars|Avatar ([2-9]|10) of 11")
"""A line that says the pack's first style has been made."""


def test_ctrl_c_in_a_terminal_cancels_the_rest_of_a_real_pack(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every process of the command gets the SIGINT, as from a terminal: the face models' workers too."""
    out = tmp_path / "out"
    environment = {name: value for name, value in os.environ.items() if name != "DATABASE_URL"}
    command = ["pack", "--preset", "Every style", "--tier", "basic", "--prompt", "a headshot", "--out", str(out), PHOTO]
    process = subprocess.Popen(
        [sys.executable, "-m", "photomaker", *command],
        cwd=ROOT,
        env=environment,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    watchdog = threading.Timer(120, process.kill)
    watchdog.start()
    assert process.stderr is not None and process.stdin is not None
    seen = []
    for line in process.stderr:
        seen.append(line)
        if MAKING.search(line):
            os.killpg(process.pid, signal.SIGINT)
            process.stdin.write("y\n")
            process.stdin.flush()
            break
    printed, rest = process.communicate(timeout=120)
    watchdog.cancel()
    said = "".join(seen) + rest
    assert process.returncode == 130, said[-3000:]
    kept = len(printed.split())
    assert 1 <= kept < len(PRESETS["Every style"]), said[-3000:]
    names = [download_name(style, 1) for style in PRESETS["Every style"][:kept]]
    assert printed.split() == [str(out / name) for name in names]
    assert sorted(path.name for path in out.iterdir()) == sorted(names)
    assert QUESTION in said
    # The avatars kept are paid at the price of asking for that many: the bundle price only from 8.
    paid = kept * (BASIC_BUNDLE_EACH if kept >= 8 else BASIC_EACH)
    refund = 11 * BASIC_BUNDLE_EACH - paid
    assert f"Cancelled: {kept} of 11 avatars kept and charged, {refund} credits refunded." in said
    assert ledger(capsys) == [("grant", STARTING, None), ("charge", -11 * BASIC_BUNDLE_EACH, 1), ("refund", refund, 1)]
    assert balance(capsys) == STARTING - paid
