"""The answers to `/runs subscribe`, `unsubscribe` and `subscriptions`: what changed, what a
channel gets, and how to let runsbot into a channel it cannot post in.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum

from slack_sdk.models.blocks import Block, ContextBlock

from store.errors import FilterSyntaxError
from store.records import WorkflowRecord
from store.subscriptions import (
    ChannelAlerts,
    SubscriptionChange,
    SubscriptionRecord,
    WorkflowLookup,
)

from .elements import mrkdwn, section, workflow_label
from .message import SlackMessage
from .query_errors import describe
from .text import escape_and_truncate, escape_mrkdwn, isolate, one_line, slack_date

__all__ = [
    "SUBSCRIBE_USAGE",
    "ChannelAccess",
    "cannot_post_here",
    "channel_subscriptions",
    "subscribed",
    "subscription_not_read",
    "unsubscribed",
]

SUBSCRIBE_USAGE = (
    "Usage: `/runs subscribe [WORKFLOW]` sends the failure alerts of one workflow (its id, its "
    "name or `Source → Destination`), or of every workflow without one, to this channel. "
    "`/runs unsubscribe [WORKFLOW]` stops them; `/runs subscriptions` lists what this channel gets."
)
INVITE = "`/invite @runsbot`"
ROUTING_NOTE = (
    "A workflow that a channel subscribes to is alerted in the subscribed channels only, no "
    "longer in its own alert channel or the default one (RUNSBOT_ALERT_CHANNEL)."
)
_TYPED = 200  # characters of what was typed, shown back
_SECTION_BUDGET = 2_900  # under a section's 3,000 characters
_MAX_LINES = 150  # then "and N more": the message stays well inside 50 blocks
_MAX_CHOICES = 5  # workflows named in one sentence (a label is under 400 characters)


class ChannelAccess(StrEnum):
    """Whether runsbot can post its alerts in a channel, as conversations.info tells."""

    MEMBER = "member"
    NOT_MEMBER = "not_member"  # a public channel runsbot is not in
    HIDDEN = "hidden"  # a private channel runsbot was not invited to: channel_not_found
    DIRECT = "direct"  # a direct message: alerts go to channels
    UNKNOWN = "unknown"  # Slack did not answer


def subscribed(change: SubscriptionChange) -> SlackMessage:
    """What `/runs subscribe` did: subscribed, already subscribed, or which workflow was meant."""
    if (problem := _lookup_problem(change.lookup, "subscribe")) is not None:
        return problem
    record = change.subscription
    assert record is not None
    what = _scope(record.workflow)
    if change.changed and record.workflow is not None and _every_workflow(change.remaining):
        return _message(
            f"✅ This channel now subscribes to {what} by itself: it already got its failure "
            "alerts through its subscription to every workflow, and keeps them after "
            "`/runs unsubscribe`."
        )
    if change.changed:
        return _message(f"✅ This channel now gets the failure alerts of {what}.", ROUTING_NOTE)
    return _message(
        f"This channel already gets the failure alerts of {what} ({_since(record)}): "
        "nothing changed."
    )


def unsubscribed(change: SubscriptionChange) -> SlackMessage:
    """What `/runs unsubscribe` did, and what the channel still gets."""
    if (problem := _lookup_problem(change.lookup, "unsubscribe")) is not None:
        return problem
    removed = change.subscription
    if removed is not None and removed.workflow is not None and _every_workflow(change.remaining):
        first = (
            f"This channel no longer subscribes to {_scope(removed.workflow)} by itself, but "
            "still gets its failure alerts: it subscribes to every workflow."
        )
    elif removed is not None:
        first = f"This channel no longer gets the failure alerts of {_scope(removed.workflow)}."
    else:
        workflow = change.lookup.workflow if change.lookup is not None else None
        first = f"This channel was not subscribed to {_scope(workflow)}: nothing to stop."
    lines = _subscription_lines(change.remaining)
    if lines:
        lines.insert(0, "It still gets the failure alerts of:")
    return SlackMessage(first, (section(first), *_sections(lines)))


def channel_subscriptions(alerts: ChannelAlerts, access: ChannelAccess) -> SlackMessage:
    """Every reason this channel gets failure alerts; a warning if runsbot cannot post here."""
    lines = _subscription_lines(alerts.subscriptions)
    if lines:
        first = "This channel gets the failure alerts of:"
    else:
        first = (
            "This channel subscribes to no failure alerts: `/runs subscribe` for every "
            "workflow, `/runs subscribe WORKFLOW` for one."
        )
    fallbacks = []
    if alerts.is_default_channel:
        fallbacks.append(
            "It is the default alert channel (RUNSBOT_ALERT_CHANNEL): it also gets the failures "
            "of workflows that no channel subscribes to and that have no alert channel of their own."
        )
    if alerts.alert_channel_of:
        fallbacks.append(
            f"It is the alert channel of {_choices(alerts.alert_channel_of)}: it gets their "
            "failures while no channel subscribes to them."
        )
    blocks: list[Block] = [section(first), *_sections(lines)]
    blocks += [section(text) for text in fallbacks]
    if access is not ChannelAccess.MEMBER and (lines or fallbacks):
        blocks.append(section(f"⚠️ {_cannot_post_sentence(access)} These alerts cannot reach it."))
    return SlackMessage(first, tuple(blocks))


def cannot_post_here(access: ChannelAccess, typed: str) -> SlackMessage:
    """Why nothing was subscribed, and how to let runsbot post in this channel."""
    command = escape_and_truncate(one_line(f"/runs subscribe {typed}"), _TYPED)
    text = f"{_cannot_post_sentence(access)} Then type `{command}` again. Nothing was subscribed."
    return _message(text)


def subscription_not_read(command: str, text: str, error: FilterSyntaxError) -> SlackMessage:
    """What was wrong with the words after `/runs subscribe` or `unsubscribe`."""
    typed = escape_and_truncate(one_line(f"/runs {command} {text}"), _TYPED)
    return _message(f"Could not read `{typed}`: {escape_mrkdwn(describe(error))}", SUBSCRIBE_USAGE)


def _cannot_post_sentence(access: ChannelAccess) -> str:
    if access is ChannelAccess.NOT_MEMBER:
        return f"I am not in this channel: invite me with {INVITE}."
    if access is ChannelAccess.HIDDEN:
        return (
            "This is a private channel I was not invited to (or one I cannot see): "
            f"invite me with {INVITE}."
        )
    if access is ChannelAccess.DIRECT:
        return f"Alerts go to channels, not direct messages: pick a channel and {INVITE} there."
    return "Slack did not tell me whether I can post in this channel: try again in a moment."


def _lookup_problem(lookup: WorkflowLookup | None, command: str) -> SlackMessage | None:
    """The answer when the typed workflow named none or several; None when it named one."""
    if lookup is None or lookup.workflow is not None:
        return None
    typed = isolate(escape_and_truncate(one_line(lookup.typed), _TYPED))
    if lookup.matches:
        choices = _choices(lookup.matches)
        example = escape_mrkdwn(lookup.matches[0].id)
        return _message(
            f"`{typed}` names {len(lookup.matches)} workflows: {choices}. "
            f"Name one by its id, like `/runs {command} {example}`.",
        )
    if not lookup.closest:
        return _message(
            f"No workflow is called `{typed}`, and none is known yet: runsbot learns of a "
            "workflow from the first run the engine reports of it.",
        )
    return _message(
        f"No workflow is called `{typed}`. The closest: {_choices(lookup.closest)}.",
        SUBSCRIBE_USAGE,
    )


def _choices(workflows: Sequence[WorkflowRecord]) -> str:
    """Up to _MAX_CHOICES workflows, then how many more: within one section whatever the names."""
    listed = "; ".join(workflow_label(w) for w in workflows[:_MAX_CHOICES])
    more = len(workflows) - _MAX_CHOICES
    return listed + (f" and {more:,} more" if more > 0 else "")


def _every_workflow(records: Sequence[SubscriptionRecord]) -> bool:
    return any(record.workflow is None for record in records)


def _scope(workflow: WorkflowRecord | None) -> str:
    return "*every workflow*" if workflow is None else workflow_label(workflow)


def _since(record: SubscriptionRecord) -> str:
    return f"since {slack_date(record.created_at)}, by <@{record.created_by}>"


def _subscription_lines(records: Sequence[SubscriptionRecord]) -> list[str]:
    lines = [f"• {_scope(r.workflow)}, {_since(r)}" for r in records[:_MAX_LINES]]
    if len(records) > _MAX_LINES:
        lines.append(f"…and {len(records) - _MAX_LINES:,} more.")
    return lines


def _sections(lines: Sequence[str]) -> list[Block]:
    """Lines packed into as few sections as fit."""
    chunks: list[list[str]] = [[]]
    for line in lines:
        if sum(len(x) + 1 for x in chunks[-1]) + len(line) > _SECTION_BUDGET:
            chunks.append([])
        chunks[-1].append(line)
    return [section("\n".join(chunk)) for chunk in chunks if chunk]


def _message(text: str, note: str | None = None) -> SlackMessage:
    blocks: list[Block] = [section(text)]
    if note:
        blocks.append(ContextBlock(elements=[mrkdwn(note)]))
    return SlackMessage(text, tuple(blocks))
