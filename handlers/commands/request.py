"""What every `/runs` sub-command is given: the words typed, who typed them where, and when."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo


@dataclass(frozen=True)
class CommandRequest:
    text: str  # what followed the sub-command word (for a query: everything)
    user_id: str
    channel_id: str
    tz: tzinfo  # the asker's zone from users.info (UTC when unknown)
    now: datetime  # aware UTC, read once per command
