"""Latency buckets from 0.1 s, the fastest and slowest times, and the rollups' recorded layout
(commit b618400, 2026-12-01).

The rows counted in the old buckets are not converted: with no layout recorded in `rollup_meta`, the app
rebuilds every rollup from the generation rows on its next start.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | None = None
depends_on: str | None = None

SECONDS = (1, 2, 5, 10, 20, 30, 45, 60, 75, 90, 105, 120, 135, 150, 180, 240, 300, 420, 600)
RETIRED = tuple(f"le_{bound}s" for bound in SECONDS)
"""The whole-second buckets this layout drops (`le_inf` stays)."""
MILLISECONDS = (
    *(100, 250, 500, 750, 1000, 1500, 2000, 3000, 4000, 5000, 6000, 8000, 10000, 15000, 20000, 30000, 45000),
    *(60000, 75000, 90000, 105000, 120000, 135000, 150000, 180000, 240000, 300000, 420000, 600000),
)
BUCKETS = tuple(f"le_{bound}ms" for bound in MILLISECONDS)
EXTREMES = ("latency_min_ms", "latency_max_ms")


def upgrade() -> None:
    """Swap the latency buckets, add the extremes, and create `rollup_meta`."""
    with op.batch_alter_table("generation_rollups") as batch:
        for name in RETIRED:
            batch.drop_column(name)
        for name in BUCKETS:
            batch.add_column(sa.Column(name, sa.BigInteger(), server_default="0", nullable=False))
        for name in EXTREMES:
            batch.add_column(sa.Column(name, sa.BigInteger(), nullable=True))
    op.create_table(
        "rollup_meta",
        sa.Column("key", sa.String(length=40), nullable=False),
        sa.Column("value", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )


def downgrade() -> None:
    """Back to the whole-second buckets; the rollups need a rebuild by the code of that layout."""
    op.drop_table("rollup_meta")
    with op.batch_alter_table("generation_rollups") as batch:
        for name in (*EXTREMES, *BUCKETS):
            batch.drop_column(name)
        for name in RETIRED:
            batch.add_column(sa.Column(name, sa.BigInteger(), server_default="0", nullable=False))
