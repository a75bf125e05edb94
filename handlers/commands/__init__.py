"""`/runs`: a minimal listener, so that the failure answers can be tried end to end.

Part B's listener (dispatch of sub-commands, the pages of runs) replaces this one at merge.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.models.blocks import SectionBlock
from slack_sdk.web.async_client import AsyncWebClient

from handlers.blocks.message import SlackMessage
from handlers.blocks.text import escape_and_truncate
from handlers.commands.failures import could_not_read, nothing_matched
from handlers.commands.request import CommandRequest
from store.errors import FilterSyntaxError
from store.filters import parse_filter
from store.records import RunPage
from store.run_store import RunStore

PAGE_SIZE = 10


async def _asker_zone(client: AsyncWebClient, user_id: str) -> tzinfo:
    try:
        profile = await client.users_info(user=user_id)
        return ZoneInfo(str(profile["user"]["tz"]))
    except (SlackApiError, KeyError, ZoneInfoNotFoundError):
        return UTC


def _matched(page: RunPage) -> SlackMessage:
    # Part B's pages replace this line.
    references = "; ".join(run.reference for run in page.runs)
    counted = escape_and_truncate(f"{page.total} runs match: {references}", 3000)
    return SlackMessage(text=counted, blocks=(SectionBlock(text=counted),))


async def on_runs_command(
    ack: AsyncAck,
    command: dict[str, Any],
    respond: AsyncRespond,
    client: AsyncWebClient,
    store: RunStore,
    clock: Callable[[], datetime],
) -> None:
    await ack()
    request = CommandRequest(
        text=command.get("text") or "",
        user_id=command["user_id"],
        channel_id=command["channel_id"],
        tz=await _asker_zone(client, command["user_id"]),
        now=clock(),
    )
    try:
        flt = parse_filter(request.text, tz=request.tz, now=request.now, limit=PAGE_SIZE)
    except FilterSyntaxError as error:
        message = could_not_read(request.text, error)
    else:
        page = await store.list_runs(flt)
        message = _matched(page) if page.runs else await nothing_matched(request, flt, store)
    await respond(**message.to_dict(), response_type="ephemeral")


def register(app: AsyncApp) -> None:
    app.command("/runs")(on_runs_command)
