"""What Slack's refusals mean: the error code, the wait a 429 asks for, how long to back off,
and calls whose answer was lost."""

from __future__ import annotations

import random

from slack_sdk.errors import SlackApiError


def backoff(attempts: int, *, first: float, longest: float) -> float:
    """Seconds before the next try: doubling from `first` up to `longest`, with jitter."""
    return float(min(longest, first * 2.0**attempts) * random.uniform(0.8, 1.2))


def slack_error_code(error: SlackApiError) -> str | None:
    """Slack's error code (`ratelimited`, `channel_not_found`…); None for a non-JSON answer."""
    data = error.response.data
    code = data.get("error") if isinstance(data, dict) else None
    return str(code) if code else None


def slack_retry_after(error: SlackApiError) -> float | None:
    """For a 429, the seconds Slack asks us to wait before the next call; else None."""
    if error.response.status_code != 429:
        return None
    return float(error.response.headers.get("Retry-After", 1))


class Uncertain(Exception):
    """Slack may or may not have taken the post (timeout, dropped connection, 5xx)."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after
