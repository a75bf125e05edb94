"""The run store's tables, as typed declarations with the rules in the schema."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from store.types import (
    AlertKind,
    DeliveryState,
    NoteSource,
    RetriggerState,
    RunStatus,
    ThreadLineKind,
    UTCDateTime,
    metadata,
)

RunId = Annotated[str, mapped_column(String(64))]
UTCTime = Annotated[datetime, mapped_column(UTCDateTime())]
Document = Annotated[Any, mapped_column(JSON().with_variant(JSONB(), "postgresql"))]
# SQLite only makes an INTEGER PRIMARY KEY the rowid alias that FTS5 can point at.
BigSerial = BigInteger().with_variant(Integer(), "sqlite")


def _one_of(column: str, values: type[StrEnum]) -> CheckConstraint:
    """The schema accepts only the enum's values in `column` (named for the column)."""
    allowed = ", ".join(f"'{value.value}'" for value in values)
    return CheckConstraint(f"{column} IN ({allowed})", name=column)


class Base(DeclarativeBase):
    metadata = metadata


class Workflow(Base):
    __tablename__ = "workflows"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    source: Mapped[str] = mapped_column(String(255))
    destination: Mapped[str] = mapped_column(String(255))
    name: Mapped[str | None] = mapped_column(String(255))
    trigger_url: Mapped[str | None] = mapped_column(String(2048))
    alert_channel: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[UTCTime]
    updated_at: Mapped[UTCTime]


class Run(Base):
    """One execution of a workflow. Steps and payload are documents, replaced whole."""

    __tablename__ = "runs"
    __table_args__ = (
        _one_of("status", RunStatus),
        Index("ix_runs_started_at_id", "started_at", "id"),
        Index("ix_runs_status_started_at_id", "status", "started_at", "id"),
        Index(
            "ix_runs_workflow_id_status_started_at_id", "workflow_id", "status", "started_at", "id"
        ),
        Index("ix_runs_workflow_id_started_at_id", "workflow_id", "started_at", "id"),
        Index(
            "ix_runs_retry_of",
            "retry_of",
            sqlite_where=text("retry_of IS NOT NULL"),
            postgresql_where=text("retry_of IS NOT NULL"),
        ),
    )

    seq: Mapped[int] = mapped_column(BigSerial, primary_key=True, autoincrement=True)
    id: Mapped[RunId] = mapped_column(unique=True)
    workflow_id: Mapped[str] = mapped_column(ForeignKey("workflows.id"))
    reference: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(16))
    started_at: Mapped[UTCTime]
    finished_at: Mapped[UTCTime | None]
    # The newest engine report's updated_at, and when runsbot first stored the run.
    updated_at: Mapped[UTCTime]
    created_at: Mapped[UTCTime]
    error_message: Mapped[str | None] = mapped_column(Text)
    error_step: Mapped[str | None] = mapped_column(String(255))
    skip_reason: Mapped[str | None] = mapped_column(Text)
    result: Mapped[str | None] = mapped_column(Text)
    retry_of: Mapped[str | None] = mapped_column(String(64), ForeignKey("runs.id"))
    # Per field, the rank key of the report that set it (see store/reports.py).
    versions: Mapped[dict[str, str]] = mapped_column(JSON)
    payload: Mapped[Document | None]
    steps: Mapped[Document | None]


class ReportEvent(Base):
    """Every engine `event_id` seen: a repeated one is a no-op."""

    __tablename__ = "report_events"

    event_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    run_id: Mapped[RunId] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), index=True)
    received_at: Mapped[UTCTime]


class Note(Base):
    __tablename__ = "notes"
    __table_args__ = (
        _one_of("source", NoteSource),
        # A thread reply is one note on each run it is about: its edits and deletion find
        # them by (channel, ts), and Slack's redelivery of it adds none.
        Index(
            "uq_notes_slack_channel_id_slack_message_ts",
            "slack_channel_id",
            "slack_message_ts",
            "run_id",
            unique=True,
            sqlite_where=text("slack_message_ts IS NOT NULL"),
            postgresql_where=text("slack_message_ts IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigSerial, primary_key=True, autoincrement=True)
    run_id: Mapped[RunId] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), index=True)
    author: Mapped[str] = mapped_column(String(255))
    text: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(16))
    slack_channel_id: Mapped[str | None] = mapped_column(String(32))
    slack_message_ts: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[UTCTime]
    updated_at: Mapped[UTCTime]


class Retrigger(Base):
    """The retrigger outbox: who asked to run a run again, as which new run, and how its
    request to the engine goes. Written in one transaction with the new run."""

    __tablename__ = "retriggers"
    __table_args__ = (
        _one_of("state", RetriggerState),
        # One retrigger in flight per original run, however many times it is clicked.
        Index(
            "uq_retriggers_run_id_in_flight",
            "run_id",
            unique=True,
            sqlite_where=text("state IN ('pending', 'accepted')"),
            postgresql_where=text("state IN ('pending', 'accepted')"),
        ),
        Index(
            "ix_retriggers_unsent",
            "next_attempt_at",
            sqlite_where=text("state = 'pending'"),
            postgresql_where=text("state = 'pending'"),
        ),
    )

    id: Mapped[int] = mapped_column(BigSerial, primary_key=True, autoincrement=True)
    run_id: Mapped[RunId] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), index=True)
    new_run_id: Mapped[RunId] = mapped_column(
        ForeignKey("runs.id", ondelete="CASCADE"), unique=True
    )
    requested_by: Mapped[str] = mapped_column(String(255))
    state: Mapped[str] = mapped_column(String(16))
    # Where the request goes and its exact body, fixed when asked: every attempt sends the
    # same bytes (CONTRACT.md section 5), whatever changes in the workflow meanwhile.
    trigger_url: Mapped[str] = mapped_column(String(2048))
    body: Mapped[str] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[UTCTime]
    last_error: Mapped[str | None] = mapped_column(Text)
    requested_at: Mapped[UTCTime]
    updated_at: Mapped[UTCTime]


class TriggerPace(Base):
    """When the next request to one trigger URL may go: RUNSBOT_RETRIGGER_RATE's spacing, or
    an engine's Retry-After. A row, so that whichever replica sends next keeps to it."""

    __tablename__ = "trigger_paces"

    trigger_url: Mapped[str] = mapped_column(String(2048), primary_key=True)
    not_before: Mapped[UTCTime]


class Subscription(Base):
    """A channel that gets the failure alerts of one workflow, or of all (workflow_id NULL)."""

    __tablename__ = "subscriptions"
    __table_args__ = (
        Index(
            "uq_subscriptions_channel_id_workflow_id",
            "channel_id",
            "workflow_id",
            unique=True,
            sqlite_where=text("workflow_id IS NOT NULL"),
            postgresql_where=text("workflow_id IS NOT NULL"),
        ),
        Index(
            "uq_subscriptions_channel_id_all",
            "channel_id",
            unique=True,
            sqlite_where=text("workflow_id IS NULL"),
            postgresql_where=text("workflow_id IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigSerial, primary_key=True, autoincrement=True)
    channel_id: Mapped[str] = mapped_column(String(32))
    workflow_id: Mapped[str | None] = mapped_column(
        ForeignKey("workflows.id", ondelete="CASCADE"), index=True
    )
    created_by: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[UTCTime]


class AlertMessage(Base):
    """A Slack message that alerts one failed run, or a burst of one workflow's failures."""

    __tablename__ = "alert_messages"
    __table_args__ = (
        _one_of("kind", AlertKind),
        Index(
            "uq_alert_messages_channel_id_message_ts",
            "channel_id",
            "message_ts",
            unique=True,
            sqlite_where=text("message_ts IS NOT NULL"),
            postgresql_where=text("message_ts IS NOT NULL"),
        ),
        Index(
            "ix_alert_messages_unposted",
            "next_attempt_at",
            sqlite_where=text("message_ts IS NULL"),
            postgresql_where=text("message_ts IS NULL"),
        ),
        Index(
            "ix_alert_messages_stale",
            "stale_since",
            sqlite_where=text("stale_since IS NOT NULL"),
            postgresql_where=text("stale_since IS NOT NULL"),
        ),
        Index(
            "ix_alert_messages_channel_id_workflow_id_last_failed_at",
            "channel_id",
            "workflow_id",
            "last_failed_at",
        ),
    )

    id: Mapped[int] = mapped_column(BigSerial, primary_key=True, autoincrement=True)
    channel_id: Mapped[str] = mapped_column(String(32))
    workflow_id: Mapped[str] = mapped_column(ForeignKey("workflows.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(8))
    message_ts: Mapped[str | None] = mapped_column(String(32))
    # Set just before chat.postMessage: if it is set and no ts was recorded, the post
    # may have reached Slack, so the channel is searched for it before posting again.
    post_attempted_at: Mapped[UTCTime | None]
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[UTCTime]
    last_error: Mapped[str | None] = mapped_column(Text)
    first_failed_at: Mapped[UTCTime]
    last_failed_at: Mapped[UTCTime]
    # Counts every change to what the message should say. A post or update clears
    # `stale_since` only if the revision it rendered is still the newest, so a change
    # that lands while Slack is being called is never lost.
    revision: Mapped[int] = mapped_column(default=0)
    # Set when the message no longer tells the truth and needs chat.update.
    stale_since: Mapped[UTCTime | None]
    rendered_at: Mapped[UTCTime | None]
    created_at: Mapped[UTCTime]


class AlertThreadPost(Base):
    """A reply in a group alert's thread that lists many of its runs."""

    __tablename__ = "alert_thread_posts"
    __table_args__ = (
        Index(
            "ix_alert_thread_posts_unposted",
            "next_attempt_at",
            sqlite_where=text("message_ts IS NULL"),
            postgresql_where=text("message_ts IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigSerial, primary_key=True, autoincrement=True)
    alert_message_id: Mapped[int] = mapped_column(
        ForeignKey("alert_messages.id", ondelete="CASCADE"), index=True
    )
    message_ts: Mapped[str | None] = mapped_column(String(32))
    post_attempted_at: Mapped[UTCTime | None]
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[UTCTime]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[UTCTime]


class AlertThreadLine(Base):
    """A plain reply runsbot adds to an alert's thread (a ThreadLineKind): queued in the
    transaction that makes it true, posted once by the alert dispatcher."""

    __tablename__ = "alert_thread_lines"
    __table_args__ = (
        _one_of("kind", ThreadLineKind),
        Index(
            "ix_alert_thread_lines_unposted",
            "next_attempt_at",
            sqlite_where=text("message_ts IS NULL"),
            postgresql_where=text("message_ts IS NULL"),
        ),
        # A note is mirrored once into each thread.
        Index(
            "uq_alert_thread_lines_alert_message_id_note_id",
            "alert_message_id",
            "note_id",
            unique=True,
            sqlite_where=text("note_id IS NOT NULL"),
            postgresql_where=text("note_id IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigSerial, primary_key=True, autoincrement=True)
    alert_message_id: Mapped[int] = mapped_column(
        ForeignKey("alert_messages.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(16))
    # The note a NOTE line mirrors (a deleted note takes its unposted line with it).
    note_id: Mapped[int | None] = mapped_column(
        ForeignKey("notes.id", ondelete="CASCADE"), index=True
    )
    # The run a line is about: for retry lines, the new run.
    run_id: Mapped[str | None] = mapped_column(String(64))
    message_ts: Mapped[str | None] = mapped_column(String(32))
    post_attempted_at: Mapped[UTCTime | None]
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[UTCTime]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[UTCTime]


class AlertDelivery(Base):
    """The outbox: one row per failed run and channel, written with the failure itself.

    Its `state` is a DeliveryState: pending, assigned (to a group alert), posted.
    """

    __tablename__ = "alert_deliveries"
    __table_args__ = (
        _one_of("state", DeliveryState),
        Index("uq_alert_deliveries_run_id_channel_id", "run_id", "channel_id", unique=True),
        Index("ix_alert_deliveries_state_created_at", "state", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigSerial, primary_key=True, autoincrement=True)
    run_id: Mapped[RunId] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"))
    channel_id: Mapped[str] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(8))
    alert_message_id: Mapped[int | None] = mapped_column(
        ForeignKey("alert_messages.id", ondelete="SET NULL"), index=True
    )
    thread_post_id: Mapped[int | None] = mapped_column(
        ForeignKey("alert_thread_posts.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[UTCTime]


class Lease(Base):
    """Who may do a job that only one replica at a time should do (the alert dispatcher)."""

    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(128))
    expires_at: Mapped[UTCTime]
