"""The `/runs` command: acked at once, then each sub-command's answer is shown to the asker.

A stand-in that answers only stats, subscribe, unsubscribe and subscriptions (any other words
get the stats of the last 24 hours); the full listener (help, show, queries, the asker's zone
cached) replaces it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from handlers.blocks.message import SlackMessage
from handlers.commands.request import CommandRequest
from handlers.commands.stats import answer_stats
from handlers.commands.subscriptions import (
    answer_subscribe,
    answer_subscriptions,
    answer_unsubscribe,
)
from store.run_store import RunStore

Answer = Callable[[CommandRequest, RunStore, AsyncWebClient], Awaitable[SlackMessage]]

SUBCOMMANDS: dict[str, Answer] = {
    "stats": answer_stats,
    "subscribe": answer_subscribe,
    "unsubscribe": answer_unsubscribe,
    "subscriptions": answer_subscriptions,
}


async def on_runs_command(
    ack: AsyncAck,
    command: dict[str, Any],
    respond: AsyncRespond,
    client: AsyncWebClient,
    store: RunStore,
    clock: Callable[[], datetime],
) -> None:
    await ack()
    word, _, rest = str(command.get("text") or "").strip().partition(" ")
    answer = SUBCOMMANDS.get(word.lower(), answer_stats)
    request = CommandRequest(
        text=rest.strip() if word.lower() in SUBCOMMANDS else "",
        user_id=command["user_id"],
        channel_id=command["channel_id"],
        tz=await asker_zone(client, command["user_id"]),
        now=clock(),
    )
    message = await answer(request, store, client)
    await respond(response_type="ephemeral", **message.to_dict())


async def asker_zone(client: AsyncWebClient, user_id: str) -> tzinfo:
    """The zone in the asker's Slack profile; UTC when Slack does not say or names none we know."""
    try:
        name = (await client.users_info(user=user_id))["user"].get("tz")
        return ZoneInfo(name) if name else UTC
    except (SlackApiError, ZoneInfoNotFoundError, ValueError):
        return UTC


def register(app: AsyncApp) -> None:
    app.command("/runs")(on_runs_command)
