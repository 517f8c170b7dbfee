"""Tiny random PhotoMaker V2 weights, built once per test session and saved as `LOCAL_MODEL_DIR` expects."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("torch", reason="the local engine's tests need the `local` extra: pip install -e '.[local]'")

from photomaker.engines.local.random_weights import write_model_dir  # noqa: E402


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_model_dir(tmp_path_factory.mktemp("tiny-photomaker"), size="tiny")
