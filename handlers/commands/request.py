"""What every `/runs` sub-command is given: the words, who asked where, their zone, and now."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Protocol


@dataclass(frozen=True)
class CommandRequest:
    text: str  # what followed the sub-command word (for a query: everything)
    user_id: str
    channel_id: str
    tz: tzinfo  # the asker's zone from users.info (UTC when unknown)
    now: datetime  # aware UTC, read once per command


@dataclass(frozen=True)
class AskerZone:
    """A person's time zone; `known` is False when Slack could not say (then `tz` is UTC)."""

    tz: tzinfo
    known: bool


class TimeZones(Protocol):
    """Where listeners read a person's zone (bot/time_zones.py gives it, in the Bolt context)."""

    async def zone_of(self, user_id: str) -> AskerZone: ...
