"""The retrigger outbox's other side: what is due to be sent to the engine, what it answered,
the pace of each trigger URL, and giving up.

A send is claimed before the engine is called: its next attempt moves past the call's
timeout, so no other pass sends it meanwhile, and a process that dies mid-call leaves it due
again soon after. Each trigger URL's pace is a `trigger_paces` row, so whichever replica sends
next keeps to it. Free functions taking an AsyncSession first, in the caller's transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import literal_column, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from store.ingest import apply_reports
from store.models import Retrigger, Run, TriggerPace
from store.reports import RunReport
from store.thread_lines import queue_thread_lines
from store.types import RetriggerState, ThreadLineKind
from store.upsert import upsert


@dataclass(frozen=True)
class RetriggerSend:
    """One retrigger request to send: its exact body goes to `trigger_url` every attempt."""

    retrigger_id: int
    run_id: str
    new_run_id: str
    trigger_url: str
    body: str
    attempts: int
    requested_at: datetime


@dataclass(frozen=True)
class GivenUp:
    """A retrigger the engine never accepted: its new run is now failed with `reason`."""

    run_id: str
    new_run_id: str
    reason: str


# A literal, not a bound value: only then can SQLite's planner (and PostgreSQL's generic
# plans) see that the query matches the partial index ix_retriggers_unsent.
_PENDING = Retrigger.state == literal_column(f"'{RetriggerState.PENDING.value}'")


async def urls_with_due_sends(session: AsyncSession, *, now: datetime) -> set[str]:
    """The trigger URLs with a pending request whose next attempt is due."""
    rows = await session.scalars(
        select(Retrigger.trigger_url).where(_PENDING, Retrigger.next_attempt_at <= now).distinct()
    )
    return set(rows)


async def due_sends(
    session: AsyncSession, trigger_url: str, *, now: datetime, limit: int
) -> list[RetriggerSend]:
    """The URL's pending requests due now, the longest-waiting first."""
    rows = await session.execute(
        select(Retrigger)
        .where(_PENDING, Retrigger.trigger_url == trigger_url, Retrigger.next_attempt_at <= now)
        .order_by(Retrigger.next_attempt_at, Retrigger.id)
        .limit(limit)
    )
    return [
        RetriggerSend(
            retrigger_id=row.id,
            run_id=row.run_id,
            new_run_id=row.new_run_id,
            trigger_url=row.trigger_url,
            body=row.body,
            attempts=row.attempts,
            requested_at=row.requested_at,
        )
        for row in rows.scalars()
    ]


async def claim_send(
    session: AsyncSession, retrigger_id: int, *, now: datetime, until: datetime
) -> bool:
    """Take a due request for one attempt, not due again before `until`; False when it is no
    longer pending or another pass took it."""
    result = await session.execute(
        update(Retrigger)
        .where(Retrigger.id == retrigger_id, _PENDING, Retrigger.next_attempt_at <= now)
        .values(attempts=Retrigger.attempts + 1, next_attempt_at=until, updated_at=now)
    )
    return bool(getattr(result, "rowcount", 0))


async def record_accepted(session: AsyncSession, retrigger_id: int, *, now: datetime) -> None:
    """The engine answered 2xx. A report of the new run may have come first (accepted, or
    ended already): that stays."""
    await session.execute(
        update(Retrigger)
        .where(Retrigger.id == retrigger_id, _PENDING)
        .values(state=RetriggerState.ACCEPTED, last_error=None, updated_at=now)
    )


async def record_send_failure(
    session: AsyncSession, retrigger_id: int, *, error: str, retry_at: datetime, now: datetime
) -> None:
    """The engine refused or did not answer: try again at `retry_at`."""
    await session.execute(
        update(Retrigger)
        .where(Retrigger.id == retrigger_id, _PENDING)
        .values(last_error=error, next_attempt_at=retry_at, updated_at=now)
    )


async def take_turn(
    session: AsyncSession, trigger_url: str, *, now: datetime, spacing_until: datetime
) -> datetime | None:
    """None when a request to `trigger_url` may go now (the next may go at `spacing_until`);
    else when this one may."""
    statement = (
        upsert(session, TriggerPace)
        .values(trigger_url=trigger_url, not_before=spacing_until)
        .on_conflict_do_update(
            index_elements=["trigger_url"],
            set_={"not_before": spacing_until},
            where=TriggerPace.not_before <= now,
        )
        .returning(TriggerPace.trigger_url)
    )
    if (await session.execute(statement)).first() is not None:
        return None
    return await session.scalar(
        select(TriggerPace.not_before).where(TriggerPace.trigger_url == trigger_url)
    )


async def hold_url(session: AsyncSession, trigger_url: str, *, until: datetime) -> None:
    """No request to `trigger_url` before `until` (the engine's Retry-After); a later hold
    already set stays."""
    statement = (
        upsert(session, TriggerPace)
        .values(trigger_url=trigger_url, not_before=until)
        .on_conflict_do_update(
            index_elements=["trigger_url"],
            set_={"not_before": until},
            where=TriggerPace.not_before < until,
        )
    )
    await session.execute(statement)


async def expired_sends(
    session: AsyncSession, *, requested_before: datetime, now: datetime
) -> list[tuple[int, str | None, int]]:
    """Pending requests asked for before `requested_before` and not being sent now: (id,
    last error, attempts) each."""
    rows = await session.execute(
        select(Retrigger.id, Retrigger.last_error, Retrigger.attempts).where(
            _PENDING,
            Retrigger.requested_at < requested_before,
            Retrigger.next_attempt_at <= now,
        )
    )
    return [(row.id, row.last_error, row.attempts) for row in rows]


async def give_up(
    session: AsyncSession, retrigger_id: int, *, reason: str, now: datetime
) -> GivenUp | None:
    """The engine never accepted it: the retrigger is given up, its new run marked failed
    with `reason` (as a report of runsbot's own, ranked like the engine's, so /runs and the
    alert show it), and a line queued in the original's alert threads. None when it is no
    longer pending."""
    row = (
        await session.execute(
            update(Retrigger)
            .where(Retrigger.id == retrigger_id, _PENDING)
            .values(state=RetriggerState.GIVEN_UP, last_error=reason, updated_at=now)
            .returning(Retrigger.run_id, Retrigger.new_run_id)
        )
    ).one_or_none()
    if row is None:
        return None
    workflow_id = await session.scalar(select(Run.workflow_id).where(Run.id == row.new_run_id))
    report = RunReport.model_validate(
        {
            "id": row.new_run_id,
            "workflow": {"id": workflow_id},
            "status": "failed",
            "finished_at": now.isoformat(),
            "updated_at": now.isoformat(),
            "error": {"message": reason},
        }
    )
    await apply_reports(session, [(report, now)], None, now)
    await queue_thread_lines(
        session, row.run_id, ThreadLineKind.RETRY_GIVEN_UP, now=now, about_run_id=row.new_run_id
    )
    return GivenUp(row.run_id, row.new_run_id, reason)
