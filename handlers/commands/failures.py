"""/runs when a query cannot be read or matches nothing: never silence, always a way on.

The query path calls these two; each returns the answer for the asker alone.
"""

from __future__ import annotations

from handlers.blocks.message import SlackMessage
from handlers.blocks.query_failures import no_runs_matched, unreadable_query
from handlers.commands.request import CommandRequest
from store.errors import FilterSyntaxError
from store.filters import RunFilter
from store.run_store import RunStore
from store.suggestions import corrected_status_word, word_spans

__all__ = ["could_not_read", "nothing_matched"]


def could_not_read(text: str, error: FilterSyntaxError) -> SlackMessage:
    """What was wrong with `text`, pointing at the word at fault, with the right form and the
    usage; a misspelt status (`status:faild`) gets the closest one."""
    spans = word_spans(text)
    meant = None
    if error.position is not None and 0 <= error.position < len(spans):
        start, end = spans[error.position]
        meant = corrected_status_word(text[start:end])
    return unreadable_query(text, error, spans, meant=meant)


async def nothing_matched(request: CommandRequest, flt: RunFilter, store: RunStore) -> SlackMessage:
    """Nothing matched `request.text` (read as `flt`): says so, names a workflow or status it
    may have meant, and suggests the nearest query that matches runs."""
    suggestion = await store.suggest_query(request.text, flt, tz=request.tz, now=request.now)
    return no_runs_matched(request.text, suggestion)
