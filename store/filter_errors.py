"""The one table of sentences the query language and its times tell people.

A FilterSyntaxError (store/errors.py) carries its Problem and the values it names, and the
sentence made from them here. It is made in store/, not in handlers/blocks/, because the CLI,
the API and the tests read it from the error the store raises, and store/ cannot import
handlers/.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["SENTENCES", "Problem"]


class Problem(StrEnum):
    UNCLOSED_QUOTE = "unclosed_quote"
    INVALID_VALUE = "invalid_value"
    EMPTY_VALUE = "empty_value"
    UNKNOWN_KEY = "unknown_key"
    LONE_ARROW = "lone_arrow"
    SECOND_VALUE = "second_value"
    RANGE_NOT_DURATION = "range_not_duration"
    RANGE_WITHOUT_ENDS = "range_without_ends"
    RANGE_REVERSED = "range_reversed"
    NO_TIME = "no_time"
    NO_OVERLAP = "no_overlap"
    OUT_OF_RANGE = "out_of_range"
    ONE_PERIOD = "one_period"
    PERIOD_WITHOUT_START = "period_without_start"
    PERIOD_IN_FUTURE = "period_in_future"
    API_TIME = "api_time"


SENTENCES: dict[Problem, str] = {
    Problem.UNCLOSED_QUOTE: (
        "The quote in `{word}` is never closed: end the phrase with a quote too."
    ),
    Problem.INVALID_VALUE: "`{word}` {reason}. {subject} needs {needs}.",
    Problem.EMPTY_VALUE: "`{prefix}` is empty: put {needs} right after the colon, with no space.",
    Problem.UNKNOWN_KEY: (
        "Unknown filter `{typed_key}:` — did you mean `{known}:`? {filter_list} "
        "To look for text with a colon, quote it: `{as_text}`."
    ),
    Problem.LONE_ARROW: (
        "`{word}` looks like part of a workflow name: "
        "quote the whole name after wf:, so that it stays one word."
    ),
    Problem.SECOND_VALUE: (
        "A search takes one {what}, and `{word}` is a second one: search for each in turn."
    ),
    Problem.RANGE_NOT_DURATION: (
        "`{word}` is a range, and `{prefix}` takes one duration: use since: for a range."
    ),
    Problem.RANGE_WITHOUT_ENDS: (
        "`{word}` needs a start and an end around `..`, both ends included."
    ),
    Problem.RANGE_REVERSED: "`{word}` ends before it starts: put the earlier end first.",
    Problem.NO_TIME: "`{word}` covers no time at all in your time zone.",
    Problem.NO_OVERLAP: (
        "`{since_word}` starts after `{until_word}` ends, so no run can match both: "
        "drop one of them or widen it."
    ),
    Problem.OUT_OF_RANGE: "`{word}` is out of range: use a time between the years 1 and 9999.",
    Problem.ONE_PERIOD: "Give one period: {needs}.",
    Problem.PERIOD_WITHOUT_START: "`{word}` has no start: a period needs one.",
    Problem.PERIOD_IN_FUTURE: "`{word}` is in the future: pick a period that has begun.",
    Problem.API_TIME: (
        "`{word}` {reason}. Use RFC 3339 with an offset, like 2026-11-20T10:02:03Z, "
        "or a UTC day, like 2026-11-20."
    ),
}

# What a value needs, ending the INVALID_VALUE, EMPTY_VALUE and ONE_PERIOD sentences.
WHEN_FORMS = (
    "a day like 2026-11-20, a time like 2026-11-20T14:30, today, yesterday or a duration like 6h"
)
DAY_FORMS = "a day like 2026-11-20, today or yesterday, or a range like 2026-11-01..2026-11-07"
DURATION_FORMS = "a number and a unit (m, h, d or w), like 30m, 6h, 7d or 2w"
PERIOD_FORMS = "a day like 2026-11-20, a duration like 7d, or a range like 2026-11-01..2026-11-07"
WORKFLOW_FORMS = "a workflow id, name or Source → Destination"
STATUS_FORMS = "failed, finished, running, pending or skipped, several separated by commas"
REFERENCE_FORMS = "the reference text to look for"
RUN_ID_FORMS = "a run ID: up to 64 letters, digits, or _ . : -"

A_PERIOD = "A period"  # the subject of INVALID_VALUE when no key was typed
FILTER_LIST = "Filters are {}."  # the filters' names, for UNKNOWN_KEY's filter_list

# Why a value is not what its key needs: the `reason` of INVALID_VALUE and API_TIME, and the
# end of the reports' sentence about a time (each follows the word it is about).
NOT_A_RUN_ID = "is not a run ID"
NOT_A_STATUS = "is not a status"
NOT_A_DURATION = "is not a duration"
NOT_A_DAY_OR_TIME = "is not a day or a time"
NOT_A_REAL_DAY = "is not a real day"
NOT_A_REAL_TIME = "is not a real time"
NOT_A_TIME = "is not a time"
NOT_RFC3339 = "is not an RFC 3339 time like 2026-11-20T10:02:03Z"
NO_OFFSET = "has no offset: add Z for UTC, or one like +01:00"
OUT_OF_UTC_RANGE = "is out of range: years 0001 to 9999 in UTC"
