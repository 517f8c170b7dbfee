"""A covering index for the dashboard's counts over a window (commit fa5ca57, 2026-11-24).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24
"""

from __future__ import annotations

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None

COUNTS = ("status", "model_key", "mode", "error_code", "engine", "epoch_hour", "generations", "credits")


def upgrade() -> None:
    """Index the rollups in the order the dashboard groups them, with the counts it sums."""
    op.create_index("ix_generation_rollups_counts", "generation_rollups", list(COUNTS), unique=False)


def downgrade() -> None:
    """Drop the index."""
    op.drop_index("ix_generation_rollups_counts", table_name="generation_rollups")
