"""Leases: the process making a generation, and until when it vouches for it (commit f2976f8, 2026-12-01).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Add `generations.owner` and `generations.lease_until` (NULL on rows made before leases)."""
    op.add_column("generations", sa.Column("owner", sa.String(length=120), nullable=True))
    op.add_column("generations", sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    """Drop the lease columns."""
    op.drop_column("generations", "lease_until")
    op.drop_column("generations", "owner")
