"""Alert outbox: group alerts with thread posts, post reconciliation, dispatcher lease

The alert tables of 0001 never held rows (nothing wrote them before this), so
they are made anew rather than altered.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from store.types import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

BigSerial = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _unposted(table: str) -> None:
    op.create_index(
        f"ix_{table}_unposted",
        table,
        ["next_attempt_at"],
        sqlite_where=sa.text("message_ts IS NULL"),
        postgresql_where=sa.text("message_ts IS NULL"),
    )


def upgrade() -> None:
    op.drop_table("alert_deliveries")
    op.drop_table("alert_messages")
    op.create_table(
        "alert_messages",
        sa.Column("id", BigSerial, autoincrement=True, nullable=False),
        sa.Column("channel_id", sa.String(length=32), nullable=False),
        sa.Column("workflow_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("message_ts", sa.String(length=32), nullable=True),
        sa.Column("post_attempted_at", UTCDateTime(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UTCDateTime(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("first_failed_at", UTCDateTime(), nullable=False),
        sa.Column("last_failed_at", UTCDateTime(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("stale_since", UTCDateTime(), nullable=True),
        sa.Column("rendered_at", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint("kind IN ('single', 'group')", name=op.f("ck_alert_messages_kind")),
        sa.ForeignKeyConstraint(
            ["workflow_id"],
            ["workflows.id"],
            name=op.f("fk_alert_messages_workflow_id_workflows"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_messages")),
    )
    op.create_index(
        "uq_alert_messages_channel_id_message_ts",
        "alert_messages",
        ["channel_id", "message_ts"],
        unique=True,
        sqlite_where=sa.text("message_ts IS NOT NULL"),
        postgresql_where=sa.text("message_ts IS NOT NULL"),
    )
    _unposted("alert_messages")
    op.create_index(
        "ix_alert_messages_stale",
        "alert_messages",
        ["stale_since"],
        sqlite_where=sa.text("stale_since IS NOT NULL"),
        postgresql_where=sa.text("stale_since IS NOT NULL"),
    )
    op.create_index(
        "ix_alert_messages_channel_id_workflow_id_last_failed_at",
        "alert_messages",
        ["channel_id", "workflow_id", "last_failed_at"],
    )
    op.create_table(
        "alert_thread_posts",
        sa.Column("id", BigSerial, autoincrement=True, nullable=False),
        sa.Column("alert_message_id", BigSerial, nullable=False),
        sa.Column("message_ts", sa.String(length=32), nullable=True),
        sa.Column("post_attempted_at", UTCDateTime(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UTCDateTime(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["alert_message_id"],
            ["alert_messages.id"],
            name=op.f("fk_alert_thread_posts_alert_message_id_alert_messages"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_thread_posts")),
    )
    op.create_index(
        op.f("ix_alert_thread_posts_alert_message_id"), "alert_thread_posts", ["alert_message_id"]
    )
    _unposted("alert_thread_posts")
    op.create_table(
        "alert_deliveries",
        sa.Column("id", BigSerial, autoincrement=True, nullable=False),
        sa.Column("run_id", sa.String(length=64), nullable=False),
        sa.Column("channel_id", sa.String(length=32), nullable=False),
        sa.Column("state", sa.String(length=8), nullable=False),
        sa.Column("alert_message_id", BigSerial, nullable=True),
        sa.Column("thread_post_id", BigSerial, nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint(
            "state IN ('pending', 'assigned', 'posted')", name=op.f("ck_alert_deliveries_state")
        ),
        sa.ForeignKeyConstraint(
            ["alert_message_id"],
            ["alert_messages.id"],
            name=op.f("fk_alert_deliveries_alert_message_id_alert_messages"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["thread_post_id"],
            ["alert_thread_posts.id"],
            name=op.f("fk_alert_deliveries_thread_post_id_alert_thread_posts"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["runs.id"],
            name=op.f("fk_alert_deliveries_run_id_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_deliveries")),
    )
    op.create_index(
        "uq_alert_deliveries_run_id_channel_id",
        "alert_deliveries",
        ["run_id", "channel_id"],
        unique=True,
    )
    op.create_index(
        "ix_alert_deliveries_state_created_at", "alert_deliveries", ["state", "created_at"]
    )
    op.create_index(
        op.f("ix_alert_deliveries_alert_message_id"), "alert_deliveries", ["alert_message_id"]
    )
    op.create_index(
        op.f("ix_alert_deliveries_thread_post_id"), "alert_deliveries", ["thread_post_id"]
    )
    op.create_table(
        "leases",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("holder", sa.String(length=128), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_leases")),
    )


def downgrade() -> None:
    raise NotImplementedError("0002 replaced tables that 0001 left empty: restore a backup instead")
