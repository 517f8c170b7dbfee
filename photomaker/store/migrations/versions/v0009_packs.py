"""Avatar packs: each avatar's style; per generation the images asked for, kept, tried and alike at first, and the
credits given back for those not kept.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | None = None
depends_on: str | None = None

COUNTS = ("images_asked", "images_kept", "credits_refunded", "candidates", "alike_first_try")


def upgrade() -> None:
    """Add `avatars.style` and the generation's four counts, all nullable (older rows have none)."""
    op.add_column("avatars", sa.Column("style", sa.String(length=60), nullable=True))
    for name in COUNTS:
        op.add_column("generations", sa.Column(name, sa.Integer(), nullable=True))


def downgrade() -> None:
    """Drop them (plain `ALTER TABLE ... DROP COLUMN`: SQLite cannot copy `generations`, which others refer to)."""
    for name in COUNTS:
        op.drop_column("generations", name)
    op.drop_column("avatars", "style")
