"""Seeding: the catalogue as data, upserted by model key, idempotent."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlmodel import select

from photomaker.generation.catalogue import load_seed_models
from photomaker.startup.records import seed_models
from photomaker.store import AIModel, Database

pytestmark = pytest.mark.both_databases  # the store's own behaviour: on SQLite and PostgreSQL

ROOT = Path(__file__).parents[1]


def test_catalogue_has_the_three_tiers_and_a_text_model() -> None:
    specs = {spec.model_key: spec for spec in load_seed_models()}
    expected = {
        "avatar-creator:photomaker-basic": ("basic", 18, 512, 20, 60, 90),
        "avatar-creator:photomaker-pro": ("pro", 25, 1024, 25, 90, 120),
        "avatar-creator:photomaker-enterprise": ("enterprise", 35, 1536, 30, 120, 180),
    }
    for key, (tier, cost, side, strength, eta_min, eta_max) in expected.items():
        spec = specs[key]
        assert (spec.tier, spec.credit_cost, spec.width, spec.height) == (tier, cost, side, side)
        assert (spec.default_style_strength, spec.eta_min_s, spec.eta_max_s) == (strength, eta_min, eta_max)
        assert (spec.steps, spec.guidance_scale, spec.mode) == (50, 7.5, "photo")
        assert spec.capabilities["min_photos"] == 1 and spec.capabilities["max_photos"] == 4
        assert spec.features
    assert any(spec.mode == "text" for spec in specs.values())


def test_seeding_twice_changes_nothing(database: Database) -> None:
    total, inserted, updated = seed_models(database)
    assert (inserted, updated) == (total, 0)
    assert seed_models(database) == (total, 0, 0)
    with database.session() as session:
        assert len(session.exec(select(AIModel)).all()) == total


def test_seeding_restores_a_changed_price(database: Database) -> None:
    seed_models(database)
    with database.session() as session:
        row = session.exec(select(AIModel).where(AIModel.tier == "pro")).one()
        row.credit_cost = 1
        session.add(row)
    _, inserted, updated = seed_models(database)
    assert (inserted, updated) == (0, 1)
    with database.session() as session:
        assert session.exec(select(AIModel.credit_cost).where(AIModel.tier == "pro")).one() == 25


def test_python_m_seeds_prints_and_is_idempotent(tmp_path: Path) -> None:
    env = {**os.environ, "DATA_DIR": str(tmp_path)}
    outputs = [
        subprocess.run([sys.executable, "-m", "seeds"], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
        for _ in range(2)
    ]
    for done in outputs:
        assert "Seeded 4 AI models (including 3 PhotoMaker models)" in done.stdout
    assert "0 added, 0 updated, 4 unchanged" in outputs[1].stdout
