"""Likeness: each avatar's score, a generation's scores, and their sums and histogram in the rollups
(commit bdfb242, 2026-12-01).

From this layout on every rollup sum has a server default of 0, so that a column added later starts at 0
in the rows already there.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | None = None
depends_on: str | None = None

EARLIER_SUMS = (
    *("generations", "credits", "latency_count", "latency_sum_ms", *(f"rating_{stars}" for stars in range(1, 6))),
    *(f"le_{bound}s" for bound in (1, 2, 5, 10, 20, 30, 45, 60, 75, 90, 105, 120, 135, 150, 180, 240, 300, 420, 600)),
    "le_inf",
)
"""Revision 0002's sums, which had no server default."""
LIKENESS_SUMS = (
    *("likeness_scored", "likeness_ok", "likeness_sum_milli", "likeness_no_face"),
    *(f"likeness_le_{hundredths:03d}" for hundredths in range(5, 101, 5)),
)
"""Avatars scored, alike, the sum of their scores in thousandths, no face found, and the histogram."""


def upgrade() -> None:
    """Add the likeness columns; give the earlier rollup sums a server default (SQLite copies the table)."""
    op.add_column("avatars", sa.Column("likeness", sa.Float(), nullable=True))
    op.add_column("avatars", sa.Column("likeness_ok", sa.Boolean(), nullable=True))
    op.add_column("generations", sa.Column("likeness", sa.JSON(), nullable=True))
    with op.batch_alter_table("generation_rollups") as batch:
        for name in EARLIER_SUMS:
            batch.alter_column(name, existing_type=sa.BigInteger(), existing_nullable=False, server_default="0")
        for name in LIKENESS_SUMS:
            batch.add_column(sa.Column(name, sa.BigInteger(), server_default="0", nullable=False))


def downgrade() -> None:
    """Drop the likeness columns and the server defaults."""
    with op.batch_alter_table("generation_rollups") as batch:
        for name in LIKENESS_SUMS:
            batch.drop_column(name)
        for name in EARLIER_SUMS:
            batch.alter_column(name, existing_type=sa.BigInteger(), existing_nullable=False, server_default=None)
    op.drop_column("generations", "likeness")
    op.drop_column("avatars", "likeness_ok")
    op.drop_column("avatars", "likeness")
