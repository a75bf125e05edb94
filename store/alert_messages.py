"""Which runs a Slack message of runsbot's is about, found by (channel_id, message_ts): an
alert (its own run, or a group's runs), or a reply runsbot added to a group alert's thread."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from store.models import AlertDelivery, AlertMessage, AlertThreadPost
from store.types import AlertKind


@dataclass(frozen=True)
class AlertedRuns:
    """The alert a message belongs to and the runs it names, oldest failure first.
    `thread_ts` is the alert message's own ts (the thread replies go under)."""

    alert_id: int
    kind: AlertKind
    channel_id: str
    thread_ts: str
    run_ids: tuple[str, ...]

    @property
    def single_run_id(self) -> str | None:
        """The run of a single-run alert; None for a group."""
        return self.run_ids[0] if self.kind is AlertKind.SINGLE and self.run_ids else None


async def alerted_runs(
    session: AsyncSession, channel_id: str, message_ts: str
) -> AlertedRuns | None:
    """The alert whose message (or whose thread's listing reply, from runsbot) is at
    (channel_id, message_ts); None for any other message."""
    alert = await session.scalar(
        select(AlertMessage).where(
            AlertMessage.channel_id == channel_id, AlertMessage.message_ts == message_ts
        )
    )
    if alert is None:
        alert = await session.scalar(
            select(AlertMessage)
            .join(AlertThreadPost, AlertThreadPost.alert_message_id == AlertMessage.id)
            .where(AlertMessage.channel_id == channel_id, AlertThreadPost.message_ts == message_ts)
        )
    if alert is None or alert.message_ts is None:
        return None
    run_ids = (
        await session.scalars(
            select(AlertDelivery.run_id)
            .where(AlertDelivery.alert_message_id == alert.id)
            .order_by(AlertDelivery.created_at, AlertDelivery.id)
        )
    ).all()
    return AlertedRuns(
        alert_id=alert.id,
        kind=AlertKind(alert.kind),
        channel_id=alert.channel_id,
        thread_ts=alert.message_ts,
        run_ids=tuple(run_ids),
    )
