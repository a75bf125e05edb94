"""`/runs stats [WHEN]`: how the runs of a period went, the period read in the asker's zone."""

from __future__ import annotations

from datetime import datetime, timedelta

from slack_sdk.web.async_client import AsyncWebClient

from handlers.blocks.message import SlackMessage
from handlers.blocks.stats import stats_message, stats_not_read
from handlers.commands.request import CommandRequest
from store.errors import FilterSyntaxError
from store.filter_errors import Problem
from store.filters import parse_period
from store.run_store import RunStore

DEFAULT_PERIOD = timedelta(hours=24)


async def answer_stats(
    request: CommandRequest, store: RunStore, client: AsyncWebClient
) -> SlackMessage:
    try:
        since, until = stats_period(request)
    except FilterSyntaxError as error:
        return stats_not_read(request.text, error)
    return stats_message(await store.run_stats(since=since, until=until))


def stats_period(request: CommandRequest) -> tuple[datetime, datetime]:
    """The WHEN typed (the last 24 hours without one) as UTC (since, until), cut at now: the
    future holds no runs, and the period before is as long as what is left."""
    if not request.text.strip():
        return request.now - DEFAULT_PERIOD, request.now
    since, until = parse_period(request.text, tz=request.tz, now=request.now)
    if since > request.now:  # a day still to come: parse_period takes it whole
        raise FilterSyntaxError(
            Problem.PERIOD_IN_FUTURE, position=0, hint="7d", word=request.text.strip()
        )
    return since, min(until, request.now)
