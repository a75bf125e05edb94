"""Alert planning: which alert message names each queued delivery, and which thread reply
lists each run of a group alert.

A workflow's first failures in a channel get an alert each; from the
`GroupingRules.group_from`-th within the window on, its failures share one group
alert, and the group's runs are listed in thread replies.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from store.alert_queue import changed
from store.models import AlertDelivery, AlertMessage, AlertThreadPost, Run
from store.types import AlertKind, DeliveryState


@dataclass(frozen=True)
class GroupingRules:
    """When a workflow's failures in a channel stop getting alerts of their own."""

    # The `group_from`-th failure of a workflow within `window` opens a group alert.
    group_from: int = 4
    window: timedelta = timedelta(minutes=5)
    # A thread reply waits this long for more runs before it goes out part full.
    linger: timedelta = timedelta(seconds=2)


async def plan_alerts(
    session: AsyncSession, rules: GroupingRules, *, now: datetime, limit: int = 5000
) -> int:
    """Give pending deliveries an alert message; returns how many were planned."""
    pending = (
        await session.execute(
            select(
                AlertDelivery.id,
                AlertDelivery.channel_id,
                AlertDelivery.created_at,
                Run.workflow_id,
            )
            .join(Run, Run.id == AlertDelivery.run_id)
            .where(AlertDelivery.state == DeliveryState.PENDING)
            .order_by(AlertDelivery.created_at, AlertDelivery.id)
            .limit(limit)
        )
    ).all()
    bursts: dict[tuple[str, str], list[Any]] = defaultdict(list)
    for row in pending:
        bursts[(row.channel_id, row.workflow_id)].append(row)
    for (channel_id, workflow_id), deliveries in bursts.items():
        await _plan_burst(session, rules, channel_id, workflow_id, deliveries, now)
    return len(pending)


async def _plan_burst(
    session: AsyncSession,
    rules: GroupingRules,
    channel_id: str,
    workflow_id: str,
    deliveries: list[Any],
    now: datetime,
) -> None:
    since = now - rules.window
    same_place = and_(
        AlertMessage.channel_id == channel_id, AlertMessage.workflow_id == workflow_id
    )
    group = await session.scalar(
        select(AlertMessage)
        .where(
            same_place, AlertMessage.kind == AlertKind.GROUP, AlertMessage.last_failed_at >= since
        )
        .order_by(AlertMessage.id.desc())
        .limit(1)
    )
    singles_allowed = 0
    if group is None:
        recent_singles = await session.scalar(
            select(func.count())
            .select_from(AlertMessage)
            .where(
                same_place,
                AlertMessage.kind == AlertKind.SINGLE,
                AlertMessage.last_failed_at >= since,
            )
        )
        singles_allowed = max(0, rules.group_from - 1 - int(recent_singles or 0))
    for delivery in deliveries[:singles_allowed]:
        alert = _new_alert(channel_id, workflow_id, AlertKind.SINGLE, delivery.created_at, now)
        session.add(alert)
        await session.flush()
        await _assign(session, [delivery.id], alert.id)
    rest = deliveries[singles_allowed:]
    if not rest:
        return
    if group is None:
        group = _new_alert(channel_id, workflow_id, AlertKind.GROUP, rest[0].created_at, now)
        session.add(group)
        await session.flush()
    group.last_failed_at = max(group.last_failed_at, rest[-1].created_at)
    await _assign(session, [delivery.id for delivery in rest], group.id)
    await session.execute(
        update(AlertMessage).where(AlertMessage.id == group.id).values(**changed(now))
    )


def _new_alert(
    channel_id: str, workflow_id: str, kind: AlertKind, failed_at: datetime, now: datetime
) -> AlertMessage:
    return AlertMessage(
        channel_id=channel_id,
        workflow_id=workflow_id,
        kind=kind,
        attempts=0,
        next_attempt_at=now,
        first_failed_at=failed_at,
        last_failed_at=failed_at,
        revision=0,
        created_at=now,
    )


async def _assign(session: AsyncSession, delivery_ids: list[int], alert_id: int) -> None:
    await session.execute(
        update(AlertDelivery)
        .where(AlertDelivery.id.in_(delivery_ids))
        .values(alert_message_id=alert_id, state=DeliveryState.ASSIGNED)
    )


async def plan_thread_posts(
    session: AsyncSession, rules: GroupingRules, *, runs_per_post: int, now: datetime
) -> int:
    """Gather a posted group's unlisted runs into thread replies of up to `runs_per_post`
    runs; returns how many replies."""
    rows = (
        await session.execute(
            select(AlertDelivery.id, AlertDelivery.alert_message_id, AlertDelivery.created_at)
            .join(AlertMessage, AlertMessage.id == AlertDelivery.alert_message_id)
            .where(
                AlertDelivery.state == DeliveryState.ASSIGNED,
                AlertDelivery.thread_post_id.is_(None),
                AlertMessage.kind == AlertKind.GROUP,
                AlertMessage.message_ts.is_not(None),
            )
            .order_by(AlertDelivery.created_at, AlertDelivery.id)
        )
    ).all()
    by_group: dict[int, list[Any]] = defaultdict(list)
    for row in rows:
        by_group[row.alert_message_id].append(row)
    made = 0
    for alert_id, deliveries in by_group.items():
        size = runs_per_post
        for start in range(0, len(deliveries), size):
            chunk = deliveries[start : start + size]
            if len(chunk) < size and chunk[0].created_at > now - rules.linger:
                break  # let a part-full reply fill up a little longer
            post = AlertThreadPost(
                alert_message_id=alert_id, attempts=0, next_attempt_at=now, created_at=now
            )
            session.add(post)
            await session.flush()
            await session.execute(
                update(AlertDelivery)
                .where(AlertDelivery.id.in_([d.id for d in chunk]))
                .values(thread_post_id=post.id)
            )
            made += 1
    return made
