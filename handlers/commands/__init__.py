"""`/runs`: acked at once; then the asker's zone, the sub-command its first word names (any
other word starts a search), and the answer, to the asker alone. Also its page's buttons.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from functools import partial
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from handlers.blocks.message import SlackMessage
from handlers.blocks.runs_page import read_in_utc
from handlers.commands import pages, runs
from handlers.commands.reply import reply
from handlers.commands.request import CommandRequest, TimeZones
from handlers.commands.retrigger import answer_retrigger
from handlers.commands.stats import answer_stats
from handlers.commands.subscriptions import (
    answer_subscribe,
    answer_subscriptions,
    answer_unsubscribe,
)
from handlers.ids import Action, Command
from store.run_store import RunStore

Answer = Callable[[CommandRequest, RunStore, AsyncWebClient], Awaitable[SlackMessage]]

# Sub-commands by their first word, in any case. A word not here starts a search, so
# `/runs "show"` (quoted) looks for the text show.
SUBCOMMANDS: dict[str, Answer] = {
    "show": runs.answer_show,
    "retrigger": answer_retrigger,
    "stats": answer_stats,
    "subscribe": answer_subscribe,
    "unsubscribe": answer_unsubscribe,
    "subscriptions": answer_subscriptions,
}
# The help lists this table's words as they are when it is asked (a live view of the keys).
SUBCOMMANDS["help"] = partial(runs.answer_help, subcommands=SUBCOMMANDS.keys())


async def on_runs_command(
    ack: AsyncAck,
    command: dict[str, Any],
    respond: AsyncRespond,
    client: AsyncWebClient,
    store: RunStore,
    time_zones: TimeZones,
    clock: Callable[[], datetime],
) -> None:
    # The ack carries nothing: Slack shows the asker a timeout after 3 s, and the answer may
    # wait on users.info and the store. It follows through the response_url.
    await ack()
    now = clock()
    text = str(command.get("text") or "").strip()
    first, rest = _first_word(text)
    answer = SUBCOMMANDS.get(first.lower())
    zone = await time_zones.zone_of(command["user_id"])
    request = CommandRequest(
        text=rest if answer else text,
        user_id=command["user_id"],
        channel_id=command["channel_id"],
        tz=zone.tz,
        now=now,
    )
    message = await (answer or runs.answer_query)(request, store, client)
    await reply(respond, message if zone.known else read_in_utc(message))


def _first_word(text: str) -> tuple[str, str]:
    """The first word and the rest, split at any whitespace (a newline too)."""
    words = text.split(maxsplit=1)
    return (words[0], words[1] if len(words) == 2 else "") if words else ("", "")


def register(app: AsyncApp) -> None:
    app.command(Command.RUNS)(on_runs_command)
    app.action(Action.NEXT_PAGE)(pages.on_page_button)
    app.action(Action.PREVIOUS_PAGE)(pages.on_page_button)
    app.action(Action.SHARE)(pages.on_share_button)
