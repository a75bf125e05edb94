"""Times the API and the reports read: RFC 3339 with an offset, and the API's UTC days."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from handlers.blocks.query_errors import describe, describe_time
from store.errors import FilterSyntaxError
from store.times import NotATime, parse_api_time, parse_rfc3339


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0, micro: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, micro, tzinfo=UTC)


# --- parse_api_time ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "end_of_day", "expected"),
    [
        ("2026-11-20", False, utc(2026, 11, 20)),
        ("2026-11-20", True, utc(2026, 11, 20, 23, 59, 59, 999999)),
        ("2026-11-20T10:02:03Z", False, utc(2026, 11, 20, 10, 2, 3)),
        ("2026-11-20T10:02:03Z", True, utc(2026, 11, 20, 10, 2, 3)),
        ("2026-11-20t10:02:03z", False, utc(2026, 11, 20, 10, 2, 3)),
        ("2026-11-20 10:02:03+13:00", False, utc(2026, 11, 19, 21, 2, 3)),
        ("2026-11-20T10:02:03.5-08:00", False, utc(2026, 11, 20, 18, 2, 3, 500000)),
        ("2026-11-20T10:02:03.123456789+05:30", False, utc(2026, 11, 20, 4, 32, 3, 123456)),
        ("2026-11-20T10:02:03-00:00", False, utc(2026, 11, 20, 10, 2, 3)),
        ("9999-12-31", True, utc(9999, 12, 31, 23, 59, 59, 999999)),
    ],
)
def test_parse_api_time(value: str, end_of_day: bool, expected: datetime) -> None:
    parsed = parse_api_time(value, end_of_day=end_of_day)
    assert parsed == expected
    assert parsed.tzinfo is UTC


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("2026-11-20T10:02:03", "has no offset: add Z for UTC, or one like +01:00"),
        ("2026-13-01", "is not a real day"),
        ("2026-11-20T24:30:00Z", "is not a real time"),
        ("2026-11-20T10:02:03+25:00", "is not a real time"),
        ("0001-01-01T00:00:00+01:00", "is out of range: years 0001 to 9999 in UTC"),
        ("2026-11-20T10:02Z", "is not a time"),
        ("2026-11-5", "is not a time"),
        ("20261120", "is not a time"),
        ("yesterday", "is not a time"),
        ("7d", "is not a time"),
        (" 2026-11-20", "is not a time"),
        ("", "is not a time"),
    ],
)
def test_parse_api_time_errors(value: str, reason: str) -> None:
    with pytest.raises(FilterSyntaxError) as excinfo:
        parse_api_time(value, end_of_day=False)
    assert describe(excinfo.value) == (
        f"`{value}` {reason}. Use RFC 3339 with an offset, like 2026-11-20T10:02:03Z, "
        "or a UTC day, like 2026-11-20."
    )
    assert (excinfo.value.position, excinfo.value.hint) == (None, "2026-11-20T10:02:03Z")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-11-20T10:02:03Z", datetime(2026, 11, 20, 10, 2, 3, tzinfo=UTC)),
        ("2026-11-20t10:02:03z", datetime(2026, 11, 20, 10, 2, 3, tzinfo=UTC)),  # RFC 3339 5.6
        ("2026-11-20 12:02:03+02:00", datetime(2026, 11, 20, 10, 2, 3, tzinfo=UTC)),
        ("2026-11-20T10:02:03.123456789Z", datetime(2026, 11, 20, 10, 2, 3, 123456, tzinfo=UTC)),
        ("2016-12-31T23:59:60Z", datetime(2016, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)),
    ],
)
def test_parse_rfc3339_reads_every_rfc3339_form(value: str, expected: datetime) -> None:
    assert parse_rfc3339(value) == expected


@pytest.mark.parametrize(
    "value",
    ["2026-11-20T10:02Z", "20261120T100203Z", "2026-W47-5T10:00:00Z", "2026-11-20T10:02:03+0200"],
)
def test_parse_rfc3339_refuses_other_iso_8601_forms(value: str) -> None:
    with pytest.raises(NotATime) as excinfo:
        parse_rfc3339(value)
    assert "is not an RFC 3339 time like 2026-11-20T10:02:03Z" in describe_time(excinfo.value)
