"""The likeness check's tally in the rollups: sums of the Photo to Avatar images asked for, kept, made (second tries
included) and alike at their first try.

The rows counted before are not converted: the rollups' layout changes with these columns, so the app rebuilds
every rollup from the generation rows on its next start.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | None = None
depends_on: str | None = None

GATING_SUMS = ("images_asked", "images_kept", "candidates", "alike_first_try")


def upgrade() -> None:
    """Add the four sums, 0 in the rows already there."""
    with op.batch_alter_table("generation_rollups") as batch:
        for name in GATING_SUMS:
            batch.add_column(sa.Column(name, sa.BigInteger(), server_default="0", nullable=False))


def downgrade() -> None:
    """Drop them; the rollups need a rebuild by the code of that layout."""
    with op.batch_alter_table("generation_rollups") as batch:
        for name in GATING_SUMS:
            batch.drop_column(name)
