"""What `/runs stats` counts over a period: runs per status, the workflows failing most with
their failures in the period before, and the failures per hour or per day.

Every number is a count over an index range (store/models.py): per status on
(status, started_at), per workflow on (workflow_id, status, started_at), per hour or day on
(status, started_at). No run row is read, so a period costs what its index entries cost.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Select, func, literal, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from store.models import Run, Workflow
from store.queries import all_workflows, count_by_status
from store.records import WorkflowRecord
from store.types import RunStatus

__all__ = ["FailingWorkflow", "FailureSeries", "RunStats", "bar_length", "run_stats"]

TICK = timedelta(microseconds=1)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
# Hours up to about two days (a DST day pair is 49 hours); days beyond, at most MAX_BARS of
# them, then as many days a bar as keep the bars within MAX_BARS.
HOURLY_UP_TO = timedelta(hours=50)
MAX_BARS = 62


@dataclass(frozen=True)
class FailingWorkflow:
    workflow: WorkflowRecord
    failures: int
    failures_before: int  # in the period of the same length just before


@dataclass(frozen=True)
class FailureSeries:
    """Failures per bar: bar i covers [start + i·bar, start + (i+1)·bar), the last one cut at
    the period's end."""

    start: datetime
    bar: timedelta
    counts: tuple[int, ...]


@dataclass(frozen=True)
class RunStats:
    """Runs started in [since, until] (aware UTC, both included)."""

    since: datetime
    until: datetime
    counts: Mapping[RunStatus, int]  # every status, zero included
    failing_most: tuple[FailingWorkflow, ...]  # most failures first, then by workflow ID
    failures: FailureSeries

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def bar_length(length: timedelta) -> timedelta:
    """How long one bar of the failure series is, for a period `length` long."""
    if length <= HOURLY_UP_TO:
        return HOUR
    days = -(-length // DAY)
    return DAY * -(-days // MAX_BARS)


async def run_stats(
    session: AsyncSession, *, since: datetime, until: datetime, top: int = 5
) -> RunStats:
    """The stats of runs started in [since, until]; the `top` workflows with most failures."""
    return RunStats(
        since=since,
        until=until,
        counts=await count_by_status(session, since=since, until=until),
        failing_most=await _failing_most(session, since, until, top),
        failures=await _failure_series(session, since, until),
    )


def _failed_between(start: datetime, end: datetime) -> Select[int]:
    return (
        select(func.count())
        .select_from(Run)
        .where(Run.status == RunStatus.FAILED.value, Run.started_at >= start, Run.started_at <= end)
    )


async def _failing_most(
    session: AsyncSession, since: datetime, until: datetime, top: int
) -> tuple[FailingWorkflow, ...]:
    length = until - since + TICK
    # One index range per workflow and period (correlated): as cheap with 10 workflows as
    # a GROUP BY, and with 1,000 it never reads a run row the way a GROUP BY over the
    # (status, started_at) index would.
    per_workflow = select(
        Workflow.id.label("workflow_id"),
        _failed_between(since, until)
        .where(Run.workflow_id == Workflow.id)
        .scalar_subquery()
        .label("failures"),
        _failed_between(since - length, since - TICK)
        .where(Run.workflow_id == Workflow.id)
        .scalar_subquery()
        .label("failures_before"),
    ).subquery()
    rows = (
        await session.execute(
            select(per_workflow)
            .where(per_workflow.c.failures > 0)
            .order_by(per_workflow.c.failures.desc(), per_workflow.c.workflow_id)
            .limit(top)
        )
    ).all()
    if not rows:
        return ()
    workflows = await all_workflows(session)
    return tuple(
        FailingWorkflow(workflows[row.workflow_id], row.failures, row.failures_before)
        for row in rows
    )


async def _failure_series(session: AsyncSession, since: datetime, until: datetime) -> FailureSeries:
    bar = bar_length(until - since)
    bars = max(1, -(-(until - since) // bar))
    ends = [since + (index + 1) * bar - TICK for index in range(bars - 1)] + [until]
    # One index range per bar: a GROUP BY on the hour would need each dialect's date functions.
    arms = [
        _failed_between(since + index * bar, end).add_columns(literal(index).label("bar"))
        for index, end in enumerate(ends)
    ]
    counts = {row.bar: row[0] for row in await session.execute(union_all(*arms))}
    return FailureSeries(since, bar, tuple(int(counts.get(i, 0)) for i in range(bars)))
