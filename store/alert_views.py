"""The alerts as they should read now, built from the rows for the alert builders."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from store.alerts import AlertRun, GroupAlert, RetryView, SingleAlert
from store.causes import classify_failure
from store.models import AlertDelivery, AlertMessage, Retrigger, Run, Workflow
from store.records import workflow_record
from store.types import AlertKind, RunStatus


async def alert_view(session: AsyncSession, alert: AlertMessage) -> SingleAlert | GroupAlert:
    """The alert as it should read now."""
    deliveries = (
        await session.execute(
            select(AlertDelivery.run_id, AlertDelivery.created_at)
            .where(AlertDelivery.alert_message_id == alert.id)
            .order_by(AlertDelivery.created_at, AlertDelivery.id)
        )
    ).all()
    if alert.kind == AlertKind.SINGLE:
        runs = await alert_runs(session, [deliveries[0].run_id])
        return SingleAlert(
            alert_id=alert.id, channel_id=alert.channel_id, run=runs[deliveries[0].run_id]
        )
    latest_id = deliveries[-1].run_id
    latest = (await alert_runs(session, [latest_id]))[latest_id]
    messages = (
        await session.scalars(
            select(Run.error_message).where(
                Run.id.in_(
                    select(AlertDelivery.run_id).where(AlertDelivery.alert_message_id == alert.id)
                )
            )
        )
    ).all()
    causes = Counter(classify_failure(message) for message in messages)
    return GroupAlert(
        alert_id=alert.id,
        channel_id=alert.channel_id,
        workflow=latest.workflow,
        failure_count=len(deliveries),
        first_failed_at=alert.first_failed_at,
        last_failed_at=alert.last_failed_at,
        latest=latest,
        causes=tuple(causes.most_common()),
    )


async def alert_runs(session: AsyncSession, run_ids: Sequence[str]) -> dict[str, AlertRun]:
    """The runs as an alert shows them, by id, each with its newest retrigger."""
    if not run_ids:
        return {}
    rows = (
        await session.execute(
            select(
                Run.id,
                Run.workflow_id,
                Run.reference,
                Run.status,
                Run.started_at,
                Run.error_message,
                Run.error_step,
            ).where(Run.id.in_(run_ids))
        )
    ).all()
    workflows = {
        w.id: workflow_record(w)
        for w in await session.scalars(
            select(Workflow).where(Workflow.id.in_({row.workflow_id for row in rows}))
        )
    }
    retries = await _latest_retries(session, run_ids)
    return {
        row.id: AlertRun(
            id=row.id,
            workflow=workflows[row.workflow_id],
            reference=row.reference,
            status=RunStatus(row.status),
            started_at=row.started_at,
            error_message=row.error_message,
            error_step=row.error_step,
            cause=classify_failure(row.error_message),
            retry=retries.get(row.id),
        )
        for row in rows
    }


async def _latest_retries(session: AsyncSession, run_ids: Sequence[str]) -> dict[str, RetryView]:
    rows = (
        await session.execute(
            select(
                Retrigger.run_id,
                Retrigger.new_run_id,
                Retrigger.requested_by,
                Retrigger.requested_at,
                Run.status,
            )
            .join(Run, Run.id == Retrigger.new_run_id)
            .where(Retrigger.run_id.in_(run_ids))
            .order_by(Retrigger.requested_at, Retrigger.id)
        )
    ).all()
    return {
        row.run_id: RetryView(
            new_run_id=row.new_run_id,
            requested_by=row.requested_by,
            status=RunStatus(row.status),
            requested_at=row.requested_at,
        )
        for row in rows  # later rows win: the newest retrigger
    }
