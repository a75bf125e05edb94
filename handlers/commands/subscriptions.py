"""`/runs subscribe [WORKFLOW]`, `unsubscribe [WORKFLOW]` and `subscriptions`: which failure
alerts the channel where they are typed gets.

Subscribing asks Slack first whether runsbot can post in the channel, so that a channel it
is not in hears how to invite it now rather than miss its alerts later.
"""

from __future__ import annotations

import re

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from handlers.blocks.message import SlackMessage
from handlers.blocks.subscriptions import (
    ChannelAccess,
    cannot_post_here,
    channel_subscriptions,
    subscribed,
    subscription_not_read,
    unsubscribed,
)
from handlers.commands.request import CommandRequest
from store.errors import FilterSyntaxError
from store.run_store import RunStore
from store.words import tokenize

# `wf:` and `workflow:` are taken too, as in a query.
_WORKFLOW_KEY = re.compile(r"^(?:wf|workflow):", re.IGNORECASE)


async def answer_subscribe(
    request: CommandRequest, store: RunStore, client: AsyncWebClient
) -> SlackMessage:
    try:
        workflow = workflow_named(request.text)
    except FilterSyntaxError as error:
        return subscription_not_read("subscribe", request.text, error)
    access = await channel_access(client, request.channel_id)
    if access is not ChannelAccess.MEMBER:
        return cannot_post_here(access, request.text)
    change = await store.subscribe(request.channel_id, workflow, created_by=request.user_id)
    return subscribed(change)


async def answer_unsubscribe(
    request: CommandRequest, store: RunStore, client: AsyncWebClient
) -> SlackMessage:
    try:
        workflow = workflow_named(request.text)
    except FilterSyntaxError as error:
        return subscription_not_read("unsubscribe", request.text, error)
    return unsubscribed(await store.unsubscribe(request.channel_id, workflow))


async def answer_subscriptions(
    request: CommandRequest, store: RunStore, client: AsyncWebClient
) -> SlackMessage:
    access = await channel_access(client, request.channel_id)
    return channel_subscriptions(await store.channel_alerts(request.channel_id), access)


def workflow_named(text: str) -> str | None:
    """The workflow typed, as `wf:` reads one (quoted or not, with or without `wf:`); None
    when nothing was typed, meaning every workflow. Raises FilterSyntaxError for an unclosed
    quote."""
    words = [word.strip() for word in tokenize(text)]
    if words:
        words[0] = _WORKFLOW_KEY.sub("", words[0])
    return " ".join(word for word in words if word) or None


async def channel_access(client: AsyncWebClient, channel_id: str) -> ChannelAccess:
    """Whether runsbot can post in the channel (conversations.info: `is_member`)."""
    try:
        channel = (await client.conversations_info(channel=channel_id))["channel"]
    except SlackApiError as error:
        # A private channel runsbot was not invited to is, to runsbot, one that does not exist.
        if error.response.get("error") == "channel_not_found":
            # Direct message IDs start with D: runsbot sees only its own.
            return ChannelAccess.DIRECT if channel_id.startswith("D") else ChannelAccess.HIDDEN
        return ChannelAccess.UNKNOWN
    if channel.get("is_im") or channel.get("is_mpim"):
        return ChannelAccess.DIRECT
    return ChannelAccess.MEMBER if channel.get("is_member") else ChannelAccess.NOT_MEMBER
