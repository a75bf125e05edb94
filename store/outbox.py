"""The alert outbox: deliveries written with the failure, grouped into alert messages.

A failed run gets one `alert_deliveries` row per channel it goes to, in the same
transaction that stores the failure. The dispatcher then *plans* (gives each
pending delivery an alert message: its own, or its workflow's group alert when
the workflow fails in a burst), *posts* the messages, lists group runs in
thread replies, and re-renders messages that went stale. Every step is a short
transaction; a post records `post_attempted_at` before it calls Slack, so one
whose answer was lost is found in the channel instead of being posted twice.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import and_, case, delete, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from store.alerts import AlertRun, GroupAlert, RetryView, SingleAlert
from store.causes import classify_failure
from store.models import (
    AlertDelivery,
    AlertMessage,
    AlertThreadPost,
    Lease,
    Retrigger,
    Run,
    Subscription,
    Workflow,
)
from store.records import workflow_record
from store.types import RunStatus


class PostTarget(StrEnum):
    """What a post puts in Slack: an alert message, or a reply in a group's thread."""

    ALERT = "alert"
    THREAD = "thread"


def model_of(target: PostTarget) -> type[AlertMessage] | type[AlertThreadPost]:
    return AlertMessage if target is PostTarget.ALERT else AlertThreadPost


@dataclass(frozen=True)
class GroupingRules:
    """When a workflow's failures in a channel stop getting alerts of their own."""

    # The `group_from`-th failure of a workflow within `window` opens a group alert.
    group_from: int = 4
    window: timedelta = timedelta(minutes=5)
    # A thread reply waits this long for more runs before it goes out part full.
    linger: timedelta = timedelta(seconds=2)


@dataclass(frozen=True)
class AlertPost:
    """An alert message to post; `uncertain` when an earlier attempt's answer was lost."""

    alert_id: int
    channel_id: str
    attempts: int
    uncertain_since: datetime | None
    revision: int
    alert: SingleAlert | GroupAlert


@dataclass(frozen=True)
class ThreadPost:
    post_id: int
    channel_id: str
    thread_ts: str
    attempts: int
    uncertain_since: datetime | None
    runs: tuple[AlertRun, ...]


@dataclass(frozen=True)
class AlertUpdate:
    alert_id: int
    channel_id: str
    message_ts: str
    revision: int
    alert: SingleAlert | GroupAlert


def _upsert(session: AsyncSession, model: Any) -> Any:
    """The dialect's INSERT, which knows ON CONFLICT (SQLite and PostgreSQL alike)."""
    if session.get_bind().dialect.name == "sqlite":
        return sqlite_insert(model)
    return postgresql_insert(model)


# Written with the failure ---------------------------------------------------


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
                {"run_id": run_id, "channel_id": channel, "state": "pending", "created_at": now}
            )
    if rows:
        statement = _upsert(session, AlertDelivery).on_conflict_do_nothing(
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
        update(AlertMessage).where(AlertMessage.id.in_(naming)).values(**_changed(now))
    )


def _changed(now: datetime) -> dict[str, Any]:
    """Column values that mark an alert message as changed (and so stale) at `now`."""
    return {
        "revision": AlertMessage.revision + 1,
        "stale_since": func.coalesce(AlertMessage.stale_since, now),
    }


# The dispatcher's lease -----------------------------------------------------


async def acquire_lease(
    session: AsyncSession, name: str, holder: str, *, now: datetime, ttl: timedelta
) -> bool:
    """Take or renew the lease `name` for `holder` unless another holder's is still valid."""
    statement = _upsert(session, Lease).values(name=name, holder=holder, expires_at=now + ttl)
    statement = statement.on_conflict_do_update(
        index_elements=["name"],
        set_={"holder": holder, "expires_at": now + ttl},
        where=or_(Lease.holder == holder, Lease.expires_at < now),
    )
    await session.execute(statement)
    return await session.scalar(select(Lease.holder).where(Lease.name == name)) == holder


async def release_lease(session: AsyncSession, name: str, holder: str) -> None:
    """Give the lease up, if `holder` has it, so another process need not wait for it to expire."""
    await session.execute(delete(Lease).where(Lease.name == name, Lease.holder == holder))


# Planning: which alert message names each delivery ---------------------------


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
            .where(AlertDelivery.state == "pending")
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
        .where(same_place, AlertMessage.kind == "group", AlertMessage.last_failed_at >= since)
        .order_by(AlertMessage.id.desc())
        .limit(1)
    )
    singles_allowed = 0
    if group is None:
        recent_singles = await session.scalar(
            select(func.count())
            .select_from(AlertMessage)
            .where(same_place, AlertMessage.kind == "single", AlertMessage.last_failed_at >= since)
        )
        singles_allowed = max(0, rules.group_from - 1 - int(recent_singles or 0))
    for delivery in deliveries[:singles_allowed]:
        alert = _new_alert(channel_id, workflow_id, "single", delivery.created_at, now)
        session.add(alert)
        await session.flush()
        await _assign(session, [delivery.id], alert.id)
    rest = deliveries[singles_allowed:]
    if not rest:
        return
    if group is None:
        group = _new_alert(channel_id, workflow_id, "group", rest[0].created_at, now)
        session.add(group)
        await session.flush()
    group.last_failed_at = max(group.last_failed_at, rest[-1].created_at)
    await _assign(session, [delivery.id for delivery in rest], group.id)
    await session.execute(
        update(AlertMessage).where(AlertMessage.id == group.id).values(**_changed(now))
    )


def _new_alert(
    channel_id: str, workflow_id: str, kind: str, failed_at: datetime, now: datetime
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
        .values(alert_message_id=alert_id, state="assigned")
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
                AlertDelivery.state == "assigned",
                AlertDelivery.thread_post_id.is_(None),
                AlertMessage.kind == "group",
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


# Views: what the builders render ----------------------------------------------


async def _alert_runs(session: AsyncSession, run_ids: Sequence[str]) -> dict[str, AlertRun]:
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


async def alert_view(session: AsyncSession, alert: AlertMessage) -> SingleAlert | GroupAlert:
    """The alert as it should read now."""
    deliveries = (
        await session.execute(
            select(AlertDelivery.run_id, AlertDelivery.created_at)
            .where(AlertDelivery.alert_message_id == alert.id)
            .order_by(AlertDelivery.created_at, AlertDelivery.id)
        )
    ).all()
    if alert.kind == "single":
        runs = await _alert_runs(session, [deliveries[0].run_id])
        return SingleAlert(
            alert_id=alert.id, channel_id=alert.channel_id, run=runs[deliveries[0].run_id]
        )
    latest_id = deliveries[-1].run_id
    latest = (await _alert_runs(session, [latest_id]))[latest_id]
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


# Due work ---------------------------------------------------------------------


async def due_alert_posts(
    session: AsyncSession, *, now: datetime, channel_id: str | None = None, limit: int = 20
) -> list[AlertPost]:
    query = (
        select(AlertMessage)
        .where(AlertMessage.message_ts.is_(None), AlertMessage.next_attempt_at <= now)
        .order_by(AlertMessage.id)
        .limit(limit)
    )
    if channel_id is not None:
        query = query.where(AlertMessage.channel_id == channel_id)
    return [
        AlertPost(
            alert_id=alert.id,
            channel_id=alert.channel_id,
            attempts=alert.attempts,
            uncertain_since=alert.post_attempted_at,
            revision=alert.revision,  # read before the view: the view is at least this new
            alert=await alert_view(session, alert),
        )
        for alert in await session.scalars(query)
    ]


async def due_thread_posts(
    session: AsyncSession, *, now: datetime, channel_id: str | None = None, limit: int = 20
) -> list[ThreadPost]:
    query = (
        select(AlertThreadPost, AlertMessage.channel_id, AlertMessage.message_ts)
        .join(AlertMessage, AlertMessage.id == AlertThreadPost.alert_message_id)
        .where(AlertThreadPost.message_ts.is_(None), AlertThreadPost.next_attempt_at <= now)
        .order_by(AlertThreadPost.id)
        .limit(limit)
    )
    if channel_id is not None:
        query = query.where(AlertMessage.channel_id == channel_id)
    posts = []
    for post, post_channel, thread_ts in (await session.execute(query)).all():
        assert thread_ts is not None  # only posted groups get thread posts
        run_ids = list(
            await session.scalars(
                select(AlertDelivery.run_id)
                .where(AlertDelivery.thread_post_id == post.id)
                .order_by(AlertDelivery.created_at, AlertDelivery.id)
            )
        )
        runs = await _alert_runs(session, run_ids)
        posts.append(
            ThreadPost(
                post_id=post.id,
                channel_id=post_channel,
                thread_ts=thread_ts,
                attempts=post.attempts,
                uncertain_since=post.post_attempted_at,
                runs=tuple(runs[run_id] for run_id in run_ids),
            )
        )
    return posts


async def due_alert_updates(
    session: AsyncSession,
    *,
    now: datetime,
    min_interval: timedelta,
    channel_id: str | None = None,
    limit: int = 20,
) -> list[AlertUpdate]:
    query = (
        select(AlertMessage)
        .where(
            AlertMessage.stale_since.is_not(None),
            AlertMessage.message_ts.is_not(None),
            or_(AlertMessage.rendered_at.is_(None), AlertMessage.rendered_at <= now - min_interval),
        )
        .order_by(AlertMessage.stale_since)
        .limit(limit)
    )
    if channel_id is not None:
        query = query.where(AlertMessage.channel_id == channel_id)
    updates = []
    for alert in await session.scalars(query):
        assert alert.message_ts is not None
        updates.append(
            AlertUpdate(
                alert_id=alert.id,
                channel_id=alert.channel_id,
                message_ts=alert.message_ts,
                revision=alert.revision,
                alert=await alert_view(session, alert),
            )
        )
    return updates


async def channels_with_work(
    session: AsyncSession, *, now: datetime, min_interval: timedelta
) -> set[str]:
    posts = select(AlertMessage.channel_id).where(
        AlertMessage.message_ts.is_(None), AlertMessage.next_attempt_at <= now
    )
    threads = (
        select(AlertMessage.channel_id)
        .join(AlertThreadPost, AlertThreadPost.alert_message_id == AlertMessage.id)
        .where(AlertThreadPost.message_ts.is_(None), AlertThreadPost.next_attempt_at <= now)
    )
    stale = select(AlertMessage.channel_id).where(
        AlertMessage.stale_since.is_not(None),
        AlertMessage.message_ts.is_not(None),
        or_(AlertMessage.rendered_at.is_(None), AlertMessage.rendered_at <= now - min_interval),
    )
    result = await session.execute(posts.union(threads, stale))
    return {channel for (channel,) in result}


# Recording what Slack said ------------------------------------------------------


async def record_attempt(
    session: AsyncSession,
    model: type[AlertMessage] | type[AlertThreadPost],
    row_id: int,
    now: datetime,
) -> None:
    await session.execute(
        update(model)
        .where(model.id == row_id, model.post_attempted_at.is_(None))
        .values(post_attempted_at=now)
    )


async def record_alert_posted(
    session: AsyncSession, alert_id: int, message_ts: str, now: datetime, revision: int
) -> None:
    kind = await session.scalar(
        update(AlertMessage)
        .where(AlertMessage.id == alert_id)
        .values(message_ts=message_ts, rendered_at=now, last_error=None, **_rendered(revision))
        .returning(AlertMessage.kind)
    )
    if kind == "single":
        await session.execute(
            update(AlertDelivery)
            .where(AlertDelivery.alert_message_id == alert_id)
            .values(state="posted")
        )


async def record_thread_posted(session: AsyncSession, post_id: int, message_ts: str) -> None:
    post = await session.get_one(AlertThreadPost, post_id, with_for_update=True)
    post.message_ts, post.last_error = message_ts, None
    await session.execute(
        update(AlertDelivery).where(AlertDelivery.thread_post_id == post_id).values(state="posted")
    )


async def record_post_failure(
    session: AsyncSession,
    model: type[AlertMessage] | type[AlertThreadPost],
    row_id: int,
    *,
    error: str,
    retry_at: datetime,
    uncertain: bool,
) -> None:
    """Slack did not take it (or did not say): try again at `retry_at`."""
    values: dict[str, Any] = {
        "attempts": model.attempts + 1,
        "next_attempt_at": retry_at,
        "last_error": error[:2000],
    }
    if not uncertain:
        values["post_attempted_at"] = None  # Slack answered no: nothing to look for
    await session.execute(update(model).where(model.id == row_id).values(**values))


async def record_rendered(
    session: AsyncSession, alert_id: int, *, revision: int, now: datetime, cleared: bool
) -> None:
    """The message now shows `revision`; a later change keeps it stale.

    Not `cleared` (the update failed): it stays stale and is tried again after the
    minimum update interval, since `rendered_at` moves on either way.
    """
    values = _rendered(revision) if cleared else {}
    await session.execute(
        update(AlertMessage).where(AlertMessage.id == alert_id).values(rendered_at=now, **values)
    )


def _rendered(revision: int) -> dict[str, Any]:
    """Clears staleness when `revision` is still the newest, in the same UPDATE as the rest.

    One UPDATE per row and transaction: on PostgreSQL a second update of a row this
    transaction already changed re-checks its foreign keys (FOR KEY SHARE on the workflow),
    which deadlocks with a report that holds the workflow and waits for this alert.
    """
    return {
        "stale_since": case(
            (AlertMessage.revision == revision, None), else_=AlertMessage.stale_since
        )
    }
