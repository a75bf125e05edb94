"""Millisecond times of the demo data, as datetimes and as RFC 3339 strings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Final

HOUR_MS: Final = 3_600_000
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)

# "SS.mmmZ" for every millisecond of a minute.
_SECONDS: Final = tuple(f"{ms // 1000:02d}.{ms % 1000:03d}Z" for ms in range(60_000))


def when(ms: int) -> datetime:
    """The aware UTC datetime `ms` milliseconds after the epoch."""
    return _EPOCH + timedelta(milliseconds=ms)


def milliseconds(at: datetime) -> int:
    """Milliseconds since the epoch of an aware datetime."""
    return int((at.astimezone(UTC) - _EPOCH) / timedelta(milliseconds=1))


class Clock:
    """RFC 3339 strings of millisecond times, formatting each minute once."""

    def __init__(self) -> None:
        self.minutes: dict[int, str] = {}

    def iso(self, ms: int) -> str:
        minute, rest = divmod(ms, 60_000)
        prefix = self.minutes.get(minute)
        if prefix is None:
            if len(self.minutes) > 200_000:
                self.minutes.clear()
            prefix = self.minutes[minute] = when(minute * 60_000).strftime("%Y-%m-%dT%H:%M:")
        return prefix + _SECONDS[rest]
