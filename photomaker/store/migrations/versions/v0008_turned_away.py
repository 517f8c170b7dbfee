"""Requests turned away for too many refusals, counted per hour (commit a6877a1, 2026-12-06).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Create `turned_away`: one row per hour, keyed by the hour itself."""
    op.create_table(
        "turned_away",
        sa.Column("epoch_hour", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("requests", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("epoch_hour"),
    )


def downgrade() -> None:
    """Drop `turned_away`."""
    op.drop_table("turned_away")
