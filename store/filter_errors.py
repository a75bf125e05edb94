"""What went wrong in words the query language could not read, as data: no sentences here.

A FilterSyntaxError (store/errors.py) carries its Problem and the values it names: the word
at fault, the key typed, what that key Needs, the Reason a value is not one. The sentences a
person reads are made from them in handlers/blocks/query_errors.py (STYLE.md guideline 6),
for Slack, the CLI and the tests alike.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["Needs", "Problem", "Reason"]


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


class Needs(StrEnum):
    """The form a value must take: the `needs` of INVALID_VALUE, EMPTY_VALUE and ONE_PERIOD."""

    WHEN = "when"
    DAY = "day"
    DURATION = "duration"
    PERIOD = "period"
    WORKFLOW = "workflow"
    STATUS = "status"
    REFERENCE = "reference"
    RUN_ID = "run_id"


class Reason(StrEnum):
    """Why a value is not what its key needs: the `reason` of INVALID_VALUE and API_TIME, and
    of a NotATime (store/times.py), which the reports' time fields share."""

    NOT_A_RUN_ID = "not_a_run_id"
    NOT_A_STATUS = "not_a_status"
    NOT_A_DURATION = "not_a_duration"
    NOT_A_DAY_OR_TIME = "not_a_day_or_time"
    NOT_A_REAL_DAY = "not_a_real_day"
    NOT_A_REAL_TIME = "not_a_real_time"
    NOT_A_TIME = "not_a_time"
    NOT_RFC3339 = "not_rfc3339"
    NO_OFFSET = "no_offset"
    OUT_OF_UTC_RANGE = "out_of_utc_range"
