"""RunStore: the store's one entry point. Each public method is one unit of work."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

import orjson
from sqlalchemy import bindparam, delete, insert, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from store import alert_planning, alert_queue, deliveries, leases, queries
from store.alert_planning import GroupingRules
from store.database import SchemaUpgrade, create_engine, upgrade
from store.deliveries import AlertPost, AlertUpdate, PostTarget, ThreadPost
from store.filters import RunFilter
from store.ids import new_run_id
from store.models import Note, ReportEvent, Run, Workflow
from store.queries import NoteRecord, RunDetail, RunPage, WorkflowRecord
from store.reports import (
    ReportRejected,
    RunReport,
    RunState,
    check_report,
    decode_versions,
    encode_versions,
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


class RunNotFound(LookupError):
    def __init__(self, run_id: str) -> None:
        super().__init__(f"no run with ID {run_id}")
        self.run_id = run_id


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
    workflow: WorkflowInfo | None = None
    error: ReportRejected | None = None


@dataclass(frozen=True)
class WorkflowInfo:
    id: str
    source: str
    destination: str
    name: str | None


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


@dataclass
class _Submission:
    reports: Sequence[RunReport]
    received_at: datetime
    done: asyncio.Future[list[ReportOutcome]]


def _utcnow() -> datetime:
    return datetime.now(UTC)


class RunStore:
    """Typed, intention-named operations over the run store (SQLite or PostgreSQL)."""

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        clock: Any = _utcnow,
        alert_routing: AlertRouting | None = None,
    ) -> None:
        self.engine = engine
        self._sessions = async_sessionmaker(engine, expire_on_commit=False)
        self._clock = clock
        self._queue: list[_Submission] = []
        self._writer = asyncio.Lock()
        self.alert_routing = alert_routing
        # Called with their number after a commit that queued alert deliveries (the
        # dispatcher's wake-up).
        self.on_alerts_queued: Callable[[int], None] | None = None

    @classmethod
    def open(
        cls,
        url: str,
        *,
        clock: Any = _utcnow,
        alert_routing: AlertRouting | None = None,
        **engine_options: Any,
    ) -> RunStore:
        """A store on RUNSBOT_DATABASE_URL; `clock` supplies "now" (aware UTC)."""
        engine = create_engine(
            url,
            json_serializer=lambda value: orjson.dumps(value).decode(),
            json_deserializer=orjson.loads,
            **engine_options,
        )
        return cls(engine, clock=clock, alert_routing=alert_routing)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    async def upgrade(self) -> SchemaUpgrade:
        """Create or migrate the schema to the newest revision; says from which revision."""
        return await upgrade(self.engine)

    async def close(self) -> None:
        await self.engine.dispose()

    async def ping(self) -> bool:
        """True when the database answers a trivial query."""
        try:
            async with self._sessions() as session:
                await session.execute(text("SELECT 1"))
        except Exception:
            return False
        return True

    # Reports -------------------------------------------------------------

    async def report_runs(self, reports: Sequence[RunReport]) -> list[ReportOutcome]:
        """Store reports, one outcome each, in order; each stands or falls alone.

        Concurrent callers share transactions (group commit): whoever holds the
        writer lock writes every report queued so far, which keeps throughput
        up when each HTTP request carries one report.
        """
        if not reports:
            return []
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
                    outcomes, queued = await _apply_reports(
                        session, items, self.alert_routing, self._clock()
                    )
            except IntegrityError:
                if attempt == WRITE_ATTEMPTS - 1:
                    raise
                continue
            if queued and self.on_alerts_queued is not None:
                self.on_alerts_queued(queued)
            return outcomes
        raise AssertionError("unreachable")

    # Reads ---------------------------------------------------------------

    async def list_runs(self, flt: RunFilter) -> RunPage:
        """A page of runs, newest first; raises InvalidCursor for a foreign cursor."""
        async with self._sessions() as session:
            return await queries.list_runs(session, flt)

    async def get_run(self, run_id: str) -> RunDetail | None:
        """The run with its steps, notes and retries, or None if unknown."""
        async with self._sessions() as session:
            return await queries.run_detail(session, run_id)

    async def count_by_status(
        self, *, since: datetime, until: datetime, workflow: str | None = None
    ) -> dict[RunStatus, int]:
        """Runs started in [since, until] per status; `workflow` as /runs names one."""
        async with self._sessions() as session:
            workflow_ids = None
            if workflow is not None:
                known = await queries.all_workflows(session)
                workflow_ids = [w.id for w in queries.match_workflows(workflow, known.values())]
            counts = await queries.count_by_status(
                session, since=since, until=until, workflow_ids=workflow_ids
            )
        return {status: counts.get(status, 0) for status in RunStatus}

    async def forget_report_events(self, *, older_than: timedelta) -> int:
        """Forget event_ids received longer ago than `older_than`; returns how many."""
        cutoff = self._clock() - older_than
        async with self._sessions.begin() as session:
            result = await session.execute(
                delete(ReportEvent).where(ReportEvent.received_at < cutoff)
            )
        return int(getattr(result, "rowcount", 0) or 0)

    # Notes ---------------------------------------------------------------

    async def add_note(
        self,
        run_id: str,
        *,
        author: str,
        text: str,
        source: str,
        slack_channel_id: str | None = None,
        slack_message_ts: str | None = None,
    ) -> NoteRecord:
        """Store a note on a run; raises RunNotFound."""
        now = self._clock()
        async with self._sessions.begin() as session:
            if await session.scalar(select(Run.seq).where(Run.id == run_id)) is None:
                raise RunNotFound(run_id)
            note = Note(
                run_id=run_id,
                author=author,
                text=text,
                source=source,
                slack_channel_id=slack_channel_id,
                slack_message_ts=slack_message_ts,
                created_at=now,
                updated_at=now,
            )
            session.add(note)
            await session.flush()
            return NoteRecord(
                id=note.id,
                run_id=run_id,
                author=author,
                text=text,
                source=source,
                created_at=now,
                updated_at=now,
            )

    # Workflows -----------------------------------------------------------

    async def put_workflow(
        self, workflow_id: str, spec: WorkflowSpec
    ) -> tuple[WorkflowRecord, bool]:
        """Register or update a workflow; True when it was created."""
        now = self._clock()
        async with self._sessions.begin() as session:
            row = await session.get(Workflow, workflow_id, with_for_update=True)
            created = row is None
            if row is None:
                row = Workflow(id=workflow_id, created_at=now)
                session.add(row)
            row.source, row.destination = spec.source, spec.destination
            row.name, row.trigger_url = spec.name, spec.trigger_url
            row.alert_channel, row.updated_at = spec.alert_channel, now
            await session.flush()
            return queries.workflow_record(row), created

    async def list_workflows(self) -> list[WorkflowRecord]:
        async with self._sessions() as session:
            return list((await queries.all_workflows(session)).values())

    # The alert outbox (for the dispatcher) ---------------------------------

    async def acquire_lease(self, name: str, holder: str, *, ttl: timedelta) -> bool:
        """True while `holder` holds the lease `name` (taken or renewed now, for `ttl`)."""
        async with self._sessions.begin() as session:
            return await leases.acquire_lease(session, name, holder, now=self._clock(), ttl=ttl)

    async def release_lease(self, name: str, holder: str) -> None:
        """Give the lease up if `holder` has it; another holder's lease is left alone."""
        async with self._sessions.begin() as session:
            await leases.release_lease(session, name, holder)

    async def plan_alerts(self, rules: GroupingRules, *, runs_per_thread_post: int) -> int:
        """Give pending deliveries their alert messages, and gather group runs into replies
        of up to `runs_per_thread_post` (as many as one Slack message can list). Each step
        is its own short transaction."""
        async with self._sessions.begin() as session:
            planned = await alert_planning.plan_alerts(session, rules, now=self._clock())
        async with self._sessions.begin() as session:
            await alert_planning.plan_thread_posts(
                session, rules, runs_per_post=runs_per_thread_post, now=self._clock()
            )
        return planned

    async def channels_with_due_alerts(self, *, min_update_interval: timedelta) -> set[str]:
        """The channels with a post, thread reply or update due now."""
        async with self._sessions() as session:
            return await deliveries.channels_with_work(
                session, now=self._clock(), min_interval=min_update_interval
            )

    async def due_alert_posts(self, channel_id: str, *, limit: int = 20) -> list[AlertPost]:
        """The channel's unposted alerts whose next attempt is due, oldest first."""
        async with self._sessions() as session:
            return await deliveries.due_alert_posts(
                session, now=self._clock(), channel_id=channel_id, limit=limit
            )

    async def due_thread_posts(self, channel_id: str, *, limit: int = 20) -> list[ThreadPost]:
        """The channel's unposted thread replies whose next attempt is due, oldest first."""
        async with self._sessions() as session:
            return await deliveries.due_thread_posts(
                session, now=self._clock(), channel_id=channel_id, limit=limit
            )

    async def due_alert_updates(
        self, channel_id: str, *, min_interval: timedelta, limit: int = 20
    ) -> list[AlertUpdate]:
        """The channel's stale alerts not re-rendered within `min_interval`, stalest first."""
        async with self._sessions() as session:
            return await deliveries.due_alert_updates(
                session,
                now=self._clock(),
                min_interval=min_interval,
                channel_id=channel_id,
                limit=limit,
            )

    async def record_post_attempt(self, target: PostTarget, row_id: int) -> None:
        """Remember that Slack is about to be asked: from now on the post is uncertain."""
        async with self._sessions.begin() as session:
            await deliveries.record_attempt(session, target, row_id, self._clock())

    async def record_posted(
        self, target: PostTarget, row_id: int, message_ts: str, *, revision: int = 0
    ) -> None:
        """Slack took the post as `message_ts`: the runs it names are alerted. An alert
        message posted at `revision` stays stale if it changed since."""
        async with self._sessions.begin() as session:
            await deliveries.record_posted(
                session, target, row_id, message_ts, revision=revision, now=self._clock()
            )

    async def record_post_failure(
        self,
        target: PostTarget,
        row_id: int,
        *,
        error: str,
        retry_in: timedelta,
        uncertain: bool,
    ) -> None:
        """Slack did not take the post (or did not say): try again `retry_in` from now."""
        async with self._sessions.begin() as session:
            await deliveries.record_post_failure(
                session,
                target,
                row_id,
                error=error,
                retry_at=self._clock() + retry_in,
                uncertain=uncertain,
            )

    async def record_rendered(self, alert_id: int, *, revision: int, cleared: bool = True) -> None:
        """The alert was re-rendered at `revision` (`cleared`), or the update failed and
        waits a while."""
        async with self._sessions.begin() as session:
            await deliveries.record_rendered(
                session, alert_id, revision=revision, now=self._clock(), cleared=cleared
            )

    # Bulk load (demo data and benchmarks) --------------------------------

    async def load_rows(
        self, workflows: Sequence[dict[str, Any]], runs: Sequence[dict[str, Any]]
    ) -> None:
        """Insert prepared rows as they are, bypassing report merging: for demo data only."""
        async with self._sessions.begin() as session:
            if workflows:
                known = set(await session.scalars(select(Workflow.id)))
                fresh = [w for w in workflows if w["id"] not in known]
                if fresh:
                    await session.execute(insert(Workflow), fresh)
            if runs:
                await session.execute(insert(Run), list(runs))


# The report write path -------------------------------------------------------


_STATE_COLUMNS = (
    Run.seq,
    Run.id,
    Run.workflow_id,
    Run.reference,
    Run.status,
    Run.started_at,
    Run.finished_at,
    Run.error_message,
    Run.error_step,
    Run.skip_reason,
    Run.payload,
    Run.steps,
    Run.result,
    Run.updated_at,
    Run.versions,
)


def _state_from_row(row: Any) -> RunState:
    return RunState(
        id=row.id,
        workflow_id=row.workflow_id,
        reference=row.reference,
        status=RunStatus(row.status),
        started_at=row.started_at,
        finished_at=row.finished_at,
        error_message=row.error_message,
        error_step=row.error_step,
        skip_reason=row.skip_reason,
        payload=row.payload,
        steps=row.steps,
        result=row.result,
        updated_at=row.updated_at,
        versions=decode_versions(row.versions),
    )


def _row_values(state: RunState) -> dict[str, Any]:
    return {
        "id": state.id,
        "workflow_id": state.workflow_id,
        "reference": state.reference,
        "status": state.status.value,
        "started_at": state.started_at,
        "finished_at": state.finished_at,
        "error_message": state.error_message,
        "error_step": state.error_step,
        "skip_reason": state.skip_reason,
        "payload": state.payload,
        "steps": state.steps,
        "result": state.result,
        "updated_at": state.updated_at,
        "versions": encode_versions(state.versions),
    }


class _WorkflowChanges:
    """Workflows as a batch of reports leaves them; only accepted reports change them."""

    def __init__(self, known: dict[str, Any]) -> None:
        self.known = known  # workflow rows (id, source, destination, name) by id
        self.created: dict[str, dict[str, Any]] = {}
        self.updated: dict[str, dict[str, Any]] = {}
        # Most reports of a batch repeat one of a few workflow specs: each is applied once.
        self._applied: set[tuple[str, str | None, str | None, str | None]] = set()

    def info(self, workflow_id: str) -> WorkflowInfo:
        if workflow_id in self.created:
            values = self.created[workflow_id]
        else:
            row = self.known[workflow_id]
            values = {"source": row.source, "destination": row.destination, "name": row.name}
            values.update(self.updated.get(workflow_id, {}))
        return WorkflowInfo(
            id=workflow_id,
            source=values["source"],
            destination=values["destination"],
            name=values.get("name"),
        )

    def exists(self, workflow_id: str) -> bool:
        return workflow_id in self.known or workflow_id in self.created

    def apply(self, report: RunReport, now: datetime) -> None:
        wf = report.workflow
        spec = (wf.id, wf.source, wf.destination, wf.name)
        if spec in self._applied:
            return  # applying the same values again changes nothing
        self._applied.add(spec)
        carried = {
            key: value
            for key, value in (
                ("source", wf.source),
                ("destination", wf.destination),
                ("name", wf.name),
            )
            if value is not None
        }
        if wf.id in self.created:
            self.created[wf.id].update(carried)
            return
        if wf.id not in self.known:
            self.created[wf.id] = {
                "id": wf.id,
                "name": None,
                "created_at": now,
                "updated_at": now,
                **carried,
            }
            return
        row = self.known[wf.id]
        pending = self.updated.get(wf.id, {})
        if any(pending.get(key, getattr(row, key)) != value for key, value in carried.items()):
            self.updated[wf.id] = {**pending, **carried, "id": wf.id, "updated_at": now}


@dataclass
class _Loaded:
    """What the store already holds for a batch: seen event_ids (and the run each one
    named), stored runs, workflows."""

    seen_events: dict[str, str]
    stored: dict[str, tuple[int, RunState]]
    retry_of: dict[str, str]
    workflows: _WorkflowChanges


# Built once, with expanding IN lists: constructing a statement and its cache key each time
# cost more than SQLite's answer when every HTTP request carries one report.
_SEEN_EVENTS = select(ReportEvent.event_id, ReportEvent.run_id).where(
    ReportEvent.event_id.in_(bindparam("event_ids", expanding=True))
)
_STORED_RUNS = select(*_STATE_COLUMNS, Run.retry_of).where(
    Run.id.in_(bindparam("run_ids", expanding=True))
)
_KNOWN_WORKFLOWS = select(Workflow.id, Workflow.source, Workflow.destination, Workflow.name).where(
    Workflow.id.in_(bindparam("workflow_ids", expanding=True))
)
# PostgreSQL: lock the rows a concurrent replica might change under us.
_STORED_RUNS_LOCKED = _STORED_RUNS.with_for_update()
_KNOWN_WORKFLOWS_LOCKED = _KNOWN_WORKFLOWS.with_for_update()


async def _load_for(
    connection: AsyncConnection, items: list[tuple[RunReport, datetime]], *, lock: bool
) -> _Loaded:
    """One SELECT each for the batch's event_ids, run IDs and workflows, all at once.

    A repeated event_id answers with the run it named, so that run is loaded too.
    Core statements on the session's connection: the ORM's per-row bookkeeping is not
    needed for plain rows, and costs more than the queries themselves.
    """
    event_ids = [report.event_id for report, _ in items if report.event_id is not None]
    workflow_ids = {report.workflow.id for report, _ in items}
    seen_events: dict[str, str] = {}
    if event_ids:
        rows = await connection.execute(_SEEN_EVENTS, {"event_ids": event_ids})
        seen_events = {row.event_id: row.run_id for row in rows}
    run_ids = [report.id for report, _ in items if report.id is not None]
    run_ids += seen_events.values()
    stored: dict[str, tuple[int, RunState]] = {}
    retry_of: dict[str, str] = {}
    if run_ids:
        query = _STORED_RUNS_LOCKED if lock else _STORED_RUNS
        for row in await connection.execute(query, {"run_ids": run_ids}):
            stored[row.id] = (row.seq, _state_from_row(row))
            if row.retry_of is not None:
                retry_of[row.id] = row.retry_of
    # A stored run may keep a workflow no report in this batch names.
    workflow_ids |= {state.workflow_id for _, state in stored.values()}
    rows = await connection.execute(
        _KNOWN_WORKFLOWS_LOCKED if lock else _KNOWN_WORKFLOWS,
        {"workflow_ids": sorted(workflow_ids)},
    )
    return _Loaded(seen_events, stored, retry_of, _WorkflowChanges({row.id: row for row in rows}))


async def _apply_reports(
    session: AsyncSession,
    items: list[tuple[RunReport, datetime]],
    routing: AlertRouting | None,
    now: datetime,
) -> tuple[list[ReportOutcome], int]:
    """Fold a batch of reports into the store inside one transaction."""
    connection = await session.connection()
    lock = connection.dialect.name == "postgresql"
    loaded = await _load_for(connection, items, lock=lock)
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

    await _write_changes(connection, items, loaded, states, first_seen, new_events)
    queued = await _follow_status_changes(
        session, loaded.stored, states, loaded.retry_of, routing, now
    )
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


async def _write_changes(
    connection: AsyncConnection,
    items: list[tuple[RunReport, datetime]],
    loaded: _Loaded,
    states: dict[str, RunState],
    first_seen: dict[str, datetime],
    new_events: dict[str, str],
) -> None:
    """At most one executemany per table and kind of change: the fixed cost of a statement
    through the async stack is worth many rows."""
    workflows = loaded.workflows
    if workflows.created:
        await connection.execute(insert(Workflow), list(workflows.created.values()))
    for values in workflows.updated.values():
        await connection.execute(
            update(Workflow).where(Workflow.id == values["id"]).values(**values)
        )
    new_rows = [
        {**_row_values(states[run_id]), "created_at": at} for run_id, at in first_seen.items()
    ]
    if new_rows:
        await _insert_rows(connection, Run, new_rows)
    changed = [
        {"stored_seq": seq, **_row_values(states[run_id])}
        for run_id, (seq, before) in loaded.stored.items()
        if states[run_id] is not before
    ]
    if changed:
        await connection.execute(_UPDATE_RUN_BY_SEQ, changed)
    if new_events:
        received_at = items[0][1]
        await _insert_rows(
            connection,
            ReportEvent,
            [
                {"event_id": event_id, "run_id": run_id, "received_at": received_at}
                for event_id, run_id in new_events.items()
            ],
        )


async def _insert_rows(
    connection: AsyncConnection, model: type[Run] | type[ReportEvent], rows: list[dict[str, Any]]
) -> None:
    """Insert rows of one shape: on SQLite in one statement over a JSON array, else executemany.

    SQLite's executemany takes the GIL back for every row's parameters, so while the event
    loop parses the next request the writer thread waits at each row: two batches in flight
    ran slower than one. `INSERT … SELECT … FROM json_each(?)` hands SQLite every row at
    once, and it inserts them all without the GIL. The values are those SQLAlchemy's own bind
    processors make, so the stored text is the same. SQLite's JSON functions cut strings at
    a NUL character: a batch holding one takes executemany.
    """
    if connection.dialect.name == "sqlite":
        columns = list(rows[0])
        table = model.__table__
        dialect = connection.dialect
        # The dialect's own processors (as SQLAlchemy runs them), not the generic types'.
        processors = [
            table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in columns
        ]
        document = orjson.dumps(
            [
                [
                    row[name] if process is None else process(row[name])
                    for name, process in zip(columns, processors, strict=True)
                ]
                for row in rows
            ]
        )
        if b"\\u0000" not in document:
            await connection.exec_driver_sql(
                _json_each_insert(model.__tablename__, tuple(columns)), (document.decode(),)
            )
            return
    await connection.execute(insert(model), rows)


@functools.cache
def _json_each_insert(table: str, columns: tuple[str, ...]) -> str:
    values = ", ".join(f"json_extract(value, '$[{index}]')" for index in range(len(columns)))
    return f"INSERT INTO {table} ({', '.join(columns)}) SELECT {values} FROM json_each(?)"


# Core's executemany UPDATE: the row's key travels as its own parameter, not as a SET column.
_UPDATE_RUN_BY_SEQ = update(Run).where(Run.seq == bindparam("stored_seq"))


def _outcomes(
    items: list[tuple[RunReport, datetime]],
    results: list[tuple[ReportResult, str | None, ReportRejected | None]],
    states: dict[str, RunState],
    workflows: _WorkflowChanges,
) -> list[ReportOutcome]:
    """Outcomes show the run and its workflow as this batch left them."""
    infos: dict[str, WorkflowInfo] = {}
    outcomes = []
    for (report, _), (kind, run_id, error) in zip(items, results, strict=True):
        if run_id is None:
            outcomes.append(ReportOutcome(kind, report.id, error=error))
            continue
        state = states[run_id]
        if state.workflow_id not in infos:
            infos[state.workflow_id] = workflows.info(state.workflow_id)
        outcomes.append(ReportOutcome(kind, run_id, state, infos[state.workflow_id], error))
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
    workflows: _WorkflowChanges,
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
