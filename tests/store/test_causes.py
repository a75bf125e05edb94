"""The likely cause of a failure, told from the engine's error message."""

from __future__ import annotations

import pytest

from store.causes import FailureCause, classify_failure

CREDENTIAL = FailureCause.CREDENTIAL
MISSING_FIELD = FailureCause.MISSING_FIELD
OUTAGE = FailureCause.OUTAGE
LOGIC = FailureCause.LOGIC


@pytest.mark.parametrize(
    ("message", "cause"),
    [
        # An expired or revoked credential: reconnect the app.
        ("401 Unauthorized: token expired", CREDENTIAL),
        ("invalid_grant", CREDENTIAL),
        ("OAuth error: invalid_grant (Token has been expired or revoked.)", CREDENTIAL),
        ("403 Forbidden", CREDENTIAL),
        ("HTTP 401", CREDENTIAL),
        ("INVALID_SESSION_ID: Session expired or invalid", CREDENTIAL),
        ("The access token has expired", CREDENTIAL),
        ("Authentication failed for user integrations@acme.example", CREDENTIAL),
        ("invalid api key provided: sk_live_****1234", CREDENTIAL),
        # A downstream timeout, 5xx or rate limit: retrigger later.
        ("504 Gateway Timeout", OUTAGE),
        ("502 Bad Gateway", OUTAGE),
        ("503 Service Unavailable", OUTAGE),
        ("HTTP 500 Internal Server Error", OUTAGE),
        ("429 Too Many Requests", OUTAGE),
        ("Rate limit exceeded, retry after 60 seconds", OUTAGE),
        ("ECONNRESET", OUTAGE),
        ("read ETIMEDOUT", OUTAGE),
        ("connect ECONNREFUSED 10.0.0.1:443", OUTAGE),
        ("Request timed out after 30000ms", OUTAGE),
        ("TimeoutError: the read operation timed out", OUTAGE),
        # The source record lacks a required field: fix it.
        ("Required field 'Email' is missing", MISSING_FIELD),
        ("REQUIRED_FIELD_MISSING: Required fields are missing: [LastName]", MISSING_FIELD),
        ("Field 'amount' is required", MISSING_FIELD),
        ("email cannot be blank", MISSING_FIELD),
        ("Missing required property 'customer_id'", MISSING_FIELD),
        # Anything else is a gap in the workflow's logic.
        ("KeyError: 'line_items'", LOGIC),
        ("TypeError: 'NoneType' object is not subscriptable", LOGIC),
        ("DUPLICATE_VALUE: duplicate value found: external_id", LOGIC),
        (None, LOGIC),
        ("", LOGIC),
        ("   \n\t", LOGIC),
    ],
)
def test_a_real_world_message_reads_as_its_cause(message: str | None, cause: FailureCause) -> None:
    assert classify_failure(message) is cause


@pytest.mark.parametrize(
    ("message", "cause"),
    [
        # A 401 or 403 that mentions a field is still a credential problem.
        ("401 Unauthorized: required field 'Authorization' is missing", CREDENTIAL),
        ("403 Forbidden: field 'owner_id' is required for this scope", CREDENTIAL),
        ("401 Unauthorized after 504 Gateway Timeout on retry", CREDENTIAL),
        # A record that lacks a field is not an outage because a number, a field name or an app
        # name sounds like one: "retrigger later, the data is fine" would send people the wrong way.
        ("Invoice 500 is missing required field 'due_date'", MISSING_FIELD),
        ("Payment gateway: required field 'cvc' is missing", MISSING_FIELD),
        ("Field 'timeout_ms' is required", MISSING_FIELD),
    ],
)
def test_the_stronger_signal_wins_when_a_message_reads_two_ways(
    message: str, cause: FailureCause
) -> None:
    assert classify_failure(message) is cause


def test_case_does_not_matter() -> None:
    assert classify_failure("UNAUTHORIZED") is CREDENTIAL
    assert classify_failure("too many requests") is OUTAGE
    assert classify_failure("required_field_missing") is MISSING_FIELD
