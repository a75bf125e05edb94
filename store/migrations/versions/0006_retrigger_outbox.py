"""The retrigger outbox, each trigger URL's pace, runsbot's own lines in alert threads, and
runsbot's own notes (source `runsbot`: the audit trail of retriggers); a thread reply's
notes are unique per (channel, ts, run): in a group alert's thread one reply names several runs

`retriggers` of 0001 never held rows (nothing wrote it before this), so it is made anew:
its states are now pending, accepted, ended and given_up, the first two "in flight" (one
at a time per run, by a partial unique index), and it keeps the trigger URL and the exact
body every attempt sends.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

from store.types import UTCDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

BigSerial = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _partial(where: str) -> dict[str, Any]:
    return {"sqlite_where": sa.text(where), "postgresql_where": sa.text(where)}


NOTE_SOURCES = "'api', 'slack_modal', 'slack_thread'"
REPLY = ["slack_channel_id", "slack_message_ts"]


def _note_sources(sources: str, *, reply_columns: list[str]) -> None:
    # SQLite changes a CHECK by copying the table (batch mode); the partial unique index is
    # made again after, since the copy would not carry its WHERE.
    op.drop_index("uq_notes_slack_channel_id_slack_message_ts", "notes")
    with op.batch_alter_table("notes", recreate="auto") as batch:
        batch.drop_constraint(op.f("ck_notes_source"), type_="check")
        batch.create_check_constraint(op.f("ck_notes_source"), sa.text(f"source IN ({sources})"))
    op.create_index(
        "uq_notes_slack_channel_id_slack_message_ts",
        "notes",
        reply_columns,
        unique=True,
        **_partial("slack_message_ts IS NOT NULL"),
    )


def upgrade() -> None:
    # runsbot's own notes (the audit trail of retriggers); and a reply in a group alert's
    # thread is one note on each run it names, so a reply's notes are unique per run.
    _note_sources(f"{NOTE_SOURCES}, 'runsbot'", reply_columns=[*REPLY, "run_id"])
    op.drop_table("retriggers")
    op.create_table(
        "retriggers",
        sa.Column("id", BigSerial, autoincrement=True, nullable=False),
        sa.Column("run_id", sa.String(length=64), nullable=False),
        sa.Column("new_run_id", sa.String(length=64), nullable=False),
        sa.Column("requested_by", sa.String(length=255), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("trigger_url", sa.String(length=2048), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UTCDateTime(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("requested_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint(
            "state IN ('pending', 'accepted', 'ended', 'given_up')",
            name=op.f("ck_retriggers_state"),
        ),
        sa.ForeignKeyConstraint(
            ["new_run_id"],
            ["runs.id"],
            name=op.f("fk_retriggers_new_run_id_runs"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.id"], name=op.f("fk_retriggers_run_id_runs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_retriggers")),
        sa.UniqueConstraint("new_run_id", name=op.f("uq_retriggers_new_run_id")),
    )
    op.create_index(op.f("ix_retriggers_run_id"), "retriggers", ["run_id"])
    op.create_index(
        "uq_retriggers_run_id_in_flight",
        "retriggers",
        ["run_id"],
        unique=True,
        **_partial("state IN ('pending', 'accepted')"),
    )
    op.create_index(
        "ix_retriggers_unsent", "retriggers", ["next_attempt_at"], **_partial("state = 'pending'")
    )
    op.create_table(
        "trigger_paces",
        sa.Column("trigger_url", sa.String(length=2048), nullable=False),
        sa.Column("not_before", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("trigger_url", name=op.f("pk_trigger_paces")),
    )
    op.create_table(
        "alert_thread_lines",
        sa.Column("id", BigSerial, autoincrement=True, nullable=False),
        sa.Column("alert_message_id", BigSerial, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("note_id", BigSerial, nullable=True),
        sa.Column("run_id", sa.String(length=64), nullable=True),
        sa.Column("message_ts", sa.String(length=32), nullable=True),
        sa.Column("post_attempted_at", UTCDateTime(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UTCDateTime(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('note', 'retry_ended', 'retry_given_up')",
            name=op.f("ck_alert_thread_lines_kind"),
        ),
        sa.ForeignKeyConstraint(
            ["alert_message_id"],
            ["alert_messages.id"],
            name=op.f("fk_alert_thread_lines_alert_message_id_alert_messages"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["note_id"],
            ["notes.id"],
            name=op.f("fk_alert_thread_lines_note_id_notes"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_thread_lines")),
    )
    op.create_index(
        op.f("ix_alert_thread_lines_alert_message_id"), "alert_thread_lines", ["alert_message_id"]
    )
    op.create_index(op.f("ix_alert_thread_lines_note_id"), "alert_thread_lines", ["note_id"])
    op.create_index(
        "ix_alert_thread_lines_unposted",
        "alert_thread_lines",
        ["next_attempt_at"],
        **_partial("message_ts IS NULL"),
    )
    op.create_index(
        "uq_alert_thread_lines_alert_message_id_note_id",
        "alert_thread_lines",
        ["alert_message_id", "note_id"],
        unique=True,
        **_partial("note_id IS NOT NULL"),
    )


def downgrade() -> None:
    op.execute("DELETE FROM notes WHERE source = 'runsbot'")
    _note_sources(NOTE_SOURCES, reply_columns=REPLY)
    op.drop_table("alert_thread_lines")
    op.drop_table("trigger_paces")
    # Back to 0001's shape, empty: 0005's code never wrote it.
    op.drop_table("retriggers")
    op.create_table(
        "retriggers",
        sa.Column("id", BigSerial, autoincrement=True, nullable=False),
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
    op.create_index(op.f("ix_retriggers_run_id"), "retriggers", ["run_id"])
    op.create_index(
        "ix_retriggers_state_next_attempt_at", "retriggers", ["state", "next_attempt_at"]
    )
    op.create_index(
        "uq_retriggers_run_id_in_flight",
        "retriggers",
        ["run_id"],
        unique=True,
        **_partial("state = 'pending'"),
    )
