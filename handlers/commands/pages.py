"""The buttons of a `/runs` page: Previous and Next turn it in place, Share posts it.

Each click carries its search and cursor (handlers/page_state.py), so any replica answers it,
and its words are read again in the clicker's zone, as when typed.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from handlers.blocks.message import SlackMessage
from handlers.blocks.runs_page import page_expired, runs_page, share_needs_invite, shared_page
from handlers.commands import runs
from handlers.commands.reply import reply
from handlers.commands.request import CommandRequest, TimeZones
from handlers.page_state import NotAPageState, PageState
from store.records import RunPage
from store.run_store import RunStore

# chat.postMessage's answers where the bot is not in the conversation (private ones and DMs
# are `channel_not_found`): https://docs.slack.dev/reference/methods/chat.postMessage
_NOT_A_MEMBER = {"not_in_channel", "channel_not_found"}


async def on_page_button(
    ack: AsyncAck,
    body: dict[str, Any],
    action: dict[str, Any],
    respond: AsyncRespond,
    store: RunStore,
    time_zones: TimeZones,
    clock: Callable[[], datetime],
) -> None:
    await ack()
    clicked = await _clicked_page(body, action, respond, store, time_zones, clock)
    if clicked is not None:
        _, state, page = clicked
        await reply(respond, runs_page(page, state), replace=True)


async def on_share_button(
    ack: AsyncAck,
    body: dict[str, Any],
    action: dict[str, Any],
    respond: AsyncRespond,
    client: AsyncWebClient,
    store: RunStore,
    time_zones: TimeZones,
    clock: Callable[[], datetime],
) -> None:
    await ack()
    clicked = await _clicked_page(body, action, respond, store, time_zones, clock)
    if clicked is None:
        return
    request, state, page = clicked
    message = shared_page(page, state, shared_by=request.user_id)
    try:
        await client.chat_postMessage(channel=request.channel_id, **message.to_dict())
    except SlackApiError as error:
        if error.response.get("error") not in _NOT_A_MEMBER:
            raise
        await reply(respond, share_needs_invite())


async def _clicked_page(
    body: dict[str, Any],
    action: dict[str, Any],
    respond: AsyncRespond,
    store: RunStore,
    time_zones: TimeZones,
    clock: Callable[[], datetime],
) -> tuple[CommandRequest, PageState, RunPage] | None:
    """Who clicked where, the page their button names, read now in their zone; or None once
    they were told why there is no such page (the page they clicked stays as it was)."""
    now = clock()
    user_id, channel_id = str(body["user"]["id"]), str(body["channel"]["id"])
    try:
        state = PageState.decode(str(action.get("value", "")))
    except NotAPageState:
        await reply(respond, page_expired(""))
        return None
    zone = await time_zones.zone_of(user_id)
    request = CommandRequest(state.query, user_id, channel_id, zone.tz, now)
    found = await runs.read_page(request, store, state)
    if isinstance(found, SlackMessage):
        await reply(respond, found)
        return None
    return request, state, found
