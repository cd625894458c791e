"""Login throttle counters per client address, per user name and client, and per user name, with an expiry.

The old per-name lockout rows are short-lived state (at most 15 minutes of lockout), so the table is replaced
rather than converted.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_table("login_attempts")
    op.create_table(
        "login_attempts",
        sa.Column("scope", sa.String(8), nullable=False),
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("client", sa.String(64), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("window_start", sa.Float, nullable=False),
        sa.Column("blocked_until", sa.Float, nullable=False),
        sa.Column("delay", sa.Float, nullable=False),
        sa.Column("refused", sa.Integer, nullable=False),
        sa.Column("known_until", sa.Float, nullable=False),
        sa.Column("expires_at", sa.Float, nullable=False),
        sa.PrimaryKeyConstraint("scope", "subject", "client"),
    )
    op.create_index("ix_login_attempts_expires_at", "login_attempts", ["expires_at"])


def downgrade() -> None:
    from bakery.app.db import UTCDateTime

    op.drop_table("login_attempts")
    op.create_table(
        "login_attempts",
        sa.Column("username", sa.String(200), primary_key=True),
        sa.Column("failures", sa.Integer, nullable=False),
        sa.Column("last_failure_at", UTCDateTime, nullable=True),
        sa.Column("locked_until", UTCDateTime, nullable=True),
    )
