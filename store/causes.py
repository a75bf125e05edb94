"""The likely cause of a failure, told from its error message."""

from __future__ import annotations

import re
from enum import StrEnum


class FailureCause(StrEnum):
    CREDENTIAL = "credential"  # expired or revoked credential: reconnect the app
    MISSING_FIELD = "missing_field"  # the source record lacks a required field: fix it
    OUTAGE = "outage"  # downstream timeout, 5xx or rate limit: retrigger later
    LOGIC = "logic"  # anything else: a gap in the workflow's logic


# Checked in order: a 401 that mentions a field is still a credential problem, and a missing
# field is told before an outage, whose patterns are looser (a bare 500, "gateway", "timeout").
_PATTERNS: tuple[tuple[FailureCause, re.Pattern[str]], ...] = (
    (
        FailureCause.CREDENTIAL,
        re.compile(
            r"\b(401|403)\b|unauthori[sz]ed|forbidden|invalid[_ ]grant|token (has )?expired|"
            r"expired token|revoked|invalid[_ ](token|credentials?|api[_ ]key)|"
            r"authentication failed|not authenticated|access denied|session expired",
            re.IGNORECASE,
        ),
    ),
    (
        FailureCause.MISSING_FIELD,
        re.compile(
            r"required field|field .{0,60}\b(is )?(required|missing)|missing (required )?"
            r"(field|value|property)|is required|REQUIRED_FIELD_MISSING|cannot be (blank|empty|null)|"
            r"must not be (blank|empty|null)",
            re.IGNORECASE,
        ),
    ),
    (
        FailureCause.OUTAGE,
        re.compile(
            r"\b(429|500|502|503|504)\b|timed? ?out|timeout|rate.?limit|too many requests|"
            r"service unavailable|bad gateway|gateway|connection (reset|refused|aborted)|"
            r"temporarily unavailable|ECONNRESET|ETIMEDOUT|ECONNREFUSED|overloaded|maintenance",
            re.IGNORECASE,
        ),
    ),
)


def classify_failure(message: str | None) -> FailureCause:
    """The likely cause of an error message; LOGIC when no pattern tells otherwise."""
    for cause, pattern in _PATTERNS:
        if message and pattern.search(message):
            return cause
    return FailureCause.LOGIC
