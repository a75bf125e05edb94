"""Reading days, times and durations: RFC 3339 for the API and the reports, and a WHEN of `/runs`.

The calendar's rules live here together (offsets, leap seconds, DST gaps and folds), so that
store/filters.py only maps words to a RunFilter. A WHEN is read in the asker's zone and turned
into UTC at once; the API's days are UTC days. "Now" is always passed in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from store.errors import FilterSyntaxError
from store.filter_errors import Problem, Reason

__all__ = ["DAYS_AGO", "NotATime", "When", "parse_api_time", "parse_rfc3339", "read_when"]

_TICK = timedelta(microseconds=1)
_DAY = re.compile(r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})")
_API_DAY = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_LOCAL_TIME = re.compile(
    r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})[Tt ]([0-9]{1,2}):([0-9]{2})(?::([0-9]{2}))?"
)
_RFC3339 = re.compile(
    r"([0-9]{4}-[0-9]{2}-[0-9]{2})[Tt ]([0-9]{2}:[0-9]{2}:[0-9]{2})"
    r"(\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2})?"
)
# No months or years: their length varies, and `m` already means minutes.
_DURATION = re.compile(r"([0-9]{1,7})([mhdw])", re.IGNORECASE)
_DURATION_UNITS = {
    "m": timedelta(minutes=1),
    "h": timedelta(hours=1),
    "d": timedelta(days=1),
    "w": timedelta(weeks=1),
}
DAYS_AGO = {"today": 0, "yesterday": 1}


class NotATime(ValueError):
    """Why a time could not be read (handlers/blocks/query_errors.py tells it); `value` is the
    text, when the caller gave it."""

    def __init__(self, reason: Reason, value: str | None = None) -> None:
        super().__init__(f"{value!r} {reason}" if value is not None else str(reason))
        self.reason, self.value = reason, value


@dataclass(frozen=True)
class When:
    start: datetime  # UTC
    end: datetime  # UTC, inclusive
    whole_day: bool = False


def aware_utc(value: datetime, name: str) -> datetime:
    """`value` in UTC; raises ValueError for a naive datetime, a programming error."""
    if value.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime, not {value!r}")
    return value.astimezone(UTC)


def parse_duration(text: str) -> timedelta | None:
    """`30m`, `6h`, `7d` or `2w` as a timedelta; None for anything else."""
    match = _DURATION.fullmatch(text)
    return int(match[1]) * _DURATION_UNITS[match[2].lower()] if match else None


def whole_day(day: date, tz: tzinfo) -> When:
    """The day in `tz`, from its first microsecond to its last, in UTC."""
    # Local midnight to the next local midnight, so DST days last 23 or 25 hours. A midnight
    # that falls in a DST gap reads as the first moment after it (PEP 495, fold=0).
    start = datetime.combine(day, time(), tzinfo=tz).astimezone(UTC)
    next_start = datetime.combine(day + timedelta(days=1), time(), tzinfo=tz).astimezone(UTC)
    return When(start, next_start - _TICK, whole_day=True)


def _wall_clock(moment: datetime, unit: timedelta, tz: tzinfo) -> When:
    first = moment.replace(tzinfo=tz).astimezone(UTC)
    second = moment.replace(tzinfo=tz, fold=1).astimezone(UTC)
    # In a fall-back hour the time happens twice and the span takes in both; in a spring-forward
    # gap fold=0 reads it as after the gap, the later of the two readings.
    return When(first, max(first, second) + unit - _TICK)


def _rfc3339(match: re.Match[str]) -> datetime:
    day, clock, fraction, offset = match.groups()
    if offset is None:
        raise NotATime(Reason.NO_OFFSET)
    fraction = (fraction or "")[:7]  # datetime keeps microseconds: cut the digits beyond them
    # A leap second (23:59:60) has no datetime: it is read as the end of its minute.
    leap = clock.endswith(":60")
    if leap:
        clock, fraction = clock[:-2] + "59", ".999999"
    try:
        moment = datetime.fromisoformat(f"{day}T{clock}{fraction}{offset.upper()}")
        return moment.astimezone(UTC)
    except ValueError:
        raise NotATime(Reason.NOT_A_REAL_TIME) from None
    except OverflowError:  # e.g. 0001-01-01T00:00:00+01:00 is before year 1 in UTC
        raise NotATime(Reason.OUT_OF_UTC_RANGE) from None


def parse_rfc3339(text: str) -> datetime:
    """An RFC 3339 date-time with its offset (`T`, `Z` in either case), as aware UTC.

    Raises ValueError saying why not, as the end of a sentence that starts with the text.
    """
    if match := _RFC3339.fullmatch(text):
        return _rfc3339(match)
    raise NotATime(Reason.NOT_RFC3339)


def _calendar_day(match: re.Match[str]) -> date:
    try:
        return date(*map(int, match.groups()))
    except ValueError:
        raise NotATime(Reason.NOT_A_REAL_DAY) from None


def read_when(text: str, *, tz: tzinfo, now: datetime) -> When:
    """One WHEN, as the span it covers: a day whole, a time to the end of its minute.

    Raises NotATime saying why not.
    """
    if text.lower() in DAYS_AGO:
        local_today = now.astimezone(tz).date()
        return whole_day(local_today - timedelta(days=DAYS_AGO[text.lower()]), tz)
    if match := _DAY.fullmatch(text):
        return whole_day(_calendar_day(match), tz)
    if match := _LOCAL_TIME.fullmatch(text):
        year, month, day_of_month, hour, minute, second = match.groups()
        try:
            moment = datetime(
                int(year), int(month), int(day_of_month), int(hour), int(minute), int(second or 0)
            )
        except ValueError:
            raise NotATime(Reason.NOT_A_REAL_TIME) from None
        return _wall_clock(moment, timedelta(seconds=1 if second else 60), tz)
    if match := _RFC3339.fullmatch(text):
        instant = _rfc3339(match)
        return When(instant, instant)
    if (delta := parse_duration(text)) is not None:
        return When(now - delta, now - delta)
    raise NotATime(Reason.NOT_A_DAY_OR_TIME)


def parse_api_time(value: str, *, end_of_day: bool) -> datetime:
    """Read an API `since`/`until`: RFC 3339 with an offset, or YYYY-MM-DD meaning that UTC day.

    A day gives its first microsecond, or with end_of_day=True its last, so `until=2026-11-20`
    takes all of it. Always aware UTC; raises FilterSyntaxError for anything else.
    """
    reason = Reason.NOT_A_TIME
    # The API speaks UTC (no asker, no zone), so a day here is a UTC day.
    try:
        if match := _API_DAY.fullmatch(value):
            day = _calendar_day(match)
            return datetime.combine(day, time.max if end_of_day else time(), tzinfo=UTC)
        if match := _RFC3339.fullmatch(value):
            return _rfc3339(match)
    except NotATime as problem:
        reason = problem.reason
    raise FilterSyntaxError(
        Problem.API_TIME, word=value, reason=reason, hint="2026-11-20T10:02:03Z"
    )
