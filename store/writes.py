"""Writes other than reports and notes (store/notes.py): workflow registrations, forgetting
old event_ids and demo rows. Free functions taking an AsyncSession first, inside the caller's transaction."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from store.models import ReportEvent, Run, Workflow
from store.records import WorkflowRecord, WorkflowSpec, workflow_record


async def put_workflow(
    session: AsyncSession, workflow_id: str, spec: WorkflowSpec, *, now: datetime
) -> tuple[WorkflowRecord, bool]:
    """The workflow as registered, and True when it was new."""
    row = await session.get(Workflow, workflow_id, with_for_update=True)
    created = row is None
    if row is None:
        row = Workflow(id=workflow_id, created_at=now)
        session.add(row)
    row.source, row.destination = spec.source, spec.destination
    row.name, row.trigger_url = spec.name, spec.trigger_url
    row.alert_channel, row.updated_at = spec.alert_channel, now
    await session.flush()
    return workflow_record(row), created


async def forget_report_events(session: AsyncSession, *, received_before: datetime) -> int:
    """How many event_ids received before `received_before` were forgotten."""
    result = await session.execute(
        delete(ReportEvent).where(ReportEvent.received_at < received_before)
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def load_rows(
    session: AsyncSession, workflows: Sequence[dict[str, Any]], runs: Sequence[dict[str, Any]]
) -> None:
    """Insert prepared rows as they are (workflows already stored are kept)."""
    if workflows:
        known = set(await session.scalars(select(Workflow.id)))
        fresh = [w for w in workflows if w["id"] not in known]
        if fresh:
            await session.execute(insert(Workflow), fresh)
    if runs:
        await session.execute(insert(Run), list(runs))
