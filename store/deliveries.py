"""Delivery bookkeeping: the posts, thread replies (the runs of a group, and runsbot's own
lines: notes, retry outcomes) and updates that are due, and what Slack said to each.

Every step is a short transaction. A post records `post_attempted_at` before Slack
is called, so one whose answer was lost is looked for in the channel instead of
being posted twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import case, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from store.alert_views import alert_runs, alert_view
from store.alerts import AlertRun, GroupAlert, SingleAlert
from store.models import (
    AlertDelivery,
    AlertMessage,
    AlertThreadLine,
    AlertThreadPost,
    Note,
    Retrigger,
    Run,
)
from store.records import NoteRecord, note_record
from store.types import AlertKind, DeliveryState, RunStatus, ThreadLineKind


class PostTarget(StrEnum):
    """What a post puts in Slack: an alert message, a reply in a group's thread listing its
    runs, or one of runsbot's own lines in an alert's thread."""

    ALERT = "alert"
    THREAD = "thread"
    LINE = "line"


_MODELS: dict[PostTarget, type[AlertMessage] | type[AlertThreadPost] | type[AlertThreadLine]] = {
    PostTarget.ALERT: AlertMessage,
    PostTarget.THREAD: AlertThreadPost,
    PostTarget.LINE: AlertThreadLine,
}


def _model(
    target: PostTarget,
) -> type[AlertMessage] | type[AlertThreadPost] | type[AlertThreadLine]:
    return _MODELS[target]


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
    """A reply to post in a group alert's thread, listing some of its runs."""

    post_id: int
    channel_id: str
    thread_ts: str
    attempts: int
    uncertain_since: datetime | None
    runs: tuple[AlertRun, ...]


@dataclass(frozen=True)
class RetryOutcome:
    """The new run a retry line tells of, and who asked for it. `reason` is why the engine
    never took it (the retrigger's last error), for a given-up line."""

    run_id: str
    status: RunStatus
    error_message: str | None
    error_step: str | None
    skip_reason: str | None
    requested_by: str | None
    reason: str | None


@dataclass(frozen=True)
class ThreadLine:
    """One of runsbot's lines to post in an alert's thread (at `thread_ts`, the alert's own
    ts): a note (`note`), or a retrigger's outcome (`retry`, about the new run)."""

    line_id: int
    channel_id: str
    thread_ts: str
    kind: ThreadLineKind
    attempts: int
    uncertain_since: datetime | None
    note: NoteRecord | None = None
    retry: RetryOutcome | None = None


@dataclass(frozen=True)
class AlertUpdate:
    """A posted alert that no longer tells the truth, as it should read now."""

    alert_id: int
    channel_id: str
    message_ts: str
    revision: int
    alert: SingleAlert | GroupAlert


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
        runs = await alert_runs(session, run_ids)
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


def _due_lines(now: datetime) -> tuple[Any, ...]:
    """A line is due once its alert is posted (it replies to the alert's ts)."""
    return (
        AlertThreadLine.message_ts.is_(None),
        AlertThreadLine.next_attempt_at <= now,
        AlertMessage.message_ts.is_not(None),
    )


async def due_thread_lines(
    session: AsyncSession, *, now: datetime, channel_id: str | None = None, limit: int = 20
) -> list[ThreadLine]:
    query = (
        select(AlertThreadLine, AlertMessage.channel_id, AlertMessage.message_ts)
        .join(AlertMessage, AlertMessage.id == AlertThreadLine.alert_message_id)
        .where(*_due_lines(now))
        .order_by(AlertThreadLine.id)
        .limit(limit)
    )
    if channel_id is not None:
        query = query.where(AlertMessage.channel_id == channel_id)
    lines = []
    for line, line_channel, thread_ts in (await session.execute(query)).all():
        assert thread_ts is not None
        note = await session.get(Note, line.note_id) if line.note_id is not None else None
        lines.append(
            ThreadLine(
                line_id=line.id,
                channel_id=line_channel,
                thread_ts=thread_ts,
                kind=ThreadLineKind(line.kind),
                attempts=line.attempts,
                uncertain_since=line.post_attempted_at,
                note=note_record(note) if note is not None else None,
                retry=await _retry_outcome(session, line.run_id),
            )
        )
    return lines


async def _retry_outcome(session: AsyncSession, run_id: str | None) -> RetryOutcome | None:
    if run_id is None:
        return None
    row = (
        await session.execute(
            select(
                Run.status,
                Run.error_message,
                Run.error_step,
                Run.skip_reason,
                Retrigger.requested_by,
                Retrigger.last_error,
            )
            .outerjoin(Retrigger, Retrigger.new_run_id == Run.id)
            .where(Run.id == run_id)
        )
    ).first()
    if row is None:
        return None
    return RetryOutcome(
        run_id=run_id,
        status=RunStatus(row.status),
        error_message=row.error_message,
        error_step=row.error_step,
        skip_reason=row.skip_reason,
        requested_by=row.requested_by,
        reason=row.last_error,
    )


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
    lines = (
        select(AlertMessage.channel_id)
        .join(AlertThreadLine, AlertThreadLine.alert_message_id == AlertMessage.id)
        .where(*_due_lines(now))
    )
    stale = select(AlertMessage.channel_id).where(
        AlertMessage.stale_since.is_not(None),
        AlertMessage.message_ts.is_not(None),
        or_(AlertMessage.rendered_at.is_(None), AlertMessage.rendered_at <= now - min_interval),
    )
    result = await session.execute(posts.union(threads, lines, stale))
    return {channel for (channel,) in result}


# Recording what Slack said ------------------------------------------------------


async def record_attempt(
    session: AsyncSession, target: PostTarget, row_id: int, now: datetime
) -> None:
    model = _model(target)
    await session.execute(
        update(model)
        .where(model.id == row_id, model.post_attempted_at.is_(None))
        .values(post_attempted_at=now)
    )


async def record_posted(
    session: AsyncSession,
    target: PostTarget,
    row_id: int,
    message_ts: str,
    *,
    revision: int,
    now: datetime,
) -> None:
    """Slack took the post as `message_ts`."""
    if target is PostTarget.ALERT:
        await _record_alert_posted(session, row_id, message_ts, now, revision)
    elif target is PostTarget.THREAD:
        await _record_thread_posted(session, row_id, message_ts)
    else:
        await session.execute(
            update(AlertThreadLine)
            .where(AlertThreadLine.id == row_id)
            .values(message_ts=message_ts, last_error=None)
        )


async def _record_alert_posted(
    session: AsyncSession, alert_id: int, message_ts: str, now: datetime, revision: int
) -> None:
    kind = await session.scalar(
        update(AlertMessage)
        .where(AlertMessage.id == alert_id)
        .values(message_ts=message_ts, rendered_at=now, last_error=None, **_rendered(revision))
        .returning(AlertMessage.kind)
    )
    if kind == AlertKind.SINGLE:
        await session.execute(
            update(AlertDelivery)
            .where(AlertDelivery.alert_message_id == alert_id)
            .values(state=DeliveryState.POSTED)
        )


async def _record_thread_posted(session: AsyncSession, post_id: int, message_ts: str) -> None:
    post = await session.get_one(AlertThreadPost, post_id, with_for_update=True)
    post.message_ts, post.last_error = message_ts, None
    await session.execute(
        update(AlertDelivery)
        .where(AlertDelivery.thread_post_id == post_id)
        .values(state=DeliveryState.POSTED)
    )


async def record_post_failure(
    session: AsyncSession,
    target: PostTarget,
    row_id: int,
    *,
    error: str,
    retry_at: datetime,
    uncertain: bool,
) -> None:
    """Slack did not take it (or did not say): try again at `retry_at`."""
    model = _model(target)
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
