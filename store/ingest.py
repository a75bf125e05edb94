"""The report write path: reports queued by concurrent callers are folded into the store in
shared transactions (group commit), and the runs that just failed are queued for alerts in
the same transaction."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from store import alert_queue, retriggers
from store.errors import ReportRejected
from store.ids import new_run_id
from store.records import AlertRouting, ReportOutcome, ReportResult, WorkflowRecord
from store.report_rows import WorkflowChanges, load_for, write_changes
from store.reports import (
    RunReport,
    RunState,
    check_report,
    merge,
    new_state,
    rank_key,
    report_document,
)
from store.types import RunStatus

# One transaction takes at most this many reports: a batch request's worth.
MAX_REPORTS_PER_COMMIT = 1000
# A concurrent writer (another replica) may insert the same new run first.
WRITE_ATTEMPTS = 3


@dataclass
class _Submission:
    reports: Sequence[RunReport]
    received_at: datetime
    done: asyncio.Future[list[ReportOutcome]]


class GroupCommit:
    """Writes the reports of concurrent callers together: whoever holds the writer lock writes
    every report queued so far, which keeps throughput up when each HTTP request carries one."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        clock: Callable[[], datetime],
        routing: AlertRouting | None,
        on_alerts_queued: Callable[[int], None] | None,
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._routing = routing
        self._on_alerts_queued = on_alerts_queued
        self._queue: list[_Submission] = []
        self._writer = asyncio.Lock()

    async def write(self, reports: Sequence[RunReport]) -> list[ReportOutcome]:
        """One outcome per report, in order, once a transaction holding them committed."""
        submission = _Submission(reports, self._clock(), asyncio.get_running_loop().create_future())
        self._queue.append(submission)
        while not submission.done.done():
            async with self._writer:
                if submission.done.done():
                    break
                await self._write_queued()
        return submission.done.result()

    async def _write_queued(self) -> None:
        batch: list[_Submission] = []
        count = 0
        while self._queue and (
            not batch or count + len(self._queue[0].reports) <= MAX_REPORTS_PER_COMMIT
        ):
            submission = self._queue.pop(0)
            batch.append(submission)
            count += len(submission.reports)
        items = [(report, s.received_at) for s in batch for report in s.reports]
        try:
            outcomes = await self._apply_with_retry(items)
        except Exception as error:
            if len(batch) == 1:
                batch[0].done.set_exception(error)
                return
            # One caller's bad luck must not fail the others: write them one by one.
            self._queue[:0] = batch
            for submission in batch:
                self._queue.remove(submission)
                try:
                    submission.done.set_result(
                        await self._apply_with_retry(
                            [(report, submission.received_at) for report in submission.reports]
                        )
                    )
                except Exception as single_error:
                    submission.done.set_exception(single_error)
            return
        start = 0
        for submission in batch:
            end = start + len(submission.reports)
            submission.done.set_result(outcomes[start:end])
            start = end

    async def _apply_with_retry(
        self, items: list[tuple[RunReport, datetime]]
    ) -> list[ReportOutcome]:
        for attempt in range(WRITE_ATTEMPTS):
            try:
                async with self._sessions.begin() as session:
                    outcomes, queued = await apply_reports(
                        session, items, self._routing, self._clock()
                    )
            except IntegrityError:
                if attempt == WRITE_ATTEMPTS - 1:
                    raise
                continue
            if queued and self._on_alerts_queued is not None:
                self._on_alerts_queued(queued)
            return outcomes
        raise AssertionError("unreachable")


async def apply_reports(
    session: AsyncSession,
    items: list[tuple[RunReport, datetime]],
    routing: AlertRouting | None,
    now: datetime,
) -> tuple[list[ReportOutcome], int]:
    """Fold a batch of reports into the store inside one transaction."""
    connection = await session.connection()
    lock = connection.dialect.name == "postgresql"
    loaded = await load_for(connection, items, lock=lock)
    workflows = loaded.workflows
    states: dict[str, RunState] = {run_id: state for run_id, (_, state) in loaded.stored.items()}
    first_seen: dict[str, datetime] = {}
    new_events: dict[str, str] = {}
    # Per report: what became of it, the run it answers with (none when rejected), and why not.
    results: list[tuple[ReportResult, str | None, ReportRejected | None]] = []
    for report, received_at in items:
        if report.event_id is not None:
            named = loaded.seen_events.get(report.event_id) or new_events.get(report.event_id)
            if named is not None:
                results.append(_repeated_event(report, report.event_id, named))
                continue
        run_id = report.id or new_run_id()
        try:
            check_report(report)
            state = _fold(run_id, states.get(run_id), report, received_at, workflows)
        except ReportRejected as rejected:
            results.append((ReportResult.REJECTED, None, rejected))
            continue
        workflows.apply(report, received_at)
        is_new = run_id not in states
        if is_new:
            first_seen[run_id] = received_at
        states[run_id] = state
        if report.event_id is not None:
            new_events[report.event_id] = run_id
        results.append((ReportResult.CREATED if is_new else ReportResult.UPDATED, run_id, None))

    await write_changes(connection, items, loaded, states, first_seen, new_events)
    queued = await _follow_status_changes(
        session, loaded.stored, states, loaded.retry_of, routing, now
    )
    if loaded.retry_of:  # only reports of retriggered runs pay for this
        await retriggers.follow_retried_runs(session, states, loaded.retry_of, now)
    return _outcomes(items, results, states, workflows), queued


def _repeated_event(
    report: RunReport, event_id: str, named: str
) -> tuple[ReportResult, str, ReportRejected | None]:
    """A repeated event_id changes nothing: for the run it named it answers with that run; a
    report naming another run is a conflict, so that the engine's bug is shown, not hidden."""
    if report.id is None or report.id == named:
        return ReportResult.DUPLICATE, named, None
    return (
        ReportResult.CONFLICT,
        named,
        ReportRejected(
            f"event_id {event_id} was already used for run {named}, not {report.id}: "
            "give each report its own event_id",
            "event_id",
        ),
    )


def _outcomes(
    items: list[tuple[RunReport, datetime]],
    results: list[tuple[ReportResult, str | None, ReportRejected | None]],
    states: dict[str, RunState],
    workflows: WorkflowChanges,
) -> list[ReportOutcome]:
    """Outcomes show the run and its workflow as this batch left them."""
    records: dict[str, WorkflowRecord] = {}
    outcomes = []
    for (report, _), (kind, run_id, error) in zip(items, results, strict=True):
        if run_id is None:
            outcomes.append(ReportOutcome(kind, report.id, error=error))
            continue
        state = states[run_id]
        if state.workflow_id not in records:
            records[state.workflow_id] = workflows.record(state.workflow_id)
        outcomes.append(ReportOutcome(kind, run_id, state, records[state.workflow_id], error))
    return outcomes


async def _follow_status_changes(
    session: AsyncSession,
    stored: dict[str, tuple[int, RunState]],
    states: dict[str, RunState],
    retry_of: dict[str, str],
    routing: AlertRouting | None,
    now: datetime,
) -> int:
    """Queue alerts for runs that just failed; mark alerts stale whose runs moved on.

    A retriggered run is never alerted on its own: its outcome re-renders the
    original run's alert instead.
    """
    before = {run_id: state.status for run_id, (_, state) in stored.items()}
    moved = [
        run_id
        for run_id, state in states.items()
        if before.get(run_id, state.status) != state.status
    ]
    await alert_queue.mark_alerts_stale(
        session, [*moved, *(retry_of[run_id] for run_id in moved if run_id in retry_of)], now
    )
    if routing is None:
        return 0  # Slack is off: failures are stored, not queued for later
    failed = [
        (run_id, state.workflow_id)
        for run_id, state in states.items()
        if state.status is RunStatus.FAILED
        and before.get(run_id) is not RunStatus.FAILED
        and run_id not in retry_of
    ]
    return await alert_queue.queue_deliveries(
        session, failed, default_channel=routing.default_channel, now=now
    )


def _fold(
    run_id: str,
    state: RunState | None,
    report: RunReport,
    received_at: datetime,
    workflows: WorkflowChanges,
) -> RunState:
    document = report_document(report)
    key = rank_key(report, received_at, document)
    # A new workflow, for a new run or one moving to it, needs its source and destination.
    if not workflows.exists(report.workflow.id) and not (
        report.workflow.source and report.workflow.destination
    ):
        field = "workflow.source" if not report.workflow.source else "workflow.destination"
        raise ReportRejected(
            f"{field}: is required the first time workflow {report.workflow.id} is reported", field
        )
    if state is not None:
        return merge(state, report, key, received_at, document)
    if report.reference is None:
        raise ReportRejected("reference: is required when a run is first reported", "reference")
    fresh = new_state(run_id, report, key, received_at, document)
    if fresh.started_at is None:
        fresh = replace(fresh, started_at=received_at)
    return fresh
