"""`python -m photomaker`: the same service from a terminal."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image

from photomaker.cli import main

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
    assert json.loads(capsys.readouterr().out)["credits"] == 250 - 36


def test_refusal_exits_2_with_the_message(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["generate", "--photo", str(FIXTURES / "coffee.png"), "--prompt", "a headshot", "--out", str(tmp_path)])
    assert code == 2
    assert "error [NO_FACE]" in capsys.readouterr().err
