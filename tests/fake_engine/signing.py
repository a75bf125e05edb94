"""The contract's retrigger signature (CONTRACT.md section 5), computed here on its own.

The product has its own signer; this one shares no code with it, so a mistake in either is
caught by the other. `v1=<hex HMAC-SHA256 of "<timestamp>.<body>">`, keyed with the trigger
secret, timestamp in unix seconds.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping

TIMESTAMP_HEADER = "X-Runsbot-Timestamp"
SIGNATURE_HEADER = "X-Runsbot-Signature"

# How far a timestamp may be from the engine's clock, either way, before a request is refused
# as a replay: the window Slack uses for its own request signatures.
MAX_SKEW_SECONDS = 300

_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_SIGNATURE = re.compile(r"v1=[0-9a-f]{64}")


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """`v1=<hex>` for this timestamp (as sent, a string) and this exact body."""
    message = timestamp.encode("ascii") + b"." + body
    digest = hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()
    return f"v1={digest}"


def signed_headers(secret: str, body: bytes, timestamp: int) -> dict[str, str]:
    """The headers a correct sender puts on `body` at `timestamp` (for tests that play runsbot)."""
    stamp = str(timestamp)
    return {
        TIMESTAMP_HEADER: stamp,
        SIGNATURE_HEADER: signature(secret, stamp, body),
        "Content-Type": "application/json",
    }


def signature_problem(
    secret: str, headers: Mapping[str, str], body: bytes, *, now: float
) -> str | None:
    """Why this request's signature is refused, or None when it is good."""
    stamp = headers.get(TIMESTAMP_HEADER)
    sent = headers.get(SIGNATURE_HEADER)
    if stamp is None:
        return f"no {TIMESTAMP_HEADER} header"
    if sent is None:
        return f"no {SIGNATURE_HEADER} header"
    if not _TIMESTAMP.fullmatch(stamp):
        return f"{TIMESTAMP_HEADER} is not unix seconds: {stamp[:40]!r}"
    skew = now - int(stamp)
    if abs(skew) > MAX_SKEW_SECONDS:
        return f"{TIMESTAMP_HEADER} is {skew:+.0f} s from now (over {MAX_SKEW_SECONDS} s)"
    if not _SIGNATURE.fullmatch(sent):
        return f"{SIGNATURE_HEADER} is not v1=<64 lowercase hex>: {sent[:80]!r}"
    if not hmac.compare_digest(sent, signature(secret, stamp, body)):
        return f"{SIGNATURE_HEADER} does not match the body and timestamp"
    return None
