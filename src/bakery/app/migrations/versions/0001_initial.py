"""The app database as it was before migrations: users, login attempts, tokens, audit log, settings, uploads.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from bakery.app.db import UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_VERBS = ("UPDATE", "DELETE")


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("username", sa.String(200), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("stores", sa.Text, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("session_nonce", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
    )
    op.create_index("ix_users_username", "users", ["username"], unique=True)
    op.create_table(
        "login_attempts",
        sa.Column("username", sa.String(200), primary_key=True),
        sa.Column("failures", sa.Integer, nullable=False),
        sa.Column("last_failure_at", UTCDateTime, nullable=True),
        sa.Column("locked_until", UTCDateTime, nullable=True),
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("expires_at", UTCDateTime, nullable=False),
        sa.Column("revoked", sa.Boolean, nullable=False),
    )
    op.create_index("ix_api_tokens_token_hash", "api_tokens", ["token_hash"], unique=True)
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("at", UTCDateTime, nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("target", sa.String(500), nullable=True),
        sa.Column("success", sa.Boolean, nullable=False),
        sa.Column("ip", sa.String(64), nullable=True),
        sa.Column("detail", sa.Text, nullable=True),
    )
    op.create_index("ix_audit_log_at", "audit_log", ["at"])
    op.create_index("ix_audit_log_action", "audit_log", ["action"])
    dialect = op.get_bind().dialect.name
    for verb in _VERBS:
        if dialect == "sqlite":
            op.execute(
                f"CREATE TRIGGER IF NOT EXISTS audit_log_no_{verb.lower()} BEFORE {verb} ON audit_log "
                "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END"
            )
        elif dialect == "postgresql":
            op.execute(
                f"CREATE RULE audit_log_no_{verb.lower()} AS ON {verb} TO audit_log DO INSTEAD NOTHING"
            )
    op.create_table(
        "settings",
        sa.Column("key", sa.String(100), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.Column("updated_by", sa.String(200), nullable=False),
    )
    op.create_table(
        "upload_batches",
        sa.Column("batch_id", sa.String(64), primary_key=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("original_name", sa.String(500), nullable=False),
        sa.Column("file_hash", sa.String(64), nullable=False),
        sa.Column("uploaded_by", sa.String(200), nullable=False),
        sa.Column("uploaded_at", UTCDateTime, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("rows_total", sa.Integer, nullable=False),
        sa.Column("rows_loaded", sa.Integer, nullable=False),
        sa.Column("rows_rejected", sa.Integer, nullable=False),
        sa.Column("rows_duplicate", sa.Integer, nullable=False),
        sa.Column("on_duplicate", sa.String(16), nullable=False),
        sa.Column("max_error_rate", sa.Float, nullable=False),
        sa.Column("path", sa.String(1000), nullable=True),
        sa.Column("report", sa.Text, nullable=True),
        sa.Column("replaces", sa.String(64), nullable=True),
        sa.Column("replaced_by", sa.String(64), nullable=True),
        sa.Column("deleted_at", UTCDateTime, nullable=True),
        sa.Column("deleted_by", sa.String(200), nullable=True),
        sa.Column("retrain_flagged", sa.Boolean, nullable=False),
    )
    op.create_index("ix_upload_batches_kind", "upload_batches", ["kind"])
    op.create_index("ix_upload_batches_uploaded_at", "upload_batches", ["uploaded_at"])


def downgrade() -> None:
    for table in ("upload_batches", "settings", "audit_log", "api_tokens", "login_attempts", "users"):
        op.drop_table(table)
