"""`/runs retrigger RUN_ID`: typed, so it still asks. It answers with the run's row and the
Retrigger button with its confirm dialog; the click (handlers/actions.py) does the rest."""

from __future__ import annotations

from slack_sdk.web.async_client import AsyncWebClient

from handlers.blocks.message import SlackMessage
from handlers.blocks.retrigger import confirm_retrigger, retrigger_usage
from handlers.blocks.runs_page import run_not_found
from handlers.commands.request import CommandRequest
from store.run_store import RunStore
from store.types import RunStatus

# Words that start a search, not a run ID: `retrigger FILTER…` is the bulk retrigger (CONTRACT
# section 4), not built yet, so they get the usage rather than "no run has that ID".
_SEARCH_WORDS = {status.value for status in RunStatus} | {"today", "yesterday"}


async def answer_retrigger(
    request: CommandRequest, store: RunStore, client: AsyncWebClient
) -> SlackMessage:
    words = request.text.split()
    if len(words) != 1:
        return retrigger_usage(request.text)
    detail = await store.get_run(words[0])
    if detail is not None:
        return confirm_retrigger(detail.summary)
    if ":" in words[0] or words[0].lower() in _SEARCH_WORDS:
        return retrigger_usage(request.text)
    return run_not_found(words[0])
