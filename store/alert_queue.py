"""The alert outbox's writes in a report's transaction: deliveries queued with the failure,
and alerts marked stale when their runs move on.

A failed run gets one `alert_deliveries` row per channel it goes to, in the same
transaction that stores the failure, so no failure is stored without its alerts.
The dispatcher takes it from there (store/alert_planning.py, store/deliveries.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from store.models import AlertDelivery, AlertMessage, Subscription, Workflow
from store.types import DeliveryState
from store.upsert import upsert


async def queue_deliveries(
    session: AsyncSession,
    failed: Sequence[tuple[str, str]],
    *,
    default_channel: str | None,
    now: datetime,
) -> int:
    """One pending delivery per (run, channel) for runs that just became failed.

    Channels: those subscribed to the run's workflow or to all; with none, the
    workflow's alert_channel; else `default_channel`. Repeats are ignored.
    """
    if not failed:
        return 0
    workflow_ids = {workflow_id for _, workflow_id in failed}
    subscriptions = (
        await session.execute(
            select(Subscription.channel_id, Subscription.workflow_id).where(
                or_(Subscription.workflow_id.in_(workflow_ids), Subscription.workflow_id.is_(None))
            )
        )
    ).all()
    own_channels = dict(
        (
            await session.execute(
                select(Workflow.id, Workflow.alert_channel).where(Workflow.id.in_(workflow_ids))
            )
        ).all()
    )
    rows = []
    for run_id, workflow_id in failed:
        channels = {
            channel for channel, scope in subscriptions if scope is None or scope == workflow_id
        }
        fallback = own_channels.get(workflow_id) or default_channel
        for channel in channels or ({fallback} if fallback else set()):
            rows.append(
                {
                    "run_id": run_id,
                    "channel_id": channel,
                    "state": DeliveryState.PENDING,
                    "created_at": now,
                }
            )
    if rows:
        statement = upsert(session, AlertDelivery).on_conflict_do_nothing(
            index_elements=["run_id", "channel_id"]
        )
        await session.execute(statement, rows)
    return len(rows)


async def mark_alerts_stale(session: AsyncSession, run_ids: Iterable[str], now: datetime) -> None:
    """The alerts naming these runs no longer tell the truth: re-render them."""
    run_ids = list(run_ids)
    if not run_ids:
        return
    naming = select(AlertDelivery.alert_message_id).where(AlertDelivery.run_id.in_(run_ids))
    await session.execute(
        update(AlertMessage).where(AlertMessage.id.in_(naming)).values(**changed(now))
    )


def changed(now: datetime) -> dict[str, Any]:
    """Column values that mark an alert message as changed (and so stale) at `now`."""
    return {
        "revision": AlertMessage.revision + 1,
        "stale_since": func.coalesce(AlertMessage.stale_since, now),
    }
