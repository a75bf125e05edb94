"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from store.types import UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    """All tables, and a reference/run-ID search index that does not scan the table."""
    op.create_table(
        "workflows",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=255), nullable=False),
        sa.Column("destination", sa.String(length=255), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=True),
        sa.Column("trigger_url", sa.String(length=2048), nullable=True),
        sa.Column("alert_channel", sa.String(length=32), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workflows")),
    )
    op.create_table(
        "alert_messages",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("channel_id", sa.String(length=32), nullable=False),
        sa.Column("workflow_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("message_ts", sa.String(length=32), nullable=True),
        sa.Column("opened_at", UTCDateTime(), nullable=False),
        sa.Column("stale_since", UTCDateTime(), nullable=True),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
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
        "ix_alert_messages_channel_id_workflow_id_opened_at",
        "alert_messages",
        ["channel_id", "workflow_id", "opened_at"],
        unique=False,
    )
    op.create_index(
        "uq_alert_messages_channel_id_message_ts",
        "alert_messages",
        ["channel_id", "message_ts"],
        unique=True,
        sqlite_where=sa.text("message_ts IS NOT NULL"),
        postgresql_where=sa.text("message_ts IS NOT NULL"),
    )

    op.create_table(
        "runs",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("workflow_id", sa.String(length=64), nullable=False),
        sa.Column("reference", sa.String(length=255), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("finished_at", UTCDateTime(), nullable=True),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("error_step", sa.String(length=255), nullable=True),
        sa.Column("skip_reason", sa.Text(), nullable=True),
        sa.Column("result", sa.Text(), nullable=True),
        sa.Column("retry_of", sa.String(length=64), nullable=True),
        sa.Column("versions", sa.JSON(), nullable=False),
        sa.Column(
            "payload",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column(
            "steps",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'running', 'finished', 'failed', 'skipped')",
            name=op.f("ck_runs_status"),
        ),
        sa.ForeignKeyConstraint(["retry_of"], ["runs.id"], name=op.f("fk_runs_retry_of_runs")),
        sa.ForeignKeyConstraint(
            ["workflow_id"], ["workflows.id"], name=op.f("fk_runs_workflow_id_workflows")
        ),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_runs")),
        sa.UniqueConstraint("id", name=op.f("uq_runs_id")),
    )
    op.create_index(
        "ix_runs_retry_of",
        "runs",
        ["retry_of"],
        unique=False,
        sqlite_where=sa.text("retry_of IS NOT NULL"),
        postgresql_where=sa.text("retry_of IS NOT NULL"),
    )
    op.create_index("ix_runs_started_at_id", "runs", ["started_at", "id"], unique=False)
    op.create_index(
        "ix_runs_status_started_at_id", "runs", ["status", "started_at", "id"], unique=False
    )
    op.create_index(
        "ix_runs_workflow_id_status_started_at_id",
        "runs",
        ["workflow_id", "status", "started_at", "id"],
        unique=False,
    )

    op.create_table(
        "subscriptions",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("channel_id", sa.String(length=32), nullable=False),
        sa.Column("workflow_id", sa.String(length=64), nullable=True),
        sa.Column("created_by", sa.String(length=255), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workflow_id"],
            ["workflows.id"],
            name=op.f("fk_subscriptions_workflow_id_workflows"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subscriptions")),
    )
    op.create_index(
        op.f("ix_subscriptions_workflow_id"), "subscriptions", ["workflow_id"], unique=False
    )
    op.create_index(
        "uq_subscriptions_channel_id_all",
        "subscriptions",
        ["channel_id"],
        unique=True,
        sqlite_where=sa.text("workflow_id IS NULL"),
        postgresql_where=sa.text("workflow_id IS NULL"),
    )
    op.create_index(
        "uq_subscriptions_channel_id_workflow_id",
        "subscriptions",
        ["channel_id", "workflow_id"],
        unique=True,
        sqlite_where=sa.text("workflow_id IS NOT NULL"),
        postgresql_where=sa.text("workflow_id IS NOT NULL"),
    )

    op.create_table(
        "alert_deliveries",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("run_id", sa.String(length=64), nullable=False),
        sa.Column("channel_id", sa.String(length=32), nullable=False),
        sa.Column("state", sa.String(length=8), nullable=False),
        sa.Column(
            "alert_message_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UTCDateTime(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint(
            "state IN ('pending', 'posted')", name=op.f("ck_alert_deliveries_state")
        ),
        sa.ForeignKeyConstraint(
            ["alert_message_id"],
            ["alert_messages.id"],
            name=op.f("fk_alert_deliveries_alert_message_id_alert_messages"),
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
        op.f("ix_alert_deliveries_alert_message_id"),
        "alert_deliveries",
        ["alert_message_id"],
        unique=False,
    )
    op.create_index(
        "ix_alert_deliveries_state_next_attempt_at",
        "alert_deliveries",
        ["state", "next_attempt_at"],
        unique=False,
    )
    op.create_index(
        "uq_alert_deliveries_run_id_channel_id",
        "alert_deliveries",
        ["run_id", "channel_id"],
        unique=True,
    )

    op.create_table(
        "notes",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("run_id", sa.String(length=64), nullable=False),
        sa.Column("author", sa.String(length=255), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("slack_channel_id", sa.String(length=32), nullable=True),
        sa.Column("slack_message_ts", sa.String(length=32), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint(
            "source IN ('api', 'slack_modal', 'slack_thread')", name=op.f("ck_notes_source")
        ),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.id"], name=op.f("fk_notes_run_id_runs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notes")),
    )
    op.create_index(op.f("ix_notes_run_id"), "notes", ["run_id"], unique=False)
    op.create_index(
        "uq_notes_slack_channel_id_slack_message_ts",
        "notes",
        ["slack_channel_id", "slack_message_ts"],
        unique=True,
        sqlite_where=sa.text("slack_message_ts IS NOT NULL"),
        postgresql_where=sa.text("slack_message_ts IS NOT NULL"),
    )

    op.create_table(
        "report_events",
        sa.Column("event_id", sa.String(length=255), nullable=False),
        sa.Column("run_id", sa.String(length=64), nullable=False),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.id"], name=op.f("fk_report_events_run_id_runs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_report_events")),
    )
    op.create_index(op.f("ix_report_events_run_id"), "report_events", ["run_id"], unique=False)

    op.create_table(
        "retriggers",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("run_id", sa.String(length=64), nullable=False),
        sa.Column("new_run_id", sa.String(length=64), nullable=False),
        sa.Column("requested_by", sa.String(length=255), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UTCDateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("requested_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint(
            "state IN ('pending', 'accepted', 'failed')", name=op.f("ck_retriggers_state")
        ),
        sa.ForeignKeyConstraint(
            ["new_run_id"], ["runs.id"], name=op.f("fk_retriggers_new_run_id_runs")
        ),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.id"], name=op.f("fk_retriggers_run_id_runs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_retriggers")),
        sa.UniqueConstraint("new_run_id", name=op.f("uq_retriggers_new_run_id")),
    )
    op.create_index(op.f("ix_retriggers_run_id"), "retriggers", ["run_id"], unique=False)
    op.create_index(
        "ix_retriggers_state_next_attempt_at",
        "retriggers",
        ["state", "next_attempt_at"],
        unique=False,
    )
    op.create_index(
        "uq_retriggers_run_id_in_flight",
        "retriggers",
        ["run_id"],
        unique=True,
        sqlite_where=sa.text("state = 'pending'"),
        postgresql_where=sa.text("state = 'pending'"),
    )

    _create_search_index()


def downgrade() -> None:
    _drop_search_index()
    op.drop_index(
        "uq_retriggers_run_id_in_flight",
        "retriggers",
        sqlite_where=sa.text("state = 'pending'"),
        postgresql_where=sa.text("state = 'pending'"),
    )
    op.drop_index("ix_retriggers_state_next_attempt_at", "retriggers")
    op.drop_index(op.f("ix_retriggers_run_id"), table_name="retriggers")

    op.drop_table("retriggers")
    op.drop_index(op.f("ix_report_events_run_id"), table_name="report_events")

    op.drop_table("report_events")
    op.drop_index(
        "uq_notes_slack_channel_id_slack_message_ts",
        "notes",
        sqlite_where=sa.text("slack_message_ts IS NOT NULL"),
        postgresql_where=sa.text("slack_message_ts IS NOT NULL"),
    )
    op.drop_index(op.f("ix_notes_run_id"), table_name="notes")

    op.drop_table("notes")
    op.drop_index("uq_alert_deliveries_run_id_channel_id", "alert_deliveries")
    op.drop_index("ix_alert_deliveries_state_next_attempt_at", "alert_deliveries")
    op.drop_index(op.f("ix_alert_deliveries_alert_message_id"), table_name="alert_deliveries")

    op.drop_table("alert_deliveries")
    op.drop_index(
        "uq_subscriptions_channel_id_workflow_id",
        "subscriptions",
        sqlite_where=sa.text("workflow_id IS NOT NULL"),
        postgresql_where=sa.text("workflow_id IS NOT NULL"),
    )
    op.drop_index(
        "uq_subscriptions_channel_id_all",
        "subscriptions",
        sqlite_where=sa.text("workflow_id IS NULL"),
        postgresql_where=sa.text("workflow_id IS NULL"),
    )
    op.drop_index(op.f("ix_subscriptions_workflow_id"), table_name="subscriptions")

    op.drop_table("subscriptions")
    op.drop_index("ix_runs_workflow_id_status_started_at_id", "runs")
    op.drop_index("ix_runs_status_started_at_id", "runs")
    op.drop_index("ix_runs_started_at_id", "runs")
    op.drop_index(
        "ix_runs_retry_of",
        "runs",
        sqlite_where=sa.text("retry_of IS NOT NULL"),
        postgresql_where=sa.text("retry_of IS NOT NULL"),
    )

    op.drop_table("runs")
    op.drop_index(
        "uq_alert_messages_channel_id_message_ts",
        "alert_messages",
        sqlite_where=sa.text("message_ts IS NOT NULL"),
        postgresql_where=sa.text("message_ts IS NOT NULL"),
    )
    op.drop_index("ix_alert_messages_channel_id_workflow_id_opened_at", "alert_messages")

    op.drop_table("alert_messages")
    op.drop_table("workflows")


def _create_search_index() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # A trigram FTS5 index over reference and run ID, kept by triggers:
        # case-insensitive substring search without a table scan.
        op.execute(
            "CREATE VIRTUAL TABLE runs_search USING fts5("
            "reference, id, content='runs', content_rowid='seq', tokenize='trigram', columnsize=0)"
        )
        op.execute(
            "CREATE TRIGGER runs_search_insert AFTER INSERT ON runs BEGIN "
            "INSERT INTO runs_search(rowid, reference, id) "
            "VALUES (new.seq, new.reference, new.id); "
            "END"
        )
        op.execute(
            "CREATE TRIGGER runs_search_update AFTER UPDATE OF reference, id ON runs BEGIN "
            "INSERT INTO runs_search(runs_search, rowid, reference, id) "
            "VALUES ('delete', old.seq, old.reference, old.id); "
            "INSERT INTO runs_search(rowid, reference, id) "
            "VALUES (new.seq, new.reference, new.id); "
            "END"
        )
        op.execute(
            "CREATE TRIGGER runs_search_delete AFTER DELETE ON runs BEGIN "
            "INSERT INTO runs_search(runs_search, rowid, reference, id) "
            "VALUES ('delete', old.seq, old.reference, old.id); "
            "END"
        )
    else:
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.execute("CREATE INDEX ix_runs_reference_trgm ON runs USING gin (reference gin_trgm_ops)")
        op.execute("CREATE INDEX ix_runs_id_trgm ON runs USING gin (id gin_trgm_ops)")


def _drop_search_index() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for trigger in ("runs_search_insert", "runs_search_update", "runs_search_delete"):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute("DROP TABLE IF EXISTS runs_search")
    else:
        op.execute("DROP INDEX IF EXISTS ix_runs_reference_trgm")
        op.execute("DROP INDEX IF EXISTS ix_runs_id_trgm")
