"""Who may retrigger (RUNSBOT_RETRIGGER_USERS), as listeners ask it: the answer's three kinds,
where they read it (bot/retrigger_access.py gives it, in the Bolt context), and the refusal
handlers/errors.py turns into a private answer."""

from __future__ import annotations

from enum import StrEnum
from typing import Protocol


class Verdict(StrEnum):
    ALLOWED = "allowed"
    DENIED = "denied"
    # Slack could not say who is in a user group that might hold the person: never allowed.
    UNCHECKED = "unchecked"


class RetriggerAccess(Protocol):
    async def verdict(self, user_id: str) -> Verdict: ...


class NotAllowedToRetrigger(Exception):
    """`user_id` may not retrigger (or it could not be checked: `verdict` says which);
    nothing was sent or written."""

    def __init__(self, user_id: str, verdict: Verdict) -> None:
        super().__init__(f"{user_id} may not retrigger ({verdict})")
        self.user_id, self.verdict = user_id, verdict


async def check_may_retrigger(access: RetriggerAccess, user_id: str) -> None:
    """Returns when `user_id` may retrigger; raises NotAllowedToRetrigger otherwise."""
    verdict = await access.verdict(user_id)
    if verdict is not Verdict.ALLOWED:
        raise NotAllowedToRetrigger(user_id, verdict)
