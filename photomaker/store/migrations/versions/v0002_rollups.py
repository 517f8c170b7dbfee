"""Hourly rollups of finished generations, and generations by time (commit fa15814, 2026-11-24).

The first rollup layout: sums without a server default, and latency buckets in whole seconds.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None

KEY = ("epoch_hour", "model_key", "mode", "status", "engine", "error_code")
SUMS = ("generations", "credits", "latency_count", "latency_sum_ms", *(f"rating_{stars}" for stars in range(1, 6)))
"""The sums of this layout beside its latency buckets; revision 0004 gives them a server default."""
SECONDS = (1, 2, 5, 10, 20, 30, 45, 60, 75, 90, 105, 120, 135, 150, 180, 240, 300, 420, 600)
LATENCY = (*(f"le_{bound}s" for bound in SECONDS), "le_inf")
"""The latency buckets of this layout; revision 0006 replaces all but `le_inf`."""


def upgrade() -> None:
    """Create `generation_rollups` in its first layout; index generations by their time."""
    op.create_table(
        "generation_rollups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("epoch_hour", sa.Integer(), nullable=False),
        sa.Column("model_key", sa.String(length=120), nullable=False),
        sa.Column("mode", sa.String(length=10), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("engine", sa.String(length=40), nullable=False),
        sa.Column("error_code", sa.String(length=40), nullable=False),
        *(sa.Column(name, sa.BigInteger(), nullable=False) for name in (*SUMS, *LATENCY)),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint(*KEY, name="uq_generation_rollups_key"),
    )
    op.create_index("ix_generations_created", "generations", ["created_at"], unique=False)


def downgrade() -> None:
    """Drop the rollups and the index."""
    op.drop_index("ix_generations_created", table_name="generations")
    op.drop_table("generation_rollups")
