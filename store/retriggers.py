"""The retrigger outbox: asking for a retrigger, and what becomes of its request to the engine.

A retrigger is written in one transaction: the new pending run (same workflow, reference and
payload, `retry_of` the original), the `retriggers` row with the trigger URL and the exact body
every attempt sends (CONTRACT.md section 5), an audit note on the original, and its alerts
marked stale. One in flight per original run is the partial unique index
`uq_retriggers_run_id_in_flight`: a concurrent second request fails on it and is told the
winner. The dispatcher (bot/retrigger_dispatcher.py) sends what is pending.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from store.alert_queue import mark_alerts_stale
from store.errors import RetriggerInFlight, RetriggerNotConfigured, RunNotFound
from store.ids import new_run_id
from store.models import Retrigger, Run, Workflow
from store.notes import write_note
from store.records import RetriggerRequested, RetriggerRouting
from store.reports import RunState
from store.thread_lines import queue_thread_lines
from store.types import NoteSource, RetriggerState, RunStatus, ThreadLineKind

IN_FLIGHT = (RetriggerState.PENDING, RetriggerState.ACCEPTED)


def request_body(
    *,
    run_id: str,
    retry_of: str,
    workflow_id: str,
    reference: str,
    payload: object,
    requested_by: str,
) -> str:
    """The JSON the engine gets (CONTRACT.md section 5), compact; kept and sent as it is."""
    return orjson.dumps(
        {
            "run_id": run_id,
            "retry_of": retry_of,
            "workflow_id": workflow_id,
            "reference": reference,
            "payload": payload,
            "requested_by": requested_by,
        }
    ).decode()


async def in_flight(session: AsyncSession, run_id: str) -> RetriggerInFlight | None:
    """The retrigger of `run_id` still in flight, as the error a second request gets."""
    row = (
        await session.execute(
            select(Retrigger.new_run_id, Retrigger.requested_by, Retrigger.requested_at).where(
                Retrigger.run_id == run_id, Retrigger.state.in_(IN_FLIGHT)
            )
        )
    ).one_or_none()
    if row is None:
        return None
    return RetriggerInFlight(
        run_id,
        new_run_id=row.new_run_id,
        requested_by=row.requested_by,
        requested_at=row.requested_at,
    )


async def request_retrigger(
    session: AsyncSession,
    run_id: str,
    *,
    requested_by: str,
    routing: RetriggerRouting,
    now: datetime,
) -> RetriggerRequested:
    """Make the new run and its outbox row in the caller's transaction. Raises RunNotFound,
    RetriggerInFlight (found before writing), RetriggerNotConfigured (nothing written); a
    concurrent winner shows as IntegrityError at flush, which the caller turns into
    RetriggerInFlight once this transaction is rolled back."""
    # The run and its workflow in one statement: each one costs a round trip.
    found = (
        await session.execute(
            select(Run, Workflow)
            .join(Workflow, Workflow.id == Run.workflow_id)
            .where(Run.id == run_id)
        )
    ).one_or_none()
    if found is None:
        raise RunNotFound(run_id)
    original, workflow = found
    if (running := await in_flight(session, run_id)) is not None:
        raise running
    trigger_url = workflow.trigger_url or routing.default_trigger_url
    if trigger_url is None:
        raise RetriggerNotConfigured("RUNSBOT_TRIGGER_URL", workflow_id=workflow.id)
    if not routing.can_sign:
        raise RetriggerNotConfigured("RUNSBOT_TRIGGER_SECRET")

    new_id = new_run_id()
    new_run: dict[str, Any] = {
        "id": new_id,
        "workflow_id": original.workflow_id,
        "reference": original.reference,
        "status": RunStatus.PENDING.value,
        "started_at": now,
        "updated_at": now,
        "created_at": now,
        "retry_of": run_id,
        # No rank keys: runsbot's copies give way to whatever the engine reports of the run.
        "versions": {},
        "payload": original.payload,
    }
    await session.execute(insert(Run), [new_run])
    body = request_body(
        run_id=new_id,
        retry_of=run_id,
        workflow_id=original.workflow_id,
        reference=original.reference,
        payload=original.payload,
        requested_by=requested_by,
    )
    await session.execute(
        insert(Retrigger).values(
            run_id=run_id,
            new_run_id=new_id,
            requested_by=requested_by,
            state=RetriggerState.PENDING,
            trigger_url=trigger_url,
            body=body,
            attempts=0,
            next_attempt_at=now,
            requested_at=now,
            updated_at=now,
        )
    )
    await write_note(
        session,
        run_id,
        author=requested_by,
        text=f"Retriggered as {new_id}",
        source=NoteSource.RUNSBOT,
        now=now,
    )
    await mark_alerts_stale(session, [run_id], now)
    return RetriggerRequested(
        run_id=run_id,
        reference=original.reference,
        new_run_id=new_id,
        requested_by=requested_by,
        requested_at=now,
    )


async def follow_retried_runs(
    session: AsyncSession, states: dict[str, RunState], retry_of: dict[str, str], now: datetime
) -> None:
    """In a report's transaction, for the reported runs that are retriggers (`retry_of`: new
    run -> original): a report proves the engine took the request (pending -> accepted); a
    terminal one ends the retrigger and queues a line in the original's alert threads."""
    ending = [run_id for run_id in retry_of if states[run_id].status.is_terminal]
    taken = [run_id for run_id in retry_of if not states[run_id].status.is_terminal]
    if ending:
        ended = await session.execute(
            update(Retrigger)
            .where(Retrigger.new_run_id.in_(ending), Retrigger.state.in_(IN_FLIGHT))
            .values(state=RetriggerState.ENDED, updated_at=now)
            .returning(Retrigger.run_id, Retrigger.new_run_id)
        )
        for original_id, new_id in ended.all():
            await queue_thread_lines(
                session, original_id, ThreadLineKind.RETRY_ENDED, now=now, about_run_id=new_id
            )
    if taken:
        await session.execute(
            update(Retrigger)
            .where(Retrigger.new_run_id.in_(taken), Retrigger.state == RetriggerState.PENDING)
            .values(state=RetriggerState.ACCEPTED, updated_at=now)
        )
