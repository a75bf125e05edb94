"""The store's results: frozen records that hold no session and do no IO when read."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from store.errors import ReportRejected
from store.models import Note, Workflow
from store.reports import RunState
from store.types import RetriggerState, RunStatus


@dataclass(frozen=True)
class WorkflowRecord:
    id: str
    source: str
    destination: str
    name: str | None
    trigger_url: str | None
    alert_channel: str | None
    created_at: datetime
    updated_at: datetime

    @property
    def route(self) -> str:
        """`Source → Destination`, as people name a workflow."""
        return f"{self.source} → {self.destination}"


def workflow_record(row: Workflow) -> WorkflowRecord:
    return WorkflowRecord(
        id=row.id,
        source=row.source,
        destination=row.destination,
        name=row.name,
        trigger_url=row.trigger_url,
        alert_channel=row.alert_channel,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


@dataclass(frozen=True)
class StepRecord:
    name: str
    status: str | None
    started_at: str | None
    finished_at: str | None
    detail: str | None
    error: str | None


@dataclass(frozen=True)
class RunSummary:
    """A run as a list shows it: no payload or steps."""

    id: str
    workflow: WorkflowRecord
    reference: str
    status: RunStatus
    started_at: datetime
    finished_at: datetime | None
    updated_at: datetime
    created_at: datetime
    error_message: str | None
    error_step: str | None
    skip_reason: str | None
    result: str | None
    retry_of: str | None
    note_count: int


@dataclass(frozen=True)
class NoteRecord:
    id: int
    run_id: str
    author: str
    text: str
    source: str
    created_at: datetime
    updated_at: datetime


def note_record(row: Note) -> NoteRecord:
    return NoteRecord(
        id=row.id,
        run_id=row.run_id,
        author=row.author,
        text=row.text,
        source=row.source,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


@dataclass(frozen=True)
class RunDetail:
    """A run with everything known about it; times are aware UTC."""

    summary: RunSummary
    payload: dict[str, Any] | None
    steps: tuple[StepRecord, ...]
    notes: tuple[NoteRecord, ...]
    retried_as: tuple[str, ...]
    # The retry chain (records at the end of this module): the run this one retries, and the
    # runs made from it, oldest first (their IDs are `retried_as`).
    retry_of: RetryLink | None = None
    retries: tuple[RetryLink, ...] = ()

    @property
    def id(self) -> str:
        return self.summary.id


# `total` counts the runs that matched exactly up to this many; past it the store may stop
# counting (CONTRACT.md section 3: shown as "1,000+").
TOTAL_CAP = 1000


@dataclass(frozen=True)
class RunPage:
    """One page of runs, newest first. `total` is exact when `total_exact`; otherwise more
    than TOTAL_CAP runs matched and `total` is TOTAL_CAP. Each cursor, passed as the filter's
    cursor, gives the page after (`next_cursor`) or before (`previous_cursor`) this one; the
    first page has no previous cursor, the last no next one."""

    runs: tuple[RunSummary, ...]
    total: int
    next_cursor: str | None
    total_exact: bool = True
    previous_cursor: str | None = None


class ReportResult(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    DUPLICATE = "duplicate"
    # The event_id was already used for another run: an engine bug, shown and not stored.
    CONFLICT = "conflict"
    REJECTED = "rejected"


@dataclass(frozen=True)
class ReportOutcome:
    """What became of one report. `run` is the stored run unless it was rejected; for a
    conflict it is the run the event_id was used for (`run_id`), and `error` says so."""

    result: ReportResult
    run_id: str | None
    run: RunState | None = None
    workflow: WorkflowRecord | None = None
    error: ReportRejected | None = None


@dataclass(frozen=True)
class WorkflowSpec:
    source: str
    destination: str
    name: str | None = None
    trigger_url: str | None = None
    alert_channel: str | None = None


@dataclass(frozen=True)
class AlertRouting:
    """Slack is on: failures are queued for alerts; `default_channel` is RUNSBOT_ALERT_CHANNEL."""

    default_channel: str | None = None


# Retriggers (the engine side) -----------------------------------------------


@dataclass(frozen=True)
class RetriggerRouting:
    """Where retriggers go and whether they can be signed: `default_trigger_url` is
    RUNSBOT_TRIGGER_URL (for workflows without their own trigger_url), `can_sign` says
    RUNSBOT_TRIGGER_SECRET is set (the store never holds the secret itself)."""

    default_trigger_url: str | None = None
    can_sign: bool = False


@dataclass(frozen=True)
class RetriggerRequested:
    """A retrigger as the store recorded it: the original run (by ID and reference), the new
    pending run made from it, who asked and when (aware UTC). The new run itself is read like
    any other (`RunStore.get_run`)."""

    run_id: str
    reference: str
    new_run_id: str
    requested_by: str
    requested_at: datetime


@dataclass(frozen=True)
class NoteTarget:
    """A run as the Add note modal names it: reference, workflow and ID."""

    id: str
    reference: str
    workflow: WorkflowRecord
    started_at: datetime


# Run detail: the retry chain ----------------------------------------------------------------


@dataclass(frozen=True)
class RetryLink:
    """One link of a retry chain, seen from a run: the other run's ID and status, and the
    retrigger that made the newer of the two (who asked, when, how its request stands; all
    None for a run that names `retry_of` with no retrigger of runsbot's behind it).
    `last_error` says why the request was given up, when it was."""

    run_id: str
    status: RunStatus
    requested_by: str | None = None
    requested_at: datetime | None = None
    state: RetriggerState | None = None
    last_error: str | None = None

    @property
    def in_flight(self) -> bool:
        """The retrigger is not done with: the engine has not accepted it, or its run has not
        ended."""
        return self.state in (RetriggerState.PENDING, RetriggerState.ACCEPTED)
