"""Managers' overrides of the bake plan: one row per override, the latest per store, product and day in force.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    from bakery.app.db import UTCDateTime

    if "bake_overrides" in sa.inspect(op.get_bind()).get_table_names():
        return  # a database the app created with create_all from today's models already has it
    op.create_table(
        "bake_overrides",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("store_id", sa.String(100), nullable=False),
        sa.Column("product_id", sa.String(100), nullable=False),
        sa.Column("date", sa.Date, nullable=False),
        sa.Column("plan_quantity", sa.Float, nullable=False),
        sa.Column("quantity", sa.Float, nullable=False),
        sa.Column("reason_code", sa.String(16), nullable=False),
        sa.Column("note", sa.Text, nullable=True),
        sa.Column("username", sa.String(200), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
    )
    op.create_index("ix_bake_overrides_store_date", "bake_overrides", ["store_id", "date", "product_id"])


def downgrade() -> None:
    op.drop_index("ix_bake_overrides_store_date", "bake_overrides")
    op.drop_table("bake_overrides")
