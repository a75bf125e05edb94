"""Failure alerts as the store hands them to the builders: plain, frozen results."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from store.causes import FailureCause
from store.records import WorkflowRecord
from store.types import RunStatus


@dataclass(frozen=True)
class RetryView:
    """The newest retrigger of a run: who asked, as which run, and how it went."""

    new_run_id: str
    requested_by: str  # "slack:U024BE7LH", or who the API request named
    status: RunStatus  # the new run's status: pending until the engine reports it
    requested_at: datetime


@dataclass(frozen=True)
class AlertRun:
    """A failed run as an alert shows it; `status` may have moved on since it failed."""

    id: str
    workflow: WorkflowRecord
    reference: str
    status: RunStatus
    started_at: datetime
    error_message: str | None
    error_step: str | None
    cause: FailureCause
    retry: RetryView | None = None


@dataclass(frozen=True)
class SingleAlert:
    """The alert message of one failed run."""

    alert_id: int
    channel_id: str
    run: AlertRun


@dataclass(frozen=True)
class GroupAlert:
    """One message for a burst of a workflow's failures in a channel; runs go in its thread."""

    alert_id: int
    channel_id: str
    workflow: WorkflowRecord
    failure_count: int
    first_failed_at: datetime
    last_failed_at: datetime
    latest: AlertRun
    causes: tuple[tuple[FailureCause, int], ...]  # most frequent first
