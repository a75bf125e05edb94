"""The rows a batch of reports reads and writes: what the store holds for the batch, loaded in
one statement per table, and what the batch changed, written in as few statements as possible.

Core statements on the session's connection: the ORM's per-row bookkeeping is not needed for
plain rows, and costs more than the queries themselves.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from store.models import ReportEvent, Run, Workflow
from store.queries import RUN_COLUMNS
from store.records import WorkflowRecord
from store.reports import RunReport, RunState, decode_versions, encode_versions
from store.types import RunStatus

# A run as the merge reads it: its own columns, the rank keys that set them, and its row's key.
_STATE_COLUMNS = (Run.seq, *RUN_COLUMNS, Run.payload, Run.steps, Run.versions)


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


class WorkflowChanges:
    """Workflows as a batch of reports leaves them; only accepted reports change them."""

    def __init__(self, known: dict[str, Any]) -> None:
        self.known = known  # workflow rows by id
        self.created: dict[str, dict[str, Any]] = {}
        self.updated: dict[str, dict[str, Any]] = {}
        # Most reports of a batch repeat one of a few workflow specs: each is applied once.
        self._applied: set[tuple[str, str | None, str | None, str | None]] = set()

    def record(self, workflow_id: str) -> WorkflowRecord:
        """The workflow as this batch leaves it."""
        if workflow_id in self.created:
            return WorkflowRecord(trigger_url=None, alert_channel=None, **self.created[workflow_id])
        changed = self.updated.get(workflow_id, {})
        return replace(WorkflowRecord(**self.known[workflow_id]._mapping), **changed)

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
class Loaded:
    """What the store already holds for a batch: seen event_ids (and the run each one
    named), stored runs, workflows."""

    seen_events: dict[str, str]
    stored: dict[str, tuple[int, RunState]]
    retry_of: dict[str, str]
    workflows: WorkflowChanges


# Built once, with expanding IN lists: constructing a statement and its cache key each time
# cost more than SQLite's answer when every HTTP request carries one report.
_SEEN_EVENTS = select(ReportEvent.event_id, ReportEvent.run_id).where(
    ReportEvent.event_id.in_(bindparam("event_ids", expanding=True))
)
_STORED_RUNS = select(*_STATE_COLUMNS).where(Run.id.in_(bindparam("run_ids", expanding=True)))
_KNOWN_WORKFLOWS = select(Workflow.__table__).where(
    Workflow.id.in_(bindparam("workflow_ids", expanding=True))
)
# PostgreSQL: lock the rows a concurrent replica might change under us.
_STORED_RUNS_LOCKED = _STORED_RUNS.with_for_update()
_KNOWN_WORKFLOWS_LOCKED = _KNOWN_WORKFLOWS.with_for_update()


async def load_for(
    connection: AsyncConnection, items: list[tuple[RunReport, datetime]], *, lock: bool
) -> Loaded:
    """One SELECT each for the batch's event_ids, run IDs and workflows, all at once.

    A repeated event_id answers with the run it named, so that run is loaded too.
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
    return Loaded(seen_events, stored, retry_of, WorkflowChanges({row.id: row for row in rows}))


async def write_changes(
    connection: AsyncConnection,
    items: list[tuple[RunReport, datetime]],
    loaded: Loaded,
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
