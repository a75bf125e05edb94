"""Scripted faults and Slack's rate limits, for the fake Web API."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RateLimited:
    """Answer HTTP 429 `{"ok": false, "error": "ratelimited"}` with `Retry-After` in seconds,
    as Slack does (https://docs.slack.dev/apis/web-api/rate-limits)."""

    retry_after: int = 1


@dataclass(frozen=True)
class ServerError:
    """Answer an HTTP 5xx with an HTML body, as Slack's edge does during an outage."""

    status: int = 503


@dataclass(frozen=True)
class Slow:
    """Wait this long, then answer normally (for client timeouts and ack deadlines)."""

    seconds: float


@dataclass(frozen=True)
class Error:
    """Answer HTTP 200 `{"ok": false, "error": error}`."""

    error: str


Fault = RateLimited | ServerError | Slow | Error


@dataclass(frozen=True)
class RateLimit:
    """A token bucket: `per_second` sustained, up to `burst` at once.

    chat.postMessage allows "one message per second per channel", with "short bursts >1 allowed"
    but not guaranteed (https://docs.slack.dev/apis/web-api/rate-limits), so
    `RateLimit(1.0, burst=3)` is a fair model of one channel.
    """

    per_second: float
    burst: int = 1


class TokenBucket:
    """Refills at `limit.per_second`; each accepted request takes one token."""

    def __init__(self, limit: RateLimit, now: float) -> None:
        self._limit = limit
        self._tokens = float(limit.burst)
        self._updated = now

    def take(self, now: float) -> float:
        """Take a token: 0.0 when allowed, else the seconds until one is free (nothing taken)."""
        elapsed = max(0.0, now - self._updated)
        self._tokens = min(
            float(self._limit.burst), self._tokens + elapsed * self._limit.per_second
        )
        self._updated = now
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return 0.0
        return (1.0 - self._tokens) / self._limit.per_second
