"""What `/runs stats` counts over a period: runs per status, the workflows failing most with
their failures in the period before, and the failures per hour or per day.

Every number is a count over an index range (store/models.py): per status on
(status, started_at), per workflow on (workflow_id, status, started_at), per hour or day on
(status, started_at). No run row is read, so a period costs what its index entries cost.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import (
    CompoundSelect,
    Select,
    bindparam,
    func,
    literal_column,
    select,
    union_all,
)
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
EARLIEST = datetime.min.replace(tzinfo=UTC)


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


def _failed_between(start: str, end: str) -> Select[int]:
    """Failures started in [start, end]: two bound parameters of that name."""
    return (
        select(func.count())
        .select_from(Run)
        .where(
            Run.status == RunStatus.FAILED.value,
            Run.started_at >= bindparam(start),
            Run.started_at <= bindparam(end),
        )
    )


# The statements are built once and bound to each period's times: building the UNION of the
# bars anew took SQLAlchemy longer than SQLite took to run it.
@cache
def _failing_most_statement(top: int) -> Select[Any]:
    # One index range per workflow (correlated), so no run row is read for its workflow ID as
    # a GROUP BY over (status, started_at) would. The period before is counted outside the
    # LIMIT, for the `top` workflows only.
    failures = (
        _failed_between("since", "until")
        .where(Run.workflow_id == Workflow.id)
        .scalar_subquery()
        .label("failures")
    )
    failing = (
        select(Workflow.id.label("workflow_id"), failures)
        .order_by(failures.desc(), Workflow.id)
        .limit(top)
        .subquery()
    )
    before = (
        _failed_between("before_since", "before_until")
        .where(Run.workflow_id == failing.c.workflow_id)
        .scalar_subquery()
    )
    return select(failing, before.label("failures_before")).order_by(
        failing.c.failures.desc(), failing.c.workflow_id
    )


@cache
def _series_statement(bars: int) -> CompoundSelect[Any]:
    # One index range per bar: a GROUP BY on the hour would need each dialect's date functions.
    return union_all(
        *(
            _failed_between(f"start_{index}", f"end_{index}").add_columns(
                literal_column(str(index)).label("bar")
            )
            for index in range(bars)
        )
    )


async def _failing_most(
    session: AsyncSession, since: datetime, until: datetime, top: int
) -> tuple[FailingWorkflow, ...]:
    length = until - since + TICK
    times = {
        "since": since,
        "until": until,
        "before_since": _earlier(since, length),
        "before_until": since - TICK,
    }
    rows = (await session.execute(_failing_most_statement(top), times)).all()
    rows = [row for row in rows if row.failures > 0]
    if not rows:
        return ()
    workflows = await all_workflows(session)
    return tuple(
        FailingWorkflow(workflows[row.workflow_id], row.failures, row.failures_before)
        for row in rows
    )


def _earlier(moment: datetime, length: timedelta) -> datetime:
    """`length` before `moment`, or the first moment of the year 1 if that is earlier."""
    try:
        return moment - length
    except OverflowError:
        return EARLIEST


async def _failure_series(session: AsyncSession, since: datetime, until: datetime) -> FailureSeries:
    bar = bar_length(until - since)
    bars = max(1, -(-(until - since) // bar))
    times = {f"start_{index}": since + index * bar for index in range(bars)}
    times |= {f"end_{index}": since + (index + 1) * bar - TICK for index in range(bars - 1)}
    times[f"end_{bars - 1}"] = until  # the last bar ends with the period, `until` included
    counts = {row.bar: row[0] for row in await session.execute(_series_statement(bars), times)}
    return FailureSeries(since, bar, tuple(int(counts.get(i, 0)) for i in range(bars)))
