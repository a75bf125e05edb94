"""runsbot's own lines in alert threads, queued in the transaction that makes them true.

A line goes to every alert message that names the run (its own alert, or the group alert
whose thread lists it), in every channel. The alert dispatcher posts it once, as a plain
reply (store/deliveries.py, bot/alert_dispatcher.py).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from store.models import AlertDelivery, AlertThreadLine
from store.types import ThreadLineKind
from store.upsert import upsert


async def queue_thread_lines(
    session: AsyncSession,
    run_id: str,
    kind: ThreadLineKind,
    *,
    now: datetime,
    note_id: int | None = None,
    about_run_id: str | None = None,
) -> int:
    """Queue a `kind` line in the thread of each alert naming `run_id`; how many. `note_id`
    is the note a NOTE line mirrors (once per thread, however often asked); `about_run_id`
    the run a retry line tells of. A run with no alert gets no line."""
    alert_ids = (
        await session.scalars(
            select(AlertDelivery.alert_message_id)
            .where(AlertDelivery.run_id == run_id, AlertDelivery.alert_message_id.is_not(None))
            .distinct()
        )
    ).all()
    if not alert_ids:
        return 0
    rows = [
        {
            "alert_message_id": alert_id,
            "kind": kind,
            "note_id": note_id,
            "run_id": about_run_id,
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
        }
        for alert_id in alert_ids
    ]
    statement = upsert(session, AlertThreadLine)
    if note_id is not None:
        statement = statement.on_conflict_do_nothing(
            index_elements=["alert_message_id", "note_id"],
            index_where=AlertThreadLine.note_id.is_not(None),
        )
    await session.execute(statement, rows)
    return len(rows)
