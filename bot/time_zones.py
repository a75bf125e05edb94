"""People's time zones from their Slack profiles (`users.info` `tz`), cached in this process.

`/runs today` means the asker's today, so each command needs the asker's zone. Asking Slack
every time would put a Web API call before every answer, so zones are kept for an hour: a zone
changes only when someone travels or edits their profile, and then their days are read in the
old zone for at most that hour. However many commands of one person arrive at once, one call is
made and every command waits for it (single-flight, bot/slack_cache.py). When Slack cannot say
(an error, an unknown zone name, or no answer within `WAIT_SECONDS`), the command goes on in UTC
and says so, and the zone is asked again a minute later.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC
from zoneinfo import ZoneInfo

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack_cache import SlackAnswers
from handlers.commands.request import AskerZone

log = logging.getLogger(__name__)

KNOWN_SECONDS = 3600.0
UNKNOWN_SECONDS = 60.0
# The answer to a command must reach Slack's response_url within 30 minutes, but people wait
# for it: past this, the command is answered in UTC and the lookup fills the cache for later.
WAIT_SECONDS = 1.5
MAX_PEOPLE = 10_000

UNKNOWN = AskerZone(UTC, known=False)


class SlackTimeZones:
    """`zone_of(user_id)`: the person's zone from Slack, cached; UTC (not known) when Slack
    cannot say. Safe for any number of concurrent callers on one event loop."""

    def __init__(
        self,
        client: AsyncWebClient,
        *,
        known_seconds: float = KNOWN_SECONDS,
        unknown_seconds: float = UNKNOWN_SECONDS,
        wait_seconds: float = WAIT_SECONDS,
        max_people: int = MAX_PEOPLE,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._wait_seconds = wait_seconds
        self._zones: SlackAnswers[str, AskerZone] = SlackAnswers(
            self._look_up,
            seconds_for=lambda zone: known_seconds if zone.known else unknown_seconds,
            wait_seconds=wait_seconds,
            max_entries=max_people,
            clock=clock,
        )

    async def zone_of(self, user_id: str) -> AskerZone:
        zone = await self._zones.get(user_id)
        if zone is None:
            log.warning(
                "users.info gave no answer within %.1f s: answering in UTC", self._wait_seconds
            )
            return UNKNOWN
        return zone

    async def _look_up(self, user_id: str) -> AskerZone:
        try:
            answer = await self._client.users_info(user=user_id)
            return AskerZone(ZoneInfo(str(answer["user"]["tz"])), known=True)
        # A cache only: whatever went wrong, the command goes on in UTC and says so.
        except Exception as error:
            why = error.response.get("error") if isinstance(error, SlackApiError) else error
            log.warning("no time zone for %s from users.info: %s", user_id, why)
            return UNKNOWN
