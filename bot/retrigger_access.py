"""Who may retrigger: RUNSBOT_RETRIGGER_USERS' user IDs, and the members of its user groups as
Slack lists them (`usergroups.users.list`), cached in this process (bot/slack_cache.py).

Unset, anyone may. A group's members are kept for five minutes: someone added to the on-call
group may retrigger within five minutes, someone removed may for as long. When Slack cannot
list a group that might hold the person (an error, or no answer within `WAIT_SECONDS`), the
answer is UNCHECKED, never ALLOWED, and the group is asked again half a minute later.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Collection

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack_cache import SlackAnswers
from handlers.retrigger_access import Verdict

log = logging.getLogger(__name__)

KNOWN_SECONDS = 300.0
UNKNOWN_SECONDS = 30.0
# A click waits this long for Slack; the person is then told it could not be checked.
WAIT_SECONDS = 2.0
MAX_GROUPS = 1_000


class SlackRetriggerAccess:
    """`verdict(user_id)` against `allowed` (user IDs `U…`/`W…`, user group IDs `S…`); empty
    allows everyone."""

    def __init__(
        self,
        client: AsyncWebClient,
        allowed: Collection[str],
        *,
        wait_seconds: float = WAIT_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._everyone = not allowed
        self._users = frozenset(i for i in allowed if not i.startswith("S"))
        self._groups = tuple(i for i in allowed if i.startswith("S"))
        # None: Slack could not say who is in the group.
        self._members: SlackAnswers[str, frozenset[str] | None] = SlackAnswers(
            self._look_up,
            seconds_for=lambda members: UNKNOWN_SECONDS if members is None else KNOWN_SECONDS,
            wait_seconds=wait_seconds,
            max_entries=MAX_GROUPS,
            clock=clock,
        )

    async def verdict(self, user_id: str) -> Verdict:
        if self._everyone or user_id in self._users:
            return Verdict.ALLOWED
        unchecked = False
        for group in self._groups:
            members = await self._members.get(group)
            if members is None:
                unchecked = True
            elif user_id in members:
                return Verdict.ALLOWED
        return Verdict.UNCHECKED if unchecked else Verdict.DENIED

    async def _look_up(self, group_id: str) -> frozenset[str] | None:
        try:
            answer = await self._client.usergroups_users_list(usergroup=group_id)
            return frozenset(str(user) for user in answer["users"])
        # A cache only: whatever went wrong, the click is refused as unchecked and says so.
        except Exception as error:
            why = error.response.get("error") if isinstance(error, SlackApiError) else error
            log.warning("usergroups.users.list of %s failed: %s", group_id, why)
            return None
