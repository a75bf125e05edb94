"""`/runs` itself: a search answered with a page of runs, `show RUN_ID`, and `help`.

The page buttons (handlers/commands/pages.py) turn the pages of the same search through
`read_page`, so a search reads the same whether typed or paged.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import replace

from slack_sdk.web.async_client import AsyncWebClient

from handlers.blocks.help import help_message
from handlers.blocks.message import SlackMessage
from handlers.blocks.runs_page import (
    PAGE_SIZE,
    page_expired,
    run_not_found,
    run_shown,
    runs_page,
    show_needs_one_id,
)
from handlers.commands.failures import could_not_read, nothing_matched
from handlers.commands.request import CommandRequest
from handlers.page_state import PageState
from store.errors import FilterSyntaxError, InvalidCursor
from store.filters import parse_filter
from store.records import RunPage
from store.run_store import RunStore


async def answer_query(
    request: CommandRequest, store: RunStore, client: AsyncWebClient
) -> SlackMessage:
    """The first page of the search `request.text`, or why there is none."""
    state = PageState(request.text)
    found = await read_page(request, store, state)
    return found if isinstance(found, SlackMessage) else runs_page(found, state)


async def read_page(
    request: CommandRequest, store: RunStore, state: PageState
) -> RunPage | SlackMessage:
    """The page `state` names, its words read in the asker's zone at `request.now`; or the
    message that says why there is none (words it cannot read, nothing matched)."""
    try:
        flt = parse_filter(state.query, tz=request.tz, now=request.now, limit=PAGE_SIZE)
    except FilterSyntaxError as error:
        return could_not_read(state.query, error)
    try:
        page = await store.list_runs(replace(flt, cursor=state.cursor))
    except InvalidCursor:
        return page_expired(state.query)
    if not page.runs and state.cursor is None:
        return await nothing_matched(request, flt, store)
    return page


async def answer_show(
    request: CommandRequest, store: RunStore, client: AsyncWebClient
) -> SlackMessage:
    """`show RUN_ID`: the run's row with its actions, or that no run has that ID."""
    words = request.text.split()
    if len(words) != 1:
        return show_needs_one_id()
    detail = await store.get_run(words[0])
    return run_not_found(words[0]) if detail is None else run_shown(detail.summary)


async def answer_help(
    request: CommandRequest,
    store: RunStore,
    client: AsyncWebClient,
    *,
    subcommands: Collection[str],
) -> SlackMessage:
    """The help, listing the sub-commands `subcommands` names."""
    return help_message(subcommands)
