"""Which channels subscribe to which workflows' failure alerts: `/runs subscribe`,
`unsubscribe` and `subscriptions`.

store/alert_queue.py reads the same table when a run fails. A workflow is named as `/runs
wf:` names one (an id, a name or `Source → Destination`, in any case); a name that matches
none brings the closest names, one that matches several brings them all, and neither
changes anything.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from store.models import Subscription
from store.queries import all_workflows, match_workflows
from store.records import WorkflowRecord
from store.suggestions import closest_workflows
from store.upsert import upsert

__all__ = [
    "ChannelAlerts",
    "SubscriptionChange",
    "SubscriptionRecord",
    "WorkflowLookup",
    "channel_alerts",
    "subscribe",
    "unsubscribe",
]


@dataclass(frozen=True)
class SubscriptionRecord:
    channel_id: str
    workflow: WorkflowRecord | None  # None: every workflow
    created_by: str  # a Slack user ID
    created_at: datetime


@dataclass(frozen=True)
class WorkflowLookup:
    """What a typed workflow named: one workflow, several (ambiguous), or none."""

    typed: str
    matches: tuple[WorkflowRecord, ...]
    closest: tuple[WorkflowRecord, ...] = ()  # when none matched: the nearest, nearest first

    @property
    def workflow(self) -> WorkflowRecord | None:
        """The one workflow named, or None when it named none or several."""
        return self.matches[0] if len(self.matches) == 1 else None


@dataclass(frozen=True)
class SubscriptionChange:
    """What subscribe or unsubscribe did in a channel.

    `lookup` is None for every workflow. `subscription` is the one subscribed or removed,
    None when the workflow could not be told or there was nothing to remove; `changed` is
    False when it was already so. `remaining` is the channel's subscriptions afterwards.
    """

    channel_id: str
    lookup: WorkflowLookup | None
    subscription: SubscriptionRecord | None
    changed: bool
    remaining: tuple[SubscriptionRecord, ...]


@dataclass(frozen=True)
class ChannelAlerts:
    """Every reason a channel gets failure alerts."""

    channel_id: str
    subscriptions: tuple[SubscriptionRecord, ...]  # every workflow first, then by workflow ID
    is_default_channel: bool  # RUNSBOT_ALERT_CHANNEL: workflows nobody subscribed to
    alert_channel_of: tuple[WorkflowRecord, ...]  # workflows naming it their alert_channel


def lookup_workflow(typed: str, workflows: Iterable[WorkflowRecord]) -> WorkflowLookup:
    """The workflows `typed` names; with none, the closest of the others (as /runs offers
    them for a workflow it does not know)."""
    known = list(workflows)
    matches = tuple(match_workflows(typed, known))
    if matches:
        return WorkflowLookup(typed, matches)
    return WorkflowLookup(typed, (), closest_workflows(typed, known))


async def _subscriptions(
    session: AsyncSession, channel_id: str, workflows: dict[str, WorkflowRecord]
) -> tuple[SubscriptionRecord, ...]:
    rows = await session.scalars(select(Subscription).where(Subscription.channel_id == channel_id))
    records = [
        SubscriptionRecord(
            row.channel_id,
            workflows[row.workflow_id] if row.workflow_id is not None else None,
            row.created_by,
            row.created_at,
        )
        for row in rows
    ]
    return tuple(sorted(records, key=lambda r: (r.workflow is not None, _scope(r.workflow) or "")))


def _scope(workflow: WorkflowRecord | None) -> str | None:
    return workflow.id if workflow is not None else None


def _find(
    records: Iterable[SubscriptionRecord], workflow: WorkflowRecord | None
) -> SubscriptionRecord | None:
    return next((r for r in records if _scope(r.workflow) == _scope(workflow)), None)


async def _target(
    session: AsyncSession, channel_id: str, workflow_text: str | None
) -> tuple[WorkflowLookup | None, dict[str, WorkflowRecord], tuple[SubscriptionRecord, ...]]:
    workflows = await all_workflows(session)
    lookup = None if workflow_text is None else lookup_workflow(workflow_text, workflows.values())
    return lookup, workflows, await _subscriptions(session, channel_id, workflows)


async def subscribe(
    session: AsyncSession,
    channel_id: str,
    workflow_text: str | None,
    *,
    created_by: str,
    now: datetime,
) -> SubscriptionChange:
    """Subscribe the channel to the workflow `workflow_text` names (None: to every workflow).
    Subscribing twice keeps the first subscription (`changed` False)."""
    lookup, workflows, before = await _target(session, channel_id, workflow_text)
    if lookup is not None and lookup.workflow is None:
        return SubscriptionChange(channel_id, lookup, None, False, before)
    workflow = lookup.workflow if lookup is not None else None
    scope = _scope(workflow)
    # The unique indexes are partial (one for a workflow, one for every workflow): ON CONFLICT
    # names the one this row falls under, so a subscription made meanwhile is kept, not doubled.
    where = (
        Subscription.workflow_id.is_(None)
        if scope is None
        else Subscription.workflow_id.isnot(None)
    )
    statement = (
        upsert(session, Subscription)
        .values(channel_id=channel_id, workflow_id=scope, created_by=created_by, created_at=now)
        .on_conflict_do_nothing(
            index_elements=["channel_id"] if scope is None else ["channel_id", "workflow_id"],
            index_where=where,
        )
        .returning(Subscription.id)
    )
    created = (await session.execute(statement)).first() is not None
    after = await _subscriptions(session, channel_id, workflows)
    return SubscriptionChange(channel_id, lookup, _find(after, workflow), created, after)


async def unsubscribe(
    session: AsyncSession, channel_id: str, workflow_text: str | None
) -> SubscriptionChange:
    """Remove the channel's subscription to the workflow `workflow_text` names (None: its
    subscription to every workflow; those to single workflows stay)."""
    lookup, workflows, before = await _target(session, channel_id, workflow_text)
    if lookup is not None and lookup.workflow is None:
        return SubscriptionChange(channel_id, lookup, None, False, before)
    existing = _find(before, lookup.workflow if lookup is not None else None)
    if existing is None:
        return SubscriptionChange(channel_id, lookup, None, False, before)
    scope = _scope(existing.workflow)
    await session.execute(
        delete(Subscription).where(
            Subscription.channel_id == channel_id,
            Subscription.workflow_id.is_(None)
            if scope is None
            else Subscription.workflow_id == scope,
        )
    )
    remaining = tuple(r for r in before if r is not existing)
    return SubscriptionChange(channel_id, lookup, existing, True, remaining)


async def channel_alerts(
    session: AsyncSession, channel_id: str, *, default_channel: str | None
) -> ChannelAlerts:
    """The channel's subscriptions, and whether it gets alerts as a fallback channel."""
    workflows = await all_workflows(session)
    return ChannelAlerts(
        channel_id=channel_id,
        subscriptions=await _subscriptions(session, channel_id, workflows),
        is_default_channel=channel_id == default_channel,
        alert_channel_of=tuple(w for w in workflows.values() if w.alert_channel == channel_id),
    )
