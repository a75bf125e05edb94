"""Every sentence the query language tells a person about words it could not read.

The store raises a FilterSyntaxError with its Problem and the values it names (the word, the
key, what the key Needs, the Reason); `describe` makes the sentence here, for `/runs`, the CLI
and the API alike, so the copy is written once (STYLE.md guideline 6).
"""

from __future__ import annotations

from store.errors import FilterSyntaxError
from store.filter_errors import Needs, Problem, Reason
from store.filters import KEY_NAMES
from store.times import NotATime

__all__ = ["describe", "describe_time"]

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

NEEDS: dict[Needs, str] = {
    Needs.WHEN: (
        "a day like 2026-11-20, a time like 2026-11-20T14:30, today, yesterday "
        "or a duration like 6h"
    ),
    Needs.DAY: "a day like 2026-11-20, today or yesterday, or a range like 2026-11-01..2026-11-07",
    Needs.DURATION: "a number and a unit (m, h, d or w), like 30m, 6h, 7d or 2w",
    Needs.PERIOD: (
        "a day like 2026-11-20, a duration like 7d, or a range like 2026-11-01..2026-11-07"
    ),
    Needs.WORKFLOW: "a workflow id, name or Source → Destination",
    Needs.STATUS: "failed, finished, running, pending or skipped, several separated by commas",
    Needs.REFERENCE: "the reference text to look for",
    Needs.RUN_ID: "a run ID: up to 64 letters, digits, or _ . : -",
}

# Each follows the word it is about: "`since:x` is not a day or a time".
REASONS: dict[Reason, str] = {
    Reason.NOT_A_RUN_ID: "is not a run ID",
    Reason.NOT_A_STATUS: "is not a status",
    Reason.NOT_A_DURATION: "is not a duration",
    Reason.NOT_A_DAY_OR_TIME: "is not a day or a time",
    Reason.NOT_A_REAL_DAY: "is not a real day",
    Reason.NOT_A_REAL_TIME: "is not a real time",
    Reason.NOT_A_TIME: "is not a time",
    Reason.NOT_RFC3339: "is not an RFC 3339 time like 2026-11-20T10:02:03Z",
    Reason.NO_OFFSET: "has no offset: add Z for UTC, or one like +01:00",
    Reason.OUT_OF_UTC_RANGE: "is out of range: years 0001 to 9999 in UTC",
}

A_PERIOD = "A period"  # the subject of INVALID_VALUE when no key was typed
FILTER_LIST = "Filters are {}.".format(
    ", ".join(
        f"{names[0]}:" + "".join(f" (or {alias}:)" for alias in names[1:])
        for names in KEY_NAMES[:-1]
    )
    + f" and {KEY_NAMES[-1][0]}:"
)


def describe(error: FilterSyntaxError) -> str:
    """The sentence telling what was wrong and how to write it."""
    values = dict(error.values)
    if "needs" in values:
        values["needs"] = NEEDS[Needs(values["needs"])]
    if "reason" in values:
        values["reason"] = REASONS[Reason(values["reason"])]
    if error.problem is Problem.INVALID_VALUE:
        values["subject"] = f"`{values['prefix']}`" if values["prefix"] else A_PERIOD
    if error.problem is Problem.UNKNOWN_KEY:
        values["filter_list"] = FILTER_LIST
    return SENTENCES[error.problem].format(**values)


def describe_time(error: NotATime) -> str:
    """A time that is not one: "'2026-11-20T10:02' has no offset: …", or without the value when
    the error does not carry it."""
    reason = REASONS[error.reason]
    return reason if error.value is None else f"{error.value!r} {reason}"
