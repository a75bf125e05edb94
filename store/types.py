"""Column types and enums shared by the models, the queries and the filters."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import DateTime, Dialect, MetaData
from sqlalchemy.types import TypeDecorator

from store.errors import NaiveDatetimeError


class RunStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    FINISHED = "finished"
    FAILED = "failed"
    SKIPPED = "skipped"

    @property
    def rank(self) -> int:
        """Reports are ranked pending < running < the terminal statuses."""
        return _STATUS_RANK[self]

    @property
    def is_terminal(self) -> bool:
        return self.rank == 2


_STATUS_RANK = {
    RunStatus.PENDING: 0,
    RunStatus.RUNNING: 1,
    RunStatus.FINISHED: 2,
    RunStatus.FAILED: 2,
    RunStatus.SKIPPED: 2,
}


class AlertKind(StrEnum):
    """What an alert message names: one failed run, or a burst of one workflow's failures."""

    SINGLE = "single"
    GROUP = "group"


class DeliveryState(StrEnum):
    """Where a failed run's alert to one channel stands.

    pending: not yet given an alert message; assigned: in a group, waiting for a thread
    reply to name it; posted: named in a message Slack took.
    """

    PENDING = "pending"
    ASSIGNED = "assigned"
    POSTED = "posted"


class RetriggerState(StrEnum):
    """Where a retrigger stands. pending: not yet accepted by the engine (the dispatcher sends
    it); accepted: the engine took it, its new run has not ended; ended: the new run ended;
    given_up: the engine never accepted it, and the new run was marked failed. The first two
    are "in flight": one at a time per original run (a unique index says so)."""

    PENDING = "pending"
    ACCEPTED = "accepted"
    ENDED = "ended"
    GIVEN_UP = "given_up"


class NoteSource(StrEnum):
    """Where a note came from: the run API, Slack's Add note modal, a reply in an alert's
    thread, or runsbot itself (the audit trail: who retriggered the run, as which run)."""

    API = "api"
    SLACK_MODAL = "slack_modal"
    SLACK_THREAD = "slack_thread"
    RUNSBOT = "runsbot"


class ThreadLineKind(StrEnum):
    """A plain reply runsbot adds to an alert's thread: a note added from a modal or the API,
    a retrigger's new run that ended, or a retrigger the engine never accepted."""

    NOTE = "note"
    RETRY_ENDED = "retry_ended"
    RETRY_GIVEN_UP = "retry_given_up"


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in and out, on SQLite (naive UTC text) and PostgreSQL (timestamptz)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise NaiveDatetimeError(f"naive datetime {value!r} reached the store")
        value = value.astimezone(UTC)
        # SQLite keeps text: store naive UTC so that text order is time order.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)
