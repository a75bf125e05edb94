"""Finding a post whose answer was lost (timeout, crash) in its channel, by its metadata,
so that it is recorded instead of posted twice."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack_errors import Uncertain, slack_error_code, slack_retry_after
from bot.slack_health import SlackHealth

log = logging.getLogger(__name__)

# How far before an uncertain attempt to look for the message it may have posted.
LOOKBACK = timedelta(minutes=2)


async def find_earlier_post(
    client: AsyncWebClient,
    health: SlackHealth,
    *,
    channel_id: str,
    metadata: dict[str, Any],
    since: datetime,
    thread_ts: str | None,
) -> str | None:
    """The ts of a message this post already made, found by its metadata, or None.

    Raises Uncertain when Slack could not be asked (429 with its `retry_after`, or 5xx).
    """
    oldest = f"{(since - LOOKBACK).timestamp():.6f}"
    try:
        if thread_ts is None:
            response = await client.conversations_history(
                channel=channel_id, oldest=oldest, limit=200, include_all_metadata=True
            )
        else:
            response = await client.conversations_replies(
                channel=channel_id,
                ts=thread_ts,
                oldest=oldest,
                limit=200,
                include_all_metadata=True,
            )
    except SlackApiError as error:
        if (retry_after := slack_retry_after(error)) is not None:
            raise Uncertain(
                f"could not search {channel_id}: ratelimited", retry_after=retry_after
            ) from None
        if error.response.status_code >= 500:
            raise Uncertain(f"could not search {channel_id}: {slack_error_code(error)}") from None
        if health.bot_token_refused:
            return None  # the post will not be tried either
        # Not allowed to read the channel: better a rare duplicate than a lost alert.
        log.warning(
            "cannot search %s for an unanswered post (%s); posting again",
            channel_id,
            slack_error_code(error),
        )
        return None
    for found in response.get("messages") or []:
        if found.get("metadata", {}).get("event_type") == metadata["event_type"] and (
            found["metadata"].get("event_payload") == metadata["event_payload"]
        ):
            return str(found["ts"])
    return None
