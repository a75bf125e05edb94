"""What `/runs` answers when a search cannot be read or matches nothing: the simplest form.

Part D of issue 10 replaces this module (same two functions): the closest names, the nearest
wider search. Until then each answer is a sentence and the usage, never silence.
"""

from __future__ import annotations

from handlers.blocks.help import usage_message
from handlers.blocks.message import SlackMessage
from handlers.blocks.query_errors import describe
from handlers.blocks.text import escape_and_truncate, escape_mrkdwn, one_line
from handlers.commands.request import CommandRequest
from store.errors import FilterSyntaxError
from store.filters import RunFilter
from store.run_store import RunStore


def could_not_read(text: str, error: FilterSyntaxError) -> SlackMessage:
    return usage_message(escape_mrkdwn(describe(error)))


async def nothing_matched(request: CommandRequest, flt: RunFilter, store: RunStore) -> SlackMessage:
    shown = escape_and_truncate(one_line(request.text), 300).replace("`", "ˋ")
    command = f"/runs {shown}".rstrip()
    return usage_message(f"No runs match `{command}`.")
